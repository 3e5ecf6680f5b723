// kube-proxy's health servers on loopback: a Service's health check node port (externalTrafficPolicy Local)
// and the proxy's own /healthz and /livez.
import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../src/api/resource.ts";
import { ProxyHealthServer, parseBindAddress } from "../../src/proxy/healthcheck.ts";
import { ServiceProxy } from "../../src/proxy/service-proxy.ts";
import { waitFor } from "../support/wait.ts";
import { FakeApi } from "./support/fake-api.ts";
import { FakeIptables } from "./support/fake-iptables.ts";
import { makeService, makeSlice } from "./support/fixtures.ts";

const NODE = "hc-node-1";
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

/** A port free on 127.0.0.1 right now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function get(port: number, path = "/"): Promise<{ status: number; body: string } | "refused"> {
  try {
    const resp = await fetch(`http://127.0.0.1:${port}${path}`);
    return { status: resp.status, body: await resp.text() };
  } catch {
    return "refused";
  }
}

function localService(name: string, healthCheckNodePort: number): KubeObject {
  return makeService("hcns", name, {
    type: "LoadBalancer",
    clusterIP: "10.96.9.1",
    externalTrafficPolicy: "Local",
    healthCheckNodePort,
    ports: [{ name: "web", port: 80, nodePort: 31_801 }],
  }) as KubeObject;
}
function slice(
  name: string,
  endpoints: Array<{ ip: string; nodeName: string; ready?: boolean }>,
): KubeObject {
  return makeSlice("hcns", name, `${name}-1`, [{ name: "web", port: 8080 }], endpoints) as KubeObject;
}

function setup(extra: { onServiceEvent?: (reason: string, message: string) => void } = {}) {
  const api = new FakeApi();
  const proxy = new ServiceProxy({
    client: api,
    nodeName: NODE,
    nodeIPs: ["192.168.0.2"],
    iptables: new FakeIptables(),
    sysctl: { get: async () => undefined, set: async () => {} },
    log: quiet,
    minSyncPeriodMs: 10,
    conntrack: { delete: async () => {} },
    healthzBindAddress: "127.0.0.1:0",
    healthCheckAddresses: ["127.0.0.1"],
    onServiceEvent: (_svc, reason, message) => extra.onServiceEvent?.(reason, message),
  });
  const abort = new AbortController();
  const running = proxy.run(abort.signal);
  return {
    api,
    proxy,
    stop: async () => {
      abort.abort();
      await running;
    },
  };
}

describe("service health check node port", () => {
  it("answers 200 with the local endpoint count, 503 without local endpoints, and closes with the Service", async () => {
    const port = await freePort();
    const t = setup();
    try {
      t.api.set("services", localService("web", port));
      t.api.set(
        "endpointslices",
        slice("web", [
          { ip: "10.244.9.5", nodeName: NODE },
          { ip: "10.244.9.6", nodeName: NODE, ready: false },
          { ip: "10.244.9.7", nodeName: "hc-other-node" },
        ]),
      );
      await t.proxy.ready;
      const ok = await waitFor(
        async () => {
          const r = await get(port);
          return r !== "refused" && r.status === 200 && r;
        },
        { what: "the health check answering 200" },
      );
      expect(JSON.parse(ok.body)).toEqual({
        service: { namespace: "hcns", name: "web" },
        localEndpoints: 1,
        serviceProxyHealthy: true,
      });
      expect(t.proxy.healthCheckPorts()).toEqual(new Map([["hcns/web", port]]));

      t.api.set("endpointslices", slice("web", [{ ip: "10.244.9.7", nodeName: "hc-other-node" }]));
      const unavailable = await waitFor(
        async () => {
          const r = await get(port, "/any/path");
          return r !== "refused" && r.status === 503 && r;
        },
        { what: "the health check answering 503" },
      );
      expect(JSON.parse(unavailable.body).localEndpoints).toBe(0);

      t.api.delete("services", localService("web", port));
      await waitFor(async () => (await get(port)) === "refused", { what: "the listener closed" });
    } finally {
      await t.stop();
    }
  });

  it("reports a health check port it cannot open as an event on the Service, and keeps syncing", async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const port = (taken.address() as { port: number }).port;
    const events: string[] = [];
    const t = setup({ onServiceEvent: (reason, message) => events.push(`${reason}: ${message}`) });
    try {
      t.api.set("services", localService("busy", port));
      await t.proxy.ready;
      await waitFor(() => events.length > 0, { what: "the FailedToStartServiceHealthcheck event" });
      expect(events[0]).toMatch(
        new RegExp(
          `^FailedToStartServiceHealthcheck: node ${NODE} failed to start healthcheck "hcns/busy" on port ${port}: .*EADDRINUSE`,
        ),
      );
      expect(t.proxy.stats.syncErrors).toBe(0);
    } finally {
      await t.stop();
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});

describe("proxy /healthz and /livez", () => {
  it("answers 200 with the last sync time once synced; 404 elsewhere", async () => {
    const t = setup();
    try {
      await t.proxy.ready;
      const port = t.proxy.healthzAddress?.port as number;
      for (const path of ["/healthz", "/livez"]) {
        const r = await get(port, path);
        if (r === "refused") throw new Error(`${path} refused`);
        expect(r.status).toBe(200);
        const body = JSON.parse(r.body);
        expect(Date.parse(body.lastUpdated)).toBe(t.proxy.stats.lastSyncAt);
        expect(typeof body.currentTime).toBe("string");
        expect(body.nodeEligible).toBe(path === "/healthz" ? true : undefined);
      }
      expect(await get(port, "/metrics")).toMatchObject({ status: 404 });
    } finally {
      await t.stop();
    }
  });

  it("answers 503 once a queued sync has waited longer than the health timeout", async () => {
    let now = 1_000_000;
    let queued: number | undefined;
    const server = new ProxyHealthServer({
      bindAddress: "127.0.0.1:0",
      healthTimeoutMs: 60_000,
      state: () => ({ lastUpdatedMs: 999_000, oldestQueuedMs: queued }),
      now: () => now,
      log: quiet,
    });
    const { port } = await server.start();
    try {
      expect(await get(port, "/healthz")).toMatchObject({ status: 200 });
      queued = now;
      now += 60_000;
      expect(await get(port, "/livez")).toMatchObject({ status: 200 });
      now += 1;
      expect(await get(port, "/healthz")).toMatchObject({ status: 503 });
      expect(await get(port, "/livez")).toMatchObject({ status: 503 });
    } finally {
      await server.stop();
    }
  });

  it("refuses a bind address that is not host:port, naming it", () => {
    expect(parseBindAddress("0.0.0.0:10256")).toEqual({ host: "0.0.0.0", port: 10_256 });
    expect(parseBindAddress("[::1]:10256")).toEqual({ host: "::1", port: 10_256 });
    expect(() => parseBindAddress("10256")).toThrow(/healthz bind address "10256" is not host:port/);
  });
});
