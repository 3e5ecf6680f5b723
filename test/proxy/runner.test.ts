import { describe, expect, it } from "vitest";
import { BoundedFrequencyRunner } from "../../src/proxy/runner.ts";
import { ManualClock } from "../support/manual-clock.ts";

function setup(minIntervalMs = 1_000, maxIntervalMs = 30_000, fn?: () => Promise<void>) {
  const clock = new ManualClock();
  const starts: number[] = [];
  const runner = new BoundedFrequencyRunner({
    minIntervalMs,
    maxIntervalMs,
    clock,
    run: async () => {
      starts.push(clock.now());
      await fn?.();
    },
  });
  const abort = new AbortController();
  const loop = runner.loop(abort.signal);
  const stop = async () => {
    abort.abort();
    await loop;
  };
  return { clock, starts, runner, stop };
}

describe("BoundedFrequencyRunner", () => {
  it("runs at once, then at least once per maxInterval without requests", async () => {
    const { clock, starts, stop } = setup();
    await clock.advance(0);
    expect(starts).toEqual([0]);
    await clock.advance(29_999);
    expect(starts).toEqual([0]);
    await clock.advance(1);
    expect(starts).toEqual([0, 30_000]);
    await clock.advance(30_000);
    expect(starts).toEqual([0, 30_000, 60_000]);
    await stop();
  });

  it("runs at most once per minInterval, coalescing requests in between", async () => {
    const { clock, starts, runner, stop } = setup();
    await clock.advance(0);
    for (let i = 0; i < 5; i++) {
      runner.request();
      await clock.advance(100);
    }
    expect(starts).toEqual([0]);
    await clock.advance(500);
    expect(starts).toEqual([0, 1_000]);
    await clock.advance(5_000);
    expect(starts).toEqual([0, 1_000]);
    runner.request();
    await clock.advance(0);
    expect(starts).toEqual([0, 1_000, 6_000]);
    await stop();
  });

  it("honours a retry request, no earlier than minInterval after the last run", async () => {
    const { clock, starts, runner, stop } = setup();
    await clock.advance(0);
    runner.retryAfter(200);
    await clock.advance(999);
    expect(starts).toEqual([0]);
    await clock.advance(1);
    expect(starts).toEqual([0, 1_000]);
    runner.retryAfter(5_000);
    await clock.advance(5_000);
    expect(starts).toEqual([0, 1_000, 6_000]);
    await stop();
  });

  it("queues a request made during a run for after it (and after minInterval)", async () => {
    let release = () => {};
    const { clock, starts, runner, stop } = setup(
      1_000,
      30_000,
      () => new Promise<void>((r) => (release = r)),
    );
    await clock.advance(0);
    runner.request();
    await clock.advance(3_000);
    expect(starts).toEqual([0]);
    release();
    await clock.advance(0);
    expect(starts).toEqual([0, 3_000]);
    release();
    await stop();
  });

  it("keeps looping when a run throws", async () => {
    const errors: unknown[] = [];
    const clock = new ManualClock();
    let runs = 0;
    const runner = new BoundedFrequencyRunner({
      minIntervalMs: 10,
      maxIntervalMs: 100,
      clock,
      run: async () => {
        runs++;
        throw new Error("boom");
      },
      onError: (e) => errors.push(e),
    });
    const abort = new AbortController();
    const loop = runner.loop(abort.signal);
    await clock.advance(250);
    abort.abort();
    await loop;
    expect(runs).toBe(3);
    expect(errors.length).toBe(3);
  });

  it("rejects a minInterval above maxInterval", () => {
    expect(
      () =>
        new BoundedFrequencyRunner({
          minIntervalMs: 10,
          maxIntervalMs: 5,
          clock: new ManualClock(),
          run: async () => {},
        }),
    ).toThrow(/minIntervalMs \(10\)/);
  });
});
