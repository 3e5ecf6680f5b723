// The service proxy component (kube-proxy's iptables mode inside the agent): watches Services and
// EndpointSlices with supervised list+watch, keeps net changes in change trackers, and lets a
// bounded-frequency runner sync the rules (at most once per minSyncPeriod, at least once per syncPeriod).
import type { ListWatcher } from "../api/client/reflector.ts";
import { Reflector } from "../api/client/reflector.ts";
import type { Service } from "../api/schema/core/service-types.ts";
import type { EndpointSlice } from "../api/schema/discovery/endpointslice.ts";
import { type Clock, systemClock } from "../util/clock.ts";
import { type CompactService, EndpointsChangeTracker, ServiceChangeTracker } from "./change-tracker.ts";
import { type Conntrack, execConntrack, planConntrackCleanup } from "./conntrack.ts";
import type { CompactSlice } from "./endpoints.ts";
import { ProxyHealthServer, parseBindAddress, ServiceHealthServer } from "./healthcheck.ts";
import { isIPv4, parseCidr } from "./ip.ts";
import { type Iptables, isRestoreError, saveText } from "./iptables.ts";
import type { ProxyMetrics } from "./metrics.ts";
import type { ProxyRulesConfig } from "./render.ts";
import { parseTables } from "./rule-tables.ts";
import { BoundedFrequencyRunner } from "./runner.ts";
import { type ProxyLogger, RuleSyncer, type SyncReport } from "./syncer.ts";
import { procSysctl, type Sysctl } from "./sysctl.ts";
import { type TraceFrom, type TraceTarget, type TraceView, traceAddress } from "./trace.ts";
import { tablesSource } from "./tracer.ts";
import type { EndpointInfo, ServicePortInfo } from "./types.ts";

/** Services and EndpointSlices with these labels are not for this proxy (upstream's informer selector). */
export const PROXY_LABEL_SELECTOR =
  "!service.kubernetes.io/service-proxy-name,!service.kubernetes.io/headless";

export interface ServiceProxyOptions {
  /** The API client (ApiClient, or anything that lists and watches). */
  client: ListWatcher;
  nodeName: string;
  /** The node's IPv4 addresses (node ports, load-balancer source ranges). */
  nodeIPs: string[];
  /** Pod network CIDR: traffic from outside it to a ClusterIP is masqueraded. */
  clusterCIDR?: string;
  iptables: Iptables;
  log: ProxyLogger;
  clock?: Clock;
  /** Default 1 s. */
  minSyncPeriodMs?: number;
  /** Default 30 s. */
  syncPeriodMs?: number;
  /** A full sync (read back and repair everything) at least this often; default 1 h, as upstream. */
  fullSyncPeriodMs?: number;
  /** Masquerade all traffic to ClusterIPs (upstream --masquerade-all); default false. */
  masqueradeAll?: boolean;
  /** Default 14 (mark 0x4000). */
  masqueradeBit?: number;
  /** Node ports also on 127.0.0.1 (sets route_localnet=1); default true. */
  localhostNodePorts?: boolean;
  /** CIDRs of node addresses that accept node ports; default every local address. */
  nodePortAddresses?: string[];
  /** Where route_localnet is set; default this process's /proc/sys. */
  sysctl?: Sysctl;
  /** Deletes stale UDP conntrack entries; default the `conntrack` command on this host. */
  conntrack?: Conntrack;
  /** Told about a Service whose ports cannot all be proxied (for an event on the Service). */
  onServiceProblem?(service: Service, message: string): void;
  /** Sync durations, changes, failures and rule counts, for kube-proxy's metrics. */
  metrics?: ProxyMetrics;
  /**
   * kube-proxy's /healthz and /livez, "host:port" (upstream's default is "0.0.0.0:10256"); none when unset.
   * Unhealthy once a sync has been waiting longer than 2 × syncPeriod.
   */
  healthzBindAddress?: string;
  /** Where the health check node ports of externalTrafficPolicy Local Services listen; default all IPv4. */
  healthCheckAddresses?: string[];
  /** An event about a Service, e.g. FailedToStartServiceHealthcheck when its health check port is taken. */
  onServiceEvent?(service: { namespace: string; name: string }, reason: string, message: string): void;
  maxChainsPerCreateRestore?: number;
  maxChainsPerUpdateRestore?: number;
}

export interface ServiceProxyStats {
  syncs: number;
  fullSyncs: number;
  partialSyncs: number;
  /** Partial syncs that failed and were replaced by a full sync. */
  partialFallbacks: number;
  /** Syncs that failed altogether (retried later). */
  syncErrors: number;
  /** iptables-restore calls that failed (kubeproxy_sync_proxy_rules_iptables_restore_failures_total). */
  restoreFailures: number;
  restores: number;
  lastSyncDurationMs: number;
  lastFullSyncDurationMs: number;
  /** Clock time of the last successful sync (…_last_timestamp_seconds). */
  lastSyncAt: number;
  lastFullSyncAt: number;
  /** From the oldest change included in the last sync to its end (network programming latency). */
  lastProgrammingLatencyMs: number;
  servicePorts: number;
  endpoints: number;
  lastReport: SyncReport | undefined;
  lastFullSyncReport: SyncReport | undefined;
  /** Stale UDP conntrack filters deleted, and deletions that failed. */
  conntrackDeletions: number;
  conntrackErrors: number;
}

/** One endpoint of a service port as the debug views show it. */
export interface EndpointView {
  endpoint: string;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  local: boolean;
}

/** One service port as `deckhand debug services` shows it: its address, endpoints and programmed rules. */
export interface ServicePortView {
  service: string;
  name: string;
  protocol: string;
  clusterIP: string;
  port: number;
  nodePort: number;
  externalIPs: string[];
  endpoints: EndpointView[];
  /** nat chains programmed for it (KUBE-SVC-…, KUBE-SEP-…), and its rules in the top-level chains. */
  chains: readonly string[];
  topRules: readonly string[];
  /** Why some of the Service's ports cannot be proxied, if anything. */
  problem?: string;
}

const SYSCTL_ROUTE_LOCALNET = "net/ipv4/conf/all/route_localnet";
const SYSCTL_TCP_BE_LIBERAL = "net/netfilter/nf_conntrack_tcp_be_liberal";

export class ServiceProxy {
  readonly stats: ServiceProxyStats = {
    syncs: 0,
    fullSyncs: 0,
    partialSyncs: 0,
    partialFallbacks: 0,
    syncErrors: 0,
    restoreFailures: 0,
    restores: 0,
    lastSyncDurationMs: 0,
    lastFullSyncDurationMs: 0,
    lastSyncAt: 0,
    lastFullSyncAt: 0,
    lastProgrammingLatencyMs: 0,
    servicePorts: 0,
    endpoints: 0,
    lastReport: undefined,
    lastFullSyncReport: undefined,
    conntrackDeletions: 0,
    conntrackErrors: 0,
  };
  /** Resolves after the first successful sync. */
  readonly ready: Promise<void>;
  private readyResolve!: () => void;
  private readonly options: ServiceProxyOptions;
  private readonly clock: Clock;
  private readonly log: ProxyLogger;
  private readonly services: ServiceChangeTracker;
  private readonly endpointsTracker: EndpointsChangeTracker;
  private readonly problems = new Map<string, string>();
  private runner: BoundedFrequencyRunner | undefined;
  private syncer: RuleSyncer | undefined;
  private oldestChangeAt: number | undefined;
  /** The oldest change not yet programmed, including those of a sync in progress (for /healthz). */
  private queuedSince: number | undefined;
  private readonly serviceHealth: ServiceHealthServer;
  private retryDelayMs = 0;
  private defaultConntrack: Conntrack | undefined;
  /** Where /healthz listens, once it does (tests bind port 0). */
  healthzAddress: import("node:net").AddressInfo | undefined;

  constructor(options: ServiceProxyOptions) {
    for (const ip of options.nodeIPs) {
      if (!isIPv4(ip))
        throw new Error(`service proxy: nodeIPs: ${JSON.stringify(ip)} is not an IPv4 address`);
    }
    if (options.clusterCIDR !== undefined && !parseCidr(options.clusterCIDR)) {
      throw new Error(
        `service proxy: clusterCIDR ${JSON.stringify(options.clusterCIDR)} is not an IPv4 CIDR (e.g. 10.244.0.0/16)`,
      );
    }
    for (const cidr of options.nodePortAddresses ?? []) {
      if (!parseCidr(cidr))
        throw new Error(`service proxy: nodePortAddresses: ${JSON.stringify(cidr)} is not an IPv4 CIDR`);
    }
    const bit = options.masqueradeBit ?? 14;
    if (!Number.isInteger(bit) || bit < 0 || bit > 31) {
      throw new Error(`service proxy: masqueradeBit ${bit} must be an integer within 0..31`);
    }
    const min = options.minSyncPeriodMs ?? 1_000;
    const max = options.syncPeriodMs ?? 30_000;
    if (!(min >= 0 && max >= min)) {
      throw new Error(`service proxy: minSyncPeriodMs (${min}) must be ≥ 0 and ≤ syncPeriodMs (${max})`);
    }
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.log = options.log;
    this.services = new ServiceChangeTracker({
      onProblems: (service, problems, object) => this.reportProblems(service, problems, object),
    });
    this.endpointsTracker = new EndpointsChangeTracker(options.nodeName);
    if (options.healthzBindAddress !== undefined) parseBindAddress(options.healthzBindAddress);
    this.serviceHealth = new ServiceHealthServer({
      addresses: options.healthCheckAddresses,
      log: options.log,
      proxyHealthy: () => this.healthy(),
      onListenError: (service, port, error) => {
        const slash = service.indexOf("/");
        options.onServiceEvent?.(
          { namespace: service.slice(0, slash), name: service.slice(slash + 1) },
          "FailedToStartServiceHealthcheck",
          `node ${options.nodeName} failed to start healthcheck "${service}" on port ${port}: ${error.message}`,
        );
      },
    });
    this.ready = new Promise((resolve) => {
      this.readyResolve = resolve;
    });
  }

  /** kube-proxy's health: no sync has been waiting longer than 2 × syncPeriod. */
  healthy(): boolean {
    const timeoutMs = 2 * (this.options.syncPeriodMs ?? 30_000);
    return this.queuedSince === undefined || this.clock.now() - this.queuedSince <= timeoutMs;
  }

  /** The health check node port listeners: Service ("namespace/name") → port. */
  healthCheckPorts(): Map<string, number> {
    return this.serviceHealth.ports();
  }

  /** Asks for a sync as soon as minSyncPeriod allows. */
  requestSync(): void {
    this.runner?.request();
  }

  /** Asks for a full sync (read the tables back, repair everything) as soon as minSyncPeriod allows. */
  requestFullSync(): void {
    if (this.syncer) this.syncer.needFullSync = true;
    this.runner?.request();
  }

  /** A read-only view of every service port as of the last checkout (for `deckhand debug services`). */
  view(): ServicePortView[] {
    const views: ServicePortView[] = [];
    for (const [key, svc] of this.services.ports) {
      const programmed = this.syncer?.programmedFor(key);
      const problem = this.problems.get(svc.service);
      views.push({
        service: svc.service,
        name: svc.name,
        protocol: svc.protocol,
        clusterIP: svc.clusterIP,
        port: svc.port,
        nodePort: svc.nodePort,
        externalIPs: svc.externalIPs,
        endpoints: (this.endpointsTracker.endpoints.get(key) ?? []).map((ep) => ({
          endpoint: ep.endpoint,
          ready: ep.ready,
          serving: ep.serving,
          terminating: ep.terminating,
          local: ep.isLocal,
        })),
        chains: programmed?.chains ?? [],
        topRules: programmed?.topRules ?? [],
        ...(problem ? { problem } : {}),
      });
    }
    return views.sort((a, b) => a.name.localeCompare(b.name) || a.protocol.localeCompare(b.protocol));
  }

  /**
   * Where a packet to `target` goes (for `deckhand debug trace`): over the rules this proxy last programmed
   * (its own record; nothing is read from the kernel), or with `kernel`, over a live iptables-save of the
   * filter and nat tables. Undefined before the first sync.
   */
  async trace(
    target: TraceTarget,
    options: { from?: TraceFrom; kernel?: boolean } = {},
  ): Promise<TraceView | undefined> {
    const syncer = this.syncer;
    if (!syncer || this.stats.syncs === 0) return undefined;
    const rules = options.kernel
      ? tablesSource(
          parseTables(
            `${await saveText(this.options.iptables, "filter")}\n${await saveText(this.options.iptables, "nat")}`,
          ),
        )
      : syncer.programmedRules();
    return traceAddress({
      target,
      from: options.from ?? "node",
      config: syncer.rulesConfig,
      ports: syncer.programmedInputs(),
      rules,
      rulesKind: options.kernel ? "kernel" : "programmed",
    });
  }

  get backend(): string {
    return this.options.iptables.backend;
  }

  async run(signal: AbortSignal): Promise<void> {
    const { options, log } = this;
    const config = await this.rulesConfig();
    this.syncer = new RuleSyncer({
      iptables: options.iptables,
      config,
      log,
      maxChainsPerCreateRestore: options.maxChainsPerCreateRestore,
      maxChainsPerUpdateRestore: options.maxChainsPerUpdateRestore,
    });
    const minSyncPeriodMs = options.minSyncPeriodMs ?? 1_000;
    const syncPeriodMs = options.syncPeriodMs ?? 30_000;
    const runner = new BoundedFrequencyRunner({
      minIntervalMs: minSyncPeriodMs,
      maxIntervalMs: syncPeriodMs,
      clock: this.clock,
      run: () => this.syncOnce(),
    });
    let initialized = false;
    const metrics = options.metrics;
    const changed = (pending: boolean) => {
      if (!pending) return;
      this.oldestChangeAt ??= this.clock.now();
      this.queuedSince ??= this.oldestChangeAt;
      if (initialized) {
        runner.request();
        metrics?.queued(this.clock.now());
      }
    };
    const serviceChanged = (pending: boolean) => {
      metrics?.serviceChanged(this.services.pendingCount);
      changed(pending);
    };
    const endpointsChanged = (pending: boolean) => {
      metrics?.endpointsChanged(this.endpointsTracker.pendingCount);
      changed(pending);
    };
    const onError = (what: string) => (error: unknown, retryInMs: number) =>
      log.warn({ err: error, retryInMs }, `${what} list/watch failed`);
    const serviceReflector = new Reflector<Service, CompactService>({
      client: options.client,
      ref: { version: "v1", resource: "services" },
      labelSelector: PROXY_LABEL_SELECTOR,
      clock: this.clock,
      transform: (svc) => this.services.compact(svc),
      handler: {
        replace: (items) => changed(this.services.replace(items)),
        event: (event) =>
          serviceChanged(
            event.type === "DELETED"
              ? this.services.delete(event.object)
              : this.services.update(event.object),
          ),
      },
      onError: onError("Service"),
    });
    const sliceReflector = new Reflector<EndpointSlice, CompactSlice>({
      client: options.client,
      ref: { group: "discovery.k8s.io", version: "v1", resource: "endpointslices" },
      labelSelector: PROXY_LABEL_SELECTOR,
      clock: this.clock,
      transform: (slice) => this.endpointsTracker.compact(slice),
      handler: {
        replace: (items) => changed(this.endpointsTracker.replace(items)),
        event: (event) =>
          endpointsChanged(
            event.type === "DELETED"
              ? this.endpointsTracker.delete(event.object)
              : this.endpointsTracker.update(event.object),
          ),
      },
      onError: onError("EndpointSlice"),
    });
    const healthz = await this.startHealthz();
    const reflectors = Promise.all([serviceReflector.run(signal), sliceReflector.run(signal)]);
    // Never program a partial view: wait until both collections have been listed once.
    await Promise.race([
      Promise.all([serviceReflector.waitForSync(), sliceReflector.waitForSync()]),
      new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true })),
    ]);
    if (!signal.aborted) {
      initialized = true;
      this.runner = runner;
      log.info(
        { backend: options.iptables.backend, minSyncPeriodMs, syncPeriodMs, randomFully: config.randomFully },
        "service proxy: Services and EndpointSlices synced; programming iptables",
      );
      await runner.loop(signal);
    }
    await reflectors;
    await Promise.all([healthz?.stop(), this.serviceHealth.stop()]);
  }

  /** /healthz and /livez, when asked for; a port that cannot be opened is logged, not fatal. */
  private async startHealthz(): Promise<ProxyHealthServer | undefined> {
    const bindAddress = this.options.healthzBindAddress;
    if (bindAddress === undefined) return undefined;
    const server = new ProxyHealthServer({
      bindAddress,
      healthTimeoutMs: 2 * (this.options.syncPeriodMs ?? 30_000),
      state: () => ({ lastUpdatedMs: this.stats.lastSyncAt, oldestQueuedMs: this.queuedSince }),
      now: () => this.clock.now(),
      log: this.log,
    });
    try {
      this.healthzAddress = await server.start();
      return server;
    } catch (error) {
      this.log.error({ err: error, bindAddress }, "service proxy: cannot serve /healthz and /livez");
      return undefined;
    }
  }

  /** Opens and closes health check node ports, and tells them each Service's local ready endpoints. */
  private async syncHealthChecks(state: {
    ports: ReadonlyMap<string, ServicePortInfo>;
    endpoints: ReadonlyMap<string, readonly EndpointInfo[]>;
  }): Promise<void> {
    const ports = new Map<string, number>();
    for (const svc of state.ports.values())
      if (svc.healthCheckNodePort > 0) ports.set(svc.service, svc.healthCheckNodePort);
    // Upstream's LocalReadyEndpoints: ready endpoints on this node, summed over the Service's ports.
    const counts = new Map<string, number>();
    if (ports.size > 0) {
      for (const [key, svc] of state.ports) {
        if (!ports.has(svc.service)) continue;
        let n = counts.get(svc.service) ?? 0;
        for (const ep of state.endpoints.get(key) ?? []) if (ep.isLocal && ep.ready) n++;
        counts.set(svc.service, n);
      }
    }
    await this.serviceHealth.syncServices(ports);
    this.serviceHealth.syncEndpoints(counts);
  }

  private async rulesConfig(): Promise<ProxyRulesConfig> {
    const { options, log } = this;
    const sysctl = options.sysctl ?? procSysctl();
    const localhostNodePorts = options.localhostNodePorts ?? true;
    if (localhostNodePorts) {
      log.info(
        {},
        "setting route_localnet=1 to allow node ports on localhost (localhostNodePorts: false turns this off)",
      );
      await sysctl.set(SYSCTL_ROUTE_LOCALNET, "1").catch((error: Error) => {
        throw new Error(
          `service proxy: cannot set net.ipv4.conf.all.route_localnet=1, needed for node ports on 127.0.0.1 (${error.message}); run as root, or set localhostNodePorts: false`,
          { cause: error },
        );
      });
    }
    const liberal = await sysctl.get(SYSCTL_TCP_BE_LIBERAL);
    const bit = options.masqueradeBit ?? 14;
    return {
      nodeIPs: options.nodeIPs,
      clusterCIDR: options.clusterCIDR,
      masqueradeAll: options.masqueradeAll ?? false,
      masqueradeMark: `0x${((1 << bit) >>> 0).toString(16)}`,
      localhostNodePorts,
      nodePortAddresses: options.nodePortAddresses,
      randomFully: await options.iptables.hasRandomFully(),
      conntrackTCPBeLiberal: liberal !== undefined && liberal !== "0",
    };
  }

  private async cleanConntrack(
    previous: Map<string, Map<string, EndpointInfo[]>>,
    state: {
      ports: ReadonlyMap<string, ServicePortInfo>;
      endpoints: ReadonlyMap<string, readonly EndpointInfo[]>;
    },
    deletedUDPClusterIPs: ReadonlySet<string>,
  ): Promise<void> {
    const deletions = planConntrackCleanup(previous, state.ports, state.endpoints, deletedUDPClusterIPs);
    if (deletions.length === 0) return;
    this.defaultConntrack ??= execConntrack();
    const conntrack = this.options.conntrack ?? this.defaultConntrack;
    for (const deletion of deletions) {
      try {
        await conntrack.delete(deletion);
        this.stats.conntrackDeletions++;
      } catch (error) {
        this.stats.conntrackErrors++;
        this.log.warn(
          { err: error, deletion },
          "service proxy: could not delete stale UDP conntrack entries",
        );
      }
    }
  }

  private reportProblems(key: string, problems: string[], svc: Service | undefined): void {
    if (problems.length === 0 || !svc) {
      this.problems.delete(key);
      return;
    }
    const message = problems.join("; ");
    if (this.problems.get(key) === message) return;
    this.problems.set(key, message);
    this.log.warn({ service: key, problems }, "service proxy: some ports of this Service cannot be proxied");
    this.options.onServiceProblem?.(svc, message);
  }

  private async syncOnce(): Promise<void> {
    const syncer = this.syncer;
    if (!syncer) return;
    const start = this.clock.now();
    const fullSyncPeriodMs = this.options.fullSyncPeriodMs ?? 3_600_000;
    if (this.stats.lastFullSyncAt && start - this.stats.lastFullSyncAt >= fullSyncPeriodMs)
      syncer.needFullSync = true;
    const changedAt = this.oldestChangeAt;
    this.oldestChangeAt = undefined;
    const endpointChanges = this.endpointsTracker.checkout();
    const serviceChanges = this.services.checkout();
    const changed = new Set([...serviceChanges.changed, ...endpointChanges.changed]);
    const state = { ports: this.services.ports, endpoints: this.endpointsTracker.endpoints };
    const failuresBefore = syncer.restoreFailures;
    const partialFailuresBefore = syncer.partialRestoreFailures;
    try {
      const report = await syncer.sync(state, changed);
      const end = this.clock.now();
      const s = this.stats;
      s.syncs++;
      if (report.kind === "full") {
        s.fullSyncs++;
        s.lastFullSyncAt = end;
        s.lastFullSyncDurationMs = end - start;
        s.lastFullSyncReport = report;
      } else s.partialSyncs++;
      if (report.fellBack) s.partialFallbacks++;
      s.restores += report.restores;
      s.lastSyncDurationMs = end - start;
      s.lastSyncAt = end;
      if (changedAt !== undefined) s.lastProgrammingLatencyMs = end - changedAt;
      s.servicePorts = state.ports.size;
      s.endpoints = [...state.endpoints.values()].reduce((n, eps) => n + eps.length, 0);
      s.lastReport = report;
      this.retryDelayMs = 0;
      this.options.metrics?.synced({
        kind: report.kind,
        seconds: (end - start) / 1000,
        endedAtMs: end,
        rules: syncer.ruleCounts(),
        pendingServices: this.services.pendingCount,
        pendingEndpoints: this.endpointsTracker.pendingCount,
      });
      if (changedAt !== undefined && changed.size > 0)
        this.options.metrics?.programmed((end - changedAt) / 1000);
      const level = report.kind === "full" || report.fellBack ? "info" : "debug";
      this.log[level](
        { ...report, durationMs: end - start, changedServices: changed.size },
        "service proxy: rules synced",
      );
      this.queuedSince = this.oldestChangeAt;
      await this.syncHealthChecks(state);
      this.readyResolve();
      await this.cleanConntrack(endpointChanges.previous, state, serviceChanges.deletedUDPClusterIPs);
    } catch (error) {
      this.stats.syncErrors++;
      syncer.needFullSync = true;
      // Changes checked out for this sync are in the trackers' applied state; the full sync covers them.
      this.oldestChangeAt ??= changedAt;
      const syncPeriodMs = this.options.syncPeriodMs ?? 30_000;
      // Back off from 1 s (or minSyncPeriod, if longer) to syncPeriod.
      this.retryDelayMs = Math.min(
        Math.max(syncPeriodMs, 1_000),
        Math.max(this.options.minSyncPeriodMs ?? 1_000, 1_000, this.retryDelayMs * 2),
      );
      this.log.error(
        {
          err: error,
          line: isRestoreError(error) ? error.lineText : undefined,
          retryInMs: this.retryDelayMs,
        },
        "service proxy: sync failed; retrying with a full sync",
      );
      this.runner?.retryAfter(this.retryDelayMs);
    } finally {
      const failures = syncer.restoreFailures - failuresBefore;
      const partialFailures = syncer.partialRestoreFailures - partialFailuresBefore;
      this.stats.restoreFailures += failures;
      for (let i = 0; i < failures; i++) this.options.metrics?.restoreFailed(i < partialFailures);
    }
  }
}
