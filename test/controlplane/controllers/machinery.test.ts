// The controllers' shared machinery, with a manual clock: the work queue's client-go guarantees, the
// scheduling queue's backoff and parking, expectations, the informer cache, and leader election over an
// in-memory Lease store that enforces resourceVersion preconditions like the API server.

import { pino } from "pino";
import { describe, expect, it } from "vitest";
import type { ObjectList, ResourceRef, WatchEvent } from "../../../src/api/client/client.ts";
import { ApiError } from "../../../src/api/client/errors.ts";
import type { KubeObject } from "../../../src/api/resource.ts";
import type { Lease } from "../../../src/api/schema/coordination/lease.ts";
import type { Pod } from "../../../src/api/schema/core/pod-types.ts";
import { ControllerLoop } from "../../../src/controlplane/controllers/machinery/controller.ts";
import { Expectations } from "../../../src/controlplane/controllers/machinery/expectations.ts";
import { Informer } from "../../../src/controlplane/controllers/machinery/informer.ts";
import { LeaderElector } from "../../../src/controlplane/controllers/machinery/leader-election.ts";
import { slowStartBatch } from "../../../src/controlplane/controllers/machinery/util.ts";
import { WorkQueue } from "../../../src/controlplane/controllers/machinery/workqueue.ts";
import { SchedulingQueue } from "../../../src/controlplane/scheduler/queue.ts";
import { flushMicrotasks, ManualClock } from "../../support/manual-clock.ts";

const log = pino({ level: "silent" });

describe("WorkQueue", () => {
  it("coalesces keys and never hands a key being processed to a second worker", async () => {
    const q = new WorkQueue({ clock: new ManualClock() });
    q.add("a");
    q.add("b");
    q.add("a");
    expect(q.length).toBe(2);
    const first = await q.get();
    expect(first).toBe("a");
    q.add("a"); // re-added while processing: waits for done()
    expect(await q.get()).toBe("b");
    let third: string | undefined;
    const pending = q.get().then((k) => {
      third = k;
    });
    await flushMicrotasks();
    expect(third).toBeUndefined();
    q.done("a");
    await pending;
    expect(third).toBe("a");
  });

  it("backs off rate-limited re-adds exponentially until forget()", async () => {
    const clock = new ManualClock();
    const q = new WorkQueue({ clock, baseDelayMs: 10 });
    q.addRateLimited("k");
    q.addRateLimited("k");
    expect(q.numRequeues("k")).toBe(2);
    await clock.advance(9);
    expect(q.length).toBe(0);
    await clock.advance(1);
    expect(q.length).toBe(1);
    q.forget("k");
    expect(q.numRequeues("k")).toBe(0);
  });
});

describe("ControllerLoop", () => {
  it("never hot-loops on an object it cannot handle: retries back off exponentially and are counted", async () => {
    const clock = new ManualClock();
    const attempts: number[] = [];
    const loop = new ControllerLoop({
      name: "test",
      log,
      clock,
      workers: 2,
      sync: async () => {
        attempts.push(clock.now());
        throw new Error("cannot create pods: admission says no");
      },
    });
    const abort = new AbortController();
    const running = loop.run(abort.signal);
    loop.enqueue("ns/broken");
    await clock.advance(1_000);
    // 5 ms doubling: attempts at 0, 5, 15, 35, 75, 155, 315, 635 ms within the first second.
    expect(attempts).toEqual([0, 5, 15, 35, 75, 155, 315, 635]);
    await clock.advance(60_000);
    expect(attempts.length).toBeLessThan(16);
    expect(loop.stats.errors).toBe(attempts.length);
    abort.abort();
    await running;
  });

  it("re-checks a key after the delay a sync asks for", async () => {
    const clock = new ManualClock();
    let n = 0;
    const loop = new ControllerLoop({
      name: "t",
      log,
      clock,
      sync: async () => (++n === 1 ? { requeueAfterMs: 500 } : undefined),
    });
    const abort = new AbortController();
    const running = loop.run(abort.signal);
    loop.enqueue("k");
    await clock.advance(499);
    expect(n).toBe(1);
    await clock.advance(1);
    expect(n).toBe(2);
    abort.abort();
    await running;
  });
});

describe("SchedulingQueue", () => {
  const pod = (name: string, priority = 0) =>
    ({ metadata: { name }, spec: { priority, containers: [] } }) as unknown as Pod;

  it("pops by priority then age, parks unschedulable pods and moves them back with backoff on cluster changes", async () => {
    const clock = new ManualClock();
    const q = new SchedulingQueue({
      clock,
      initialBackoffMs: 1000,
      maxBackoffMs: 10_000,
      maxParkedMs: 60_000,
    });
    const signal = new AbortController().signal;
    q.add("ns/low", pod("low"));
    await clock.advance(1);
    q.add("ns/high", pod("high", 10));
    expect((await q.pop(signal))?.key).toBe("ns/high");
    const low = await q.pop(signal);
    expect(low?.key).toBe("ns/low");
    q.unschedulable(low as NonNullable<typeof low>);
    expect(q.pending).toEqual({ active: 0, backoff: 0, unschedulable: 1 });
    q.moveAllToActiveOrBackoff();
    expect(q.pending).toEqual({ active: 0, backoff: 1, unschedulable: 0 });
    let popped: string | undefined;
    const next = q.pop(signal).then((p) => {
      popped = p?.key;
    });
    await clock.advance(999);
    expect(popped).toBeUndefined();
    await clock.advance(1);
    await next;
    expect(popped).toBe("ns/low");
  });

  it("a pod that failed while the cluster changed goes to backoff instead of being parked", async () => {
    const clock = new ManualClock();
    const q = new SchedulingQueue({ clock });
    const signal = new AbortController().signal;
    q.add("ns/p", pod("p"));
    const p = await q.pop(signal);
    q.moveAllToActiveOrBackoff(); // a node appeared during the attempt
    q.unschedulable(p as NonNullable<typeof p>);
    expect(q.pending).toEqual({ active: 0, backoff: 1, unschedulable: 0 });
  });
});

describe("Expectations and slow start", () => {
  it("waits for observed creations and deletions, or for the 5 minute expiry", async () => {
    const clock = new ManualClock();
    const e = new Expectations(clock);
    e.expect("rs", 2, ["ns/a"]);
    expect(e.satisfied("rs")).toBe(false);
    e.creationObserved("rs");
    e.creationObserved("rs");
    expect(e.satisfied("rs")).toBe(false);
    e.deletionObserved("rs", "ns/a");
    e.deletionObserved("rs", "ns/a");
    expect(e.satisfied("rs")).toBe(true);
    e.expectCreations("rs", 1);
    await clock.advance(5 * 60_000 + 1);
    expect(e.satisfied("rs")).toBe(true);
  });

  it("creates in batches of 1, 2, 4 … and stops at the first failing batch", async () => {
    const calls: number[] = [];
    const result = await slowStartBatch(10, 1, async (i) => {
      calls.push(i);
      if (i === 4) throw new Error("quota exceeded");
    });
    expect(calls.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(result.successes).toBe(6);
    expect((result.error as Error).message).toBe("quota exceeded");
    expect(await slowStartBatch(5, 1, async () => {})).toEqual({ successes: 5 });
  });
});

/** A list+watch source fed by the test. */
class FakeSource {
  items: KubeObject[] = [];
  rv = 1;
  private push: ((e: WatchEvent<KubeObject>) => void) | undefined;
  async list<T extends KubeObject>(): Promise<ObjectList<T>> {
    return { metadata: { resourceVersion: String(this.rv) }, items: this.items as T[] };
  }
  async *watch<T extends KubeObject>(
    _ref: ResourceRef,
    options: { signal?: AbortSignal } = {},
  ): AsyncGenerator<WatchEvent<T>> {
    const queue: WatchEvent<KubeObject>[] = [];
    let wake: (() => void) | undefined;
    this.push = (e) => {
      queue.push(e);
      wake?.();
    };
    while (!options.signal?.aborted) {
      const e = queue.shift();
      if (e) {
        yield e as WatchEvent<T>;
        continue;
      }
      await new Promise<void>((r) => {
        wake = r;
        options.signal?.addEventListener("abort", () => r(), { once: true });
      });
    }
  }
  emit(type: WatchEvent<KubeObject>["type"], name: string, labels: Record<string, string> = {}): void {
    this.rv++;
    this.push?.({
      type,
      object: { metadata: { name, namespace: "ns", resourceVersion: String(this.rv), labels } },
    });
  }
}

describe("Informer", () => {
  it("keeps an indexed cache in step with list and watch, and tells handlers about changes", async () => {
    const source = new FakeSource();
    source.items = [
      { metadata: { name: "a", namespace: "ns", resourceVersion: "1", labels: { tier: "web" } } },
    ];
    const informer = new Informer<KubeObject>({
      client: source,
      ref: { version: "v1", resource: "pods" },
      log,
    });
    informer.addIndex("tier", (o) => [o.metadata?.labels?.tier ?? ""]);
    const seen: string[] = [];
    informer.addHandler({
      add: (o) => seen.push(`add ${o.metadata?.name}`),
      update: (_o, n) => seen.push(`update ${n.metadata?.name}`),
      delete: (o) => seen.push(`delete ${o.metadata?.name}`),
    });
    const abort = new AbortController();
    const running = informer.run(abort.signal);
    await informer.waitForSync();
    await flushMicrotasks();
    source.emit("ADDED", "b", { tier: "db" });
    source.emit("MODIFIED", "a", { tier: "db" });
    source.emit("DELETED", "b", { tier: "db" });
    await flushMicrotasks();
    expect(seen).toEqual(["add a", "add b", "update a", "delete b"]);
    expect(informer.get("ns/a")?.metadata?.labels).toEqual({ tier: "db" });
    expect(informer.byIndex("tier", "db").map((o) => o.metadata?.name)).toEqual(["a"]);
    expect(informer.byIndex("tier", "web")).toEqual([]);
    abort.abort();
    await running;
  });
});

/** Leases kept in memory with the API server's optimistic concurrency. */
class LeaseStore {
  lease: Lease | undefined;
  private rv = 0;
  async get<T>(): Promise<T> {
    if (!this.lease)
      throw new ApiError("API_STATUS", "not found", {
        httpStatus: 404,
        status: { reason: "NotFound", code: 404 },
      });
    return structuredClone(this.lease) as T;
  }
  async create<T>(_ref: ResourceRef, body: T): Promise<T> {
    if (this.lease)
      throw new ApiError("API_STATUS", "exists", {
        httpStatus: 409,
        status: { reason: "AlreadyExists", code: 409 },
      });
    this.lease = {
      ...(body as Lease),
      metadata: { ...(body as Lease).metadata, resourceVersion: String(++this.rv) },
    };
    return structuredClone(this.lease) as T;
  }
  async update<T>(_ref: ResourceRef, body: T): Promise<T> {
    const lease = body as Lease;
    if (lease.metadata?.resourceVersion !== this.lease?.metadata?.resourceVersion) {
      throw new ApiError("API_STATUS", "conflict", {
        httpStatus: 409,
        status: { reason: "Conflict", code: 409 },
      });
    }
    this.lease = { ...lease, metadata: { ...lease.metadata, resourceVersion: String(++this.rv) } };
    return structuredClone(this.lease) as T;
  }
}

describe("LeaderElector", () => {
  it("lets exactly one candidate lead, hands over after the lease expires, and releases on stop", async () => {
    const clock = new ManualClock();
    const store = new LeaseStore();
    const leading = new Set<string>();
    const candidate = (identity: string) => {
      const abort = new AbortController();
      const elector = new LeaderElector({
        client: store as never,
        log,
        clock,
        namespace: "kube-system",
        name: "deckhand-controller-manager",
        identity,
        leaseDurationMs: 15_000,
        renewDeadlineMs: 10_000,
        retryPeriodMs: 2_000,
        onStartedLeading: (signal) => {
          leading.add(identity);
          signal.addEventListener("abort", () => leading.delete(identity));
        },
      });
      return { elector, abort, done: elector.run(abort.signal) };
    };
    const a = candidate("a");
    await clock.advance(10);
    const b = candidate("b");
    await clock.advance(10_000);
    expect([...leading]).toEqual(["a"]);
    expect(store.lease?.spec?.holderIdentity).toBe("a");

    // a freezes (its process hangs): stop it without releasing by making its renewals fail.
    const realUpdate = store.update.bind(store);
    store.update = async <T>(ref: ResourceRef, body: T) => {
      if ((body as Lease).spec?.holderIdentity === "a") throw new ApiError("API_UNREACHABLE", "network down");
      return realUpdate(ref, body);
    };
    await clock.advance(12_000);
    expect(leading.has("a")).toBe(false); // renew deadline passed: a stepped down
    await clock.advance(20_000);
    expect([...leading]).toEqual(["b"]);
    expect(store.lease?.spec?.holderIdentity).toBe("b");
    expect(store.lease?.spec?.leaseTransitions).toBe(1);

    a.abort.abort();
    b.abort.abort();
    await clock.advance(5000);
    await Promise.all([a.done, b.done]);
    expect(store.lease?.spec?.holderIdentity).toBe("");
  });
});
