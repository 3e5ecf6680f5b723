// An in-memory list+watch source for the ServiceProxy's tests: the test sets objects, watchers get events.
// Only what the Reflector uses: list (one page) and watch from the list's resourceVersion.
import type {
  ListOptions,
  ObjectList,
  ResourceRef,
  WatchEvent,
  WatchOptions,
} from "../../../src/api/client/client.ts";
import type { ListWatcher } from "../../../src/api/client/reflector.ts";
import type { KubeObject } from "../../../src/api/resource.ts";

interface Watcher {
  resource: string;
  push(event: WatchEvent<KubeObject>): void;
}

export class FakeApi implements ListWatcher {
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private readonly watchers = new Set<Watcher>();
  private revision = 1;
  lists = 0;

  private collection(resource: string): Map<string, KubeObject> {
    let map = this.objects.get(resource);
    if (!map) {
      map = new Map();
      this.objects.set(resource, map);
    }
    return map;
  }

  private keyOf(object: KubeObject): string {
    return `${object.metadata?.namespace ?? ""}/${object.metadata?.name ?? ""}`;
  }

  /** Adds or replaces an object ("services" or "endpointslices"). */
  set(resource: string, object: KubeObject): void {
    const copy = structuredClone(object);
    copy.metadata = { ...copy.metadata, resourceVersion: String(++this.revision) };
    const map = this.collection(resource);
    const type = map.has(this.keyOf(copy)) ? "MODIFIED" : "ADDED";
    map.set(this.keyOf(copy), copy);
    for (const w of this.watchers)
      if (w.resource === resource) w.push({ type, object: structuredClone(copy) });
  }

  delete(resource: string, object: KubeObject): void {
    const map = this.collection(resource);
    const existing = map.get(this.keyOf(object));
    if (!existing) return;
    map.delete(this.keyOf(object));
    const gone = {
      ...existing,
      metadata: { ...existing.metadata, resourceVersion: String(++this.revision) },
    };
    for (const w of this.watchers) if (w.resource === resource) w.push({ type: "DELETED", object: gone });
  }

  async list<T extends KubeObject>(ref: ResourceRef, _options?: ListOptions): Promise<ObjectList<T>> {
    this.lists++;
    return {
      metadata: { resourceVersion: String(this.revision) },
      items: [...this.collection(ref.resource).values()].map((o) => structuredClone(o) as T),
    };
  }

  async *watch<T extends KubeObject>(
    ref: ResourceRef,
    options: WatchOptions = {},
  ): AsyncGenerator<WatchEvent<T>> {
    const queue: WatchEvent<KubeObject>[] = [];
    let wake: (() => void) | undefined;
    const watcher: Watcher = {
      resource: ref.resource,
      push: (event) => {
        queue.push(event);
        wake?.();
      },
    };
    this.watchers.add(watcher);
    const onAbort = () => wake?.();
    options.signal?.addEventListener("abort", onAbort);
    try {
      while (!options.signal?.aborted) {
        const event = queue.shift();
        if (event) {
          yield event as WatchEvent<T>;
          continue;
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    } finally {
      this.watchers.delete(watcher);
      options.signal?.removeEventListener("abort", onAbort);
    }
  }
}
