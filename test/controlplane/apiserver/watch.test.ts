// Watch machinery on a real SQLite store, with an in-process server so the cache can be made small:
// one storage watch fanned out to many clients, 410 Gone once history is compacted, bookmarks, WatchList.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openAPIDocuments } from "../../../src/api/openapi.ts";
import { resourceDefinitions } from "../../../src/api/schema/index.ts";
import { schemaPatchEngine } from "../../../src/controlplane/apiserver/patching.ts";
import { ApiServer } from "../../../src/controlplane/apiserver/server.ts";
import { openStorage } from "../../../src/controlplane/storage/index.ts";
import type { Storage } from "../../../src/controlplane/storage/types.ts";
import { uniqueName } from "../../support/names.ts";
import { waitFor } from "../../support/wait.ts";
import { call, readWatch, type WatchEventLine } from "./http.ts";

describe("watch cache and streams", () => {
  let dir: string;
  let storage: Storage;
  let server: ApiServer;
  let url: string;
  let storageWatches = 0;
  let ns: string;
  const cp = { fetch: (path: string, init?: RequestInit) => fetch(`${url}${path}`, init) };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "deckhand-watch-"));
    const real = await openStorage("sqlite", dir);
    // Count storage watches: the cache must open one per resource, however many clients watch.
    storage = {
      backend: real.backend,
      get: (key) => real.get(key),
      list: (prefix, options) => real.list(prefix, options),
      create: (key, value) => real.create(key, value),
      update: (key, value, rev) => real.update(key, value, rev),
      delete: (key, rev) => real.delete(key, rev),
      watch: (prefix, after, signal) => {
        storageWatches++;
        return real.watch(prefix, after, signal);
      },
      currentRevision: () => real.currentRevision(),
      compact: (rev) => real.compact(rev),
      close: () => real.close(),
    };
    server = new ApiServer({
      storage,
      definitions: resourceDefinitions,
      patch: schemaPatchEngine(),
      openapi: () => openAPIDocuments(resourceDefinitions),
      serviceCidr: "10.96.0.0/12",
      nodePortRange: "30000-32767",
      log: pino({ level: "warn" }),
      watch: { bookmarkIntervalMs: 200, cacheCapacity: 50, historyWindow: 50 },
      compactionIntervalMs: 0,
    });
    const address = await server.listen("127.0.0.1", 0);
    await server.start();
    url = `http://127.0.0.1:${address.port}`;
    ns = uniqueName("watch");
    await call(cp, "POST", "/api/v1/namespaces", { metadata: { name: ns } });
  });

  afterAll(async () => {
    await server?.close();
    await storage?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const cms = () => `/api/v1/namespaces/${ns}/configmaps`;

  it("fans one storage watch out to 300 clients, each seeing the change once", async () => {
    const before = storageWatches;
    const list = await call<{ metadata: { resourceVersion: string } }>(cp, "GET", cms());
    const name = uniqueName("fan");
    const watchers = Array.from({ length: 300 }, () =>
      readWatch(
        cp,
        `${cms()}?watch=true&resourceVersion=${list.body.metadata.resourceVersion}`,
        (e) => e.length >= 1,
      ),
    );
    await waitFor(() => [...server.caches.values()].some((c) => c.watcherCount >= 300), {
      what: "300 registered watchers",
    });
    await call(cp, "POST", cms(), { metadata: { name } });
    const results = await Promise.all(watchers);
    for (const events of results)
      expect(events.map((e) => [e.type, e.object.metadata?.name])).toEqual([["ADDED", name]]);
    expect(storageWatches).toBe(before);
  });

  it("starts at the current state for resourceVersion 0 and unset, and after it for a given one", async () => {
    const name = uniqueName("start");
    const created = await call<{ metadata: { resourceVersion: string } }>(cp, "POST", cms(), {
      metadata: { name },
    });
    const selector = `fieldSelector=metadata.name%3D${name}`;
    for (const rv of ["0", ""]) {
      const events = await readWatch(
        cp,
        `${cms()}?watch=true&${selector}&resourceVersion=${rv}`,
        (e) => e.length >= 1,
      );
      expect(events[0]).toMatchObject({ type: "ADDED", object: { metadata: { name } } });
    }
    const later = readWatch(
      cp,
      `${cms()}?watch=true&${selector}&resourceVersion=${created.body.metadata.resourceVersion}`,
      (e) => e.length >= 1,
    );
    await new Promise((r) => setTimeout(r, 100));
    await call(cp, "DELETE", `${cms()}/${name}`);
    expect((await later).map((e) => e.type)).toEqual(["DELETED"]);
  });

  it("sends bookmarks when asked, and a WatchList end-of-initial-events bookmark", async () => {
    const bookmarks = await readWatch(
      cp,
      `${cms()}?watch=true&allowWatchBookmarks=true&resourceVersion=0`,
      (e) => e.some((x) => x.type === "BOOKMARK"),
    );
    const bookmark = bookmarks.find((e) => e.type === "BOOKMARK") as WatchEventLine;
    expect(bookmark.object).toMatchObject({ kind: "ConfigMap", apiVersion: "v1" });
    expect(Number(bookmark.object.metadata?.resourceVersion)).toBeGreaterThan(0);

    const name = uniqueName("initial");
    await call(cp, "POST", cms(), { metadata: { name } });
    const initial = await readWatch(
      cp,
      `${cms()}?watch=true&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan&fieldSelector=metadata.name%3D${name}`,
      (e) => e.some((x) => x.type === "BOOKMARK"),
    );
    expect(initial[0]).toMatchObject({ type: "ADDED", object: { metadata: { name } } });
    expect(initial[1]).toMatchObject({
      type: "BOOKMARK",
      object: { metadata: { annotations: { "k8s.io/initial-events-end": "true" } } },
    });
  });

  it("answers 410 Gone for history that is no longer kept, in watches and in paged lists", async () => {
    const tag = uniqueName("old");
    const first = await call<{ metadata: { resourceVersion: string } }>(cp, "POST", cms(), {
      metadata: { name: `${tag}-0`, labels: { tag } },
    });
    const page = await call<{ metadata: { continue: string } }>(cp, "GET", `${cms()}?limit=1`);
    // The cache keeps 50 events: push the first write out of it, then compact the store past it.
    for (let i = 1; i <= 80; i++)
      await call(cp, "POST", cms(), { metadata: { name: `${tag}-${i}`, labels: { tag } } });
    await storage.compact(await storage.currentRevision());
    const events = await readWatch(
      cp,
      `${cms()}?watch=true&resourceVersion=${first.body.metadata.resourceVersion}`,
      () => false,
    );
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: "ERROR",
      object: { kind: "Status", status: "Failure", reason: "Expired", code: 410 },
    });
    const status = events[0]?.object as unknown as { message: string } | undefined;
    expect(status?.message).toMatch(/^too old resource version: \d+ \(\d+\)$/);
    const next = await call<{ code: number; reason: string }>(
      cp,
      "GET",
      `${cms()}?limit=1&continue=${page.body.metadata.continue}`,
    );
    expect(next.status).toBe(410);
    expect(next.body.reason).toBe("Expired");
    // A fresh list and watch from its resourceVersion work as usual.
    const fresh = await call<{ metadata: { resourceVersion: string }; items: unknown[] }>(
      cp,
      "GET",
      `${cms()}?labelSelector=tag%3D${tag}`,
    );
    expect(fresh.body.items).toHaveLength(81);
  });
});
