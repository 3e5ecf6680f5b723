// Authorization with real credentials on a real `deckhand control-plane`: node client certificates from the
// cluster CA (CN system:node:<name>, O system:nodes), a user certificate, static tokens (--token-auth-file),
// and no credentials at all. Every rule is tried both ways.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueKeyAndCertificate } from "../../../src/pki/index.ts";
import {
  type Credentials,
  requireKubectl,
  startControlPlane,
  type TestControlPlane,
} from "../../support/controlplane.ts";
import { uniqueName } from "../../support/names.ts";
import { run } from "../../support/run.ts";
import { waitFor } from "../../support/wait.ts";

interface Answer {
  status: number;
  body: { message?: string; metadata?: { uid?: string } } & Record<string, unknown>;
}

describe("authorization with real credentials", () => {
  let cp: TestControlPlane;
  let dir: string;
  const ns = uniqueName("authz-creds");
  const nodeA = uniqueName("node-a");
  const nodeB = uniqueName("node-b");
  const token = `${uniqueName("tok")}-secret-value`;
  let certA: Credentials;
  let certB: Credentials;
  let alice: { certPem: string; keyPem: string };

  async function as(
    credentials: Credentials | "admin",
    method: string,
    path: string,
    body?: unknown,
  ): Promise<Answer> {
    const init: RequestInit = { method, headers: { Accept: "application/json" } };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = {
        ...init.headers,
        "Content-Type": method === "PATCH" ? "application/merge-patch+json" : "application/json",
      };
    }
    const res =
      credentials === "admin" ? await cp.fetch(path, init) : await cp.fetchAs(credentials, path, init);
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : {} };
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "deckhand-authz-creds-"));
    const tokenFile = join(dir, "tokens.csv");
    writeFileSync(tokenFile, `${token},tom,tom-uid,"testers"\n`, { mode: 0o600 });
    cp = await startControlPlane({ controllers: false, args: ["--token-auth-file", tokenFile] });
    const ca = {
      certPem: readFileSync(join(cp.dataDir, "pki", "ca.crt"), "utf8"),
      keyPem: readFileSync(join(cp.dataDir, "pki", "ca.key"), "utf8"),
    };
    const nodeCert = (name: string) =>
      issueKeyAndCertificate(ca, {
        commonName: `system:node:${name}`,
        organizations: ["system:nodes"],
        usage: "client",
      });
    certA = await nodeCert(nodeA);
    certB = await nodeCert(nodeB);
    alice = await issueKeyAndCertificate(ca, {
      commonName: "alice",
      organizations: ["devs"],
      usage: "client",
    });
    expect((await as("admin", "POST", "/api/v1/namespaces", { metadata: { name: ns } })).status).toBe(201);
  }, 120_000);

  afterAll(async () => {
    await cp?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers requests without credentials 401, except the public paths", async () => {
    for (const path of ["/healthz", "/livez", "/readyz", "/version"]) {
      expect((await cp.fetchAs("anonymous", path)).status, path).toBe(200);
    }
    expect((await as("anonymous", "GET", "/api")).status).toBe(401);
    expect((await as("anonymous", "GET", `/api/v1/namespaces/${ns}/secrets`)).status).toBe(401);
    expect((await as({ token: "wrong" }, "GET", "/version")).status).toBe(401);
  });

  it("limits each node to its own Node", async () => {
    expect((await as(certA, "POST", "/api/v1/nodes", { metadata: { name: nodeA } })).status).toBe(201);
    expect((await as(certB, "POST", "/api/v1/nodes", { metadata: { name: nodeB } })).status).toBe(201);
    expect(
      (await as(certA, "PATCH", `/api/v1/nodes/${nodeA}/status`, { status: { phase: "Running" } })).status,
    ).toBe(200);
    const foreign = await as(certA, "PATCH", `/api/v1/nodes/${nodeB}`, { metadata: { labels: { x: "y" } } });
    expect(foreign.status).toBe(403);
    expect(foreign.body.message).toBe(
      `nodes "${nodeB}" is forbidden: node "${nodeA}" is not allowed to modify node "${nodeB}"`,
    );
    expect((await as(certA, "POST", "/api/v1/nodes", { metadata: { name: `${nodeB}-2` } })).status).toBe(403);
  });

  it("lets a node read the Secrets of its own pods only, and create mirror pods only", async () => {
    for (const name of ["mine", "theirs"]) {
      expect(
        (await as("admin", "POST", `/api/v1/namespaces/${ns}/secrets`, { metadata: { name } })).status,
      ).toBe(201);
    }
    const pod = (name: string, node: string, secret: string) => ({
      metadata: { name },
      spec: {
        nodeName: node,
        containers: [{ name: "c", image: "busybox" }],
        volumes: [{ name: "s", secret: { secretName: secret } }],
      },
    });
    expect(
      (await as("admin", "POST", `/api/v1/namespaces/${ns}/pods`, pod("on-a", nodeA, "mine"))).status,
    ).toBe(201);
    expect(
      (await as("admin", "POST", `/api/v1/namespaces/${ns}/pods`, pod("on-b", nodeB, "theirs"))).status,
    ).toBe(201);
    await waitFor(
      async () => (await as(certA, "GET", `/api/v1/namespaces/${ns}/secrets/mine`)).status === 200,
      {
        what: "node A to read its pod's Secret",
      },
    );
    const theirs = await as(certA, "GET", `/api/v1/namespaces/${ns}/secrets/theirs`);
    expect(theirs.status).toBe(403);
    expect(theirs.body.message).toContain(`no relationship found between node '${nodeA}' and this object`);
    expect((await as(certB, "GET", `/api/v1/namespaces/${ns}/secrets/theirs`)).status).toBe(200);

    const plain = await as(certA, "POST", `/api/v1/namespaces/${ns}/pods`, {
      metadata: { name: "sneaky" },
      spec: { nodeName: nodeA, containers: [{ name: "c", image: "busybox" }] },
    });
    expect(plain.status).toBe(403);
    expect(plain.body.message).toContain(`node "${nodeA}" can only create mirror pods`);
    const nodeUid = (await as(certA, "GET", `/api/v1/nodes/${nodeA}`)).body.metadata?.uid;
    const mirror = await as(certA, "POST", `/api/v1/namespaces/${ns}/pods`, {
      metadata: {
        name: `static-${nodeA}`,
        annotations: { "kubernetes.io/config.mirror": "hash" },
        ownerReferences: [{ apiVersion: "v1", kind: "Node", name: nodeA, uid: nodeUid, controller: true }],
      },
      spec: { nodeName: nodeA, containers: [{ name: "c", image: "busybox" }] },
    });
    expect(mirror.status).toBe(201);
    expect(
      (await as(certA, "PATCH", `/api/v1/namespaces/${ns}/pods/on-b/status`, { status: {} })).status,
    ).toBe(403);
    expect(
      (await as(certA, "PATCH", `/api/v1/namespaces/${ns}/pods/on-a/status`, { status: {} })).status,
    ).toBe(200);
  });

  it("gives users exactly what their roles bind, by certificate group and by token", async () => {
    const rbac = "/apis/rbac.authorization.k8s.io/v1";
    expect(
      (
        await as("admin", "POST", `${rbac}/namespaces/${ns}/roles`, {
          metadata: { name: "secret-reader" },
          rules: [{ apiGroups: [""], resources: ["secrets"], verbs: ["get", "list"] }],
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await as("admin", "POST", `${rbac}/namespaces/${ns}/rolebindings`, {
          metadata: { name: "devs-and-testers" },
          roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "secret-reader" },
          subjects: [
            { kind: "Group", name: "devs" },
            { kind: "User", name: "tom" },
          ],
        })
      ).status,
    ).toBe(201);
    await waitFor(async () => (await as(alice, "GET", `/api/v1/namespaces/${ns}/secrets`)).status === 200, {
      what: "alice's group binding",
    });
    expect((await as({ token }, "GET", `/api/v1/namespaces/${ns}/secrets/mine`)).status).toBe(200);
    const write = await as(alice, "DELETE", `/api/v1/namespaces/${ns}/secrets/mine`);
    expect(write.status).toBe(403);
    expect(write.body.message).toBe(
      `secrets "mine" is forbidden: User "alice" cannot delete resource "secrets" in API group "" in the namespace "${ns}"`,
    );
    expect((await as(alice, "GET", "/api/v1/namespaces/default/secrets")).status).toBe(403);
    expect((await as({ token }, "GET", "/api/v1/secrets")).status).toBe(403);
  });

  it("answers kubectl auth can-i and whoami for a certificate user", async () => {
    const certFile = join(dir, "alice.crt");
    const keyFile = join(dir, "alice.key");
    writeFileSync(certFile, alice.certPem);
    writeFileSync(keyFile, alice.keyPem, { mode: 0o600 });
    const kubeconfig = join(dir, "alice.kubeconfig");
    writeFileSync(
      kubeconfig,
      JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [
          {
            name: "c",
            cluster: { server: cp.url, "certificate-authority": join(cp.dataDir, "pki", "ca.crt") },
          },
        ],
        users: [{ name: "alice", user: { "client-certificate": certFile, "client-key": keyFile } }],
        contexts: [{ name: "c", context: { cluster: "c", user: "alice", namespace: ns } }],
        "current-context": "c",
      }),
    );
    const kubectl = (...args: string[]) =>
      run(requireKubectl(), ["--kubeconfig", kubeconfig, "--cache-dir", join(dir, "kcache"), ...args], {
        allowFailure: true,
      });
    expect((await kubectl("auth", "can-i", "list", "secrets")).stdout.trim()).toBe("yes");
    expect((await kubectl("auth", "can-i", "delete", "secrets")).stdout.trim()).toBe("no");
    expect((await kubectl("auth", "can-i", "list", "secrets", "-n", "default")).stdout.trim()).toBe("no");
    expect((await kubectl("get", "secrets", "-o", "name")).stdout).toContain("secret/mine");
    const denied = await kubectl("get", "pods");
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toContain('User "alice" cannot list resource "pods"');
    // The admin asks on alice's behalf (impersonation).
    const asAlice = ["auth", "can-i", "--as=alice", "--as-group=devs", "-n", ns];
    expect((await cp.kubectl([...asAlice, "get", "secrets"], { allowFailure: true })).stdout.trim()).toBe(
      "yes",
    );
    expect((await cp.kubectl([...asAlice, "get", "pods"], { allowFailure: true })).stdout.trim()).toBe("no");
    const whoami = JSON.parse((await kubectl("auth", "whoami", "-o", "json")).stdout);
    expect(whoami.status.userInfo).toEqual({ username: "alice", groups: ["devs", "system:authenticated"] });
  });
});
