import { mkdtemp, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiClient, resourcePath } from "../../../src/api/client/client.ts";
import { isConflict, isGone, isNotFound, isTransient } from "../../../src/api/client/errors.ts";
import { loadKubeconfig } from "../../../src/api/client/kubeconfig.ts";

interface Seen {
  method: string;
  url: string;
  contentType?: string;
  authorization?: string;
  body: string;
}

/** A scripted HTTP server standing in for the API server's wire behaviour (unit level only). */
function scriptedServer(seen: Seen[]) {
  return http.createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => {
      body += c.toString();
    });
    req.on("end", () => {
      seen.push({
        method: req.method ?? "",
        url: req.url ?? "",
        contentType: req.headers["content-type"],
        authorization: req.headers.authorization,
        body,
      });
      const url = new URL(req.url ?? "/", "http://x");
      const json = (code: number, obj: unknown) => {
        res.writeHead(code, { "Content-Type": "application/json" });
        res.end(JSON.stringify(obj));
      };
      if (url.pathname === "/api/v1/namespaces/ns/pods/missing") {
        return json(404, {
          kind: "Status",
          status: "Failure",
          reason: "NotFound",
          code: 404,
          message: 'pods "missing" not found',
        });
      }
      if (url.pathname === "/api/v1/namespaces/ns/pods/stale") {
        return json(409, {
          kind: "Status",
          status: "Failure",
          reason: "Conflict",
          code: 409,
          message: "the object has been modified",
        });
      }
      if (url.searchParams.get("watch") === "true") {
        res.writeHead(200, { "Content-Type": "application/json", "Transfer-Encoding": "chunked" });
        res.write(
          `${JSON.stringify({ type: "ADDED", object: { metadata: { name: "a", resourceVersion: "2" } } })}\n`,
        );
        // A line split across chunks must still decode.
        const line = JSON.stringify({
          type: "MODIFIED",
          object: { metadata: { name: "a", resourceVersion: "3" } },
        });
        res.write(line.slice(0, 10));
        setTimeout(() => {
          res.write(`${line.slice(10)}\n`);
          res.end(
            `${JSON.stringify({ type: "ERROR", object: { kind: "Status", code: 410, reason: "Expired", message: "too old" } })}\n`,
          );
        }, 5);
        return;
      }
      json(200, { kind: "Pod", metadata: { name: "ok" }, echo: body ? JSON.parse(body) : null });
    });
  });
}

describe("ApiClient (wire format)", () => {
  const seen: Seen[] = [];
  const server = scriptedServer(seen);
  let client: ApiClient;

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    client = new ApiClient({
      server: `http://127.0.0.1:${port}`,
      insecureSkipTlsVerify: false,
      token: "s3cret",
      namespace: "default",
      source: "test",
    });
  });

  afterAll(async () => {
    client.close();
    await new Promise((resolve) => server.close(resolve));
  });

  it("builds upstream resource paths", () => {
    expect(
      resourcePath({ version: "v1", resource: "pods", namespace: "ns", name: "p", subresource: "status" }),
    ).toBe("/api/v1/namespaces/ns/pods/p/status");
    expect(resourcePath({ group: "apps", version: "v1", resource: "deployments" })).toBe(
      "/apis/apps/v1/deployments",
    );
    expect(
      resourcePath({
        group: "coordination.k8s.io",
        version: "v1",
        resource: "leases",
        namespace: "kube-node-lease",
        name: "n1",
      }),
    ).toBe("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1");
  });

  it("sends the bearer token, query parameters and patch content types", async () => {
    await client.list({ version: "v1", resource: "pods" }, { fieldSelector: "spec.nodeName=n1", limit: 500 });
    await client.patch(
      { version: "v1", resource: "pods", namespace: "ns", name: "p", subresource: "status" },
      "strategic",
      {
        status: { phase: "Running" },
      },
      { fieldManager: "deckhand" },
    );
    const [list, patch] = seen.slice(-2);
    expect(list?.url).toBe("/api/v1/pods?fieldSelector=spec.nodeName%3Dn1&limit=500");
    expect(list?.authorization).toBe("Bearer s3cret");
    expect(patch?.method).toBe("PATCH");
    expect(patch?.contentType).toBe("application/strategic-merge-patch+json");
    expect(patch?.url).toBe("/api/v1/namespaces/ns/pods/p/status?fieldManager=deckhand");
  });

  it("turns failure Status answers into classified errors", async () => {
    const missing = await client
      .get({ version: "v1", resource: "pods", namespace: "ns", name: "missing" })
      .catch((e) => e);
    expect(isNotFound(missing)).toBe(true);
    expect(missing.message).toContain('pods "missing" not found');
    const stale = await client
      .update({ version: "v1", resource: "pods", namespace: "ns", name: "stale" }, {})
      .catch((e) => e);
    expect(isConflict(stale)).toBe(true);
  });

  it("decodes a chunked watch stream and throws its ERROR event as 410 Gone", async () => {
    const types: string[] = [];
    const error = await (async () => {
      for await (const event of client.watch({ version: "v1", resource: "pods" }, { resourceVersion: "1" })) {
        types.push(`${event.type}@${event.object.metadata?.resourceVersion}`);
      }
    })().catch((e) => e);
    expect(types).toEqual(["ADDED@2", "MODIFIED@3"]);
    expect(isGone(error)).toBe(true);
  });

  it("reports an unreachable server as a transient error naming it", async () => {
    const dead = new ApiClient({
      server: "http://127.0.0.1:1",
      insecureSkipTlsVerify: false,
      namespace: "default",
      source: "test",
    });
    const error = await dead.get({ version: "v1", resource: "namespaces", name: "default" }).catch((e) => e);
    expect(isTransient(error)).toBe(true);
    expect(error.message).toContain("cannot reach http://127.0.0.1:1");
    dead.close();
  });
});

describe("loadKubeconfig", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "dh-kubeconfig-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("resolves the current context, inline data and relative files", async () => {
    await writeFile(join(dir, "ca.crt"), "CA PEM");
    const path = join(dir, "config");
    await writeFile(
      path,
      [
        "apiVersion: v1",
        "kind: Config",
        "current-context: work",
        "clusters:",
        "- name: c1",
        "  cluster: { server: 'https://10.0.0.1:6443/', certificate-authority: ca.crt }",
        "users:",
        `- name: u1`,
        `  user: { token: abc, client-key-data: ${Buffer.from("KEY").toString("base64")} }`,
        "contexts:",
        "- name: work",
        "  context: { cluster: c1, user: u1, namespace: team }",
      ].join("\n"),
    );
    const conn = await loadKubeconfig(path);
    expect(conn.server).toBe("https://10.0.0.1:6443");
    expect(conn.ca?.toString()).toBe("CA PEM");
    expect(conn.clientKey?.toString()).toBe("KEY");
    expect(conn.token).toBe("abc");
    expect(conn.namespace).toBe("team");
  });

  it("names the file and the missing piece", async () => {
    const path = join(dir, "broken");
    await writeFile(path, "current-context: nope\ncontexts: []\n");
    await expect(loadKubeconfig(path)).rejects.toThrow(`kubeconfig ${path}: context "nope" not found`);
    await expect(loadKubeconfig(join(dir, "absent"))).rejects.toThrow(/cannot be read \(ENOENT\)/);
  });
});
