// Conformance: the runtime goes away mid-test and comes back; the same driver instance recovers.
//
// The driver talks to the runtime through a SocketProxy (./socket-proxy.ts). "Runtime down" = the proxy
// drops every connection (idle, streaming, mid-call) and its socket file disappears; then a stale socket
// file nobody listens on (what a SIGKILLed daemon leaves); "runtime back" = the proxy listens again on the
// same path. This exercises exactly the client side of a restart (dead connections, refused/missing socket,
// reconnect, streams that must end rather than hang) without stopping the shared engine that other test
// files use in parallel. What it does not cover is the engine's own state surviving a restart.
import { rm } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { RuntimeError } from "../../../src/runtime/errors.ts";
import type { LogLine, Runtime } from "../../../src/runtime/types.ts";
import { testEnv } from "../../support/env.ts";
import { uniqueName } from "../../support/names.ts";
import { waitFor } from "../../support/wait.ts";
import { waitForLogLine } from "./containers.ts";
import { SOCKET_DIR, staleSocket } from "./faults.ts";
import { execUntil, expectClean, TestPod, waitForState } from "./fixtures.ts";
import { SocketProxy } from "./socket-proxy.ts";

export interface RestartConformanceOptions {
  /** The real runtime socket the proxy forwards to. */
  upstreamSocket: string;
  /** A runtime of the driver under test talking to the given unix socket path. */
  connectTo(socketPath: string): Promise<Runtime> | Runtime;
  /** Present in the runtime; default deckhand.local/busybox:1.35. */
  busyboxImage?: string;
  /** How long the driver may take to notice the runtime is back; default 30 s. */
  recoveryTimeoutMs?: number;
  /**
   * The very first call after the runtime is back must succeed (no stale connection, no reconnect backoff).
   * True for drivers that connect per request (Docker); gRPC channels reconnect with backoff instead.
   */
  immediateRecovery?: boolean;
}

async function expectUnavailable(call: Promise<unknown>, path: string): Promise<void> {
  const error = await call.then(
    () => new Error("expected RUNTIME_UNAVAILABLE, the call succeeded"),
    (e: unknown) => e,
  );
  expect(error, String(error)).toBeInstanceOf(RuntimeError);
  expect((error as RuntimeError).code, (error as RuntimeError).message).toBe("RUNTIME_UNAVAILABLE");
  expect((error as RuntimeError).message).toContain(path);
}

export function runtimeRestartConformance(name: string, options: RestartConformanceOptions): void {
  const busybox = options.busyboxImage ?? testEnv.busyboxImage;
  const recoveryTimeoutMs = options.recoveryTimeoutMs ?? 30_000;

  describe(`runtime conformance: ${name} restarted mid-test`, () => {
    it("fails fast while the runtime is down, ends open streams, and recovers on the same instance", async () => {
      const proxy = new SocketProxy(`${SOCKET_DIR}/${uniqueName("proxy")}.sock`, options.upstreamSocket);
      await proxy.start();
      const rt = await options.connectTo(proxy.path);
      const pod = new TestPod(rt, busybox, "restart");
      try {
        // A running pod, a log stream being followed and an exec in flight when the runtime goes away.
        const { sandbox, containerId } = await pod.runPod(
          "echo before; trap 'exit 0' TERM; while :; do sleep 1 & wait $!; done",
        );
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

        await proxy.stop();
        // Open streams and calls end instead of hanging (bounded by the test timeout).
        expect(await inFlight).not.toBe("finished");
        expect(["ended", "RUNTIME_UNAVAILABLE", "RUNTIME_ERROR"]).toContain(await follow);
        // Socket gone: every call fails at once, naming the endpoint.
        await expectUnavailable(rt.version(), proxy.path);
        await expectUnavailable(rt.podSandboxStatus(sandbox.id), proxy.path);
        await expectUnavailable(rt.listContainers({ labelSelector: pod.selector }), proxy.path);
        // Stale socket left by a killed daemon: connection refused.
        await staleSocket(proxy.path);
        await expectUnavailable(rt.version(), proxy.path);
        await rm(proxy.path, { force: true });

        // Back on the same path: the same driver instance works again, with the state the runtime kept.
        await proxy.start();
        if (options.immediateRecovery) {
          expect((await rt.version()).runtimeVersion).not.toBe("");
        } else {
          await waitFor(() => rt.version().then(() => true), {
            what: `the ${name} driver to reach the runtime again through ${proxy.path}`,
            timeoutMs: recoveryTimeoutMs,
            intervalMs: 200,
          });
        }
        expect((await rt.podSandboxStatus(sandbox.id)).state).toBe("ready");
        expect((await rt.containerStatus(containerId)).state).toBe("running");
        expect((await rt.listContainers({ labelSelector: pod.selector })).map((c) => c.id)).toEqual([
          containerId,
        ]);
        const out = await execUntil(rt, containerId, ["echo", "after"], "exec after the restart");
        expect(out).toBe("after\n");
        const second = await pod.startContainer(
          sandbox,
          pod.containerConfig("second", "echo second; exit 0"),
        );
        expect((await waitForState(rt, second, "exited")).exitCode).toBe(0);
        const lines: string[] = [];
        for await (const line of rt.containerLogs(second, {
          follow: true,
          signal: AbortSignal.timeout(60_000),
        })) {
          lines.push(line.content.toString());
        }
        expect(lines).toEqual(["second"]);

        // Quick bounces right after successful calls: connections the driver may keep for reuse are dead
        // now, and the next call must not trip over them.
        for (let bounce = 0; bounce < 5; bounce++) {
          await rt.listContainers({ labelSelector: pod.selector });
          await proxy.stop();
          await proxy.start();
          if (options.immediateRecovery) {
            expect((await rt.containerStatus(containerId)).state).toBe("running");
          } else {
            await waitFor(() => rt.containerStatus(containerId).then((c) => c.state === "running"), {
              what: `the ${name} driver to answer after bounce ${bounce + 1}`,
              timeoutMs: recoveryTimeoutMs,
              intervalMs: 200,
            });
          }
        }
      } finally {
        if (!proxy.running) await proxy.start().catch(() => undefined);
        await pod.dispose().finally(async () => {
          await rt.close();
          await proxy.stop();
        });
      }
      // And, straight at the runtime: nothing of this pod is left.
      const direct = await options.connectTo(options.upstreamSocket);
      try {
        await expectClean(direct, pod.uid);
      } finally {
        await direct.close();
      }
    });
  });
}
