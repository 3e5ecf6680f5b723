// A supervised list+watch: the one way the agent and the controllers follow a collection. Lists, then
// watches from the list's resourceVersion; re-watches when the server ends a stream; relists on 410 Gone;
// backs off with jitter on errors; and a watchdog re-watches a stream that has gone silent (half-open
// connections stall watches without any error).
import { Backoff, type BackoffOptions } from "../../util/backoff.ts";
import { type Clock, systemClock } from "../../util/clock.ts";
import type { KubeObject } from "../resource.ts";
import type { ListOptions, ObjectList, ResourceRef, WatchEvent, WatchOptions } from "./client.ts";
import { isGone } from "./errors.ts";

/** What the reflector needs from an API client. */
export interface ListWatcher {
  list<T extends KubeObject>(ref: ResourceRef, options?: ListOptions): Promise<ObjectList<T>>;
  watch<T extends KubeObject>(ref: ResourceRef, options?: WatchOptions): AsyncIterable<WatchEvent<T>>;
}

export interface ReflectorHandler<T> {
  /** The full current state after a (re)list; replaces whatever the handler held. */
  replace(items: T[], resourceVersion: string): void;
  /** One change from the watch, in order. Bookmarks are not passed on. */
  event(event: WatchEvent<T>): void;
}

interface ReflectorBaseOptions<U> {
  client: ListWatcher;
  /** The collection, e.g. { version: "v1", resource: "pods" } (namespace optional). */
  ref: ResourceRef;
  labelSelector?: string;
  fieldSelector?: string;
  handler: ReflectorHandler<U>;
  /** Re-watch when no event or bookmark arrived for this long (default 2 min). */
  idleTimeoutMs?: number;
  /** Server-side watch timeout range, randomized per watch like client-go (default 5–10 min). */
  minWatchTimeoutSeconds?: number;
  /** Page size for lists (default 500, like client-go). */
  pageSize?: number;
  backoff?: BackoffOptions;
  clock?: Clock;
  random?: () => number;
  /** Told about every failure, for logs and metrics; the reflector carries on by itself. */
  onError?(error: unknown, retryInMs: number): void;
}

/**
 * What the reflector follows and how. `transform` is applied to every listed and watched object before the
 * handler sees it (client-go's TransformFunc): drop what the follower never reads, so that it is not kept
 * for every object (e.g. `stripManagedFields`), or hand the handler a compact form of its own (then it is
 * required). A list's page is transformed as it arrives, so the objects of a large list die young instead
 * of all living until the last page is in.
 */
export type ReflectorOptions<T, U = T> = ReflectorBaseOptions<U> &
  ([T] extends [U] ? { transform?(object: T): U } : { transform(object: T): U });

/**
 * Removes metadata.managedFields (server-side apply bookkeeping, often the largest part of a small object's
 * metadata), as upstream's informers do for the kubelet and controllers that never read it.
 */
export function stripManagedFields<T extends KubeObject>(object: T): T {
  if (object.metadata?.managedFields !== undefined) delete object.metadata.managedFields;
  return object;
}

export interface ReflectorStats {
  lists: number;
  watches: number;
  relistsOnGone: number;
  watchdogRewatches: number;
  errors: number;
}

export class Reflector<T extends KubeObject, U = T> {
  readonly stats: ReflectorStats = {
    lists: 0,
    watches: 0,
    relistsOnGone: 0,
    watchdogRewatches: 0,
    errors: 0,
  };
  private readonly options: ReflectorBaseOptions<U>;
  private readonly transform: ((object: T) => U) | undefined;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly backoff: Backoff;
  private resourceVersion = "";
  private synced = false;
  private syncWaiters: Array<() => void> = [];

  constructor(options: ReflectorOptions<T, U>) {
    this.options = options;
    this.transform = (options as { transform?(object: T): U }).transform;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.backoff = new Backoff(options.backoff ?? { initialMs: 800, maxMs: 30_000, random: this.random });
  }

  /** True once the first list has been delivered. */
  get hasSynced(): boolean {
    return this.synced;
  }

  /** The resourceVersion of the last list, event or bookmark seen. */
  get lastResourceVersion(): string {
    return this.resourceVersion;
  }

  /** Resolves after the first list has been delivered. */
  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  /** Runs until `signal` aborts; never rejects for API errors. */
  async run(signal: AbortSignal): Promise<void> {
    let needList = true;
    while (!signal.aborted) {
      try {
        if (needList) {
          await this.listAll(signal);
          needList = false;
        }
        const delivered = await this.watchOnce(signal);
        if (delivered === 0 && !signal.aborted) {
          // A stream that ends without a single event (not even a bookmark) is not progress: don't spin.
          await this.clock.sleep(this.backoff.next(this.clock.now()), signal).catch(() => undefined);
        }
      } catch (error) {
        if (signal.aborted) break;
        if (isGone(error)) {
          this.stats.relistsOnGone++;
          needList = true;
          continue;
        }
        this.stats.errors++;
        const wait = this.backoff.next(this.clock.now());
        this.options.onError?.(error, wait);
        await this.clock.sleep(wait, signal).catch(() => undefined);
      }
    }
  }

  private async listAll(signal: AbortSignal): Promise<void> {
    const { client, ref, labelSelector, fieldSelector, handler } = this.options;
    const items: U[] = [];
    let continueToken: string | undefined;
    let resourceVersion = "";
    do {
      if (signal.aborted) return;
      const page = await client.list<T>(ref, {
        labelSelector,
        fieldSelector,
        limit: this.options.pageSize ?? 500,
        continue: continueToken,
      });
      const transform = this.transform;
      if (transform) for (const item of page.items) items.push(transform(item));
      else items.push(...(page.items as unknown[] as U[]));
      continueToken = page.metadata.continue || undefined;
      resourceVersion = page.metadata.resourceVersion ?? "";
    } while (continueToken);
    this.stats.lists++;
    this.resourceVersion = resourceVersion;
    handler.replace(items, resourceVersion);
    this.backoff.reset();
    if (!this.synced) {
      this.synced = true;
      for (const resolve of this.syncWaiters.splice(0)) resolve();
    }
  }

  /** Watches from the last resourceVersion until the stream ends; returns how many events arrived. */
  private async watchOnce(signal: AbortSignal): Promise<number> {
    const { client, ref, labelSelector, fieldSelector, handler } = this.options;
    const idleTimeoutMs = this.options.idleTimeoutMs ?? 120_000;
    const minTimeout = this.options.minWatchTimeoutSeconds ?? 300;
    const watchAbort = new AbortController();
    const stopFollowingParent = forwardAbort(signal, watchAbort);
    let idle = false;
    let delivered = 0;
    let cancelWatchdog = () => {};
    const armWatchdog = () => {
      cancelWatchdog();
      cancelWatchdog = this.clock.setTimer(idleTimeoutMs, () => {
        idle = true;
        watchAbort.abort(new Error(`watch silent for ${idleTimeoutMs} ms`));
      });
    };

    this.stats.watches++;
    armWatchdog();
    try {
      const events = client.watch<T>(ref, {
        labelSelector,
        fieldSelector,
        resourceVersion: this.resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds: Math.floor(minTimeout * (1 + this.random())),
        signal: watchAbort.signal,
      });
      for await (const event of events) {
        armWatchdog();
        delivered++;
        const rv = event.object?.metadata?.resourceVersion;
        if (rv) this.resourceVersion = rv;
        if (event.type !== "BOOKMARK") {
          const transform = this.transform;
          handler.event(
            transform && event.object
              ? { type: event.type, object: transform(event.object) }
              : (event as unknown as WatchEvent<U>),
          );
        }
        this.backoff.reset();
      }
    } catch (error) {
      if (!idle) throw error;
    } finally {
      cancelWatchdog();
      stopFollowingParent();
    }
    if (idle) this.stats.watchdogRewatches++;
    return idle ? Math.max(delivered, 1) : delivered;
  }
}

function forwardAbort(from: AbortSignal, to: AbortController): () => void {
  if (from.aborted) {
    to.abort(from.reason);
    return () => {};
  }
  const onAbort = () => to.abort(from.reason);
  from.addEventListener("abort", onAbort, { once: true });
  return () => from.removeEventListener("abort", onAbort);
}
