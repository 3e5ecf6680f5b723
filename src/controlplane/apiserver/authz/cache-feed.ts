// Feeds an in-process index from one watch cache: the current objects first, then every change; when the
// cache is reset (storage watch lost) the index is told to forget that resource and the feed resubscribes
// once the cache is ready again — the same pattern as the garbage collector's.

import type { KubeObject } from "../../../api/resource.ts";
import type { CacheWatcher, EventType, WatchCache } from "../watch/cache.ts";

export interface FeedTarget {
  apply(type: EventType, object: KubeObject, previous?: KubeObject): void;
  reset(): void;
}

/** Subscribes `target` to `cache`; returns the unsubscribe function. */
export function feed(cache: WatchCache, target: FeedTarget): () => void {
  let stopped = false;
  let unsubscribe = () => {};
  const subscribe = () => {
    const watcher: CacheWatcher = {
      afterRevision: 0,
      keyPrefix: cache.prefix,
      matches: () => true,
      deliver: (type, object, event) => target.apply(type, object, event.prevObject),
      terminate: () => {
        target.reset();
        if (!stopped) void cache.ready().then(() => !stopped && subscribe());
      },
    };
    unsubscribe = cache.addWatcherFromNow(watcher, (objects) => {
      for (const o of objects) target.apply("ADDED", o);
    });
  };
  subscribe();
  return () => {
    stopped = true;
    unsubscribe();
  };
}
