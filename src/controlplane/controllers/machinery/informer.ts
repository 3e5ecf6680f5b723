// An informer: a Reflector (supervised list+watch) feeding an in-memory store of the latest objects, with
// named indexes and change handlers, like client-go's shared index informer. Handlers run synchronously in
// the order changes arrive and must be cheap (they enqueue keys); readers get the cached objects and must
// treat them as read-only.
import type { Logger } from "pino";
import type { ResourceRef } from "../../../api/client/client.ts";
import { type ListWatcher, Reflector } from "../../../api/client/reflector.ts";
import type { KubeObject } from "../../../api/resource.ts";
import type { Clock } from "../../../util/clock.ts";
import { keyOf } from "./keys.ts";

export interface InformerHandler<T> {
  add?(obj: T): void;
  update?(old: T, obj: T): void;
  /** `obj` is the last state the informer knew. */
  delete?(obj: T): void;
}

export type IndexFunc<T> = (obj: T) => readonly string[];

export interface InformerOptions {
  client: ListWatcher;
  /** The collection, e.g. { version: "v1", resource: "pods" }. */
  ref: ResourceRef;
  log: Logger;
  clock?: Clock;
  idleTimeoutMs?: number;
}

/** Read access to an informer's cache: what controllers get. */
export interface Lister<T> {
  get(key: string): T | undefined;
  list(): T[];
  byIndex(index: string, value: string): T[];
  readonly hasSynced: boolean;
}

export class Informer<T extends KubeObject> implements Lister<T> {
  private readonly store = new Map<string, T>();
  private readonly indexers = new Map<string, IndexFunc<T>>();
  private readonly indexes = new Map<string, Map<string, Set<string>>>();
  private readonly handlers: InformerHandler<T>[] = [];
  private readonly reflector: Reflector<T>;
  private readonly log: Logger;
  readonly resource: string;

  constructor(options: InformerOptions) {
    this.log = options.log;
    this.resource = options.ref.group ? `${options.ref.resource}.${options.ref.group}` : options.ref.resource;
    this.reflector = new Reflector<T>({
      client: options.client,
      ref: options.ref,
      clock: options.clock,
      idleTimeoutMs: options.idleTimeoutMs,
      handler: {
        replace: (items) => this.replace(items),
        event: (event) => {
          if (event.type === "DELETED") this.remove(event.object);
          else this.upsert(event.object);
        },
      },
      onError: (error, retryInMs) =>
        this.log.warn(
          { resource: this.resource, err: (error as Error).message, retryInMs },
          "list/watch failed; retrying",
        ),
    });
  }

  get hasSynced(): boolean {
    return this.reflector.hasSynced;
  }

  waitForSync(): Promise<void> {
    return this.reflector.waitForSync();
  }

  run(signal: AbortSignal): Promise<void> {
    return this.reflector.run(signal);
  }

  /** Adds a named index; must be called before run(). */
  addIndex(name: string, fn: IndexFunc<T>): void {
    if (this.indexers.has(name)) return;
    this.indexers.set(name, fn);
    const index = new Map<string, Set<string>>();
    this.indexes.set(name, index);
    for (const [key, obj] of this.store) this.indexInto(index, fn, key, obj);
  }

  /** Registers a handler; objects already in the cache are delivered to it as adds, like client-go. */
  addHandler(handler: InformerHandler<T>): () => void {
    this.handlers.push(handler);
    for (const obj of this.store.values()) handler.add?.(obj);
    return () => {
      const i = this.handlers.indexOf(handler);
      if (i >= 0) this.handlers.splice(i, 1);
    };
  }

  get(key: string): T | undefined {
    return this.store.get(key);
  }

  list(): T[] {
    return [...this.store.values()];
  }

  get size(): number {
    return this.store.size;
  }

  byIndex(index: string, value: string): T[] {
    const keys = this.indexes.get(index)?.get(value);
    if (!keys) return [];
    const out: T[] = [];
    for (const key of keys) {
      const obj = this.store.get(key);
      if (obj) out.push(obj);
    }
    return out;
  }

  private replace(items: T[]): void {
    const seen = new Set<string>();
    for (const obj of items) {
      seen.add(keyOf(obj));
      this.upsert(obj);
    }
    for (const [key, obj] of [...this.store]) if (!seen.has(key)) this.remove(obj);
  }

  private upsert(obj: T): void {
    const key = keyOf(obj);
    const old = this.store.get(key);
    if (old && old.metadata?.resourceVersion === obj.metadata?.resourceVersion) return;
    if (old) this.unindex(key, old);
    this.store.set(key, obj);
    this.index(key, obj);
    for (const h of this.handlers) this.safely(() => (old ? h.update?.(old, obj) : h.add?.(obj)));
  }

  private remove(obj: T): void {
    const key = keyOf(obj);
    const old = this.store.get(key);
    if (!old) return;
    this.unindex(key, old);
    this.store.delete(key);
    // Deliver the deleted object as the server sent it when there is one: it is the latest state.
    const last = obj.metadata?.resourceVersion ? obj : old;
    for (const h of this.handlers) this.safely(() => h.delete?.(last));
  }

  private safely(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.log.error({ resource: this.resource, err: error }, "informer handler threw");
    }
  }

  private index(key: string, obj: T): void {
    for (const [name, fn] of this.indexers)
      this.indexInto(this.indexes.get(name) as Map<string, Set<string>>, fn, key, obj);
  }

  private indexInto(index: Map<string, Set<string>>, fn: IndexFunc<T>, key: string, obj: T): void {
    for (const value of fn(obj)) {
      const keys = index.get(value);
      if (keys) keys.add(key);
      else index.set(value, new Set([key]));
    }
  }

  private unindex(key: string, obj: T): void {
    for (const [name, fn] of this.indexers) {
      const index = this.indexes.get(name) as Map<string, Set<string>>;
      for (const value of fn(obj)) {
        const keys = index.get(value);
        keys?.delete(key);
        if (keys?.size === 0) index.delete(value);
      }
    }
  }
}

/** Index by namespace (the one every namespaced controller needs). */
export const NAMESPACE_INDEX = "namespace";
export const byNamespace: IndexFunc<KubeObject> = (obj) => [obj.metadata?.namespace ?? ""];

/** Index by the UID of the controlling owner. */
export const CONTROLLER_INDEX = "controller";
export const byController: IndexFunc<KubeObject> = (obj) => {
  const ref = obj.metadata?.ownerReferences?.find((r) => r.controller === true);
  return ref ? [ref.uid] : [];
};
