// CrashLoopBackOff: per (pod, container), the delay before a restart starts at 10 s and doubles up to a cap
// (upstream: 5 min), and is forgotten after the container ran cleanly for 10 min (2 × the upstream cap).

export interface CrashBackoffOptions {
  initialMs?: number;
  maxMs?: number;
  /** A restart this long after the previous one starts from `initialMs` again. */
  resetAfterMs?: number;
}

interface Entry {
  delayMs: number;
  /** When the last restart was allowed. */
  lastRestartAt: number;
}

export type RestartDecision = { allowed: true } | { allowed: false; remainingMs: number; delayMs: number };

export class CrashBackoff {
  private readonly entries = new Map<string, Entry>();
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly resetAfterMs: number;

  constructor(options: CrashBackoffOptions = {}) {
    this.initialMs = options.initialMs ?? 10_000;
    this.maxMs = options.maxMs ?? 5 * 60_000;
    this.resetAfterMs = options.resetAfterMs ?? 2 * this.maxMs;
  }

  static key(podUid: string, containerName: string): string {
    return `${podUid}/${containerName}`;
  }

  /**
   * May the container that finished at `finishedAt` be restarted at `now`? It may unless less than the
   * current delay has passed since it finished. An allowed restart doubles the delay for next time (up to
   * the cap); a restart long after the previous one starts again from the initial delay.
   */
  tryRestart(key: string, finishedAt: number, now: number): RestartDecision {
    const entry = this.entries.get(key);
    const fresh = !entry || now - entry.lastRestartAt > this.resetAfterMs;
    if (!fresh && now - finishedAt < entry.delayMs) {
      return { allowed: false, remainingMs: finishedAt + entry.delayMs - now, delayMs: entry.delayMs };
    }
    this.entries.set(key, {
      // A cap below the initial delay (maxContainerRestartPeriod: 5s) is the delay from the start.
      delayMs: fresh ? Math.min(this.initialMs, this.maxMs) : Math.min(this.maxMs, entry.delayMs * 2),
      lastRestartAt: now,
    });
    return { allowed: true };
  }

  /** The delay a back-off currently imposes (for messages), or 0. */
  currentDelay(key: string): number {
    return this.entries.get(key)?.delayMs ?? 0;
  }

  forget(prefix: string): void {
    for (const key of this.entries.keys()) if (key.startsWith(prefix)) this.entries.delete(key);
  }
}
