// The single writer of pod status to the API, like kubelet's status manager: workers and probes hand it the
// newest status; it writes a pod's status only when it differs from what the API last acknowledged, keeps
// retrying (with backoff) while the API server is unreachable so status catches up when it returns, and
// finishes graceful deletion with a grace-0 delete once the pod's containers are gone.
import { isDeepStrictEqual } from "node:util";
import type { ResourceRef } from "../api/client/client.ts";
import { ApiError, isConflict, isNotFound } from "../api/client/errors.ts";
import type { KubeObject } from "../api/resource.ts";
import { Backoff } from "../util/backoff.ts";
import { type Clock, systemClock } from "../util/clock.ts";

export interface PodKey {
  namespace: string;
  name: string;
  uid: string;
  /** The UID of the API object the status goes to when it differs (a static pod's mirror pod). */
  apiUid?: string;
}

/** What the status manager needs from an API client. */
export interface StatusWriter {
  patch<T extends KubeObject>(ref: ResourceRef, type: "merge", patch: unknown): Promise<T>;
  delete(
    ref: ResourceRef,
    options: { gracePeriodSeconds: number; preconditions: { uid: string } },
  ): Promise<unknown>;
}

interface Entry {
  key: PodKey;
  desired: Record<string, unknown>;
  /** The status the API last acknowledged for this pod (undefined: unknown). */
  acknowledged: Record<string, unknown> | undefined;
  /** Delete with grace 0 once written (pod terminated while being deleted). */
  deleteWhenWritten: boolean;
  deleted: boolean;
}

export interface StatusManagerOptions {
  client: StatusWriter;
  clock?: Clock;
  onError?(key: PodKey, error: unknown): void;
  onWritten?(key: PodKey, status: Record<string, unknown>): void;
}

/** Pods whose status is written at the same time. */
const WRITE_CONCURRENCY = 8;

export class StatusManager {
  private readonly options: StatusManagerOptions;
  private readonly clock: Clock;
  private readonly entries = new Map<string, Entry>();
  private readonly dirty = new Set<string>();
  private readonly backoff = new Backoff({ initialMs: 500, maxMs: 30_000, jitter: 0.5 });
  private wake: (() => void) | undefined;
  private idleWaiters: Array<() => void> = [];

  constructor(options: StatusManagerOptions) {
    this.options = options;
    this.clock = options.clock ?? systemClock;
  }

  /** Hands over the newest status of a pod; written when it differs from what the API has. */
  setPodStatus(key: PodKey, status: Record<string, unknown>): void {
    const entry = this.entry(key);
    // A different API object now stands for the pod (a recreated mirror pod): it has none of our status yet.
    if (entry.key.apiUid !== key.apiUid) entry.acknowledged = undefined;
    entry.key = key;
    // Once a pod has a start time it keeps it, like kubelet's status manager: a status generated from an
    // informer copy that has not seen our last write yet would otherwise carry a later one.
    const startTime = entry.desired.startTime ?? entry.acknowledged?.startTime;
    entry.desired = startTime === undefined ? status : { ...status, startTime };
    if (!isDeepStrictEqual(entry.acknowledged, entry.desired)) this.markDirty(key.uid);
  }

  /** The pod is terminated and being deleted: after its final status, delete it for good (grace 0). */
  finishDeletion(key: PodKey): void {
    const entry = this.entry(key);
    if (entry.deleted) return;
    entry.deleteWhenWritten = true;
    this.markDirty(key.uid);
  }

  /** The API's copy of the pod changed (watch); what it holds is now the acknowledged status. */
  observeApiStatus(key: PodKey, status: Record<string, unknown> | undefined): void {
    const entry = this.entries.get(key.uid);
    if (!entry) return;
    entry.acknowledged = status;
    if (!isDeepStrictEqual(status, entry.desired)) this.markDirty(key.uid);
  }

  /** Forgets a pod that is gone from the API. */
  forget(uid: string): void {
    this.entries.delete(uid);
    this.dirty.delete(uid);
  }

  /** The newest status handed over for a pod. */
  status(uid: string): Record<string, unknown> | undefined {
    return this.entries.get(uid)?.desired;
  }

  /** Resolves when nothing is waiting to be written. */
  whenIdle(): Promise<void> {
    if (this.dirty.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      if (this.dirty.size === 0) {
        for (const resolve of this.idleWaiters.splice(0)) resolve();
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          signal.addEventListener("abort", () => resolve(), { once: true });
        });
        this.wake = undefined;
        continue;
      }
      let failed = false;
      // A few pods' writes in flight at once (a burst of pods otherwise waits on one round trip after another);
      // one batch names each pod once, so a pod's writes stay in order.
      const batch = [...this.dirty];
      const writer = async () => {
        for (let uid = batch.shift(); uid !== undefined && !signal.aborted; uid = batch.shift()) {
          this.dirty.delete(uid);
          const entry = this.entries.get(uid);
          if (!entry) continue;
          try {
            await this.write(entry);
          } catch (error) {
            failed = true;
            this.dirty.add(uid);
            this.options.onError?.(entry.key, error);
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(WRITE_CONCURRENCY, batch.length) }, writer));
      if (signal.aborted) return;
      if (failed) await this.clock.sleep(this.backoff.next(this.clock.now()), signal).catch(() => undefined);
      else this.backoff.reset();
    }
  }

  private async write(entry: Entry): Promise<void> {
    const { key } = entry;
    const ref: ResourceRef = { version: "v1", resource: "pods", namespace: key.namespace, name: key.name };
    if (!isDeepStrictEqual(entry.acknowledged, entry.desired)) {
      try {
        // The uid in the patch makes the API server refuse it for a different pod of the same name.
        // What was sent is what the API acknowledges: a newer status handed over meanwhile is still to write.
        const status = entry.desired;
        await this.options.client.patch({ ...ref, subresource: "status" }, "merge", {
          metadata: { uid: key.apiUid ?? key.uid },
          status,
        });
        entry.acknowledged = status;
        this.options.onWritten?.(key, status);
      } catch (error) {
        if (
          isNotFound(error) ||
          isConflict(error) ||
          (error instanceof ApiError && error.httpStatus === 422)
        ) {
          // The pod is gone, or a different pod now has its name (the uid in the patch does not match).
          this.forget(key.uid);
          return;
        }
        throw error;
      }
    }
    if (entry.deleteWhenWritten && !entry.deleted) {
      try {
        await this.options.client.delete(ref, {
          gracePeriodSeconds: 0,
          preconditions: { uid: key.apiUid ?? key.uid },
        });
      } catch (error) {
        if (!isNotFound(error) && !isConflict(error)) throw error;
      }
      entry.deleted = true;
    }
  }

  private entry(key: PodKey): Entry {
    let entry = this.entries.get(key.uid);
    if (!entry) {
      entry = { key, desired: {}, acknowledged: undefined, deleteWhenWritten: false, deleted: false };
      this.entries.set(key.uid, entry);
    }
    return entry;
  }

  private markDirty(uid: string): void {
    this.dirty.add(uid);
    this.wake?.();
  }
}
