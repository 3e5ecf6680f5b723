import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCriRuntime } from "../../src/runtime/cri/index.ts";
import { RuntimeError } from "../../src/runtime/errors.ts";
import type { LogLine, Runtime } from "../../src/runtime/types.ts";
import { requireSocket, testEnv } from "../support/env.ts";
import { PrivateContainerd } from "../support/private-containerd.ts";
import { waitFor } from "../support/wait.ts";
import { waitForLogLine } from "./conformance/containers.ts";
import { execUntil, TestPod, waitForState } from "./conformance/fixtures.ts";
import { runtimeRestartConformance } from "./conformance/index.ts";

const podLogRoot = join(tmpdir(), "deckhand-cri-restart-logs");

runtimeRestartConformance("cri (containerd)", {
  upstreamSocket: testEnv.criSocket,
  connectTo: (socketPath) => {
    requireSocket(testEnv.criSocket, "test containerd (CRI)");
    // Failing fast while the runtime is down does not depend on this deadline (calls fail UNAVAILABLE at
    // once); it only bounds real work, which a loaded machine can stretch well past 10 s.
    return createCriRuntime({ endpoint: socketPath, podLogRoot, requestTimeoutMs: 60_000 });
  },
});

describe("cri driver across a real restart of its own containerd", () => {
  let containerd: PrivateContainerd | undefined;

  beforeAll(async () => {
    containerd = await PrivateContainerd.create({ bridge: "dhtestr0", subnet: "10.90.0.0/16" });
  });

  afterAll(async () => {
    await containerd?.destroy();
  });

  it("keeps working with the same driver instance after containerd is killed and started again", async () => {
    if (!containerd) throw new Error("the private containerd did not start (see beforeAll)");
    const cd = containerd;
    const rt: Runtime = createCriRuntime({
      endpoint: cd.endpoint,
      podLogRoot: join(cd.dir, "pods"),
      requestTimeoutMs: 20_000,
    });
    const pod = new TestPod(rt, testEnv.busyboxImage, "crirestart");
    try {
      const { sandbox, containerId } = await pod.runPod(
        "echo before; trap 'exit 0' TERM; while :; do sleep 1 & wait $!; done",
      );
      const ip = (await rt.podSandboxStatus(sandbox.id)).ip;
      expect(ip).toMatch(/^10\.90\.\d+\.\d+$/);
      await waitForLogLine(rt, containerId, "before");

      const followed: LogLine[] = [];
      const follow = (async () => {
        for await (const line of rt.containerLogs(containerId, {
          follow: true,
          signal: AbortSignal.timeout(120_000),
        })) {
          followed.push(line);
        }
      })().then(
        () => "ended",
        (e: unknown) => (e instanceof RuntimeError ? e.code : String(e)),
      );
      const inFlight = rt.execSync(containerId, ["sleep", "3600"], 0).then(
        () => "finished",
        (e: unknown) => (e instanceof RuntimeError ? e.code : String(e)),
      );
      await waitFor(() => followed.length > 0, { what: "the followed log to deliver its first line" });

      await cd.kill();
      expect(existsSync(cd.socket), "a killed containerd leaves its socket file behind").toBe(true);
      // The call in flight ends; the follower ends once it cannot ask whether the container still runs.
      expect(await inFlight).toBe("RUNTIME_UNAVAILABLE");
      expect(["ended", "RUNTIME_UNAVAILABLE"]).toContain(await follow);
      const down = await rt.version().catch((e: unknown) => e);
      expect(down).toBeInstanceOf(RuntimeError);
      expect((down as RuntimeError).code).toBe("RUNTIME_UNAVAILABLE");
      expect((down as RuntimeError).message).toContain(cd.socket);
      expect((down as RuntimeError).message).toMatch(/start containerd/);

      await cd.start();
      await waitFor(() => rt.version().then(() => true), {
        what: "the driver to reach the restarted containerd",
        timeoutMs: 30_000,
        intervalMs: 200,
      });
      // The pod survived the restart (its shim kept running) and is fully usable again.
      const after = await rt.podSandboxStatus(sandbox.id);
      expect([after.state, after.ip]).toEqual(["ready", ip]);
      expect((await rt.containerStatus(containerId)).state).toBe("running");
      expect(await execUntil(rt, containerId, ["echo", "after"], "exec after the restart")).toBe("after\n");
      const second = await pod.startContainer(sandbox, pod.containerConfig("second", "echo second; exit 0"));
      expect((await waitForState(rt, second, "exited")).exitCode).toBe(0);
      const lines: string[] = [];
      for await (const line of rt.containerLogs(second, {
        follow: true,
        signal: AbortSignal.timeout(60_000),
      })) {
        lines.push(line.content.toString());
      }
      expect(lines).toEqual(["second"]);
    } finally {
      // dispose() removes the pod and asserts that nothing labelled with its UID is left.
      await pod.dispose();
      await rt.close();
    }
  });
});
