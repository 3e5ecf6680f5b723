// What `deckhand debug` shows, computed from the agent's own state (pod sources, the PLEG's runtime view, the
// prober, the in-memory history, the service proxy): pure functions from that state to JSON-ready views.
import type { Pod } from "../../api/schema/core/pod-types.ts";
import type { ServicePortView } from "../../proxy/index.ts";
import type { TraceFrom, TraceTarget, TraceView } from "../../proxy/trace.ts";
import { type ContainerStatus, RuntimeLabels } from "../../runtime/types.ts";
import type { PodRuntimeStatus } from "../pleg.ts";
import type { ProbeWorkerView } from "../prober/manager.ts";
import { isStaticPod } from "../static-pods.ts";
import type { DebugEvent, DebugHistory, ProbeHistory, SyncRecord } from "./history.ts";

/** The agent's state the views read. */
export interface DebugState {
  nodeName: string;
  /** Pods admitted to this node, from every source. */
  pods(): Pod[];
  /** The runtime's view of every pod of this node (PLEG), including pods no source claims any more. */
  runtimePods(): PodRuntimeStatus[];
  probes(): ProbeWorkerView[];
  history: DebugHistory;
  /** Undefined when the service proxy does not run (proxyMode none, standalone node). */
  services?(): ServicesView | undefined;
  /**
   * `deckhand debug trace`: where a packet to `target` goes (ServiceProxy.trace). Absent when the service
   * proxy does not run; resolves undefined before its first sync.
   */
  trace?(target: TraceTarget, options: { from: TraceFrom; kernel: boolean }): Promise<TraceView | undefined>;
  config(): unknown;
}

export interface PodRow {
  namespace: string;
  name: string;
  uid: string;
  /** api, file (static pod) or runtime (in the runtime only: no source claims it any more). */
  source: "api" | "file" | "runtime";
  sandboxId: string;
  sandboxState: string;
  ip: string;
  containers: number;
  running: number;
  restarts: number;
  lastSyncError: string;
}

export interface ContainerRow {
  namespace: string;
  pod: string;
  podUid: string;
  name: string;
  id: string;
  attempt: number;
  state: string;
  restartCount: number;
  image: string;
  createdAt: number;
  startedAt: number;
  finishedAt: number;
  exitCode: number;
  reason: string;
  specHash: string;
}

export interface PodStory {
  pod: PodRow;
  phase: string;
  deletionTimestamp?: string;
  sandboxes: Array<{ id: string; state: string; ip: string; attempt: number; createdAt: number }>;
  containers: ContainerRow[];
  probes: Array<ProbeWorkerView & { history: ProbeHistory["results"] }>;
  events: readonly DebugEvent[];
  sync: SyncRecord | undefined;
}

export interface ServicesView {
  backend: string;
  syncs: number;
  syncErrors: number;
  restoreFailures: number;
  /** Milliseconds since the epoch; 0 before the first sync. */
  lastSyncAt: number;
  lastSyncDurationMs: number;
  lastFullSyncAt: number;
  servicePorts: ServicePortView[];
}

function sourceOf(pod: Pod): "api" | "file" {
  return isStaticPod(pod) ? "file" : "api";
}

function containerRow(status: PodRuntimeStatus, c: ContainerStatus): ContainerRow {
  return {
    namespace: status.namespace,
    pod: status.name,
    podUid: status.uid,
    name: c.metadata.name,
    id: c.id,
    attempt: c.metadata.attempt,
    state: c.state,
    restartCount: Number(c.labels[RuntimeLabels.restartCount] ?? c.metadata.attempt),
    image: c.image,
    createdAt: c.createdAt,
    startedAt: c.startedAt,
    finishedAt: c.finishedAt,
    exitCode: c.exitCode,
    reason: c.reason,
    specHash: c.labels[RuntimeLabels.specHash] ?? "",
  };
}

/** The newest instance of each container name (the runtime keeps exited ones until garbage collection). */
function latestByName(containers: readonly ContainerStatus[]): ContainerStatus[] {
  const latest = new Map<string, ContainerStatus>();
  for (const c of containers) {
    const seen = latest.get(c.metadata.name);
    if (!seen || c.metadata.attempt > seen.metadata.attempt || c.createdAt > seen.createdAt)
      latest.set(c.metadata.name, c);
  }
  return [...latest.values()];
}

function podRow(
  state: DebugState,
  uid: string,
  pod: Pod | undefined,
  runtime: PodRuntimeStatus | undefined,
): PodRow {
  const sandbox = [...(runtime?.sandboxes ?? [])].sort((a, b) => b.createdAt - a.createdAt)[0];
  const latest = latestByName(runtime?.containers ?? []);
  return {
    namespace: pod?.metadata?.namespace ?? runtime?.namespace ?? "",
    name: pod?.metadata?.name ?? runtime?.name ?? "",
    uid,
    source: pod ? sourceOf(pod) : "runtime",
    sandboxId: sandbox?.id ?? "",
    sandboxState: sandbox?.state ?? "none",
    ip: sandbox?.ip ?? "",
    containers: pod ? (pod.spec?.containers ?? []).length : latest.length,
    running: latest.filter((c) => c.state === "running").length,
    restarts: latest.reduce(
      (sum, c) => sum + Number(c.labels[RuntimeLabels.restartCount] ?? c.metadata.attempt),
      0,
    ),
    lastSyncError: state.history.syncOf(uid)?.lastError?.message ?? "",
  };
}

function byName<T extends { namespace: string; name: string }>(a: T, b: T): number {
  return a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name);
}

export function podRows(state: DebugState): PodRow[] {
  const runtime = new Map(state.runtimePods().map((p) => [p.uid, p]));
  const rows: PodRow[] = [];
  for (const pod of state.pods()) {
    const uid = pod.metadata?.uid ?? "";
    rows.push(podRow(state, uid, pod, runtime.get(uid)));
    runtime.delete(uid);
  }
  for (const [uid, status] of runtime) rows.push(podRow(state, uid, undefined, status));
  return rows.sort(byName);
}

export function containerRows(state: DebugState): ContainerRow[] {
  return state
    .runtimePods()
    .flatMap((status) => status.containers.map((c) => containerRow(status, c)))
    .sort(
      (a, b) =>
        a.namespace.localeCompare(b.namespace) ||
        a.pod.localeCompare(b.pod) ||
        a.name.localeCompare(b.name) ||
        b.attempt - a.attempt,
    );
}

/** One pod's whole story, found by namespace and name (or UID); undefined when the node does not know it. */
export function podStory(state: DebugState, namespace: string, name: string): PodStory | undefined {
  const pod = state
    .pods()
    .find(
      (p) => (p.metadata?.namespace === namespace && p.metadata?.name === name) || p.metadata?.uid === name,
    );
  const runtime = state
    .runtimePods()
    .find(
      (p) =>
        (pod ? p.uid === pod.metadata?.uid : p.namespace === namespace && p.name === name) || p.uid === name,
    );
  if (!pod && !runtime) return undefined;
  const uid = pod?.metadata?.uid ?? runtime?.uid ?? "";
  const history = new Map(state.history.probesOf(uid).map((h) => [`${h.container}/${h.type}`, h.results]));
  return {
    pod: podRow(state, uid, pod, runtime),
    phase: pod?.status?.phase ?? "",
    ...(pod?.metadata?.deletionTimestamp ? { deletionTimestamp: pod.metadata.deletionTimestamp } : {}),
    sandboxes: (runtime?.sandboxes ?? []).map((s) => ({
      id: s.id,
      state: s.state,
      ip: s.ip,
      attempt: s.metadata.attempt,
      createdAt: s.createdAt,
    })),
    containers: (runtime?.containers ?? [])
      .map((c) => containerRow(runtime as PodRuntimeStatus, c))
      .sort((a, b) => a.name.localeCompare(b.name) || b.attempt - a.attempt),
    probes: state
      .probes()
      .filter((p) => p.podUid === uid)
      .map((p) => ({ ...p, history: history.get(`${p.container}/${p.type}`) ?? [] })),
    events: state.history.eventsOf(uid),
    sync: state.history.syncOf(uid),
  };
}

export interface ProbeRow extends ProbeWorkerView {
  lastResultAt: number;
  lastMessage: string;
}

export function probeRows(state: DebugState): ProbeRow[] {
  return state
    .probes()
    .map((p) => {
      const last = state.history
        .probesOf(p.podUid)
        .find((h) => h.container === p.container && h.type === p.type)
        ?.results.at(-1);
      return { ...p, lastResultAt: last?.time ?? 0, lastMessage: last?.message ?? "" };
    })
    .sort(
      (a, b) =>
        a.namespace.localeCompare(b.namespace) ||
        a.pod.localeCompare(b.pod) ||
        a.container.localeCompare(b.container) ||
        a.type.localeCompare(b.type),
    );
}
