// Conformance: pod sandbox lifecycle, identity, hostname/DNS, published ports and list filters.
import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { isNotFound } from "../../../src/runtime/errors.ts";
import { RuntimeLabels } from "../../../src/runtime/types.ts";
import { waitFor } from "../../support/wait.ts";
import type { SuiteContext } from "./context.ts";
import { execUntil } from "./fixtures.ts";

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (!address || typeof address === "string") throw new Error("no port from listen(0)");
  return address.port;
}

export function sandboxTests(ctx: SuiteContext): void {
  describe("pod sandboxes", () => {
    it("runs a ready sandbox with an IP, its metadata, labels and annotations; stop and remove are idempotent", async () => {
      await ctx.withPod("sbx-life", async (pod) => {
        const rt = ctx.runtime();
        const { id, config } = await pod.runSandbox();
        const status = await rt.podSandboxStatus(id);
        expect(status.id).toBe(id);
        expect(status.state).toBe("ready");
        expect(status.ip).toMatch(IPV4);
        expect(status.hostNetwork).toBe(false);
        expect(status.metadata).toEqual(config.metadata);
        expect(status.createdAt).toBeGreaterThan(0);
        expect(status.labels).toMatchObject({
          ...config.labels,
          [RuntimeLabels.podUid]: pod.uid,
          [RuntimeLabels.podName]: pod.name,
          [RuntimeLabels.podNamespace]: pod.namespace,
          [RuntimeLabels.managedBy]: "true",
        });
        expect(status.annotations).toMatchObject(config.annotations ?? {});

        const listed = await rt.listPodSandboxes({ labelSelector: pod.selector });
        expect(listed.map((s) => [s.id, s.state])).toEqual([[id, "ready"]]);
        expect(listed[0]?.metadata).toEqual(config.metadata);

        await rt.stopPodSandbox(id);
        expect((await rt.podSandboxStatus(id)).state).toBe("notready");
        await rt.stopPodSandbox(id);
        const notReady = await rt.listPodSandboxes({ labelSelector: pod.selector, state: "notready" });
        expect(notReady.map((s) => s.id)).toEqual([id]);

        await rt.removePodSandbox(id);
        const gone = await rt.podSandboxStatus(id).catch((e: unknown) => e);
        expect(isNotFound(gone), String(gone)).toBe(true);
        await rt.removePodSandbox(id);
        await rt.stopPodSandbox(id);
        expect(await rt.listPodSandboxes({ labelSelector: pod.selector })).toEqual([]);
      });
    });

    it("gives the sandbox's containers its hostname and DNS config", async () => {
      await ctx.withPod("sbx-dns", async (pod) => {
        const hostname = `h-${pod.uid.slice(0, 8)}`;
        const { containerId } = await pod.runPod(undefined, undefined, {
          hostname,
          dnsConfig: { servers: ["10.96.0.10"], searches: ["svc.cluster.local"], options: ["ndots:5"] },
        });
        const rt = ctx.runtime();
        const name = await rt.execSync(containerId, ["hostname"], 10);
        expect(name.stdout.toString().trim()).toBe(hostname);
        const resolv = (await rt.execSync(containerId, ["cat", "/etc/resolv.conf"], 10)).stdout.toString();
        expect(resolv).toMatch(/^nameserver 10\.96\.0\.10$/m);
        expect(resolv).toMatch(/^search .*svc\.cluster\.local/m);
        expect(resolv).toMatch(/^options .*ndots:5/m);
      });
    });

    it("publishes a host port on 127.0.0.1 to the pod", async () => {
      await ctx.withPod("sbx-port", async (pod) => {
        const hostPort = await freeLoopbackPort();
        await pod.runPod("exec httpd -f -p 8080 -h /www", undefined, {
          portMappings: [{ protocol: "TCP", containerPort: 8080, hostPort, hostIp: "127.0.0.1" }],
        });
        const body = await waitFor(
          async () => {
            const response = await fetch(`http://127.0.0.1:${hostPort}/`, {
              signal: AbortSignal.timeout(5000),
            });
            return response.ok ? await response.text() : undefined;
          },
          {
            what: `http://127.0.0.1:${hostPort}/ to answer from the pod`,
            timeoutMs: 30_000,
            intervalMs: 200,
          },
        );
        expect(body).toContain("deckhand test page");
      });
    });

    it("lists sandboxes filtered by label, id and state", async () => {
      await ctx.withPod("sbx-list", async (pod) => {
        const rt = ctx.runtime();
        const a = await pod.runSandbox({ labels: { tier: "a" } }, 0);
        const b = await pod.runSandbox({ labels: { tier: "b" } }, 1);
        const ids = (list: { id: string }[]) => list.map((s) => s.id).sort();
        expect(ids(await rt.listPodSandboxes({ labelSelector: pod.selector }))).toEqual([a.id, b.id].sort());
        expect(ids(await rt.listPodSandboxes({ labelSelector: { ...pod.selector, tier: "a" } }))).toEqual([
          a.id,
        ]);
        expect(ids(await rt.listPodSandboxes({ labelSelector: { ...pod.selector, tier: "c" } }))).toEqual([]);
        expect(ids(await rt.listPodSandboxes({ id: b.id }))).toEqual([b.id]);
        await rt.stopPodSandbox(b.id);
        expect(ids(await rt.listPodSandboxes({ labelSelector: pod.selector, state: "ready" }))).toEqual([
          a.id,
        ]);
        expect(ids(await rt.listPodSandboxes({ labelSelector: pod.selector, state: "notready" }))).toEqual([
          b.id,
        ]);
        const attempts = (await rt.listPodSandboxes({ labelSelector: pod.selector }))
          .map((s) => s.metadata.attempt)
          .sort();
        expect(attempts).toEqual([0, 1]);
      });
    });

    it("removing a sandbox removes its containers", async () => {
      await ctx.withPod("sbx-rm", async (pod) => {
        const rt = ctx.runtime();
        const { sandbox, containerId } = await pod.runPod();
        await execUntil(rt, containerId, ["true"], "the container to accept exec");
        await rt.removePodSandbox(sandbox.id);
        expect(await rt.listContainers({ podSandboxId: sandbox.id })).toEqual([]);
        const gone = await rt.containerStatus(containerId).catch((e: unknown) => e);
        expect(isNotFound(gone), String(gone)).toBe(true);
      });
    });
  });
}
