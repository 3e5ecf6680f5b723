import { describe, expect, it } from "vitest";
import type {
  ListOptions,
  ObjectList,
  ResourceRef,
  WatchEvent,
  WatchOptions,
} from "../../../src/api/client/client.ts";
import { ApiError } from "../../../src/api/client/errors.ts";
import { type ListWatcher, Reflector, stripManagedFields } from "../../../src/api/client/reflector.ts";
import type { KubeObject } from "../../../src/api/resource.ts";
import { flushMicrotasks, ManualClock } from "../../support/manual-clock.ts";

type Step = { kind: "events"; events: WatchEvent<KubeObject>[]; ending: "end" | "hang" | Error };

const pod = (name: string, rv: string): KubeObject => ({
  metadata: { name, namespace: "ns", resourceVersion: rv },
});

/** A scripted API: each list answers from `lists`, each watch plays the next step. Records every call. */
class ScriptedApi implements ListWatcher {
  readonly calls: string[] = [];
  private readonly lists: Array<ObjectList<KubeObject> | Error>;
  private readonly watches: Step[];

  constructor(lists: Array<ObjectList<KubeObject> | Error>, watches: Step[]) {
    this.lists = lists;
    this.watches = watches;
  }

  async list<T extends KubeObject>(_ref: ResourceRef, options?: ListOptions): Promise<ObjectList<T>> {
    this.calls.push(`list continue=${options?.continue ?? ""}`);
    const next = this.lists.shift();
    if (!next) throw new Error("unexpected list");
    if (next instanceof Error) throw next;
    return next as ObjectList<T>;
  }

  async *watch<T extends KubeObject>(
    _ref: ResourceRef,
    options?: WatchOptions,
  ): AsyncGenerator<WatchEvent<T>> {
    this.calls.push(`watch rv=${options?.resourceVersion} bookmarks=${options?.allowWatchBookmarks}`);
    const step = this.watches.shift() ?? { kind: "events", events: [], ending: "hang" };
    for (const event of step.events) yield event as WatchEvent<T>;
    if (step.ending instanceof Error) throw step.ending;
    if (step.ending === "hang") {
      await new Promise<void>((resolve) =>
        options?.signal?.addEventListener("abort", () => resolve(), { once: true }),
      );
    }
  }
}

function recorder() {
  const seen: string[] = [];
  return {
    seen,
    handler: {
      replace: (items: KubeObject[], rv: string) =>
        seen.push(`replace ${items.map((i) => i.metadata?.name).join(",")} @${rv}`),
      event: (e: WatchEvent<KubeObject>) => seen.push(`${e.type} ${e.object.metadata?.name}`),
    },
  };
}

const gone = () =>
  new ApiError("API_STATUS", "too old resource version", {
    httpStatus: 410,
    status: { code: 410, reason: "Expired", message: "too old resource version: 1 (5)" },
  });

describe("Reflector", () => {
  it("lists every page, then watches from the list's resourceVersion and delivers events in order", async () => {
    const api = new ScriptedApi(
      [
        { metadata: { resourceVersion: "10", continue: "page2" }, items: [pod("a", "3")] },
        { metadata: { resourceVersion: "10" }, items: [pod("b", "7")] },
      ],
      [
        {
          kind: "events",
          events: [
            { type: "ADDED", object: pod("c", "11") },
            { type: "BOOKMARK", object: pod("", "15") },
            { type: "DELETED", object: pod("a", "16") },
          ],
          ending: "hang",
        },
      ],
    );
    const { seen, handler } = recorder();
    const clock = new ManualClock();
    const reflector = new Reflector({
      client: api,
      ref: { version: "v1", resource: "pods" },
      handler,
      clock,
    });
    const abort = new AbortController();
    const done = reflector.run(abort.signal);
    await reflector.waitForSync();
    await flushMicrotasks();
    expect(seen).toEqual(["replace a,b @10", "ADDED c", "DELETED a"]);
    expect(api.calls).toEqual(["list continue=", "list continue=page2", "watch rv=10 bookmarks=true"]);
    expect(reflector.lastResourceVersion).toBe("16");
    abort.abort();
    await done;
  });

  it("applies the transform to listed and watched objects (stripManagedFields drops managedFields only)", async () => {
    const managed = (name: string, rv: string): KubeObject => ({
      metadata: {
        ...pod(name, rv).metadata,
        labels: { app: name },
        managedFields: [{ manager: "kubectl", operation: "Update", fieldsV1: { "f:metadata": {} } }],
      },
    });
    const api = new ScriptedApi(
      [{ metadata: { resourceVersion: "5" }, items: [managed("a", "4")] }],
      [
        {
          kind: "events",
          events: [
            { type: "MODIFIED", object: managed("a", "6") },
            { type: "BOOKMARK", object: pod("", "7") },
          ],
          ending: "hang",
        },
      ],
    );
    const delivered: KubeObject[] = [];
    const reflector = new Reflector({
      client: api,
      ref: { version: "v1", resource: "pods" },
      handler: {
        replace: (items: KubeObject[]) => delivered.push(...items),
        event: (e: WatchEvent<KubeObject>) => delivered.push(e.object),
      },
      clock: new ManualClock(),
      transform: stripManagedFields,
    });
    const abort = new AbortController();
    const done = reflector.run(abort.signal);
    await reflector.waitForSync();
    await flushMicrotasks();
    expect(delivered).toEqual([
      { metadata: { name: "a", namespace: "ns", resourceVersion: "4", labels: { app: "a" } } },
      { metadata: { name: "a", namespace: "ns", resourceVersion: "6", labels: { app: "a" } } },
    ]);
    expect(reflector.lastResourceVersion).toBe("7");
    abort.abort();
    await done;
  });

  it("hands the handler a compact form of its own, transforming each list page as it arrives", async () => {
    const api = new ScriptedApi(
      [
        { metadata: { resourceVersion: "10", continue: "page2" }, items: [pod("a", "3"), pod("b", "4")] },
        { metadata: { resourceVersion: "10" }, items: [pod("c", "7")] },
      ],
      [{ kind: "events", events: [{ type: "DELETED", object: pod("b", "11") }], ending: "hang" }],
    );
    const transformedBeforePage: number[] = [];
    let transformed = 0;
    const listed = api.list.bind(api);
    api.list = async <T extends KubeObject>(ref: ResourceRef, options?: ListOptions) => {
      transformedBeforePage.push(transformed);
      return listed<T>(ref, options);
    };
    const seen: string[] = [];
    const reflector = new Reflector<KubeObject, { key: string }>({
      client: api,
      ref: { version: "v1", resource: "pods" },
      clock: new ManualClock(),
      transform: (object) => {
        transformed++;
        return { key: `${object.metadata?.namespace}/${object.metadata?.name}` };
      },
      handler: {
        replace: (items) => seen.push(`replace ${items.map((i) => i.key).join(",")}`),
        event: (e) => seen.push(`${e.type} ${e.object.key}`),
      },
    });
    const abort = new AbortController();
    const done = reflector.run(abort.signal);
    await reflector.waitForSync();
    await flushMicrotasks();
    expect(seen).toEqual(["replace ns/a,ns/b,ns/c", "DELETED ns/b"]);
    // The first page was transformed before the second was asked for.
    expect(transformedBeforePage).toEqual([0, 2]);
    abort.abort();
    await done;
  });

  it("re-watches from the last resourceVersion when the server ends the stream", async () => {
    const api = new ScriptedApi(
      [{ metadata: { resourceVersion: "5" }, items: [] }],
      [
        { kind: "events", events: [{ type: "ADDED", object: pod("x", "6") }], ending: "end" },
        { kind: "events", events: [{ type: "MODIFIED", object: pod("x", "9") }], ending: "hang" },
      ],
    );
    const { seen, handler } = recorder();
    const reflector = new Reflector({
      client: api,
      ref: { version: "v1", resource: "pods" },
      handler,
      clock: new ManualClock(),
    });
    const abort = new AbortController();
    const done = reflector.run(abort.signal);
    await flushMicrotasks();
    expect(api.calls).toEqual(["list continue=", "watch rv=5 bookmarks=true", "watch rv=6 bookmarks=true"]);
    expect(seen).toEqual(["replace  @5", "ADDED x", "MODIFIED x"]);
    abort.abort();
    await done;
  });

  it("relists without backoff when the watch answers 410 Gone", async () => {
    const api = new ScriptedApi(
      [
        { metadata: { resourceVersion: "5" }, items: [pod("old", "5")] },
        { metadata: { resourceVersion: "50" }, items: [pod("new", "50")] },
      ],
      [{ kind: "events", events: [], ending: gone() }],
    );
    const { seen, handler } = recorder();
    const reflector = new Reflector({
      client: api,
      ref: { version: "v1", resource: "pods" },
      handler,
      clock: new ManualClock(),
    });
    const abort = new AbortController();
    const done = reflector.run(abort.signal);
    await flushMicrotasks();
    expect(seen).toEqual(["replace old @5", "replace new @50"]);
    expect(api.calls.at(-1)).toBe("watch rv=50 bookmarks=true");
    expect(reflector.stats.relistsOnGone).toBe(1);
    abort.abort();
    await done;
  });

  it("backs off with growing delays while the API server is unreachable, and reports each failure", async () => {
    const down = () => new ApiError("API_UNREACHABLE", "connect ECONNREFUSED 127.0.0.1:1");
    const api = new ScriptedApi(
      [down(), down(), down(), { metadata: { resourceVersion: "1" }, items: [] }],
      [],
    );
    const waits: number[] = [];
    const { seen, handler } = recorder();
    const clock = new ManualClock();
    const reflector = new Reflector({
      client: api,
      ref: { version: "v1", resource: "pods" },
      handler,
      clock,
      random: () => 0,
      onError: (_e, wait) => waits.push(wait),
    });
    const abort = new AbortController();
    const done = reflector.run(abort.signal);
    await flushMicrotasks();
    expect(waits).toEqual([800]);
    await clock.advance(800);
    expect(waits).toEqual([800, 1600]);
    await clock.advance(1600);
    expect(waits).toEqual([800, 1600, 3200]);
    expect(seen).toEqual([]);
    await clock.advance(3200);
    expect(seen).toEqual(["replace  @1"]);
    expect(reflector.hasSynced).toBe(true);
    abort.abort();
    await done;
  });

  it("re-watches a stream that went silent (watchdog), resuming from the last resourceVersion", async () => {
    const api = new ScriptedApi(
      [{ metadata: { resourceVersion: "5" }, items: [] }],
      [
        { kind: "events", events: [{ type: "ADDED", object: pod("p", "7") }], ending: "hang" },
        { kind: "events", events: [], ending: "hang" },
      ],
    );
    const { handler } = recorder();
    const clock = new ManualClock();
    const reflector = new Reflector({
      client: api,
      ref: { version: "v1", resource: "pods" },
      handler,
      clock,
      idleTimeoutMs: 60_000,
    });
    const abort = new AbortController();
    const done = reflector.run(abort.signal);
    await flushMicrotasks();
    expect(api.calls.filter((c) => c.startsWith("watch"))).toEqual(["watch rv=5 bookmarks=true"]);
    await clock.advance(59_000);
    expect(reflector.stats.watchdogRewatches).toBe(0);
    await clock.advance(1_000);
    expect(reflector.stats.watchdogRewatches).toBe(1);
    expect(api.calls.filter((c) => c.startsWith("watch"))).toEqual([
      "watch rv=5 bookmarks=true",
      "watch rv=7 bookmarks=true",
    ]);
    abort.abort();
    await done;
  });
});
