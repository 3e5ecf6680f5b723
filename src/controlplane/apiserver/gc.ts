// A small garbage collector of dependents (upstream's pkg/controller/garbagecollector, reduced to what
// deletion propagation needs):
// - Background: when an owner is gone, dependents none of whose owners exist any more are deleted;
//   dangling references next to a live owner are removed.
// - Orphan: an owner carrying the "orphan" finalizer has its references removed from every dependent, then
//   the finalizer, so it goes and the dependents stay.
// - Foreground: an owner carrying "foregroundDeletion" has its dependents deleted and goes once none is left.
// It learns about objects from the watch caches (an index of owner UID → dependents) and writes through the
// object stores like any other client of the registry, with a live lookup before deleting anything.

import type { Logger } from "pino";
import type { KubeObject, OwnerReference } from "../../api/resource.ts";
import type { Clock } from "../../util/clock.ts";
import { isApiError } from "./errors.ts";
import { metaOf } from "./metadata.ts";
import type { UserInfo } from "./pipeline/authentication.ts";
import type { ResourceRegistry, ServedResource } from "./resources.ts";
import type { ObjectStore } from "./store/object-store.ts";
import type { CacheWatcher, WatchCache } from "./watch/cache.ts";

const GC_USER: UserInfo = {
  name: "system:serviceaccount:kube-system:generic-garbage-collector",
  groups: ["system:masters"],
};
const RETRY_MS = 1000;

interface Entry {
  resource: ServedResource;
  namespace: string;
  name: string;
  owners: string[];
}

export interface GarbageCollectorDeps {
  registry: ResourceRegistry;
  stores: ReadonlyMap<ServedResource, ObjectStore>;
  caches: ReadonlyMap<ServedResource, WatchCache>;
  log: Logger;
  clock: Clock;
}

export class GarbageCollector {
  private readonly deps: GarbageCollectorDeps;
  private readonly index = new Map<string, Entry>();
  private readonly dependents = new Map<string, Set<string>>();
  private readonly queue = new Set<string>();
  private readonly unsubscribe: Array<() => void> = [];
  private running = false;
  private stopped = false;
  private idleWaiters: Array<() => void> = [];

  constructor(deps: GarbageCollectorDeps) {
    this.deps = deps;
  }

  start(): void {
    for (const [resource, cache] of this.deps.caches) this.subscribe(resource, cache);
    // Owners may have gone while the server was down: check every dependent once.
    for (const [uid, entry] of this.index) if (entry.owners.length > 0) this.queue.add(uid);
    for (const [uid, entry] of this.index) {
      const obj = this.objectOf(entry);
      if (obj && this.pendingFinalizer(obj)) this.queue.add(uid);
    }
    this.kick();
  }

  stop(): void {
    this.stopped = true;
    for (const u of this.unsubscribe) u();
  }

  /** Resolves when the work queue is empty (tests, benchmarks). */
  idle(): Promise<void> {
    if (!this.running && this.queue.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private subscribe(resource: ServedResource, cache: WatchCache): void {
    const watcher: CacheWatcher = {
      afterRevision: 0,
      keyPrefix: resource.keyPrefix,
      matches: () => true,
      deliver: (type, object) => this.observe(resource, type, object),
      terminate: () => {
        // The cache was reset: forget what it told us and subscribe again once it is back.
        for (const [uid, entry] of this.index) if (entry.resource === resource) this.forget(uid);
        if (!this.stopped) void cache.ready().then(() => !this.stopped && this.subscribe(resource, cache));
      },
    };
    this.unsubscribe.push(
      cache.addWatcherFromNow(watcher, (objects) => {
        for (const o of objects) this.observe(resource, "ADDED", o);
      }),
    );
  }

  private objectOf(entry: Entry): KubeObject | undefined {
    const store = this.deps.stores.get(entry.resource);
    const cache = this.deps.caches.get(entry.resource);
    return store && cache ? cache.getByKey(store.key(entry.namespace, entry.name)) : undefined;
  }

  private pendingFinalizer(obj: KubeObject): boolean {
    const finalizers = obj.metadata?.finalizers ?? [];
    return (
      !!obj.metadata?.deletionTimestamp &&
      (finalizers.includes("orphan") || finalizers.includes("foregroundDeletion"))
    );
  }

  private forget(uid: string): void {
    const entry = this.index.get(uid);
    if (!entry) return;
    for (const owner of entry.owners) this.dependents.get(owner)?.delete(uid);
    this.index.delete(uid);
  }

  private observe(resource: ServedResource, type: "ADDED" | "MODIFIED" | "DELETED", obj: KubeObject): void {
    const meta = obj.metadata ?? {};
    const uid = meta.uid;
    if (!uid) return;
    if (type === "DELETED") {
      const entry = this.index.get(uid);
      this.forget(uid);
      // Its dependents may now be orphans; an owner waiting in the foreground may now be done.
      for (const dep of this.dependents.get(uid) ?? []) this.queue.add(dep);
      for (const owner of entry?.owners ?? []) if (this.index.has(owner)) this.queue.add(owner);
      this.kick();
      return;
    }
    const owners = (meta.ownerReferences ?? []).map((r) => r.uid).filter(Boolean);
    const previous = this.index.get(uid);
    if (previous) for (const owner of previous.owners) this.dependents.get(owner)?.delete(uid);
    this.index.set(uid, { resource, namespace: meta.namespace ?? "", name: meta.name ?? "", owners });
    for (const owner of owners) {
      let set = this.dependents.get(owner);
      if (!set) {
        set = new Set();
        this.dependents.set(owner, set);
      }
      set.add(uid);
    }
    if (this.pendingFinalizer(obj)) this.queue.add(uid);
    if (owners.some((o) => !this.index.has(o))) this.queue.add(uid);
    // A dependent changing (e.g. being deleted) may unblock a foreground owner.
    for (const owner of owners) {
      const ownerEntry = this.index.get(owner);
      const ownerObj = ownerEntry ? this.objectOf(ownerEntry) : undefined;
      if (ownerObj && this.pendingFinalizer(ownerObj)) this.queue.add(owner);
    }
    this.kick();
  }

  private kick(): void {
    if (this.running || this.stopped) return;
    this.running = true;
    void this.work();
  }

  private async work(): Promise<void> {
    while (!this.stopped && this.queue.size > 0) {
      const uid = this.queue.values().next().value as string;
      this.queue.delete(uid);
      try {
        await this.process(uid);
      } catch (error) {
        this.deps.log.warn({ err: error, uid }, "garbage collection step failed; retrying");
        this.deps.clock.setTimer(RETRY_MS, () => {
          this.queue.add(uid);
          this.kick();
        });
      }
    }
    this.running = false;
    if (this.queue.size === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private storeOf(entry: Entry): ObjectStore {
    return this.deps.stores.get(entry.resource) as ObjectStore;
  }

  private async process(uid: string): Promise<void> {
    const entry = this.index.get(uid);
    if (!entry) return;
    const obj = this.objectOf(entry);
    if (!obj || obj.metadata?.uid !== uid) return;
    if (this.pendingFinalizer(obj)) await this.finishOwnerDeletion(uid, entry, obj);
    const refs = obj.metadata?.ownerReferences ?? [];
    if (refs.length > 0 && !obj.metadata?.deletionTimestamp) await this.checkOwners(entry, obj, refs);
  }

  private async ownerExists(ref: OwnerReference, namespace: string): Promise<boolean> {
    if (this.index.has(ref.uid)) return true;
    const resource = this.deps.registry.byApiVersionKind(ref.apiVersion, ref.kind);
    // An owner kind this server does not serve cannot be checked; never collect on a guess.
    if (!resource) return true;
    const store = this.deps.stores.get(resource) as ObjectStore;
    const found = await store.tryGet(resource.namespaced ? namespace : "", ref.name);
    return found?.object.metadata?.uid === ref.uid;
  }

  private async checkOwners(entry: Entry, obj: KubeObject, refs: OwnerReference[]): Promise<void> {
    const dangling: string[] = [];
    for (const ref of refs) if (!(await this.ownerExists(ref, entry.namespace))) dangling.push(ref.uid);
    if (dangling.length === 0) return;
    const store = this.storeOf(entry);
    const ctx = { user: GC_USER, dryRun: false };
    try {
      if (dangling.length === refs.length) {
        await store.delete(
          entry.namespace,
          entry.name,
          { propagationPolicy: "Background", preconditions: { uid: obj.metadata?.uid as string } },
          ctx,
        );
        this.deps.log.debug(
          { resource: entry.resource.plural, namespace: entry.namespace, name: entry.name },
          "garbage collected",
        );
      } else {
        await this.removeOwnerRefs(entry, new Set(dangling));
      }
    } catch (error) {
      if (isApiError(error, "NotFound") || isApiError(error, "Conflict")) return;
      throw error;
    }
  }

  private async removeOwnerRefs(entry: Entry, uids: Set<string>): Promise<void> {
    await this.storeOf(entry).update(
      entry.namespace,
      entry.name,
      (current) => {
        const meta = metaOf(current as KubeObject);
        const kept = (meta.ownerReferences ?? []).filter((r) => !uids.has(r.uid));
        if (kept.length > 0) meta.ownerReferences = kept;
        else delete meta.ownerReferences;
        delete meta.resourceVersion;
        return current as KubeObject;
      },
      { user: GC_USER, dryRun: false },
      { mode: "internal" },
    );
  }

  private async removeFinalizer(entry: Entry, finalizer: string): Promise<void> {
    await this.storeOf(entry).update(
      entry.namespace,
      entry.name,
      (current) => {
        const meta = metaOf(current as KubeObject);
        const kept = (meta.finalizers ?? []).filter((f) => f !== finalizer);
        if (kept.length > 0) meta.finalizers = kept;
        else delete meta.finalizers;
        delete meta.resourceVersion;
        return current as KubeObject;
      },
      { user: GC_USER, dryRun: false },
      { mode: "internal" },
    );
  }

  private async finishOwnerDeletion(uid: string, entry: Entry, obj: KubeObject): Promise<void> {
    const finalizers = obj.metadata?.finalizers ?? [];
    const dependents = [...(this.dependents.get(uid) ?? [])]
      .map((d) => this.index.get(d))
      .filter((d): d is Entry => d !== undefined);
    try {
      if (finalizers.includes("orphan")) {
        for (const dep of dependents) {
          try {
            await this.removeOwnerRefs(dep, new Set([uid]));
          } catch (error) {
            if (!isApiError(error, "NotFound")) throw error;
          }
        }
        await this.removeFinalizer(entry, "orphan");
        return;
      }
      if (finalizers.includes("foregroundDeletion")) {
        if (dependents.length === 0) {
          await this.removeFinalizer(entry, "foregroundDeletion");
          return;
        }
        for (const dep of dependents) {
          const depObj = this.objectOf(dep);
          if (!depObj || depObj.metadata?.deletionTimestamp) continue;
          try {
            await this.storeOf(dep).delete(
              dep.namespace,
              dep.name,
              { propagationPolicy: "Foreground" },
              { user: GC_USER, dryRun: false },
            );
          } catch (error) {
            if (!isApiError(error, "NotFound")) throw error;
          }
        }
        // Done when the last dependent's DELETED event requeues this owner.
      }
    } catch (error) {
      if (isApiError(error, "NotFound")) return;
      throw error;
    }
  }
}
