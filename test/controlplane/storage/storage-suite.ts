// The storage contract, as one suite that every backend runs against a real store (SQLite file, etcd
// process). Each test works under its own key prefix, so tests never see each other's keys; compaction is
// store-wide, so no test relies on history from before its own start.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KeyValue, Storage } from "../../../src/controlplane/storage/types.ts";
import { StorageError } from "../../../src/controlplane/storage/types.ts";
import { uniqueName } from "../../support/names.ts";
import { waitFor } from "../../support/wait.ts";
import { type ChangeEvent, rejection, WatchReader } from "./watch-reader.ts";

export interface StorageFixture {
  /** Opens the backend under test (progress notifications should be frequent: well under a second). */
  open(): Promise<Storage>;
  /** Releases what open() needed (temp dirs, processes). */
  cleanup(): Promise<void>;
}

function prefixFor(name: string): string {
  return `/${uniqueName(name)}/`;
}

function expectStorageError(error: unknown, code: StorageError["code"]): StorageError {
  expect(error, String(error)).toBeInstanceOf(StorageError);
  const storageError = error as StorageError;
  expect(storageError.code, storageError.message).toBe(code);
  return storageError;
}

function value(n: number, size = 64): string {
  return JSON.stringify({ n, pad: "x".repeat(size) });
}

export function describeStorage(backend: string, fixture: () => Promise<StorageFixture>): void {
  describe(`storage contract: ${backend}`, () => {
    let f: StorageFixture | undefined;
    let storage: Storage;
    const readers: WatchReader[] = [];

    function watch(prefix: string, after: number): WatchReader {
      const reader = new WatchReader(storage, prefix, after);
      readers.push(reader);
      return reader;
    }

    beforeAll(async () => {
      f = await fixture();
      storage = await f.open();
    });

    afterAll(async () => {
      for (const reader of readers) reader.stop();
      await storage?.close();
      await f?.cleanup();
    });

    it("names its backend", () => {
      expect(storage.backend).toBe(backend);
    });

    it("get of a missing key is undefined; create stores the value with createRevision = modRevision", async () => {
      const p = prefixFor("get");
      expect(await storage.get(`${p}a`)).toBeUndefined();
      const created = await storage.create(`${p}a`, value(1));
      expect(created).toEqual({
        key: `${p}a`,
        value: value(1),
        createRevision: created.modRevision,
        modRevision: created.modRevision,
      });
      expect(await storage.get(`${p}a`)).toEqual(created);
    });

    it("create of an existing key rejects STORAGE_EXISTS carrying the current value", async () => {
      const p = prefixFor("exists");
      const first = await storage.create(`${p}a`, value(1));
      const error = expectStorageError(await rejection(storage.create(`${p}a`, value(2))), "STORAGE_EXISTS");
      expect(error.current).toEqual(first);
      expect(error.message).toContain(`${p}a`);
      expect(await storage.get(`${p}a`)).toEqual(first);
    });

    it("update is compare-and-swap on modRevision", async () => {
      const p = prefixFor("cas");
      const created = await storage.create(`${p}a`, value(1));
      const updated = await storage.update(`${p}a`, value(2), created.modRevision);
      expect(updated.createRevision).toBe(created.createRevision);
      expect(updated.modRevision).toBeGreaterThan(created.modRevision);
      expect(updated.value).toBe(value(2));

      const stale = expectStorageError(
        await rejection(storage.update(`${p}a`, value(3), created.modRevision)),
        "STORAGE_CONFLICT",
      );
      expect(stale.current).toEqual(updated);
      expect(await storage.get(`${p}a`)).toEqual(updated);

      expectStorageError(await rejection(storage.update(`${p}missing`, value(1), 1)), "STORAGE_NOT_FOUND");
      expectStorageError(await rejection(storage.update(`${p}missing`, value(1), 0)), "STORAGE_NOT_FOUND");
      expect(await storage.get(`${p}missing`)).toBeUndefined();
    });

    it("delete honours its precondition and resolves with the deleted value", async () => {
      const p = prefixFor("delete");
      expectStorageError(await rejection(storage.delete(`${p}missing`)), "STORAGE_NOT_FOUND");

      const a = await storage.create(`${p}a`, value(1));
      const a2 = await storage.update(`${p}a`, value(2), a.modRevision);
      const stale = expectStorageError(
        await rejection(storage.delete(`${p}a`, a.modRevision)),
        "STORAGE_CONFLICT",
      );
      expect(stale.current).toEqual(a2);
      expect(await storage.delete(`${p}a`, a2.modRevision)).toEqual(a2);
      expect(await storage.get(`${p}a`)).toBeUndefined();
      expectStorageError(await rejection(storage.delete(`${p}a`)), "STORAGE_NOT_FOUND");

      const b = await storage.create(`${p}b`, value(3));
      expect(await storage.delete(`${p}b`)).toEqual(b);

      const again = await storage.create(`${p}a`, value(4));
      expect(again.createRevision).toBeGreaterThan(a2.modRevision);
      expect(again.createRevision).toBe(again.modRevision);
    });

    it("revisions increase strictly with every write and currentRevision reports the last", async () => {
      const p = prefixFor("revisions");
      const before = await storage.currentRevision();
      const seen: number[] = [];
      const a = await storage.create(`${p}a`, value(1));
      seen.push(a.modRevision);
      const b = await storage.create(`${p}b`, value(2));
      seen.push(b.modRevision);
      seen.push((await storage.update(`${p}a`, value(3), a.modRevision)).modRevision);
      await storage.delete(`${p}b`);
      const after = await storage.currentRevision();
      seen.push(after);
      expect(seen[0]).toBeGreaterThan(before);
      for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThan(seen[i - 1] as number);
      // A failed precondition writes nothing.
      await rejection(storage.create(`${p}a`, value(9)));
      expect(await storage.currentRevision()).toBe(after);
    });

    it("list returns only keys under the prefix, in key order, at the current revision", async () => {
      const root = prefixFor("list");
      const p = `${root}a/`;
      for (const k of ["c", "a", "b/x", "b"]) await storage.create(`${p}${k}`, value(1));
      // Siblings that share the prefix's leading characters but are outside it.
      await storage.create(`${root}a`, value(2));
      await storage.create(`${root}a0`, value(3));
      await storage.create(`${root}ab/c`, value(4));
      const result = await storage.list(p);
      expect(result.items.map((kv) => kv.key)).toEqual([`${p}a`, `${p}b`, `${p}b/x`, `${p}c`]);
      expect(result.more).toBe(false);
      expect(result.revision).toBe(await storage.currentRevision());
      expect((await storage.list(`${root}nothing/`)).items).toEqual([]);
      expect((await storage.list(root)).items).toHaveLength(7);
    });

    it("pages with limit and startAfter at a fixed revision, unaffected by later writes", async () => {
      const p = prefixFor("paging");
      const original: KeyValue[] = [];
      for (let i = 0; i < 10; i++) original.push(await storage.create(`${p}k${i}`, value(i)));

      const page1 = await storage.list(p, { limit: 4 });
      expect(page1.items).toEqual(original.slice(0, 4));
      expect(page1.more).toBe(true);
      const snapshot = page1.revision;

      // Change the keyspace under the pager: modify, delete, insert in between, delete an earlier key.
      const k5 = original[5] as KeyValue;
      await storage.update(k5.key, value(55), k5.modRevision);
      await storage.delete(`${p}k6`);
      await storage.create(`${p}k4a`, value(44));
      await storage.delete(`${p}k1`);

      const page2 = await storage.list(p, {
        limit: 4,
        startAfter: page1.items.at(-1)?.key,
        revision: snapshot,
      });
      expect(page2.revision).toBe(snapshot);
      expect(page2.items).toEqual(original.slice(4, 8));
      expect(page2.more).toBe(true);
      const page3 = await storage.list(p, {
        limit: 4,
        startAfter: page2.items.at(-1)?.key,
        revision: snapshot,
      });
      expect(page3.items).toEqual(original.slice(8));
      expect(page3.more).toBe(false);
      // A limit that exactly fits the rest reports no more.
      const exact = await storage.list(p, { limit: 2, startAfter: `${p}k7`, revision: snapshot });
      expect(exact.items).toEqual(original.slice(8));
      expect(exact.more).toBe(false);

      const now = await storage.list(p);
      expect(now.items.map((kv) => kv.key)).toEqual(
        ["k0", "k2", "k3", "k4", "k4a", "k5", "k7", "k8", "k9"].map((k) => `${p}${k}`),
      );
      expect(now.items.find((kv) => kv.key === k5.key)?.value).toBe(value(55));
      expect(now.revision).toBeGreaterThan(snapshot);
    });

    it("watch from a past revision replays every later change in order with prevKv, then follows live", async () => {
      const p = prefixFor("watch");
      const a1 = await storage.create(`${p}a`, value(1));
      const b1 = await storage.create(`${p}b`, value(2));
      const a2 = await storage.update(`${p}a`, value(3), a1.modRevision);
      await storage.delete(`${p}b`);
      const afterDelete = await storage.currentRevision();
      const c1 = await storage.create(`${p}c`, value(4));
      await storage.create(`${prefixFor("other")}x`, value(0));

      const reader = watch(p, a1.modRevision);
      const replayed = await reader.changesUntil(4);
      expect(replayed).toEqual([
        { type: "put", kv: b1 },
        { type: "put", kv: a2, prevKv: a1 },
        {
          type: "delete",
          kv: { key: `${p}b`, value: "", createRevision: 0, modRevision: afterDelete },
          prevKv: b1,
        },
        { type: "put", kv: c1 },
      ]);

      const c2 = await storage.update(`${p}c`, value(5), c1.modRevision);
      const live = await reader.changesUntil(5);
      expect(live[4]).toEqual({ type: "put", kv: c2, prevKv: c1 });

      // From the revision before the first write, the first write is included.
      const full = watch(p, a1.modRevision - 1);
      const all = await full.changesUntil(6);
      expect(all[0]).toEqual({ type: "put", kv: a1 });
      expect(all.slice(1)).toEqual(live);
    });

    it("watch from the current or a future revision sees only later changes", async () => {
      const p = prefixFor("future");
      const a = await storage.create(`${p}a`, value(1));
      const reader = watch(p, a.modRevision);
      const futureReader = watch(p, a.modRevision + 2);
      const b = await storage.create(`${p}b`, value(2));
      const c = await storage.create(`${p}c`, value(3));
      const d = await storage.create(`${p}d`, value(4));
      expect(await reader.changesUntil(3)).toEqual([
        { type: "put", kv: b },
        { type: "put", kv: c },
        { type: "put", kv: d },
      ]);
      expect(c.modRevision).toBe(a.modRevision + 2);
      expect(await futureReader.changesUntil(1)).toEqual([{ type: "put", kv: d }]);
    });

    it("a watch across many concurrent writers loses nothing and duplicates nothing", async () => {
      const p = prefixFor("concurrent");
      const start = await storage.currentRevision();
      const acked = new Map<number, { key: string; value: string }>();
      let deletes = 0;
      let stopWriting = false;
      const write = async (key: string, i: number, deleteAfter: boolean): Promise<void> => {
        const created = await storage.create(key, value(i));
        acked.set(created.modRevision, { key, value: created.value });
        const updated = await storage.update(key, value(i + 1000), created.modRevision);
        acked.set(updated.modRevision, { key, value: updated.value });
        if (deleteAfter) {
          await storage.delete(key, updated.modRevision);
          deletes++;
        }
      };
      // History to replay (more than one replay page), written before the watch starts.
      await Promise.all(
        Array.from({ length: 8 }, async (_, w) => {
          for (let i = 0; i < 80; i++) await write(`${p}h${w}/k${i}`, i, i % 5 === 0);
        }),
      );
      const history = acked.size + deletes;

      // Writers keep going while the reader replays the history, catches up and switches over to live
      // events, and for a while after that.
      const reader = watch(p, start);
      const writers = Array.from({ length: 3 }, async (_, w) => {
        for (let i = 0; !stopWriting; i++) await write(`${p}w${w}/k${i}`, i, i % 3 === 0);
      });
      try {
        await reader.changesUntil(history + 300, "the replayed history and 300 live changes");
      } finally {
        stopWriting = true;
        await Promise.all(writers);
      }
      const total = acked.size + deletes;
      const events = await reader.changesUntil(total);

      const revisions = events.map((e) => e.kv.modRevision);
      for (let i = 1; i < revisions.length; i++) {
        expect(revisions[i], `event ${i} after ${revisions[i - 1]}`).toBeGreaterThan(
          revisions[i - 1] as number,
        );
      }
      const puts = events.filter((e) => e.type === "put");
      expect(puts).toHaveLength(acked.size);
      for (const e of puts) expect(acked.get(e.kv.modRevision)).toEqual({ key: e.kv.key, value: e.kv.value });
      expect(events.filter((e) => e.type === "delete")).toHaveLength(deletes);
      // Per key, each event's prevKv is the previous event's kv.
      const lastByKey = new Map<string, ChangeEvent>();
      for (const e of events) {
        const previous = lastByKey.get(e.kv.key);
        if (previous) expect(e.prevKv).toEqual(previous.kv);
        else expect(e.prevKv).toBeUndefined();
        lastByKey.set(e.kv.key, e);
      }
      // Nothing more was queued: the next change is the sentinel written now.
      const sentinel = await storage.create(`${p}sentinel`, value(0));
      await reader.changesUntil(total + 1);
      expect(reader.changes[total]).toEqual({ type: "put", kv: sentinel });
    });

    it("a watch whose consumer stops reading for a while still delivers every change once, in order", async () => {
      const p = prefixFor("slow");
      const reader = watch(p, await storage.currentRevision());
      await storage.create(`${p}first`, value(0));
      await reader.changesUntil(1);
      // The watch is live; write far more than it buffers while nobody reads.
      const written: number[] = [];
      let next = 0;
      await Promise.all(
        Array.from({ length: 32 }, async () => {
          while (next < 800) {
            const i = next++;
            written.push((await storage.create(`${p}k${i}`, value(i, 512))).modRevision);
          }
        }),
      );
      const events = await reader.changesUntil(801);
      expect(events.slice(1).map((e) => e.kv.modRevision)).toEqual(written.sort((a, b) => a - b));
    });

    it("list and watch from before the compacted revision answer STORAGE_GONE", async () => {
      const p = prefixFor("compact");
      const a1 = await storage.create(`${p}a`, value(1));
      const a2 = await storage.update(`${p}a`, value(2), a1.modRevision);
      const a3 = await storage.update(`${p}a`, value(3), a2.modRevision);
      await storage.compact(a2.modRevision);

      expectStorageError(await rejection(storage.list(p, { revision: a1.modRevision })), "STORAGE_GONE");
      const gone = watch(p, a1.modRevision - 1);
      const error = expectStorageError(await rejection(gone.next("the watch to fail")), "STORAGE_GONE");
      expect(error.compactedRevision).toBe(a2.modRevision);

      // The compaction revision itself is still readable, and a watch from just before it replays it.
      expect((await storage.list(p, { revision: a2.modRevision })).items).toEqual([a2]);
      const kept = watch(p, a2.modRevision - 1);
      expect(await kept.changesUntil(2)).toEqual([
        expect.objectContaining({ type: "put", kv: a2 }),
        { type: "put", kv: a3, prevKv: a2 },
      ]);
      // Compacting at or below the compacted revision again is a no-op; beyond the current one is refused.
      await storage.compact(a1.modRevision);
      await storage.compact(a2.modRevision);
      const ahead = (await storage.currentRevision()) + 1000;
      expect(await rejection(storage.compact(ahead))).toBeInstanceOf(RangeError);
    });

    it("aborting ends the watch, whether it is waiting or not yet started", async () => {
      const p = prefixFor("abort");
      const reader = watch(p, await storage.currentRevision());
      const pending = reader.next("the watch to end");
      reader.stop();
      expect(await pending).toBeUndefined();
      expect(reader.done).toBe(true);

      const early = new AbortController();
      early.abort();
      const items: unknown[] = [];
      for await (const item of storage.watch(p, 0, early.signal)) items.push(item);
      expect(items).toEqual([]);
    });

    it("an idle watch reports progress up to the current revision", async () => {
      const p = prefixFor("progress");
      const a = await storage.create(`${p}a`, value(1));
      const reader = watch(p, a.modRevision - 1);
      await reader.changesUntil(1);
      // Writes elsewhere move the store's revision; the watch's progress must catch up with them.
      await storage.create(`${prefixFor("elsewhere")}x`, value(2));
      const target = await storage.currentRevision();
      await waitFor(
        async () => {
          const item = await reader.next(`a progress notification at revision ${target}`);
          return item?.type === "progress" && item.revision >= target;
        },
        { what: `a progress notification at or after revision ${target}`, intervalMs: 0 },
      );
      expect(reader.changes).toHaveLength(1);
    });

    it("a list at a revision the store has not reached is refused as unavailable", async () => {
      const p = prefixFor("ahead");
      const current = await storage.currentRevision();
      expectStorageError(
        await rejection(storage.list(p, { revision: current + 1000 })),
        "STORAGE_UNAVAILABLE",
      );
    });
  });
}
