// Pod lifecycle event generator: relists the runtime every period, diffs container states against the last
// relist, refreshes the runtime status cache of pods that changed, and tells the pod workers. Like
// kubelet's generic PLEG: deciding which events a state change means is a pure table (generateEvents).

import { isNotFound } from "../runtime/errors.ts";
import {
  type Container,
  type ContainerState,
  type ContainerStatus,
  type PodSandbox,
  type PodSandboxStatus,
  type Runtime,
  RuntimeLabels,
} from "../runtime/types.ts";
import { type Clock, systemClock } from "../util/clock.ts";

export type PodLifecycleEventType =
  | "ContainerStarted"
  | "ContainerDied"
  | "ContainerRemoved"
  | "ContainerChanged";

export interface PodLifecycleEvent {
  podUid: string;
  type: PodLifecycleEventType;
  containerId: string;
}

/** Everything the runtime knows about one pod, as of `observedAt`. */
export interface PodRuntimeStatus {
  uid: string;
  name: string;
  namespace: string;
  sandboxes: PodSandboxStatus[];
  containers: ContainerStatus[];
  observedAt: number;
}

/** The runtime's view of a container for diffing: "non-existent" when it vanished. */
export type PlegState = ContainerState | "non-existent";

/** Which lifecycle events a container's state change from `old` to `next` produces (upstream's table). */
export function generateEvents(
  podUid: string,
  containerId: string,
  old: PlegState,
  next: PlegState,
): PodLifecycleEvent[] {
  if (old === next) return [];
  const event = (type: PodLifecycleEventType) => ({ podUid, containerId, type });
  switch (next) {
    case "running":
      return [event("ContainerStarted")];
    case "exited":
      return [event("ContainerDied")];
    case "unknown":
      return [event("ContainerChanged")];
    case "non-existent":
      // A container that vanished while running died first; report both so nothing waits on a death.
      return old === "exited"
        ? [event("ContainerRemoved")]
        : [event("ContainerDied"), event("ContainerRemoved")];
    case "created":
      return [event("ContainerChanged")];
  }
}

export interface PlegOptions {
  runtime: Runtime;
  /** Only objects carrying these labels are this agent's (e.g. its node name). */
  scope?: Record<string, string>;
  relistPeriodMs?: number;
  /** A relist older than this makes the PLEG unhealthy (node NotReady), like kubelet's 3 min. */
  relistThresholdMs?: number;
  clock?: Clock;
  onEvents(events: PodLifecycleEvent[]): void;
  onError?(error: unknown): void;
  /** Every successful relist and how long it took (kubelet_pleg_relist_duration_seconds). */
  onRelist?(durationMs: number): void;
}

interface Snapshot {
  /** containerId → state, per pod UID (sandboxes included, keyed by sandbox id). */
  states: Map<string, Map<string, PlegState>>;
}

export class Pleg {
  private readonly options: Required<Omit<PlegOptions, "onError" | "onRelist">> &
    Pick<PlegOptions, "onError" | "onRelist">;
  private readonly cache = new Map<string, PodRuntimeStatus>();
  /**
   * Which listing each pod's cache entry (or its absence, for a pod that was in it) comes from. Listings are
   * numbered as they start: a relist and a sync's own read of the same pod can finish in either order, and
   * the one that listed later must win.
   */
  private readonly listingOf = new Map<string, number>();
  private listings = 0;
  /** Pods whose cache entry covers everything the agent did to them: a sync ended with a fresh read. */
  private readonly settled = new Set<string>();
  private last: Snapshot = { states: new Map() };
  private lastRelistAt = Number.NEGATIVE_INFINITY;
  private relisted = false;
  private readonly relistWaiters: Array<() => void> = [];

  constructor(options: PlegOptions) {
    this.options = {
      relistPeriodMs: 1000,
      relistThresholdMs: 3 * 60_000,
      clock: systemClock,
      scope: {},
      ...options,
    };
  }

  /** The runtime status of a pod as of the last relist; undefined if the runtime has nothing of it. */
  podStatus(uid: string): PodRuntimeStatus | undefined {
    return this.cache.get(uid);
  }

  /** Every pod UID the runtime has objects for. */
  podUids(): string[] {
    return [...this.cache.keys()];
  }

  healthy(): { ok: boolean; message: string } {
    if (!this.relisted) return { ok: false, message: "PLEG is not healthy: pleg has yet to be successful" };
    const age = this.options.clock.now() - this.lastRelistAt;
    if (age <= this.options.relistThresholdMs) return { ok: true, message: "" };
    return {
      ok: false,
      message: `PLEG is not healthy: pleg was last seen active ${Math.round(age / 1000)}s ago; threshold is ${this.options.relistThresholdMs / 1000}s`,
    };
  }

  /** Resolves after the next completed relist. */
  waitForRelist(): Promise<void> {
    return new Promise((resolve) => this.relistWaiters.push(resolve));
  }

  get hasRelisted(): boolean {
    return this.relisted;
  }

  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        const started = performance.now();
        await this.relist();
        this.options.onRelist?.(performance.now() - started);
      } catch (error) {
        this.options.onError?.(error);
      }
      await this.options.clock.sleep(this.options.relistPeriodMs, signal).catch(() => undefined);
    }
  }

  /** One relist: list, diff, refresh changed pods' status, emit events. Exposed for tests and forced syncs. */
  async relist(): Promise<void> {
    const { runtime, clock } = this.options;
    const selector = { ...this.options.scope };
    const listing = ++this.listings;
    const [sandboxes, containers] = await Promise.all([
      runtime.listPodSandboxes({ labelSelector: selector }),
      runtime.listContainers({ labelSelector: selector }),
    ]);
    const now = clock.now();
    const next = snapshot(sandboxes, containers);
    const { events, changedPods } = diffSnapshots(this.last, next);
    // Changed pods are re-read a few at a time, not one after another: in a burst of new pods, every pod's
    // Running waits for this relist, and each status read is a runtime round trip.
    // A pod whose cached status already shows what this relist found (a sync read it after changing it) is
    // not read again; its events still go out.
    const queue = [...changedPods].filter((uid) => {
      const cached = this.cache.get(uid);
      const found = next.states.get(uid);
      if (!cached || !found || !showsStates(cached, found)) return true;
      this.listingOf.set(uid, Math.max(listing, this.listingOf.get(uid) ?? 0));
      return false;
    });
    const reader = async () => {
      for (let uid = queue.shift(); uid !== undefined; uid = queue.shift())
        await this.refreshPod(uid, sandboxes, containers, now, listing);
    };
    await Promise.all(Array.from({ length: Math.min(REFRESH_CONCURRENCY, queue.length) }, reader));
    this.forgetGone(listing, next);
    this.last = next;
    this.lastRelistAt = now;
    this.relisted = true;
    // Sandboxes are diffed like containers (as upstream does): a sandbox that died needs its pod synced too.
    if (events.length > 0) this.options.onEvents(events);
    for (const resolve of this.relistWaiters.splice(0)) resolve();
  }

  private async refreshPod(
    uid: string,
    sandboxes: PodSandbox[],
    containers: Container[],
    now: number,
    listing: number,
  ) {
    const newer = () => (this.listingOf.get(uid) ?? 0) > listing; // a newer read of this pod got there first
    if (newer()) return;
    const status = await readPodRuntimeStatus(this.options.runtime, uid, sandboxes, containers, now);
    if (newer()) return;
    this.listingOf.set(uid, listing);
    if (status) this.cache.set(uid, status);
    else this.cache.delete(uid);
  }

  /** Drops the listing numbers of pods gone before this relist listed and still gone in it. */
  private forgetGone(listing: number, next: Snapshot): void {
    this.listingOf.forEach((of, uid) => {
      if (of < listing && !this.cache.has(uid) && !next.states.has(uid)) this.listingOf.delete(uid);
    });
  }

  /** Re-reads one pod from the runtime now (after a sync changed it) and updates the cache. */
  async refresh(uid: string): Promise<PodRuntimeStatus | undefined> {
    const { runtime, clock } = this.options;
    this.settled.delete(uid);
    const selector = { ...this.options.scope, [RuntimeLabels.podUid]: uid };
    const listing = ++this.listings;
    const [sandboxes, containers] = await Promise.all([
      runtime.listPodSandboxes({ labelSelector: selector }),
      runtime.listContainers({ labelSelector: selector }),
    ]);
    await this.refreshPod(uid, sandboxes, containers, clock.now(), listing);
    return this.cache.get(uid);
  }

  /**
   * The pod's status for the start of a sync. When the previous sync ended with a fresh read (`settle`),
   * the cache holds that read or a newer relist's, so no runtime call is needed (kubelet's pod cache). A pod
   * a source has just announced has nothing in the runtime unless a relist or read has seen some of it (a
   * restarted agent's pods, a static pod added again). Otherwise (the previous sync stopped part way) the
   * runtime is read now.
   */
  statusForSync(uid: string, newPod = false): Promise<PodRuntimeStatus | undefined> {
    if (this.settled.delete(uid)) return Promise.resolve(this.cache.get(uid));
    if (newPod && this.relisted && !this.cache.has(uid) && !this.listingOf.has(uid))
      return Promise.resolve(undefined);
    return this.refresh(uid);
  }

  /** The cached status of `uid` now covers everything done to the pod: the next sync may start from it. */
  settle(uid: string): void {
    this.settled.add(uid);
  }
}

/** Pods whose status one relist re-reads at the same time. */
const REFRESH_CONCURRENCY = 8;

/** The full runtime status of one pod from already-listed objects; undefined when it has none. */
export async function readPodRuntimeStatus(
  runtime: Runtime,
  uid: string,
  sandboxes: readonly PodSandbox[],
  containers: readonly Container[],
  now: number,
): Promise<PodRuntimeStatus | undefined> {
  const podSandboxes = sandboxes.filter((s) => s.metadata.uid === uid);
  const podContainers = containers.filter((c) => c.labels[RuntimeLabels.podUid] === uid);
  if (podSandboxes.length === 0 && podContainers.length === 0) return undefined;
  const [sandboxStatuses, containerStatuses] = await Promise.all([
    settleAll(podSandboxes.map((s) => runtime.podSandboxStatus(s.id))),
    settleAll(podContainers.map((c) => runtime.containerStatus(c.id))),
  ]);
  const meta = podSandboxes[0]?.metadata;
  const first = podContainers[0];
  return {
    uid,
    name: meta?.name ?? first?.labels[RuntimeLabels.podName] ?? "",
    namespace: meta?.namespace ?? first?.labels[RuntimeLabels.podNamespace] ?? "",
    sandboxes: sandboxStatuses.sort((a, b) => b.createdAt - a.createdAt),
    containers: containerStatuses.sort((a, b) => b.createdAt - a.createdAt),
    observedAt: now,
  };
}

/** Whether a cached status has exactly these sandboxes and containers in these states. */
function showsStates(status: PodRuntimeStatus, states: ReadonlyMap<string, PlegState>): boolean {
  if (status.sandboxes.length + status.containers.length !== states.size) return false;
  for (const sandbox of status.sandboxes)
    if (states.get(sandbox.id) !== (sandbox.state === "ready" ? "running" : "exited")) return false;
  for (const container of status.containers) if (states.get(container.id) !== container.state) return false;
  return true;
}

const NOTHING: ReadonlyMap<string, PlegState> = new Map();

/**
 * The lifecycle events between two relists, and the pods they concern: pods and containers in the order the
 * previous relist had them, then the new ones. Runs every second over every container of the node, so it
 * walks the two snapshots instead of building their unions (this loop was a good part of an idle agent's
 * garbage with 100 pods).
 */
function diffSnapshots(
  last: Snapshot,
  next: Snapshot,
): { events: PodLifecycleEvent[]; changedPods: Set<string> } {
  const events: PodLifecycleEvent[] = [];
  const changedPods = new Set<string>();
  const compare = (uid: string, id: string, old: PlegState, now: PlegState) => {
    if (old === now) return;
    changedPods.add(uid);
    events.push(...generateEvents(uid, id, old, now));
  };
  const diffPod = (
    uid: string,
    before: ReadonlyMap<string, PlegState>,
    after: ReadonlyMap<string, PlegState>,
  ) => {
    before.forEach((old, id) => {
      compare(uid, id, old, after.get(id) ?? "non-existent");
    });
    after.forEach((now, id) => {
      if (!before.has(id)) compare(uid, id, "non-existent", now);
    });
  };
  last.states.forEach((before, uid) => {
    diffPod(uid, before, next.states.get(uid) ?? NOTHING);
  });
  next.states.forEach((after, uid) => {
    if (!last.states.has(uid)) diffPod(uid, NOTHING, after);
  });
  return { events, changedPods };
}

function snapshot(sandboxes: PodSandbox[], containers: Container[]): Snapshot {
  const states = new Map<string, Map<string, PlegState>>();
  const forPod = (uid: string) => {
    let pod = states.get(uid);
    if (!pod) {
      pod = new Map();
      states.set(uid, pod);
    }
    return pod;
  };
  for (const sandbox of sandboxes) {
    forPod(sandbox.metadata.uid).set(sandbox.id, sandbox.state === "ready" ? "running" : "exited");
  }
  for (const container of containers) {
    const uid = container.labels[RuntimeLabels.podUid];
    if (uid) forPod(uid).set(container.id, container.state);
  }
  return { states };
}

/** Statuses of objects that still exist; ones removed between list and status are skipped. */
async function settleAll<T>(promises: Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(promises);
  const values: T[] = [];
  for (const result of results) {
    if (result.status === "fulfilled") values.push(result.value);
    else if (!isNotFound(result.reason)) throw result.reason;
  }
  return values;
}
