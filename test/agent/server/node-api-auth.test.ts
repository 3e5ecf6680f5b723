// The node API over TLS with client-certificate authentication: anonymous callers and certificates from
// another CA get 401, a verified certificate outside system:masters (a node's own) gets 403 naming the user,
// the API server's kubelet-client identity and admins get in; a local /healthz stays open; streaming
// upgrades are checked before anything is upgraded; the serving certificate can be replaced while serving.

import { request } from "node:https";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentMetrics } from "../../../src/agent/metrics.ts";
import { nodeApiAttributes, x509NodeAuthorizer } from "../../../src/agent/server/authn.ts";
import { NodeServer } from "../../../src/agent/server/server.ts";
import {
  type CertificateAuthority,
  certificateInfo,
  createCertificateAuthority,
  issueKeyAndCertificate,
} from "../../../src/pki/index.ts";
import type { Runtime } from "../../../src/runtime/types.ts";

let clusterCa: CertificateAuthority;
let otherCa: CertificateAuthority;
let server: NodeServer;
let base: string;
const identities: Record<string, { certPem: string; keyPem: string }> = {};

interface Answer {
  status: number;
  body: string;
  serial: string;
}

function call(
  path: string,
  who?: { certPem: string; keyPem: string },
  init: { method?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, {
      method: init.method ?? "GET",
      headers: init.headers,
      rejectUnauthorized: false,
      agent: false,
      ...(who ? { cert: who.certPem, key: who.keyPem } : {}),
    });
    req.once("upgrade", (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 101, body: "", serial: "" });
    });
    req.once("response", (res) => {
      const serial = (res.socket as import("node:tls").TLSSocket).getPeerCertificate().serialNumber;
      let body = "";
      res.on("data", (c: Buffer) => {
        body += c.toString();
      });
      res.once("end", () => resolve({ status: res.statusCode ?? 0, body, serial }));
    });
    req.once("error", reject);
    req.end();
  });
}

beforeAll(async () => {
  clusterCa = await createCertificateAuthority({ commonName: "cluster-ca" });
  otherCa = await createCertificateAuthority({ commonName: "someone-else" });
  const issue = (ca: CertificateAuthority, commonName: string, organizations: string[]) =>
    issueKeyAndCertificate(ca, { commonName, organizations, usage: "client" });
  identities.apiserver = await issue(clusterCa, "kube-apiserver-kubelet-client", ["system:masters"]);
  identities.node = await issue(clusterCa, "system:node:n2", ["system:nodes"]);
  identities.foreignAdmin = await issue(otherCa, "kubernetes-admin", ["system:masters"]);
  const serving = await issueKeyAndCertificate(clusterCa, {
    commonName: "n1",
    ipAddresses: ["127.0.0.1"],
    usage: "server",
  });
  const runtime = { endpoint: "fake://", listContainerStats: async () => [], imageFsInfo: async () => [] };
  server = new NodeServer({
    host: {
      nodeName: "n1",
      rootDir: "/nonexistent",
      runtime: runtime as unknown as Runtime,
      metrics: new AgentMetrics({ nodeName: "n1", processMetrics: false }),
      pods: () => [],
      runtimeStatus: () => undefined,
      runtimePods: () => [],
    },
    address: "127.0.0.1",
    port: 0,
    healthzAddress: "127.0.0.1",
    healthzPort: 0,
    log: pino({ level: "silent" }),
    tls: { ...serving, clientCaPem: clusterCa.certPem },
    authorize: x509NodeAuthorizer(),
  });
  await server.start();
  base = `https://127.0.0.1:${server.address.port}`;
});

afterAll(async () => {
  await server?.close();
});

describe("node API authentication", () => {
  it("answers 401 to anonymous callers and to certificates of another CA", async () => {
    const anonymous = await call("/pods");
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toContain("Unauthorized: no client certificate");
    const foreign = await call("/pods", identities.foreignAdmin);
    expect(foreign.status).toBe(401);
    expect(foreign.body).toContain("client certificate not accepted");
  });

  it("answers 401 to an anonymous exec before upgrading anything", async () => {
    const exec = await call("/exec/ns/p/c?command=true&output=1", undefined, {
      method: "POST",
      headers: {
        Connection: "Upgrade",
        Upgrade: "SPDY/3.1",
        "X-Stream-Protocol-Version": "v4.channel.k8s.io",
      },
    });
    expect(exec.status).toBe(401);
    const ws = await call("/exec/ns/p/c?command=true&output=1", undefined, {
      headers: {
        Connection: "Upgrade",
        Upgrade: "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Protocol": "v5.channel.k8s.io",
      },
    });
    expect(ws.status).toBe(401);
  });

  it("answers 403 to a verified certificate outside system:masters, naming user, verb and subresource", async () => {
    const node = await call("/pods", identities.node);
    expect(node.status).toBe(403);
    expect(node.body).toContain(
      "Forbidden (user=system:node:n2, verb=get, resource=nodes, subresource=proxy)",
    );
    const stats = await call("/stats/summary", identities.node);
    expect(stats.body).toContain("subresource=stats");
  });

  it("lets the API server's kubelet-client identity in", async () => {
    const pods = await call("/pods", identities.apiserver);
    expect(pods.status).toBe(200);
    expect(JSON.parse(pods.body)).toMatchObject({ kind: "PodList" });
  });

  it("keeps /healthz open to local callers", async () => {
    expect((await call("/healthz")).status).toBe(200);
  });

  it("serves a replaced certificate to new connections", async () => {
    const before = (await call("/healthz")).serial;
    const renewed = await issueKeyAndCertificate(clusterCa, {
      commonName: "n1",
      ipAddresses: ["127.0.0.1"],
      usage: "server",
    });
    server.setServingCertificate(renewed.certPem, renewed.keyPem);
    const after = (await call("/healthz")).serial;
    expect(after).not.toBe(before);
    expect(after.toLowerCase()).toBe(certificateInfo(renewed.certPem).serialNumber.toLowerCase());
  });

  it("maps paths to kubelet's subresources", () => {
    expect(nodeApiAttributes("GET", "/metrics/probes")).toEqual({ verb: "get", subresource: "metrics" });
    expect(nodeApiAttributes("POST", "/exec/a/b/c")).toEqual({ verb: "create", subresource: "proxy" });
    expect(nodeApiAttributes("GET", "/containerLogs/a/b/c")).toEqual({ verb: "get", subresource: "proxy" });
  });
});
