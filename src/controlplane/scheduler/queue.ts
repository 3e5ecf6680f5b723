// The scheduling queue (upstream's PriorityQueue, reduced): pods ready to try (highest priority, then
// oldest first), pods backing off after a failed attempt (1 s doubling to 10 s), and unschedulable pods
// parked until the cluster changes (a node added or updated, a bound pod deleted) or 5 minutes pass.
// A pod that failed while such a change happened goes to backoff rather than being parked, so the change
// is not missed.
import type { Pod } from "../../api/schema/core/pod-types.ts";
import { type Clock, systemClock } from "../../util/clock.ts";

export interface QueuedPod {
  key: string;
  pod: Pod;
  /** Failed attempts so far. */
  attempts: number;
  /** When the pod first entered the queue (ms). */
  since: number;
  /** The scheduling cycle of its last pop. */
  cycle: number;
  backoffUntil?: number;
  parkedAt?: number;
}

export interface QueueOptions {
  clock?: Clock;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  maxParkedMs?: number;
}

export class SchedulingQueue {
  private readonly clock: Clock;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly maxParkedMs: number;
  private readonly active = new Map<string, QueuedPod>();
  private readonly backoff = new Map<string, QueuedPod>();
  private readonly parked = new Map<string, QueuedPod>();
  /** Keys popped and being scheduled. */
  private readonly inFlight = new Map<string, QueuedPod>();
  private cycle = 0;
  private moveRequestCycle = -1;
  private waiters: Array<() => void> = [];
  private closed = false;

  constructor(options: QueueOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.initialBackoffMs = options.initialBackoffMs ?? 1000;
    this.maxBackoffMs = options.maxBackoffMs ?? 10_000;
    this.maxParkedMs = options.maxParkedMs ?? 5 * 60_000;
  }

  get pending(): { active: number; backoff: number; unschedulable: number } {
    return { active: this.active.size, backoff: this.backoff.size, unschedulable: this.parked.size };
  }

  has(key: string): boolean {
    return this.active.has(key) || this.backoff.has(key) || this.parked.has(key) || this.inFlight.has(key);
  }

  /** A new pending pod, or a newer version of one already queued. */
  add(key: string, pod: Pod): void {
    if (this.closed) return;
    const existing = this.active.get(key) ?? this.backoff.get(key) ?? this.parked.get(key);
    if (existing) {
      existing.pod = pod;
      // A parked pod whose spec changed may fit now.
      if (this.parked.has(key)) {
        this.parked.delete(key);
        this.enqueueAfterFailure(existing);
      }
      return;
    }
    const inFlight = this.inFlight.get(key);
    if (inFlight) {
      inFlight.pod = pod;
      return;
    }
    this.pushActive({ key, pod, attempts: 0, since: this.clock.now(), cycle: 0 });
  }

  delete(key: string): void {
    this.active.delete(key);
    this.backoff.delete(key);
    this.parked.delete(key);
    this.inFlight.delete(key);
  }

  /** Next pod to schedule, or undefined once closed or aborted. */
  async pop(signal: AbortSignal): Promise<QueuedPod | undefined> {
    for (;;) {
      if (this.closed || signal.aborted) return undefined;
      this.flush();
      const next = this.best();
      if (next) {
        this.active.delete(next.key);
        next.cycle = ++this.cycle;
        this.inFlight.set(next.key, next);
        return next;
      }
      await this.waitForWork(signal);
    }
  }

  /** The attempt for a popped pod ended (bound, or given up because the pod is gone). */
  done(key: string): void {
    this.inFlight.delete(key);
  }

  /** The attempt failed: park the pod until something changes, or back off if something already did. */
  unschedulable(popped: QueuedPod): void {
    if (!this.inFlight.has(popped.key)) return;
    this.inFlight.delete(popped.key);
    popped.attempts++;
    if (this.moveRequestCycle >= popped.cycle) {
      this.enqueueAfterFailure(popped);
    } else {
      popped.parkedAt = this.clock.now();
      this.parked.set(popped.key, popped);
    }
  }

  /** The attempt failed for a reason not tied to the cluster's state (e.g. an API error): back off. */
  retry(popped: QueuedPod): void {
    if (!this.inFlight.has(popped.key)) return;
    this.inFlight.delete(popped.key);
    popped.attempts++;
    this.enqueueAfterFailure(popped);
  }

  /** The cluster changed in a way that may let parked pods fit: move them all to backoff/active. */
  moveAllToActiveOrBackoff(): void {
    this.moveRequestCycle = this.cycle;
    for (const [key, p] of this.parked) {
      this.parked.delete(key);
      this.enqueueAfterFailure(p);
    }
  }

  close(): void {
    this.closed = true;
    this.wake();
  }

  private backoffMs(attempts: number): number {
    return Math.min(this.maxBackoffMs, this.initialBackoffMs * 2 ** Math.max(0, attempts - 1));
  }

  private enqueueAfterFailure(p: QueuedPod): void {
    const until = this.clock.now() + this.backoffMs(p.attempts);
    if (p.attempts > 0 && until > this.clock.now()) {
      p.backoffUntil = until;
      this.backoff.set(p.key, p);
      this.clock.setTimer(until - this.clock.now(), () => this.wake());
    } else {
      this.pushActive(p);
    }
  }

  private pushActive(p: QueuedPod): void {
    p.backoffUntil = undefined;
    p.parkedAt = undefined;
    this.active.set(p.key, p);
    this.wake();
  }

  /** Moves due backoff pods and long-parked pods to active. */
  private flush(): void {
    const now = this.clock.now();
    for (const [key, p] of this.backoff) {
      if ((p.backoffUntil ?? 0) <= now) {
        this.backoff.delete(key);
        this.pushActive(p);
      }
    }
    for (const [key, p] of this.parked) {
      if (now - (p.parkedAt ?? now) >= this.maxParkedMs) {
        this.parked.delete(key);
        this.enqueueAfterFailure(p);
      }
    }
  }

  private best(): QueuedPod | undefined {
    let best: QueuedPod | undefined;
    for (const p of this.active.values()) {
      if (!best) {
        best = p;
        continue;
      }
      const pa = p.pod.spec?.priority ?? 0;
      const pb = best.pod.spec?.priority ?? 0;
      if (pa > pb || (pa === pb && p.since < best.since)) best = p;
    }
    return best;
  }

  private waitForWork(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        signal.removeEventListener("abort", done);
        cancelTimer();
        resolve();
      };
      this.waiters.push(done);
      signal.addEventListener("abort", done, { once: true });
      // Parked pods expire and backoffs end without any event: look again at least every second.
      const cancelTimer = this.clock.setTimer(1000, done);
    });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}
