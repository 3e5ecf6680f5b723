// The watch cache on its own (over a minimal in-memory store): startup replay up to the head, history for
// resuming watchers, 410 for history it no longer has, and selection changes turned into ADDED/DELETED.

import { pino } from "pino";
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../../src/api/resource.ts";
import {
  type CacheWatcher,
  type EventType,
  TooOldError,
  WatchCache,
} from "../../../src/controlplane/apiserver/watch/cache.ts";
import { type Clock, systemClock } from "../../../src/util/clock.ts";
import { ManualClock } from "../../support/manual-clock.ts";
import { waitFor } from "../../support/wait.ts";
import { MemoryStorage } from "./memory-storage.ts";

const PREFIX = "/registry/core/configmaps/";

function cacheOver(
  storage: MemoryStorage,
  options: {
    capacity?: number;
    historyWindow?: number;
    freshMs?: number;
    minEvents?: number;
    clock?: Clock;
  } = {},
) {
  return new WatchCache({
    storage,
    prefix: PREFIX,
    resource: "configmaps",
    decode: (kv) => {
      const obj = JSON.parse(kv.value) as KubeObject;
      obj.metadata = { ...obj.metadata, resourceVersion: String(kv.modRevision) };
      return obj;
    },
    log: pino({ level: "silent" }),
    clock: systemClock,
    ...options,
  });
}

const cm = (name: string, labels: Record<string, string> = {}) =>
  JSON.stringify({ metadata: { name, labels } });

function recorder(afterRevision: number, matches: (o: KubeObject) => boolean = () => true) {
  const events: Array<[EventType, string | undefined]> = [];
  const watcher: CacheWatcher = {
    afterRevision,
    keyPrefix: PREFIX,
    matches,
    deliver: (type, object) => events.push([type, object.metadata?.name]),
    terminate: () => {},
  };
  return { watcher, events };
}

describe("watch cache", () => {
  it("replays history at startup and is ready only with the state at the head", async () => {
    const storage = new MemoryStorage();
    const first = await storage.create(`${PREFIX}ns/a`, cm("a"));
    await storage.create(`${PREFIX}ns/b`, cm("b"));
    await storage.update(`${PREFIX}ns/a`, cm("a", { v: "2" }), first.modRevision);
    await storage.delete(`${PREFIX}ns/b`);
    await storage.create("/registry/core/pods/ns/other", "{}");
    const cache = cacheOver(storage);
    cache.start();
    await cache.ready();
    expect(cache.snapshot().map((o) => [o.metadata?.name, o.metadata?.labels])).toEqual([["a", { v: "2" }]]);
    // A watcher resuming from before the restart gets everything after its revision, in order.
    const { watcher, events } = recorder(first.modRevision);
    cache.addWatcher(watcher);
    expect(events).toEqual([
      ["ADDED", "b"],
      ["MODIFIED", "a"],
      ["DELETED", "b"],
    ]);
    cache.stop();
  });

  it("answers TooOld for history beyond its window and serves newer watchers from memory", async () => {
    const storage = new MemoryStorage();
    for (let i = 0; i < 20; i++) await storage.create(`${PREFIX}ns/c${i}`, cm(`c${i}`));
    const cache = cacheOver(storage, { historyWindow: 5, capacity: 4 });
    cache.start();
    await cache.ready();
    expect(() => cache.addWatcher(recorder(2).watcher)).toThrow(TooOldError);
    const head = await storage.currentRevision();
    const { watcher, events } = recorder(head - 2);
    cache.addWatcher(watcher);
    expect(events.map((e) => e[1])).toEqual(["c18", "c19"]);
    for (let i = 20; i < 30; i++) await storage.create(`${PREFIX}ns/c${i}`, cm(`c${i}`));
    await waitFor(() => events.length === 12, { what: "live events" });
    // The bounded history moved on: the early revision is now too old as well.
    expect(() => cache.addWatcher(recorder(head - 2).watcher)).toThrow(/too old resource version/);
    cache.stop();
  });

  it("keeps events for their fresh duration, then drops them down to the minimum", async () => {
    const storage = new MemoryStorage();
    const clock = new ManualClock();
    const cache = cacheOver(storage, { clock, freshMs: 75_000, minEvents: 4 });
    cache.start();
    await cache.ready();
    const start = await storage.currentRevision();
    for (let i = 0; i < 20; i++) await storage.create(`${PREFIX}ns/old${i}`, cm(`old${i}`));
    await waitFor(() => cache.revision === start + 20, { what: "the first 20 events" });
    // Within the fresh duration every event is still there for a resuming watcher.
    await clock.advance(74_000);
    for (let i = 0; i < 20; i++) await storage.create(`${PREFIX}ns/mid${i}`, cm(`mid${i}`));
    await waitFor(() => cache.revision === start + 40, { what: "the next 20 events" });
    const fromStart = recorder(start);
    cache.addWatcher(fromStart.watcher);
    expect(fromStart.events).toHaveLength(40);
    // 76 s after the first batch it is stale and goes; the second batch (2 s old) stays.
    await clock.advance(2_000);
    await storage.create(`${PREFIX}ns/new`, cm("new"));
    await waitFor(() => cache.revision === start + 41, { what: "one more event" });
    expect(cache.oldestRevision).toBe(start + 20);
    expect(() => cache.addWatcher(recorder(start).watcher)).toThrow(TooOldError);
    const fromMid = recorder(start + 20);
    cache.addWatcher(fromMid.watcher);
    expect(fromMid.events.map((e) => e[1])).toEqual([
      ...Array.from({ length: 20 }, (_, i) => `mid${i}`),
      "new",
    ]);
    // Long after, only the minimum is kept.
    await clock.advance(600_000);
    await storage.create(`${PREFIX}ns/last`, cm("last"));
    await waitFor(() => cache.revision === start + 42, { what: "the last event" });
    expect(cache.oldestRevision).toBe(start + 42 - 4);
    cache.stop();
  });

  it("turns an object entering or leaving a watcher's selection into ADDED or DELETED", async () => {
    const storage = new MemoryStorage();
    const cache = cacheOver(storage);
    cache.start();
    await cache.ready();
    const { watcher, events } = recorder(
      await storage.currentRevision(),
      (o) => o.metadata?.labels?.stage === "b",
    );
    cache.addWatcher(watcher);
    const a = await storage.create(`${PREFIX}ns/x`, cm("x", { stage: "a" }));
    const b = await storage.update(`${PREFIX}ns/x`, cm("x", { stage: "b" }), a.modRevision);
    const b2 = await storage.update(`${PREFIX}ns/x`, cm("x", { stage: "b", more: "1" }), b.modRevision);
    await storage.update(`${PREFIX}ns/x`, cm("x", { stage: "c" }), b2.modRevision);
    await waitFor(() => events.length === 3, { what: "three filtered events" });
    expect(events).toEqual([
      ["ADDED", "x"],
      ["MODIFIED", "x"],
      ["DELETED", "x"],
    ]);
    cache.stop();
  });
});
