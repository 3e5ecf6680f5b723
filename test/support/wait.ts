import { setTimeout as sleep } from "node:timers/promises";

export interface WaitOptions {
  /** What is being waited for, in words; it ends up in the timeout message. */
  what: string;
  timeoutMs?: number;
  intervalMs?: number;
}

/**
 * Polls `probe` until it returns a value other than undefined/false, and returns that value.
 * A wait bounds how long a test hangs; it is not a speed assertion. On timeout it says what was awaited
 * and the last error or value seen.
 */
export async function waitFor<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  options: WaitOptions,
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const intervalMs = options.intervalMs ?? 100;
  const deadline = Date.now() + timeoutMs;
  let last = "no attempt finished";
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
      last = `probe returned ${String(value)}`;
    } catch (error) {
      last = `probe threw: ${error instanceof Error ? error.message : String(error)}`;
    }
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${options.what} (${last})`);
    }
    await sleep(intervalMs);
  }
}
