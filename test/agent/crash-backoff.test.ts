import { describe, expect, it } from "vitest";
import { CrashBackoff } from "../../src/agent/crash-backoff.ts";

describe("CrashBackoff", () => {
  it("restarts at once the first time, then waits 10 s, 20 s, 40 s … up to the cap", () => {
    const backoff = new CrashBackoff({ maxMs: 40_000 });
    const key = CrashBackoff.key("uid", "app");
    let now = 0;
    expect(backoff.tryRestart(key, now, now)).toEqual({ allowed: true });
    const waits: number[] = [];
    for (let i = 0; i < 5; i++) {
      now += 1000; // the container runs 1 s and dies again
      const finishedAt = now;
      const decision = backoff.tryRestart(key, finishedAt, now);
      expect(decision.allowed).toBe(false);
      if (decision.allowed) return;
      waits.push(decision.delayMs);
      now += decision.remainingMs;
      expect(backoff.tryRestart(key, finishedAt, now)).toEqual({ allowed: true });
    }
    expect(waits).toEqual([10_000, 20_000, 40_000, 40_000, 40_000]);
  });

  it("tells how long is left while backing off", () => {
    const backoff = new CrashBackoff();
    backoff.tryRestart("k", 0, 0);
    expect(backoff.tryRestart("k", 5_000, 8_000)).toEqual({
      allowed: false,
      remainingMs: 7_000,
      delayMs: 10_000,
    });
  });

  it("starts from the initial delay again after a long clean run", () => {
    const backoff = new CrashBackoff();
    backoff.tryRestart("k", 0, 0);
    backoff.tryRestart("k", 1_000, 11_000); // delay now 20 s
    expect(backoff.currentDelay("k")).toBe(20_000);
    const later = 11_000 + 10 * 60_000 + 1;
    expect(backoff.tryRestart("k", later, later)).toEqual({ allowed: true });
    expect(backoff.currentDelay("k")).toBe(10_000);
  });

  it("keeps containers apart and forgets a pod's entries", () => {
    const backoff = new CrashBackoff();
    backoff.tryRestart("u1/a", 0, 0);
    expect(backoff.tryRestart("u1/b", 0, 0)).toEqual({ allowed: true });
    backoff.forget("u1/");
    expect(backoff.currentDelay("u1/a")).toBe(0);
  });
});
