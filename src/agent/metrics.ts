// The agent's Prometheus metrics, under upstream kubelet's names and labels where one exists, so that
// dashboards and alerts written for kubelet work unchanged. Two registries, as kubelet serves them:
// everything on /metrics, and the per-probe counters on /metrics/probes.
//
// Components do not import prom-client: they get narrow hooks (observePodWorker, observePlegRelist,
// observeProbe, runtimeOperation) or are wrapped by a decorator (./instrumented-runtime.ts), and the gauges
// that describe the runtime's state are computed when scraped from a source the composition root passes in.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { Pod } from "../api/schema/core/pod-types.ts";
import type { ProxyMetrics } from "../proxy/metrics.ts";
import type { ContainerState } from "../runtime/types.ts";
import type { PodRuntimeStatus } from "./pleg.ts";

/** Upstream's prober_probe_total result values. */
export type ProbeMetricResult = "successful" | "failed" | "unknown";

/** What a probe result looks like to the metrics (a subset of the prober's ProbeEvent). */
export interface ProbeObservation {
  podUid: string;
  container: string;
  type: "liveness" | "readiness" | "startup";
  result: { outcome: "success" | "failure" | "unknown" };
}

/** kubelet_pod_worker_duration_seconds operation_type values. */
export type PodWorkerOperation = "create" | "update" | "sync" | "kill";

export interface AgentMetricsOptions {
  nodeName: string;
  /** The runtime's pods as of the last relist, read at scrape time for the running pods/containers gauges. */
  runtimePods?: () => Iterable<PodRuntimeStatus>;
  /** Process metrics (CPU, memory, event loop, GC); default true. */
  processMetrics?: boolean;
}

// Upstream bucket layouts (pkg/kubelet/metrics): pod start in seconds up to an hour, runtime operations
// exponential from 5 ms.
const POD_START_BUCKETS = [
  0.5, 1, 2, 3, 4, 5, 6, 8, 10, 20, 30, 45, 60, 120, 180, 240, 300, 360, 480, 600, 900, 1200, 1800, 2700,
  3600,
];
const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const RUNTIME_BUCKETS = Array.from({ length: 14 }, (_, i) => 0.005 * 2.5 ** i);

const PROBE_TYPE_LABEL = { liveness: "Liveness", readiness: "Readiness", startup: "Startup" } as const;
const PROBE_RESULT_LABEL = { success: "successful", failure: "failed", unknown: "unknown" } as const;
const CONTAINER_STATES: readonly ContainerState[] = ["created", "running", "exited", "unknown"];

// kube-proxy's layouts (pkg/proxy/metrics): sync durations exponential from 1 ms; network programming in
// quarter seconds, then seconds up to a minute, then coarser up to five minutes.
const PROXY_SYNC_BUCKETS = Array.from({ length: 15 }, (_, i) => 0.001 * 2 ** i);
const NETWORK_PROGRAMMING_BUCKETS = [
  0.25,
  0.5,
  ...Array.from({ length: 59 }, (_, i) => 1 + i),
  ...Array.from({ length: 12 }, (_, i) => 60 + 5 * i),
  ...Array.from({ length: 7 }, (_, i) => 120 + 30 * i),
];

export class AgentMetrics {
  /** Served on /metrics. */
  readonly registry = new Registry();
  /** Served on /metrics/probes. */
  readonly probeRegistry = new Registry();

  readonly #podStart: Histogram<string>;
  readonly #podWorker: Histogram<"operation_type">;
  readonly #plegRelist: Histogram<string>;
  readonly #runtimeOps: Counter<"operation_type">;
  readonly #runtimeErrors: Counter<"operation_type">;
  readonly #runtimeDuration: Histogram<"operation_type">;
  readonly #probes: Counter<"probe_type" | "result" | "container" | "pod" | "namespace" | "pod_uid">;
  /** Label sets of prober_probe_total per pod UID, so that a removed pod's series go with it. */
  readonly #probeSeries = new Map<string, Map<string, Record<string, string>>>();
  #proxy: ProxyMetrics | undefined;

  constructor(options: AgentMetricsOptions) {
    const registers = [this.registry];
    const runtimePods = options.runtimePods;
    new Gauge({
      name: "kubelet_node_name",
      help: "The node's name. The count is always 1.",
      labelNames: ["node"],
      registers,
    }).set({ node: options.nodeName }, 1);
    new Gauge({
      name: "kubelet_running_pods",
      help: "Number of pods that have a running pod sandbox",
      registers,
      collect() {
        if (!runtimePods) return;
        let running = 0;
        for (const pod of runtimePods()) if (pod.sandboxes.some((s) => s.state === "ready")) running++;
        this.set(running);
      },
    });
    new Gauge({
      name: "kubelet_running_containers",
      help: "Number of containers currently running",
      labelNames: ["container_state"],
      registers,
      collect() {
        if (!runtimePods) return;
        const counts = new Map<ContainerState, number>(CONTAINER_STATES.map((s) => [s, 0]));
        for (const pod of runtimePods())
          for (const c of pod.containers) counts.set(c.state, (counts.get(c.state) ?? 0) + 1);
        for (const [state, count] of counts) this.set({ container_state: state }, count);
      },
    });
    this.#podStart = new Histogram({
      name: "kubelet_pod_start_duration_seconds",
      help: "Duration in seconds from kubelet seeing a pod for the first time to the pod starting to run",
      buckets: POD_START_BUCKETS,
      registers,
    });
    this.#podWorker = new Histogram({
      name: "kubelet_pod_worker_duration_seconds",
      help: "Duration in seconds to sync a single pod. Broken down by operation type: create, update, or sync",
      labelNames: ["operation_type"],
      buckets: DEFAULT_BUCKETS,
      registers,
    });
    this.#plegRelist = new Histogram({
      name: "kubelet_pleg_relist_duration_seconds",
      help: "Duration in seconds for relisting pods in PLEG.",
      buckets: DEFAULT_BUCKETS,
      registers,
    });
    this.#runtimeOps = new Counter({
      name: "kubelet_runtime_operations_total",
      help: "Cumulative number of runtime operations by operation type.",
      labelNames: ["operation_type"],
      registers,
    });
    this.#runtimeErrors = new Counter({
      name: "kubelet_runtime_operations_errors_total",
      help: "Cumulative number of runtime operation errors by operation type.",
      labelNames: ["operation_type"],
      registers,
    });
    this.#runtimeDuration = new Histogram({
      name: "kubelet_runtime_operations_duration_seconds",
      help: "Duration in seconds of runtime operations. Broken down by operation type.",
      labelNames: ["operation_type"],
      buckets: RUNTIME_BUCKETS,
      registers,
    });
    this.#probes = new Counter({
      name: "prober_probe_total",
      help: "Cumulative number of a liveness, readiness or startup probe for a container by result.",
      labelNames: ["probe_type", "result", "container", "pod", "namespace", "pod_uid"],
      registers: [this.probeRegistry],
    });
    // The event loop lag monitor wakes the loop every `eventLoopMonitoringPrecision` ms: prom-client's 10 ms
    // default is 100 wake-ups a second on an otherwise idle agent (~0.25% of a core); 100 ms still
    // catches any lag worth alerting on.
    if (options.processMetrics ?? true)
      collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 100 });
  }

  observePodWorker(operation: PodWorkerOperation, seconds: number): void {
    this.#podWorker.observe({ operation_type: operation }, seconds);
  }

  observePodStart(seconds: number): void {
    this.#podStart.observe(seconds);
  }

  observePlegRelist(seconds: number): void {
    this.#plegRelist.observe(seconds);
  }

  /** One runtime call: counted, timed, and counted again as an error when it failed. */
  runtimeOperation(operation: string, seconds: number, failed: boolean): void {
    const labels = { operation_type: operation };
    this.#runtimeOps.inc(labels);
    this.#runtimeDuration.observe(labels, seconds);
    if (failed) this.#runtimeErrors.inc(labels);
  }

  observeProbe(event: ProbeObservation, pod: Pod | undefined): void {
    const name = pod?.metadata?.name ?? "";
    const namespace = pod?.metadata?.namespace ?? "";
    let series = this.#probeSeries.get(event.podUid);
    if (!series) {
      series = new Map();
      this.#probeSeries.set(event.podUid, series);
    }
    // Called for every probe (hundreds a second on a busy node): the label set is built once per series.
    const key = `${event.container}\0${event.type}\0${event.result.outcome}\0${name}\0${namespace}`;
    let labels = series.get(key);
    if (!labels) {
      labels = {
        probe_type: PROBE_TYPE_LABEL[event.type],
        result: PROBE_RESULT_LABEL[event.result.outcome],
        container: event.container,
        pod: name,
        namespace,
        pod_uid: event.podUid,
      };
      series.set(key, labels);
    }
    this.#probes.inc(labels);
  }

  /**
   * The service proxy's metrics, under kube-proxy's names, on /metrics (created on first use: an agent
   * without the proxy exports none of them).
   */
  proxyMetrics(): ProxyMetrics {
    if (this.#proxy) return this.#proxy;
    const registers = [this.registry];
    const syncHistogram = (name: string, help: string) =>
      new Histogram({ name, help, buckets: PROXY_SYNC_BUCKETS, registers });
    const syncDuration = syncHistogram(
      "kubeproxy_sync_proxy_rules_duration_seconds",
      "SyncProxyRules latency in seconds",
    );
    const fullDuration = syncHistogram(
      "kubeproxy_sync_full_proxy_rules_duration_seconds",
      "SyncProxyRules latency in seconds for full resyncs",
    );
    const partialDuration = syncHistogram(
      "kubeproxy_sync_partial_proxy_rules_duration_seconds",
      "SyncProxyRules latency in seconds for partial resyncs",
    );
    const lastSync = new Gauge({
      name: "kubeproxy_sync_proxy_rules_last_timestamp_seconds",
      help: "The last time proxy rules were successfully synced",
      registers,
    });
    const lastQueued = new Gauge({
      name: "kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds",
      help: "The last time a sync of proxy rules was queued",
      registers,
    });
    const rules = new Gauge({
      name: "kubeproxy_sync_proxy_rules_iptables_total",
      help: "Total number of iptables rules owned by kube-proxy",
      labelNames: ["table"],
      registers,
    });
    const serviceChanges = new Counter({
      name: "kubeproxy_sync_proxy_rules_service_changes_total",
      help: "Cumulative proxy rules Service changes",
      registers,
    });
    const servicePending = new Gauge({
      name: "kubeproxy_sync_proxy_rules_service_changes_pending",
      help: "Pending proxy rules Service changes",
      registers,
    });
    const endpointChanges = new Counter({
      name: "kubeproxy_sync_proxy_rules_endpoint_changes_total",
      help: "Cumulative proxy rules Endpoint changes",
      registers,
    });
    const endpointPending = new Gauge({
      name: "kubeproxy_sync_proxy_rules_endpoint_changes_pending",
      help: "Pending proxy rules Endpoint changes",
      registers,
    });
    const restoreFailures = new Counter({
      name: "kubeproxy_sync_proxy_rules_iptables_restore_failures_total",
      help: "Cumulative proxy iptables restore failures",
      registers,
    });
    const partialRestoreFailures = new Counter({
      name: "kubeproxy_sync_proxy_rules_iptables_partial_restore_failures_total",
      help: "Cumulative proxy iptables partial restore failures",
      registers,
    });
    const networkProgramming = new Histogram({
      name: "kubeproxy_network_programming_duration_seconds",
      help: "In Cluster Network Programming Latency in seconds",
      buckets: NETWORK_PROGRAMMING_BUCKETS,
      registers,
    });
    // Present from the start, as upstream's are (a dashboard's rate() needs the zero).
    for (const counter of [serviceChanges, endpointChanges, restoreFailures, partialRestoreFailures])
      counter.inc(0);
    this.#proxy = {
      serviceChanged(pending) {
        serviceChanges.inc();
        servicePending.set(pending);
      },
      endpointsChanged(pending) {
        endpointChanges.inc();
        endpointPending.set(pending);
      },
      queued(atMs) {
        lastQueued.set(atMs / 1000);
      },
      synced(sync) {
        syncDuration.observe(sync.seconds);
        (sync.kind === "full" ? fullDuration : partialDuration).observe(sync.seconds);
        lastSync.set(sync.endedAtMs / 1000);
        rules.set({ table: "filter" }, sync.rules.filter);
        rules.set({ table: "nat" }, sync.rules.nat);
        servicePending.set(sync.pendingServices);
        endpointPending.set(sync.pendingEndpoints);
      },
      restoreFailed(partial) {
        restoreFailures.inc();
        if (partial) partialRestoreFailures.inc();
      },
      programmed(seconds) {
        networkProgramming.observe(seconds);
      },
    };
    return this.#proxy;
  }

  /** Drops the per-pod series of a pod that is gone. */
  forgetPod(uid: string): void {
    for (const labels of this.#probeSeries.get(uid)?.values() ?? []) this.#probes.remove(labels);
    this.#probeSeries.delete(uid);
  }

  /**
   * Wraps the pod workers' sync function: times every sync (kubelet_pod_worker_duration_seconds) and
   * observes kubelet_pod_start_duration_seconds once per pod, from its first sync to the first sync after
   * which `state(uid)` says it runs. `state` answers "gone" once no source has the pod any more.
   */
  instrumentPodSync<T>(
    sync: (uid: string, desired: T, reasons: string[], signal: AbortSignal) => Promise<void>,
    state: (uid: string) => "pending" | "running" | "gone",
    now: () => number = () => performance.now(),
  ): (uid: string, desired: T, reasons: string[], signal: AbortSignal) => Promise<void> {
    const firstSeen = new Map<string, number>();
    const started = new Set<string>();
    return async (uid, desired, reasons, signal) => {
      const begin = now();
      const first = !firstSeen.has(uid);
      if (first) firstSeen.set(uid, begin);
      const before = state(uid);
      try {
        await sync(uid, desired, reasons, signal);
      } finally {
        const end = now();
        this.observePodWorker(podWorkerOperation(first, before === "gone", reasons), (end - begin) / 1000);
        const after = state(uid);
        if (after === "gone") {
          firstSeen.delete(uid);
          started.delete(uid);
          this.forgetPod(uid);
        } else if (after === "running" && !started.has(uid)) {
          started.add(uid);
          this.observePodStart((end - (firstSeen.get(uid) ?? end)) / 1000);
        }
      }
    };
  }
}

/** Which operation a pod worker sync was, in upstream's terms. */
export function podWorkerOperation(
  first: boolean,
  gone: boolean,
  reasons: readonly string[],
): PodWorkerOperation {
  if (gone) return "kill";
  if (first) return "create";
  return reasons.includes("update") ? "update" : "sync";
}

/** True when a pod's sandbox is ready and every one of its spec containers has a running instance. */
export function podIsRunning(pod: Pod | undefined, status: PodRuntimeStatus | undefined): boolean {
  if (!pod || !status) return false;
  if (!status.sandboxes.some((s) => s.state === "ready")) return false;
  const running = new Set(status.containers.filter((c) => c.state === "running").map((c) => c.metadata.name));
  return (pod.spec?.containers ?? []).every((c) => running.has(c.name));
}
