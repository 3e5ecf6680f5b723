// The watch cache of one resource (upstream's Cacher): ONE storage watch per resource prefix, fanned out
// to every client. It keeps the current state (for watches that start "now" and for in-process readers
// such as the garbage collector) and a bounded history of events, so a client resuming from a recent
// resourceVersion is served from memory; older ones get 410 Gone and relist, as upstream.
//
// The history is bounded by age, as upstream's (eventFreshDuration): events younger than `freshMs` are
// kept up to `capacity`, older ones only while fewer than `minEvents` remain. A count alone kept each
// busy resource's last 10,000 events with their objects and encodings for as long as the server ran
// (hundreds of MiB under pod churn).
//
// At start it lists at a revision up to `historyWindow` revisions in the past and replays from there, so
// clients that were watching before a server restart can resume where they stopped.

import type { Logger } from "pino";
import type { KubeObject } from "../../../api/resource.ts";
import type { Clock } from "../../../util/clock.ts";
import { isGone } from "../../storage/errors.ts";
import type { KeyValue, Storage, WatchEvent } from "../../storage/types.ts";

export type EventType = "ADDED" | "MODIFIED" | "DELETED";

export interface CachedEvent {
  type: EventType;
  key: string;
  revision: number;
  /** The object after the event (for DELETED: its last state), resourceVersion = revision. */
  object: KubeObject;
  /** The object before the event (MODIFIED, DELETED). */
  prevObject?: KubeObject;
  /** Encodings of this event computed for one watcher and reused by all others (keyed by format). */
  encodings?: Map<string, Buffer>;
  /** When the cache applied it (clock ms), for the history's age bound. */
  at: number;
}

/** One consumer of the cache: an HTTP watch, or an in-process component. */
export interface CacheWatcher {
  /** Only events with a revision above this are delivered; updated as events are delivered. */
  afterRevision: number;
  /** Key prefix this watcher wants (a namespace's prefix, or the resource's). */
  keyPrefix: string;
  /** Whether the object passes the watcher's selectors. */
  matches(obj: KubeObject): boolean;
  /** Delivers one event; `type` may differ from `event.type` when selectors turn it into ADDED/DELETED. */
  deliver(type: EventType, object: KubeObject, event: CachedEvent): void;
  /** The cache knows every event up to `revision` has been delivered (for bookmarks). */
  progress?(revision: number): void;
  /** The cache cannot continue this watcher (storage watch lost): end it. */
  terminate(reason: string): void;
}

export interface WatchCacheOptions {
  storage: Storage;
  prefix: string;
  /** Resource name, for logs. */
  resource: string;
  decode(kv: KeyValue): KubeObject;
  log: Logger;
  clock: Clock;
  /** At most this many events are kept in memory for resuming watchers. */
  capacity?: number;
  /** Events younger than this are kept (up to `capacity`); older ones are dropped beyond `minEvents`. */
  freshMs?: number;
  /** This many recent events are kept whatever their age. */
  minEvents?: number;
  /** At start, replay this many revisions of history (bounded by compaction). */
  historyWindow?: number;
}

export class TooOldError extends Error {
  readonly requested: number;
  readonly oldest: number;
  constructor(requested: number, oldest: number) {
    super(`too old resource version: ${requested} (${oldest})`);
    this.requested = requested;
    this.oldest = oldest;
  }
}

const DEFAULT_CAPACITY = 10_000;
/** Upstream's eventFreshDuration and lower-bound capacity. */
const DEFAULT_FRESH_MS = 75_000;
const DEFAULT_MIN_EVENTS = 100;
const DEFAULT_HISTORY_WINDOW = 10_000;
const RESTART_BACKOFF_MS = 500;

export class WatchCache {
  readonly prefix: string;
  private readonly options: WatchCacheOptions;
  private readonly capacity: number;
  private readonly state = new Map<string, KubeObject>();
  private history: CachedEvent[] = [];
  /** Every event with revision > oldest is in `history` (once started). */
  private oldest = 0;
  /** Every event up to `revision` has been applied. */
  private revisionSeen = 0;
  private readonly watchers = new Set<CacheWatcher>();
  private readonly abort = new AbortController();
  private readyPromise: Promise<void>;
  private resolveReady!: () => void;
  private started = false;
  private isReady = false;

  constructor(options: WatchCacheOptions) {
    this.options = options;
    this.prefix = options.prefix;
    this.capacity = options.capacity ?? DEFAULT_CAPACITY;
    this.readyPromise = new Promise((resolve) => {
      this.resolveReady = resolve;
    });
  }

  /** Resolves once the initial list is loaded and the storage watch is running. */
  ready(): Promise<void> {
    return this.readyPromise;
  }

  get revision(): number {
    return this.revisionSeen;
  }

  get oldestRevision(): number {
    return this.oldest;
  }

  get watcherCount(): number {
    return this.watchers.size;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    void this.run();
  }

  stop(): void {
    this.abort.abort();
    for (const w of this.watchers) w.terminate("the server is shutting down");
    this.watchers.clear();
  }

  /** Current objects under `keyPrefix` (a snapshot at `revision`). */
  snapshot(keyPrefix = this.prefix): KubeObject[] {
    const items: KubeObject[] = [];
    for (const [key, obj] of this.state) if (key.startsWith(keyPrefix)) items.push(obj);
    return items;
  }

  getByKey(key: string): KubeObject | undefined {
    return this.state.get(key);
  }

  /**
   * Registers `watcher` and replays history after `watcher.afterRevision` to it, synchronously, so no
   * event can fall between replay and live delivery. Throws TooOldError when that history is gone.
   */
  addWatcher(watcher: CacheWatcher): () => void {
    if (!this.isReady) throw new Error(`watch cache for ${this.options.resource} is not ready`);
    if (watcher.afterRevision < this.oldest) throw new TooOldError(watcher.afterRevision, this.oldest);
    const start = this.firstIndexAfter(watcher.afterRevision);
    for (let i = start; i < this.history.length; i++) this.deliver(watcher, this.history[i] as CachedEvent);
    this.watchers.add(watcher);
    return () => {
      this.watchers.delete(watcher);
    };
  }

  /** Registers `watcher` as of the cache's current state: ADDED for every current object, then live. */
  addWatcherFromNow(watcher: CacheWatcher, initial: (objects: KubeObject[]) => void): () => void {
    if (!this.isReady) throw new Error(`watch cache for ${this.options.resource} is not ready`);
    initial(this.snapshot(watcher.keyPrefix).filter((o) => watcher.matches(o)));
    watcher.afterRevision = this.revisionSeen;
    this.watchers.add(watcher);
    return () => {
      this.watchers.delete(watcher);
    };
  }

  /**
   * Drops the events beyond the bounds. Dropping shifts the array, so events go in batches of at least an
   * eighth of the history: the history may hold up to 1.25 × capacity, or stale events up to an eighth.
   */
  private trimHistory(now: number): void {
    const { history } = this;
    const freshFrom = now - (this.options.freshMs ?? DEFAULT_FRESH_MS);
    const minEvents = this.options.minEvents ?? DEFAULT_MIN_EVENTS;
    let drop = history.length > this.capacity * 1.25 ? history.length - this.capacity : 0;
    while (history.length - drop > minEvents && (history[drop] as CachedEvent).at < freshFrom) drop++;
    if (drop < Math.max(1, history.length >> 3)) return;
    this.oldest = (history[drop - 1] as CachedEvent).revision;
    history.splice(0, drop);
  }

  private firstIndexAfter(revision: number): number {
    let lo = 0;
    let hi = this.history.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.history[mid] as CachedEvent).revision <= revision) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private deliver(w: CacheWatcher, event: CachedEvent): void {
    if (event.revision <= w.afterRevision) return;
    if (!event.key.startsWith(w.keyPrefix)) {
      return;
    }
    const cur = event.type !== "DELETED" && w.matches(event.object);
    const prev = event.prevObject !== undefined && w.matches(event.prevObject);
    w.afterRevision = event.revision;
    if (event.type === "ADDED") {
      if (cur) w.deliver("ADDED", event.object, event);
    } else if (event.type === "MODIFIED") {
      if (cur && prev) w.deliver("MODIFIED", event.object, event);
      else if (cur) w.deliver("ADDED", event.object, event);
      else if (prev) {
        // Left the selection: upstream sends DELETED with the old object at the event's revision.
        const old = structuredClone(event.prevObject as KubeObject);
        if (old.metadata) old.metadata.resourceVersion = String(event.revision);
        w.deliver("DELETED", old, event);
      }
    } else if (w.matches(event.object)) {
      w.deliver("DELETED", event.object, event);
    }
  }

  private apply(ev: WatchEvent): void {
    if (ev.type === "progress") {
      if (ev.revision > this.revisionSeen) this.revisionSeen = ev.revision;
      this.trimHistory(this.options.clock.now());
      for (const w of this.watchers) {
        if (w.afterRevision < this.revisionSeen) w.progress?.(this.revisionSeen);
      }
      return;
    }
    const key = ev.kv.key;
    const revision = ev.kv.modRevision;
    const previous = this.state.get(key);
    const at = this.options.clock.now();
    let event: CachedEvent;
    if (ev.type === "put") {
      const object = this.options.decode(ev.kv);
      this.state.set(key, object);
      event = previous
        ? { type: "MODIFIED", key, revision, object, prevObject: previous, at }
        : { type: "ADDED", key, revision, object, at };
    } else {
      this.state.delete(key);
      const last = previous ?? this.options.decode(ev.prevKv);
      const object = structuredClone(last);
      if (object.metadata) object.metadata.resourceVersion = String(revision);
      event = { type: "DELETED", key, revision, object, prevObject: last, at };
    }
    this.revisionSeen = revision;
    this.history.push(event);
    this.trimHistory(at);
    for (const w of this.watchers) {
      try {
        this.deliver(w, event);
      } catch (error) {
        this.options.log.warn({ err: error, resource: this.options.resource }, "watcher failed; dropping it");
        this.watchers.delete(w);
        w.terminate("internal error delivering an event");
      }
    }
  }

  /**
   * Loads the state as of `from` (up to `historyWindow` revisions in the past) and records the state at
   * the head, so that replaying the storage watch from `from` rebuilds both the history and the present.
   */
  private async loadInitial(): Promise<void> {
    const { storage } = this.options;
    const head = await storage.currentRevision();
    // Revision 1 is every store's empty beginning (etcd reads "revision 0" as "latest", so never ask for it).
    let from = Math.max(1, head - (this.options.historyWindow ?? DEFAULT_HISTORY_WINDOW));
    let items: KeyValue[];
    let target: KeyValue[] | undefined;
    try {
      items = await this.listAll(from);
      if (from < head) target = await this.listAll(head);
    } catch (error) {
      if (!isGone(error)) throw error;
      // History before `from` is compacted away: start at the head, without history.
      items = await this.listAll(head);
      from = head;
      target = undefined;
    }
    this.state.clear();
    for (const kv of items) this.state.set(kv.key, this.options.decode(kv));
    this.history = [];
    this.oldest = from;
    this.revisionSeen = from;
    this.catchUp = undefined;
    if (target) {
      // Ready once the replay has reached the head: every key has the modRevision it had there.
      const expected = new Map(target.map((kv) => [kv.key, kv.modRevision]));
      let mismatched = 0;
      for (const key of new Set([...expected.keys(), ...this.state.keys()])) {
        if (expected.get(key) !== this.modRevisionOf(key)) mismatched++;
      }
      if (mismatched > 0) this.catchUp = { head, expected, mismatched };
    }
  }

  /** While replaying history at startup: the head to reach and how many keys still differ from it. */
  private catchUp: { head: number; expected: Map<string, number>; mismatched: number } | undefined;

  private modRevisionOf(key: string): number | undefined {
    const rv = this.state.get(key)?.metadata?.resourceVersion;
    return rv === undefined ? undefined : Number(rv);
  }

  /** Updates the catch-up bookkeeping for `key` around one applied event; true once caught up. */
  private trackCatchUp(key: string, before: number | undefined, revision: number): boolean {
    const c = this.catchUp;
    if (!c) return true;
    if (revision > c.head) return true;
    const wanted = c.expected.get(key);
    const after = this.modRevisionOf(key);
    const wasOff = wanted !== before;
    const isOff = wanted !== after;
    if (wasOff && !isOff) c.mismatched--;
    if (!wasOff && isOff) c.mismatched++;
    return c.mismatched === 0;
  }

  private markReady(): void {
    if (this.isReady) return;
    this.catchUp = undefined;
    this.isReady = true;
    this.resolveReady();
  }

  private async listAll(revision: number): Promise<KeyValue[]> {
    const items: KeyValue[] = [];
    let startAfter: string | undefined;
    for (;;) {
      const options: { limit: number; startAfter?: string; revision: number } = { limit: 1000, revision };
      if (startAfter !== undefined) options.startAfter = startAfter;
      const page = await this.options.storage.list(this.prefix, options);
      items.push(...page.items);
      if (!page.more || page.items.length === 0) break;
      startAfter = page.items[page.items.length - 1]?.key;
    }
    return items;
  }

  private async run(): Promise<void> {
    const { log, clock } = this.options;
    const signal = this.abort.signal;
    let loaded = false;
    while (!signal.aborted) {
      try {
        if (!loaded) {
          await this.loadInitial();
          loaded = true;
          if (!this.catchUp) this.markReady();
        }
        const iterator = this.options.storage.watch(this.prefix, this.revisionSeen, signal);
        for await (const ev of iterator) {
          if (signal.aborted) break;
          const key = ev.type === "progress" ? undefined : ev.kv.key;
          const before = key === undefined ? undefined : this.modRevisionOf(key);
          this.apply(ev);
          if (!this.isReady) {
            const caughtUp =
              ev.type === "progress"
                ? ev.revision >= (this.catchUp?.head ?? 0)
                : this.trackCatchUp(key as string, before, ev.kv.modRevision);
            if (caughtUp) this.markReady();
          }
        }
        if (signal.aborted) break;
        log.warn(
          { resource: this.options.resource, revision: this.revisionSeen },
          "storage watch ended; resuming",
        );
      } catch (error) {
        if (signal.aborted) break;
        if (isGone(error)) {
          // We fell behind a compaction: our history is no longer continuous. Start over from a fresh list;
          // every client must relist, as upstream's cacher does.
          log.warn(
            { resource: this.options.resource, revision: this.revisionSeen },
            "storage watch compacted; reloading the cache",
          );
          for (const w of this.watchers) w.terminate("the watch cache was reset");
          this.watchers.clear();
          loaded = false;
          if (this.isReady) {
            this.isReady = false;
            this.isReadyAfterReset();
          }
        } else {
          log.warn({ err: error, resource: this.options.resource }, "storage watch failed; retrying");
        }
        try {
          await clock.sleep(RESTART_BACKOFF_MS, signal);
        } catch {
          break;
        }
      }
    }
  }

  private isReadyAfterReset(): void {
    // Keep the same promise for callers that already awaited readiness; later callers wait on a new one.
    this.readyPromise = new Promise((resolve) => {
      this.resolveReady = resolve;
    });
  }
}
