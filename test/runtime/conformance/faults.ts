// Conformance: version/status, bad input rejected before the runtime with the field named, missing or
// refusing sockets, objects that do not exist.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { RuntimeError } from "../../../src/runtime/errors.ts";
import type { ContainerConfig, PodSandboxConfig, Runtime } from "../../../src/runtime/types.ts";
import { uniqueName } from "../../support/names.ts";
import type { SuiteContext } from "./context.ts";

/** Directory for throwaway sockets; the tests run as root, like the runtimes. */
export const SOCKET_DIR = "/run/deckhand-test";

/**
 * Leaves a unix socket file that nobody listens on (connect() → ECONNREFUSED), the way a runtime killed
 * with SIGKILL does: a child process binds it and is killed before it can unlink it.
 */
export async function staleSocket(path: string): Promise<void> {
  const child = spawn(
    process.execPath,
    ["-e", `require("node:net").createServer().listen(${JSON.stringify(path)}, () => console.log("up"))`],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout.once("data", () => resolve());
    child.once("exit", (code) => reject(new Error(`socket holder exited early (${code})`)));
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await exited;
  if (!existsSync(path)) throw new Error(`stale socket ${path} vanished`);
}

async function rejection(promise: Promise<unknown>): Promise<RuntimeError> {
  const error = await promise.then(
    () => new Error("expected a rejection, got success"),
    (e: unknown) => e,
  );
  if (!(error instanceof RuntimeError)) throw error;
  return error;
}

export function faultTests(ctx: SuiteContext): void {
  describe("runtime status and faults", () => {
    it("reports its version and that runtime and network are ready", async () => {
      const rt = ctx.runtime();
      const version = await rt.version();
      expect(version.runtimeName).not.toBe("");
      expect(version.runtimeVersion).not.toBe("");
      expect(version.runtimeApiVersion).toBe("v1");
      const status = await rt.status();
      const byType = Object.fromEntries(status.conditions.map((c) => [c.type, c.status]));
      expect(byType).toEqual({ RuntimeReady: true, NetworkReady: true });
    });

    it("a missing socket fails with RUNTIME_UNAVAILABLE naming the endpoint and what to start", async () => {
      const path = `${SOCKET_DIR}/${uniqueName("missing")}.sock`;
      const rt: Runtime = await ctx.options.connectTo(path);
      try {
        for (const call of [rt.version(), rt.listPodSandboxes(), rt.pullImage(ctx.options.busyboxImage)]) {
          const error = await rejection(call);
          expect(error.code).toBe("RUNTIME_UNAVAILABLE");
          expect(error.message).toContain(path);
          expect(error.message).toMatch(/start/i);
        }
      } finally {
        await rt.close();
      }
    });

    it("a socket nobody listens on fails with RUNTIME_UNAVAILABLE naming the endpoint", async () => {
      const path = `${SOCKET_DIR}/${uniqueName("refused")}.sock`;
      await staleSocket(path);
      const rt: Runtime = await ctx.options.connectTo(path);
      try {
        const error = await rejection(rt.version());
        expect(error.code).toBe("RUNTIME_UNAVAILABLE");
        expect(error.message).toContain(path);
      } finally {
        await rt.close();
        await rm(path, { force: true });
      }
    });

    it("rejects invalid ports, mounts and resources before reaching the runtime, naming the field", async () => {
      await ctx.withPod("bad-input", async (pod) => {
        const rt = ctx.runtime();
        const badSandboxes: Array<[string, Partial<PodSandboxConfig>]> = [
          ["portMappings[0].containerPort", { portMappings: [{ protocol: "TCP", containerPort: 70000 }] }],
          ["portMappings[0].containerPort", { portMappings: [{ protocol: "TCP", containerPort: 0 }] }],
          [
            "portMappings[1].hostPort",
            {
              portMappings: [
                { protocol: "TCP", containerPort: 80 },
                { protocol: "TCP", containerPort: 81, hostPort: -1 },
              ],
            },
          ],
          [
            "portMappings[0].protocol",
            {
              portMappings: [{ protocol: "ICMP" as "TCP", containerPort: 80 }],
            },
          ],
        ];
        for (const [field, extra] of badSandboxes) {
          const error = await rejection(rt.runPodSandbox(pod.sandboxConfig(extra)));
          expect([error.code, error.field], error.message).toEqual(["RUNTIME_INVALID", field]);
          expect(error.message).toContain(field);
        }
        expect(await rt.listPodSandboxes({ labelSelector: pod.selector })).toEqual([]);

        const sandbox = await pod.runSandbox();
        const badContainers: Array<[string, Partial<ContainerConfig>]> = [
          ["mounts[0].containerPath", { mounts: [{ containerPath: "relative/dir", hostPath: "/tmp" }] }],
          [
            "mounts[1].hostPath",
            {
              mounts: [
                { containerPath: "/a", hostPath: "/tmp" },
                { containerPath: "/b", hostPath: "tmp" },
              ],
            },
          ],
          ["resources.memoryLimitBytes", { resources: { memoryLimitBytes: -1 } }],
          ["resources.cpuQuota", { resources: { cpuQuota: -5 } }],
          ["resources.cpuShares", { resources: { cpuShares: 1.5 } }],
        ];
        for (const [field, extra] of badContainers) {
          const error = await rejection(
            rt.createContainer(
              sandbox.id,
              { ...pod.containerConfig("bad", "true"), ...extra },
              sandbox.config,
            ),
          );
          expect([error.code, error.field], error.message).toEqual(["RUNTIME_INVALID", field]);
          expect(error.message).toContain(field);
        }
        expect(await rt.listContainers({ labelSelector: pod.selector })).toEqual([]);
      });
    });

    it("objects that do not exist are RUNTIME_NOT_FOUND for status and no error for stop/remove", async () => {
      const rt = ctx.runtime();
      const id = "0123456789abcdef".repeat(4);
      expect((await rejection(rt.containerStatus(id))).code).toBe("RUNTIME_NOT_FOUND");
      expect((await rejection(rt.podSandboxStatus(id))).code).toBe("RUNTIME_NOT_FOUND");
      await rt.removeContainer(id);
      await rt.stopPodSandbox(id);
      await rt.removePodSandbox(id);
      const image = `${ctx.options.registry}/${ctx.options.registryRepo}:${uniqueName("absent")}`;
      expect(await rt.imageStatus(image)).toBeUndefined();
      await rt.removeImage(image);
    });
  });
}
