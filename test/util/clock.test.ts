import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it, vi } from "vitest";
import { MAX_TIMER_MS, systemClock } from "../../src/util/clock.ts";

describe("systemClock", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("waits longer than setTimeout's 2^31-1 ms limit instead of firing at once", async () => {
    const controller = new AbortController();
    let resolved = false;
    const waiting = systemClock.sleep(MAX_TIMER_MS + 1000, controller.signal).then(() => {
      resolved = true;
    });
    await sleep(50);
    expect(resolved).toBe(false);
    controller.abort(new Error("stop"));
    await expect(waiting).rejects.toThrow("stop");
  });

  it("fires a timer of 60 days after 60 days, not before", () => {
    vi.useFakeTimers();
    const fired = vi.fn();
    const days = (n: number) => n * 86_400_000;
    systemClock.setTimer(days(60), fired);
    vi.advanceTimersByTime(days(59));
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(days(1));
    expect(fired).toHaveBeenCalledTimes(1);
  });

  it("cancels a long timer between its steps", () => {
    vi.useFakeTimers();
    const fired = vi.fn();
    const cancel = systemClock.setTimer(MAX_TIMER_MS * 2, fired);
    vi.advanceTimersByTime(MAX_TIMER_MS + 5);
    cancel();
    vi.advanceTimersByTime(MAX_TIMER_MS * 2);
    expect(fired).not.toHaveBeenCalled();
  });

  it("still resolves short sleeps", async () => {
    await systemClock.sleep(1);
    let ran = false;
    await new Promise<void>((resolve) =>
      systemClock.setTimer(1, () => {
        ran = true;
        resolve();
      }),
    );
    expect(ran).toBe(true);
  });
});
