// Conformance: container lifecycle, shared namespaces, exit reasons, graceful stop, resources, security
// context, mounts, attempts and list filters.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Runtime } from "../../../src/runtime/types.ts";
import { RuntimeLabels } from "../../../src/runtime/types.ts";
import { waitFor } from "../../support/wait.ts";
import type { SuiteContext } from "./context.ts";
import { collect, execUntil, waitForState } from "./fixtures.ts";

/** All log output of a container as text (stdout and stderr, in the runtime's order). */
export async function logText(rt: Runtime, id: string): Promise<string> {
  const lines = await collect(rt.containerLogs(id));
  return lines.map((l) => `${l.content.toString()}\n`).join("");
}

/** Waits until the container has logged a line equal to `line`. */
export async function waitForLogLine(rt: Runtime, id: string, line: string): Promise<void> {
  await waitFor(async () => (await logText(rt, id)).split("\n").includes(line), {
    what: `container ${id} to log "${line}"`,
    timeoutMs: 30_000,
    intervalMs: 100,
  });
}

const READ_CGROUP = (v1: string, v2: string) =>
  `cat /sys/fs/cgroup/${v1} 2>/dev/null || cat /sys/fs/cgroup/${v2}`;

export function containerTests(ctx: SuiteContext): void {
  describe("containers", () => {
    it("creates, starts and reports a container with its identity, image and times", async () => {
      await ctx.withPod("ctr-life", async (pod) => {
        const rt = ctx.runtime();
        const sandbox = await pod.runSandbox();
        const config = pod.containerConfig("app", "trap 'exit 0' TERM; while :; do sleep 1 & wait $!; done");
        const id = await pod.createContainer(sandbox, config);
        const created = await rt.containerStatus(id);
        expect(created.state).toBe("created");
        expect(created.startedAt).toBe(0);
        expect((await rt.listContainers({ podSandboxId: sandbox.id })).map((c) => [c.id, c.state])).toEqual([
          [id, "created"],
        ]);

        await rt.startContainer(id);
        const running = await rt.containerStatus(id);
        expect(running.state).toBe("running");
        expect(running.id).toBe(id);
        expect(running.podSandboxId).toBe(sandbox.id);
        expect(running.metadata).toEqual({ name: "app", attempt: 0 });
        expect(running.image).toBe(ctx.options.busyboxImage);
        expect(running.imageRef).not.toBe("");
        expect(running.createdAt).toBeGreaterThan(0);
        expect(running.startedAt).toBeGreaterThanOrEqual(running.createdAt - 1000);
        expect(running.finishedAt).toBe(0);
        expect(running.labels).toMatchObject({
          ...config.labels,
          [RuntimeLabels.podUid]: pod.uid,
          [RuntimeLabels.podName]: pod.name,
          [RuntimeLabels.podNamespace]: pod.namespace,
          [RuntimeLabels.containerName]: "app",
          [RuntimeLabels.restartCount]: "0",
          [RuntimeLabels.managedBy]: "true",
        });
        expect(running.annotations).toMatchObject(config.annotations ?? {});

        const listed = await rt.listContainers({ podSandboxId: sandbox.id });
        expect(listed.map((c) => [c.id, c.state, c.metadata.name, c.podSandboxId])).toEqual([
          [id, "running", "app", sandbox.id],
        ]);

        await rt.stopContainer(id, 30);
        await rt.stopContainer(id, 30);
        expect((await rt.containerStatus(id)).state).toBe("exited");
        await rt.removeContainer(id);
        await rt.removeContainer(id);
        expect(await rt.listContainers({ podSandboxId: sandbox.id })).toEqual([]);
      });
    });

    it("containers of a pod share its network and IPC namespaces (B reaches A on localhost)", async () => {
      await ctx.withPod("ctr-share", async (pod) => {
        const rt = ctx.runtime();
        const sandbox = await pod.runSandbox();
        const token = `token-${pod.uid}`;
        const a = await pod.startContainer(
          sandbox,
          pod.containerConfig("server", `echo ${token} > /dev/shm/token; exec httpd -f -p 8081 -h /www`),
        );
        const b = await pod.startContainer(
          sandbox,
          pod.containerConfig("client", "trap 'exit 0' TERM; while :; do sleep 1 & wait $!; done"),
        );
        const page = await execUntil(
          rt,
          b,
          ["sh", "-c", "timeout 5 wget -qO- http://127.0.0.1:8081/"],
          "container B to fetch container A's page over localhost",
          (out) => out.includes("deckhand test page"),
        );
        expect(page).toContain("deckhand test page");

        const ns = async (id: string, kind: string) =>
          (await rt.execSync(id, ["readlink", `/proc/self/ns/${kind}`], 10)).stdout.toString().trim();
        expect(await ns(b, "net")).toBe(await ns(a, "net"));
        expect(await ns(b, "ipc")).toBe(await ns(a, "ipc"));
        expect(await ns(a, "net")).toMatch(/^net:\[\d+\]$/);
        const shm = await execUntil(
          rt,
          b,
          ["cat", "/dev/shm/token"],
          "container B to read A's /dev/shm/token",
        );
        expect(shm.trim()).toBe(token);
      });
    });

    it("a container that exits at once is reported exited with its exit code and reason", async () => {
      await ctx.withPod("ctr-exit", async (pod) => {
        const rt = ctx.runtime();
        const sandbox = await pod.runSandbox();
        const failed = await pod.startContainer(sandbox, pod.containerConfig("fails", "exit 3"));
        const ok = await pod.startContainer(sandbox, pod.containerConfig("succeeds", "exit 0"));
        const f = await waitForState(rt, failed, "exited");
        expect([f.exitCode, f.reason]).toEqual([3, "Error"]);
        expect(f.startedAt).toBeGreaterThan(0);
        expect(f.finishedAt).toBeGreaterThanOrEqual(f.startedAt);
        const s = await waitForState(rt, ok, "exited");
        expect([s.exitCode, s.reason]).toEqual([0, "Completed"]);
        expect(s.finishedAt).toBeGreaterThanOrEqual(s.startedAt);
      });
    });

    it("stop delivers SIGTERM: a container that traps it exits cleanly", async () => {
      await ctx.withPod("ctr-term", async (pod) => {
        const rt = ctx.runtime();
        const { containerId } = await pod.runPod(
          "trap 'echo got-term; exit 0' TERM; echo ready; while :; do sleep 1 & wait $!; done",
        );
        await waitForLogLine(rt, containerId, "ready");
        await rt.stopContainer(containerId, 60);
        const status = await rt.containerStatus(containerId);
        expect([status.state, status.exitCode, status.reason]).toEqual(["exited", 0, "Completed"]);
        expect((await logText(rt, containerId)).split("\n")).toContain("got-term");
      });
    });

    it("stop SIGKILLs a container that ignores SIGTERM once the grace period is over", async () => {
      await ctx.withPod("ctr-kill", async (pod) => {
        const rt = ctx.runtime();
        const { containerId } = await pod.runPod("trap '' TERM; echo ready; while :; do sleep 1; done");
        await waitForLogLine(rt, containerId, "ready");
        const stopCalledAt = Date.now();
        await rt.stopContainer(containerId, 2);
        const status = await rt.containerStatus(containerId);
        // 137 = 128 + SIGKILL: it was killed, not terminated by SIGTERM (143) nor exited by itself.
        expect([status.state, status.exitCode, status.reason]).toEqual(["exited", 137, "Error"]);
        // The grace period is a lower bound: not killed before it ran out (small allowance for clock rounding).
        expect(status.finishedAt).toBeGreaterThanOrEqual(stopCalledAt + 2000 - 100);
      });
    });

    it("applies the memory limit and CPU quota/shares to the container's cgroup", async () => {
      await ctx.withPod("ctr-cgroup", async (pod) => {
        const rt = ctx.runtime();
        const memory = 64 * 1024 * 1024;
        const { containerId } = await pod.runPod(undefined, {
          resources: { memoryLimitBytes: memory, cpuPeriod: 100_000, cpuQuota: 50_000, cpuShares: 512 },
        });
        const read = async (v1: string, v2: string) =>
          (await rt.execSync(containerId, ["sh", "-c", READ_CGROUP(v1, v2)], 10)).stdout.toString().trim();
        expect(await read("memory/memory.limit_in_bytes", "memory.max")).toBe(String(memory));
        const quota = await read("cpu/cpu.cfs_quota_us", "cpu.max");
        expect(
          quota === "50000" || quota === "50000 100000",
          `CPU quota read from the cgroup: ${quota}`,
        ).toBe(true);
        const v1Shares = await rt.execSync(containerId, ["cat", "/sys/fs/cgroup/cpu/cpu.shares"], 10);
        if (v1Shares.exitCode === 0) expect(v1Shares.stdout.toString().trim()).toBe("512");
      });
    });

    it("reports OOMKilled for a container that exceeds its memory limit", async () => {
      await ctx.withPod("ctr-oom", async (pod) => {
        const rt = ctx.runtime();
        const sandbox = await pod.runSandbox();
        // busybox tail keeps the current (newline-free, endless) line of /dev/zero in memory.
        const id = await pod.startContainer(sandbox, {
          ...pod.containerConfig("hog", ""),
          command: ["tail", "/dev/zero"],
          resources: { memoryLimitBytes: 32 * 1024 * 1024 },
        });
        const status = await waitForState(rt, id, "exited");
        expect([status.reason, status.exitCode]).toEqual(["OOMKilled", 137]);
      });
    });

    it("applies user, env, working dir, args, capabilities and a read-only root filesystem", async () => {
      await ctx.withPod("ctr-sec", async (pod) => {
        const rt = ctx.runtime();
        const sandbox = await pod.runSandbox();
        const script = 'echo "uid=$(id -u) gid=$(id -g) cwd=$(pwd) greeting=$GREETING arg=$0"';
        const user = await pod.startContainer(sandbox, {
          ...pod.containerConfig("user", ""),
          command: ["sh", "-c"],
          args: [script, "first-arg"],
          env: [{ key: "GREETING", value: "hello world" }],
          workingDir: "/tmp",
          securityContext: { runAsUser: 1000, runAsGroup: 3000 },
        });
        // Root without capabilities still owns "/": only a read-only root filesystem stops the write.
        const caps = await pod.startContainer(sandbox, {
          ...pod.containerConfig(
            "caps",
            "grep CapEff /proc/self/status; touch /rootfs-write 2>/dev/null && echo root-writable || echo root-readonly",
          ),
          securityContext: {
            capabilities: { add: ["NET_BIND_SERVICE"], drop: ["ALL"] },
            readOnlyRootFilesystem: true,
          },
        });
        await waitForState(rt, user, "exited");
        await waitForState(rt, caps, "exited");
        expect(await logText(rt, user)).toBe(
          "uid=1000 gid=3000 cwd=/tmp greeting=hello world arg=first-arg\n",
        );
        // Only CAP_NET_BIND_SERVICE (bit 10) is left.
        expect((await logText(rt, caps)).split("\n")).toEqual([
          expect.stringMatching(/^CapEff:\s+0000000000000400$/),
          "root-readonly",
          "",
        ]);
      });
    });

    it("mounts host paths read-write and read-only", async () => {
      const dir = await mkdtemp(join(tmpdir(), "deckhand-conformance-"));
      try {
        await writeFile(join(dir, "hello.txt"), "hello from the host\n");
        await ctx.withPod("ctr-mount", async (pod) => {
          const rt = ctx.runtime();
          const sandbox = await pod.runSandbox();
          const id = await pod.startContainer(sandbox, {
            ...pod.containerConfig(
              "mounts",
              "cat /data/hello.txt; echo written > /data/out.txt; touch /ro/x 2>/dev/null && echo ro-writable || echo ro-denied",
            ),
            mounts: [
              { containerPath: "/data", hostPath: dir },
              { containerPath: "/ro", hostPath: dir, readonly: true },
            ],
          });
          const status = await waitForState(rt, id, "exited");
          expect(status.exitCode).toBe(0);
          expect(await logText(rt, id)).toBe("hello from the host\nro-denied\n");
          expect(await readFile(join(dir, "out.txt"), "utf8")).toBe("written\n");
        });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it("keeps restart attempts apart: a new attempt is a new container with its attempt number", async () => {
      await ctx.withPod("ctr-attempt", async (pod) => {
        const rt = ctx.runtime();
        const sandbox = await pod.runSandbox();
        const first = await pod.startContainer(sandbox, pod.containerConfig("app", "exit 1"));
        await waitForState(rt, first, "exited");
        const second = await pod.startContainer(sandbox, {
          ...pod.containerConfig("app", "exit 0"),
          metadata: { name: "app", attempt: 1 },
        });
        const s = await waitForState(rt, second, "exited");
        expect(second).not.toBe(first);
        expect(s.metadata).toEqual({ name: "app", attempt: 1 });
        expect(s.labels[RuntimeLabels.restartCount]).toBe("1");
        const listed = (await rt.listContainers({ podSandboxId: sandbox.id }))
          .map((c) => [c.metadata.attempt, c.id])
          .sort();
        expect(listed).toEqual([
          [0, first],
          [1, second],
        ]);
      });
    });

    it("lists containers filtered by sandbox, label, state and id", async () => {
      await ctx.withPod("ctr-list", async (pod) => {
        const rt = ctx.runtime();
        const sandbox = await pod.runSandbox();
        const other = await pod.runSandbox({}, 1);
        const a = await pod.startContainer(
          sandbox,
          pod.containerConfig("a", "trap 'exit 0' TERM; while :; do sleep 1 & wait $!; done"),
        );
        const b = await pod.startContainer(sandbox, pod.containerConfig("b", "exit 0"));
        const c = await pod.createContainer(other, pod.containerConfig("c", "exit 0"));
        await waitForState(rt, b, "exited");
        const ids = (list: { id: string }[]) => list.map((x) => x.id).sort();
        expect(ids(await rt.listContainers({ labelSelector: pod.selector }))).toEqual([a, b, c].sort());
        expect(ids(await rt.listContainers({ podSandboxId: sandbox.id }))).toEqual([a, b].sort());
        expect(ids(await rt.listContainers({ podSandboxId: other.id }))).toEqual([c]);
        expect(
          ids(
            await rt.listContainers({
              labelSelector: { ...pod.selector, [RuntimeLabels.containerName]: "a" },
            }),
          ),
        ).toEqual([a]);
        expect(
          ids(
            await rt.listContainers({
              labelSelector: { ...pod.selector, "conformance.deckhand.io/container": "b" },
            }),
          ),
        ).toEqual([b]);
        expect(ids(await rt.listContainers({ labelSelector: pod.selector, state: "running" }))).toEqual([a]);
        expect(ids(await rt.listContainers({ labelSelector: pod.selector, state: "exited" }))).toEqual([b]);
        expect(ids(await rt.listContainers({ labelSelector: pod.selector, state: "created" }))).toEqual([c]);
        expect(ids(await rt.listContainers({ id: b }))).toEqual([b]);
      });
    });
  });
}
