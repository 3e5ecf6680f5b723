// Events expire (kube-apiserver's --event-ttl, default one hour): upstream puts every event write under an
// etcd lease of that TTL, so an event lives for the TTL after its last write. Here one sweeper serves both
// storage backends: it reads the events watch cache periodically and deletes every event whose last write
// is older than the TTL, with the resourceVersion it saw as a precondition (an event written again in the
// meantime stays). The last write is the latest of the times the object carries: creation, the recorder's
// lastTimestamp / eventTime / series.lastObservedTime, and managedFields (stamped on every change).

import type { Logger } from "pino";
import type { KubeObject } from "../../api/resource.ts";
import type { Clock } from "../../util/clock.ts";
import { isApiError } from "./errors.ts";
import type { UserInfo } from "./pipeline/authentication.ts";
import type { ObjectStore } from "./store/object-store.ts";
import type { WatchCache } from "./watch/cache.ts";

/** Upstream's default --event-ttl. */
export const DEFAULT_EVENT_TTL_MS = 60 * 60 * 1000;

const SWEEPER_USER: UserInfo = { name: "system:apiserver", groups: ["system:masters"] };

interface EventTimes extends KubeObject {
  lastTimestamp?: string | null;
  eventTime?: string | null;
  series?: { lastObservedTime?: string | null } | null;
}

/** The latest time an event records about itself (ms since the epoch), 0 if it records none. */
export function lastWriteOf(event: KubeObject): number {
  const e = event as EventTimes;
  const times = [
    e.metadata?.creationTimestamp,
    e.lastTimestamp,
    e.eventTime,
    e.series?.lastObservedTime,
    ...(e.metadata?.managedFields ?? []).map((m) => (m as { time?: string }).time),
  ];
  let latest = 0;
  for (const t of times) {
    const ms = typeof t === "string" ? Date.parse(t) : Number.NaN;
    if (ms > latest) latest = ms;
  }
  return latest;
}

export interface EventTtlOptions {
  /** The core/v1 events store and cache (events.k8s.io/v1 events are the same objects). */
  store: ObjectStore;
  cache: WatchCache;
  ttlMs: number;
  clock: Clock;
  log: Logger;
  /** How often to sweep; default a tenth of the TTL, between 1 s and 1 min. */
  intervalMs?: number;
}

export class EventTtlSweeper {
  readonly #options: EventTtlOptions;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #sweeping: Promise<number> | undefined;

  constructor(options: EventTtlOptions) {
    if (!(options.ttlMs > 0)) throw new RangeError(`event TTL must be positive, got ${options.ttlMs} ms`);
    this.#options = options;
    this.#intervalMs = options.intervalMs ?? Math.min(60_000, Math.max(1000, options.ttlMs / 10));
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.sweep(), this.#intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Deletes the expired events once; resolves with how many went. One sweep at a time. */
  sweep(): Promise<number> {
    this.#sweeping ??= this.#sweepOnce().finally(() => {
      this.#sweeping = undefined;
    });
    return this.#sweeping;
  }

  async #sweepOnce(): Promise<number> {
    const { store, cache, ttlMs, clock, log } = this.#options;
    const deadline = clock.now() - ttlMs;
    let deleted = 0;
    for (const event of cache.snapshot()) {
      if (lastWriteOf(event) > deadline) continue;
      const meta = event.metadata ?? {};
      try {
        await store.delete(
          meta.namespace ?? "",
          meta.name ?? "",
          { preconditions: { resourceVersion: meta.resourceVersion ?? "" } },
          { user: SWEEPER_USER, dryRun: false },
        );
        deleted++;
      } catch (error) {
        // Gone already, or written again since the snapshot (then it lives on): both fine.
        if (isApiError(error, "NotFound") || isApiError(error, "Conflict")) continue;
        log.warn(
          { err: error, namespace: meta.namespace, name: meta.name },
          "could not delete an expired event",
        );
      }
    }
    if (deleted > 0) log.debug({ deleted, ttlMs }, "deleted expired events");
    return deleted;
  }
}
