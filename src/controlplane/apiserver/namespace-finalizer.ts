// Namespace deletion (upstream's namespace controller, reduced): a namespace marked for deletion has every
// namespaced object in it deleted; once storage holds none, the "kubernetes" finalizer is removed from
// spec.finalizers and the namespace itself goes. Objects that linger (pods waiting for their node,
// objects with finalizers) keep the namespace Terminating, as upstream.

import type { Logger } from "pino";
import type { KubeObject } from "../../api/resource.ts";
import type { Clock } from "../../util/clock.ts";
import { isApiError } from "./errors.ts";
import { metaOf } from "./metadata.ts";
import type { UserInfo } from "./pipeline/authentication.ts";
import type { ResourceRegistry, ServedResource } from "./resources.ts";
import type { ObjectStore } from "./store/object-store.ts";
import { NAMESPACE_FINALIZER } from "./strategies/namespaces.ts";
import type { CacheWatcher, WatchCache } from "./watch/cache.ts";

const NAMESPACE_CONTROLLER: UserInfo = {
  name: "system:serviceaccount:kube-system:namespace-controller",
  groups: ["system:masters"],
};
const RECHECK_MS = 1000;

export interface NamespaceFinalizerDeps {
  registry: ResourceRegistry;
  stores: ReadonlyMap<ServedResource, ObjectStore>;
  caches: ReadonlyMap<ServedResource, WatchCache>;
  log: Logger;
  clock: Clock;
}

interface NamespaceLike extends KubeObject {
  spec?: { finalizers?: string[] };
}

export class NamespaceFinalizer {
  private readonly deps: NamespaceFinalizerDeps;
  private readonly pending = new Set<string>();
  private readonly timers = new Map<string, () => void>();
  private running = false;
  private stopped = false;
  private unsubscribe: (() => void) | undefined;

  constructor(deps: NamespaceFinalizerDeps) {
    this.deps = deps;
  }

  start(): void {
    const r = this.deps.registry.lookup("", "v1", "namespaces");
    const cache = r ? this.deps.caches.get(r) : undefined;
    if (!r || !cache) return;
    const watcher: CacheWatcher = {
      afterRevision: 0,
      keyPrefix: r.keyPrefix,
      matches: () => true,
      deliver: (type, obj) => {
        if (type !== "DELETED") this.observe(obj);
      },
      terminate: () => {
        if (!this.stopped) void cache.ready().then(() => !this.stopped && this.start());
      },
    };
    this.unsubscribe = cache.addWatcherFromNow(watcher, (objects) => {
      for (const o of objects) this.observe(o);
    });
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
    for (const cancel of this.timers.values()) cancel();
  }

  private observe(ns: KubeObject): void {
    const finalizers = (ns as NamespaceLike).spec?.finalizers ?? [];
    if (!ns.metadata?.deletionTimestamp || !finalizers.includes(NAMESPACE_FINALIZER)) return;
    this.pending.add(ns.metadata.name as string);
    this.kick();
  }

  private kick(): void {
    if (this.running || this.stopped) return;
    this.running = true;
    void this.work();
  }

  private async work(): Promise<void> {
    while (!this.stopped && this.pending.size > 0) {
      const name = this.pending.values().next().value as string;
      this.pending.delete(name);
      let done = false;
      try {
        done = await this.cleanUp(name);
      } catch (error) {
        this.deps.log.warn({ err: error, namespace: name }, "namespace cleanup step failed; retrying");
      }
      if (!done && !this.timers.has(name)) {
        this.timers.set(
          name,
          this.deps.clock.setTimer(RECHECK_MS, () => {
            this.timers.delete(name);
            this.pending.add(name);
            this.kick();
          }),
        );
      }
    }
    this.running = false;
  }

  /** One round for namespace `name`; true when it needs no further attention. */
  private async cleanUp(name: string): Promise<boolean> {
    const nsResource = this.deps.registry.lookup("", "v1", "namespaces") as ServedResource;
    const nsStore = this.deps.stores.get(nsResource) as ObjectStore;
    const found = await nsStore.tryGet("", name);
    const ns = found?.object as NamespaceLike | undefined;
    if (!ns?.metadata?.deletionTimestamp || !(ns.spec?.finalizers ?? []).includes(NAMESPACE_FINALIZER))
      return true;
    const ctx = { user: NAMESPACE_CONTROLLER, dryRun: false };
    let remaining = 0;
    for (const r of this.deps.registry.all) {
      if (!r.namespaced || !r.def.verbs.includes("list")) continue;
      const store = this.deps.stores.get(r) as ObjectStore;
      const { items } = await store.list(name, {});
      remaining += items.length;
      for (const item of items) {
        if (item.metadata?.deletionTimestamp) continue;
        try {
          await store.delete(name, item.metadata?.name as string, { propagationPolicy: "Background" }, ctx);
        } catch (error) {
          if (!isApiError(error, "NotFound") && !isApiError(error, "Conflict")) throw error;
        }
      }
    }
    if (remaining > 0) return false;
    await nsStore.update(
      "",
      name,
      (current) => {
        const cur = current as NamespaceLike;
        cur.spec = {
          ...(cur.spec ?? {}),
          finalizers: (cur.spec?.finalizers ?? []).filter((f) => f !== NAMESPACE_FINALIZER),
        };
        delete metaOf(cur).resourceVersion;
        return cur;
      },
      ctx,
      { mode: "internal" },
    );
    this.deps.log.info({ namespace: name }, "namespace emptied and finalized");
    return true;
  }
}
