// pods/proxy and services/proxy through real kubectl (`get --raw`) against a control plane and an agent on
// Docker: the API server proxies to the pod's IP (by port number, container port name, or the first
// container port) and to a ready endpoint of a Service (by port name or number); upstream's answers for a
// missing trailing slash (301), an unreachable port and a Service without endpoints (503). The pod IPs are
// inside the Docker network of the pods this test creates.
import { describe, expect, it } from "vitest";
import type { Pod } from "../../../src/api/schema/core/pod-types.ts";
import { BUSYBOX, useE2E } from "../../agent/e2e/harness.ts";
import { waitFor } from "../../support/wait.ts";

describe("pods/proxy and services/proxy", () => {
  const env = useE2E("docker");

  const raw = (path: string) =>
    env().cp.kubectl(["get", "--raw", path], { allowFailure: true, timeoutMs: 60_000 });

  async function startWeb(name: string, labels: Record<string, string>): Promise<Pod> {
    const e = env();
    await e.createPod(
      name,
      {
        containers: [
          {
            name: "web",
            image: BUSYBOX,
            command: ["httpd", "-f", "-p", "8080", "-h", "/www"],
            ports: [{ name: "http", containerPort: 8080 }],
            readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 },
          },
        ],
      },
      { labels },
    );
    return e.waitPod(
      name,
      (p) => p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") === true,
      "Ready",
    );
  }

  it("pods/proxy reaches the pod's IP by port number, port name and the first container port", async () => {
    const e = env();
    const pod = await startWeb("web", { app: "proxy-web" });
    const base = `/api/v1/namespaces/${e.ns}/pods`;
    for (const id of ["web:8080", "web:http", "web", "http:web:8080"]) {
      const page = await raw(`${base}/${id}/proxy/`);
      expect(page.stderr, id).toBe("");
      expect(page.stdout, id).toContain("deckhand test page");
    }
    expect((await raw(`${base}/web:8080/proxy/index.html`)).stdout).toContain("deckhand test page");

    // …/proxy without the slash: upstream's 301 to …/proxy/ (kubectl follows it).
    const redirect = await e.cp.fetch(`${base}/web:8080/proxy?x=1`, { redirect: "manual" });
    expect(redirect.status).toBe(301);
    expect(redirect.headers.get("location")).toBe(`${base}/web:8080/proxy/?x=1`);
    await redirect.body?.cancel();
    expect((await raw(`${base}/web:8080/proxy`)).stdout).toContain("deckhand test page");

    // The backend's own answers pass through as they are.
    const missing = await e.cp.fetch(`${base}/web:8080/proxy/no-such-file`);
    expect(missing.status).toBe(404);
    await missing.body?.cancel();

    const closed = await e.cp.fetch(`${base}/web:9999/proxy/`);
    expect(closed.status).toBe(503);
    const status = (await closed.json()) as { reason?: string; message?: string };
    expect(status).toMatchObject({
      reason: "ServiceUnavailable",
      message: `error trying to reach service: dial tcp ${pod.status?.podIP}:9999: connect: connection refused`,
    });

    const badName = await e.cp.fetch(`${base}/web:nope/proxy/`);
    expect(badName.status).toBe(400);
    expect(((await badName.json()) as { message?: string }).message).toBe(
      'pod web has no container port named "nope"',
    );
    const noPod = await raw(`${base}/absent:8080/proxy/`);
    expect(noPod.code).not.toBe(0);
    expect(noPod.stderr).toContain('pods "absent" not found');
  });

  it("services/proxy picks a ready endpoint; a Service without endpoints answers 503", async () => {
    const e = env();
    await startWeb("backend", { app: "proxy-backend" });
    await e.apply(
      {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "site" },
        spec: { selector: { app: "proxy-backend" }, ports: [{ name: "http", port: 80, targetPort: 8080 }] },
      },
      {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "empty" },
        spec: { selector: { app: "nothing-here" }, ports: [{ port: 80, targetPort: 8080 }] },
      },
    );
    const base = `/api/v1/namespaces/${e.ns}/services`;
    // The endpoint controller publishes the pod's address in an EndpointSlice first.
    const page = await waitFor(
      async () => {
        const result = await raw(`${base}/site:http/proxy/`);
        return result.code === 0 ? result.stdout : undefined;
      },
      { what: "services/site:http/proxy to answer", timeoutMs: 60_000, intervalMs: 500 },
    );
    expect(page).toContain("deckhand test page");
    for (const id of ["site:80", "site", "http:site:http"])
      expect((await raw(`${base}/${id}/proxy/index.html`)).stdout, id).toContain("deckhand test page");

    const none = await e.cp.fetch(`${base}/empty:80/proxy/`);
    expect(none.status).toBe(503);
    expect(((await none.json()) as { message?: string }).message).toBe(
      'no endpoints available for service "empty:80"',
    );
    const wrongPort = await e.cp.fetch(`${base}/site:9999/proxy/`);
    expect(wrongPort.status).toBe(503);
    expect(((await wrongPort.json()) as { message?: string }).message).toBe(
      'no service port "9999" found for service "site"',
    );
  });

  it("discovery lists pods/proxy and services/proxy", async () => {
    const list = JSON.parse((await raw("/api/v1")).stdout) as {
      resources: Array<{ name: string; verbs: string[] }>;
    };
    const names = list.resources.map((r) => r.name);
    expect(names).toEqual(expect.arrayContaining(["pods/proxy", "services/proxy", "nodes/proxy"]));
  });
});
