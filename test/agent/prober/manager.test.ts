import { describe, expect, it } from "vitest";
import { ProberManager, type ProbeType } from "../../../src/agent/prober/manager.ts";
import type { Container } from "../../../src/api/schema/core/container.ts";
import type { Pod } from "../../../src/api/schema/core/pod-types.ts";
import type { ExecSyncResult } from "../../../src/runtime/types.ts";
import { ManualClock } from "../../support/manual-clock.ts";

/** exec probes whose exit code the test sets per container. */
function scriptedRuntime(exitCodes: Map<string, number>) {
  return {
    execSync: async (id: string): Promise<ExecSyncResult> => ({
      stdout: Buffer.from(""),
      stderr: Buffer.from(""),
      exitCode: exitCodes.get(id) ?? 0,
    }),
  };
}

function pod(container: Partial<Container>): Pod {
  return {
    metadata: { uid: "u1", name: "p", namespace: "ns" },
    spec: { containers: [{ name: "app", image: "x", ...container }] },
  } as Pod;
}

const exec = (extra = {}) => ({ exec: { command: ["check"] }, periodSeconds: 10, ...extra });

describe("ProberManager", () => {
  it("liveness: reports the container unhealthy after failureThreshold consecutive failures, once", async () => {
    const clock = new ManualClock();
    const codes = new Map([["c1", 1]]);
    const changes: ProbeType[] = [];
    const prober = new ProberManager({
      runtime: scriptedRuntime(codes),
      clock,
      random: () => 0,
      onChange: (_u, t) => changes.push(t),
    });
    prober.syncPod(pod({ livenessProbe: exec({ failureThreshold: 3 }) }), [
      { name: "app", containerId: "c1", podIP: "", startedAt: 0 },
    ]);
    await clock.advance(0);
    expect(prober.results("u1").unhealthy.size).toBe(0);
    await clock.advance(10_000);
    expect(changes).toEqual([]);
    await clock.advance(10_000);
    expect(changes).toEqual(["liveness"]);
    expect(prober.results("u1").unhealthy.get("app")).toBe(
      "Container app failed liveness probe, will be restarted",
    );
    await clock.advance(30_000);
    expect(changes).toEqual(["liveness"]);
    prober.stop();
  });

  it("readiness: starts not ready, flips both ways with the thresholds", async () => {
    const clock = new ManualClock();
    const codes = new Map([["c1", 0]]);
    const changes: ProbeType[] = [];
    const prober = new ProberManager({
      runtime: scriptedRuntime(codes),
      clock,
      random: () => 0,
      onChange: (_u, t) => changes.push(t),
    });
    prober.syncPod(pod({ readinessProbe: exec({ failureThreshold: 1 }) }), [
      { name: "app", containerId: "c1", podIP: "", startedAt: 0 },
    ]);
    expect(prober.results("u1").readiness.get("app")).toBe(false);
    await clock.advance(0);
    expect(prober.results("u1").readiness.get("app")).toBe(true);
    codes.set("c1", 1);
    await clock.advance(10_000);
    expect(prober.results("u1").readiness.get("app")).toBe(false);
    expect(changes).toEqual(["readiness", "readiness"]);
    prober.stop();
  });

  it("startup gates liveness until it succeeds, and initialDelaySeconds is honoured", async () => {
    const clock = new ManualClock();
    const codes = new Map([["c1", 1]]);
    const probed: string[] = [];
    const prober = new ProberManager({
      runtime: scriptedRuntime(codes),
      clock,
      random: () => 0,
      onChange: () => {},
      onResult: (e) => probed.push(`${clock.now() / 1000}s:${e.type}:${e.result.outcome}`),
    });
    prober.syncPod(
      pod({ startupProbe: exec({ failureThreshold: 30 }), livenessProbe: exec({ initialDelaySeconds: 5 }) }),
      [{ name: "app", containerId: "c1", podIP: "", startedAt: 0 }],
    );
    await clock.advance(5_000);
    codes.set("c1", 0);
    await clock.advance(25_000);
    expect(probed).toEqual([
      "0s:startup:failure",
      "10s:startup:success",
      "15s:liveness:success",
      "25s:liveness:success",
    ]);
    expect(prober.results("u1").startup.get("app")).toBe(true);
    prober.stop();
  });

  it("a new container instance starts from the initial results", async () => {
    const clock = new ManualClock();
    const codes = new Map([["c1", 1]]);
    const prober = new ProberManager({
      runtime: scriptedRuntime(codes),
      clock,
      random: () => 0,
      onChange: () => {},
    });
    const p = pod({ livenessProbe: exec({ failureThreshold: 1 }) });
    prober.syncPod(p, [{ name: "app", containerId: "c1", podIP: "", startedAt: 0 }]);
    await clock.advance(0);
    expect(prober.results("u1").unhealthy.has("app")).toBe(true);
    prober.syncPod(p, [{ name: "app", containerId: "c2", podIP: "", startedAt: 1 }]);
    expect(prober.results("u1").unhealthy.has("app")).toBe(false);
    prober.removePod("u1");
    expect(prober.results("u1").readiness.size).toBe(0);
  });
  it("probes on a fixed tick: a probe's own duration does not stretch the period; an overrun runs once more at once", async () => {
    const clock = new ManualClock();
    let durationMs = 300;
    const starts: number[] = [];
    const slow = {
      execSync: async (): Promise<ExecSyncResult> => {
        starts.push(clock.now());
        await clock.sleep(durationMs);
        return { stdout: Buffer.from(""), stderr: Buffer.from(""), exitCode: 0 };
      },
    };
    const prober = new ProberManager({ runtime: slow, clock, random: () => 0, onChange: () => {} });
    prober.syncPod(pod({ readinessProbe: exec({ periodSeconds: 1 }) }), [
      { name: "app", containerId: "c1", podIP: "", startedAt: 0 },
    ]);
    await clock.advance(3_500);
    expect(starts).toEqual([0, 1000, 2000, 3000]);
    // A probe taking 2.5 periods: the next one starts as soon as it ends, then the ticks resume.
    durationMs = 2_500;
    await clock.advance(500);
    durationMs = 100;
    await clock.advance(4_000);
    const after = starts.slice(4);
    expect(after[0]).toBe(4_000);
    expect(after[1]).toBe(6_500);
    expect(after.slice(2)).toEqual([7_000, 8_000]);
    prober.stop();
  });
});
