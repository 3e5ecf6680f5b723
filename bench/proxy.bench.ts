// The service proxy at 1,000, 5,000 and 10,000 Services × 10 endpoints, each in a fresh network namespace,
// next to floors measured in the same run on the same kernel:
//   - Deckhand: a ServiceProxy fed by an in-memory list/watch source (Services and EndpointSlices generated
//     on the fly, so the figures are the proxy's own), timing its first sync, a forced full resync (read back
//     with iptables-save and compare; nothing to rewrite), and one-service changes (one endpoint of one
//     Service replaced), from the API event to the end of the sync; its own CPU next to the iptables
//     processes' CPU (the fake API's own work — building objects and serializing them, an API server's job —
//     is measured and left out; parsing the JSON, the client's job, is counted); its memory after the first
//     sync (heap after GC, RSS, peak RSS) and once settled (after V8's memory reducer has shrunk the young
//     generation the first sync grew, as on a node where Services change now and then), next to the RSS of
//     the same process before the proxy started.
//   - floors: the same ruleset restored without --noflush (whole-table replace, which would wipe other
//     programs' rules and is not usable as is), restored with --noflush in one payload (naive; on nf_tables
//     only at 1,000 Services: it grows ~N³), an upstream-style partial payload (top-level chains re-declared
//     with every rule plus one Service's chains), a payload of one Service's chains only, and
//     `iptables-save -t nat`.
// Backends: nf_tables (the host's default `iptables`) and legacy (iptables-legacy-restore), if installed.
//
// DECKHAND_BENCH_PROXY_SIZES=1000,5000 picks sizes (default 1000,5000,10000).
// DECKHAND_BENCH_PROXY_BACKENDS=nft picks backends (default nft,legacy).
// DECKHAND_BENCH_PROXY_RESYNCS=5: full resyncs in a row (the figure is their median: one may pay for a full
// collection of what the first sync left).
// DECKHAND_BENCH_PROXY_QUICK=1: Deckhand's first sync and RESYNCS (default 5) full resyncs only, each with
// its CPU next to iptables' (no floors, no one-service changes, no settling); for profiling, minutes not
// twenty. Printed only (bench/results/proxy.json is left alone).
// Needs root. Writes bench/results/proxy.json.
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, release } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { getHeapSpaceStatistics, setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type {
  ListOptions,
  ObjectList,
  ResourceRef,
  WatchEvent,
  WatchOptions,
} from "../src/api/client/client.ts";
import type { ListWatcher } from "../src/api/client/reflector.ts";
import type { KubeObject } from "../src/api/resource.ts";
import type { Service } from "../src/api/schema/core/service-types.ts";
import type { EndpointSlice } from "../src/api/schema/discovery/endpointslice.ts";
import { ExecIptables } from "../src/proxy/iptables.ts";
import { JUMPS } from "../src/proxy/jumps.ts";
import type { ProxyMetrics } from "../src/proxy/metrics.ts";
import { renderBase, renderContext, renderPayload, renderServicePort } from "../src/proxy/render.ts";
import { ServiceProxy } from "../src/proxy/service-proxy.ts";
import type { ProxyLogger } from "../src/proxy/syncer.ts";
import { procSysctl } from "../src/proxy/sysctl.ts";
import type { EndpointInfo, ServicePortInfo } from "../src/proxy/types.ts";
import { endpoint, port, state } from "../test/proxy/support/fixtures.ts";
import { buildBenchModule } from "./support/built-agent.ts";

setFlagsFromString("--expose-gc");
/** V8's gc extension: gc() is a full GC; the options object picks e.g. a memory-reducing ("last-resort") one. */
const gc = runInNewContext("gc") as (options?: {
  type: "major";
  execution: "async";
  flavor: "last-resort";
}) => Promise<void> | undefined;

const ENDPOINTS = 10;
const SIZES = (process.env.DECKHAND_BENCH_PROXY_SIZES ?? "1000,5000,10000").split(",").map(Number);
const BACKENDS = (process.env.DECKHAND_BENCH_PROXY_BACKENDS ?? "nft,legacy").split(",") as Array<
  "nft" | "legacy"
>;
const QUICK = process.env.DECKHAND_BENCH_PROXY_QUICK === "1";
const RESYNCS = Number(process.env.DECKHAND_BENCH_PROXY_RESYNCS ?? 5);
const CHANGES = 5;
const SMALL_RUNS = 3;
const NODE_IP = "192.168.77.1";
const CLUSTER_CIDR = "10.64.0.0/10";
const loadBefore = loadavg()[0] ?? 0;
const benchStart = performance.now();

// ---------- synthetic cluster ----------

function clusterIP(i: number): string {
  return `172.${16 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
}
function podIP(i: number, e: number, generation = 0): string {
  const n = i * ENDPOINTS + e + generation * 1_000_000;
  return `10.${64 + ((n >> 16) & 63)}.${(n >> 8) & 255}.${n & 255}`;
}
function serviceObject(i: number): Service {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { namespace: `ns${i % 100}`, name: `svc${i}`, resourceVersion: "1" },
    spec: {
      type: "ClusterIP",
      clusterIP: clusterIP(i),
      clusterIPs: [clusterIP(i)],
      ports: [{ name: "http", port: 80, protocol: "TCP" }],
    },
    status: { loadBalancer: {} },
  } as Service;
}
function sliceObject(i: number, generation = 0): EndpointSlice {
  return {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: {
      namespace: `ns${i % 100}`,
      name: `svc${i}-abcde`,
      labels: { "kubernetes.io/service-name": `svc${i}` },
      resourceVersion: String(2 + generation),
    },
    addressType: "IPv4",
    ports: [{ name: "http", port: 8080, protocol: "TCP" }],
    endpoints: Array.from({ length: ENDPOINTS }, (_, e) => ({
      addresses: [podIP(i, e, e === 0 ? generation : 0)],
      conditions: { ready: true },
      nodeName: "bench-node",
    })),
  } as EndpointSlice;
}
/**
 * serviceObject(i) and sliceObject(i) as the API server's JSON text, written directly: the fake API server's
 * own work (and its garbage, which the proxy's process would collect) stays out of the proxy's figures. The
 * text is checked against JSON.stringify of the objects before the run.
 */
function serviceJson(i: number): string {
  const ip = clusterIP(i);
  return `{"apiVersion":"v1","kind":"Service","metadata":{"namespace":"ns${i % 100}","name":"svc${i}","resourceVersion":"1"},"spec":{"type":"ClusterIP","clusterIP":"${ip}","clusterIPs":["${ip}"],"ports":[{"name":"http","port":80,"protocol":"TCP"}]},"status":{"loadBalancer":{}}}`;
}
function sliceJson(i: number): string {
  let endpoints = "";
  for (let e = 0; e < ENDPOINTS; e++) {
    endpoints += `${e === 0 ? "" : ","}{"addresses":["${podIP(i, e)}"],"conditions":{"ready":true},"nodeName":"bench-node"}`;
  }
  return `{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"namespace":"ns${i % 100}","name":"svc${i}-abcde","labels":{"kubernetes.io/service-name":"svc${i}"},"resourceVersion":"2"},"addressType":"IPv4","ports":[{"name":"http","port":8080,"protocol":"TCP"}],"endpoints":[${endpoints}]}`;
}
for (const i of [0, 1, 99, 12_345, 70_000]) {
  if (serviceJson(i) !== JSON.stringify(serviceObject(i)) || sliceJson(i) !== JSON.stringify(sliceObject(i)))
    throw new Error(`the fake API server's JSON text differs from its objects (item ${i})`);
}
/** The same cluster in the proxy's own model, for the floors. */
function modelState(count: number) {
  const entries: Array<[ServicePortInfo, EndpointInfo[]]> = [];
  for (let i = 0; i < count; i++) {
    entries.push([
      port(`ns${i % 100}/svc${i}`, "http", { clusterIP: clusterIP(i), port: 80 }),
      Array.from({ length: ENDPOINTS }, (_, e) => endpoint(podIP(i, e), 8080)),
    ]);
  }
  return state(...entries);
}

/** CPU seconds this process spent as the fake API server (building and serializing objects). */
let fakeApiCpuSeconds = 0;
function asApiServer<T>(fn: () => T): T {
  const c0 = process.cpuUsage();
  try {
    return fn();
  } finally {
    const c = process.cpuUsage(c0);
    fakeApiCpuSeconds += (c.user + c.system) / 1e6;
  }
}

/** A list/watch source generating objects on the fly (the proxy's memory is then its own). */
class BenchApi implements ListWatcher {
  private readonly count: number;
  private readonly watchers = new Set<{ resource: string; push(e: WatchEvent<KubeObject>): void }>();
  constructor(count: number) {
    this.count = count;
  }
  /** Pages of 500 as JSON text, parsed like the API client does with a server's answer. */
  async list<T extends KubeObject>(ref: ResourceRef, options: ListOptions = {}): Promise<ObjectList<T>> {
    const item = ref.resource === "services" ? serviceJson : sliceJson;
    const start = Number(options.continue ?? 0);
    const end = Math.min(this.count, start + (options.limit ?? this.count));
    const text = asApiServer(() => {
      const items: string[] = [];
      for (let i = start; i < end; i++) items.push(item(i));
      const more = end < this.count ? `,"continue":"${end}"` : "";
      return `{"metadata":{"resourceVersion":"1"${more}},"items":[${items.join(",")}]}`;
    });
    return JSON.parse(text) as ObjectList<T>;
  }
  async *watch<T extends KubeObject>(
    ref: ResourceRef,
    options: WatchOptions = {},
  ): AsyncGenerator<WatchEvent<T>> {
    const queue: WatchEvent<KubeObject>[] = [];
    let wake: (() => void) | undefined;
    const watcher = {
      resource: ref.resource,
      push: (e: WatchEvent<KubeObject>) => {
        queue.push(e);
        wake?.();
      },
    };
    this.watchers.add(watcher);
    const onAbort = () => wake?.();
    options.signal?.addEventListener("abort", onAbort);
    try {
      while (!options.signal?.aborted) {
        const event = queue.shift();
        if (event) yield event as WatchEvent<T>;
        else await new Promise<void>((resolve) => (wake = resolve));
      }
    } finally {
      this.watchers.delete(watcher);
      options.signal?.removeEventListener("abort", onAbort);
    }
  }
  modify(resource: string, object: KubeObject): void {
    for (const w of this.watchers) if (w.resource === resource) w.push({ type: "MODIFIED", object });
  }
}

// ---------- measuring ----------

const CLK_TCK = 100;
/** CPU seconds of this process (minus its fake API server's) and of its waited-for children (iptables). */
function cpu(): { self: number; children: number } {
  const usage = process.cpuUsage();
  const stat = readFileSync("/proc/self/stat", "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // After the command name: field 3 is index 0, so cutime (16) and cstime (17) are indexes 13 and 14.
  const children = (Number(fields[13]) + Number(fields[14])) / CLK_TCK;
  return { self: (usage.user + usage.system) / 1e6 - fakeApiCpuSeconds, children };
}
interface Timed {
  seconds: number;
  deckhandCpuSeconds: number;
  iptablesCpuSeconds: number;
}
async function timed(fn: () => Promise<unknown>): Promise<Timed> {
  const c0 = cpu();
  const t0 = performance.now();
  await fn();
  const seconds = (performance.now() - t0) / 1000;
  const c1 = cpu();
  return {
    seconds: round(seconds),
    deckhandCpuSeconds: round(c1.self - c0.self),
    iptablesCpuSeconds: round(c1.children - c0.children),
  };
}
/** Deckhand's CPU as a share of the iptables processes' CPU. */
function cpuShare(t: Timed): string {
  return t.iptablesCpuSeconds > 0
    ? `${Math.round((100 * t.deckhandCpuSeconds) / t.iptablesCpuSeconds)}%`
    : "n/a";
}
function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}
/** Resolved at every successful sync (through the proxy's metrics hooks). */
const syncWaiters = new Set<() => void>();
const syncMetrics: ProxyMetrics = {
  serviceChanged() {},
  endpointsChanged() {},
  queued() {},
  synced() {
    for (const wake of [...syncWaiters]) wake();
  },
  restoreFailed() {},
  programmed() {},
};
/**
 * Waits until `check` holds, looking again after each sync. No polling: a timer every few milliseconds
 * during a 20 s resync would be counted as the proxy's own CPU.
 */
async function until(check: () => boolean, what: string, timeoutMs = 3_600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`timed out waiting for ${what}`);
    await new Promise<void>((resolve) => {
      const wake = () => {
        syncWaiters.delete(wake);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(wake, left);
      syncWaiters.add(wake);
    });
  }
}

function netns(prefix: string): { name: string; destroy(): void } {
  const name = `${prefix}-${process.pid.toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
  execFileSync("ip", ["netns", "add", name]);
  execFileSync("ip", ["netns", "exec", name, "ip", "link", "set", "lo", "up"]);
  return { name, destroy: () => void spawnSync("ip", ["netns", "delete", name]) };
}
function restoreCommand(backend: "nft" | "legacy"): string {
  return backend === "nft" ? "iptables-nft-restore" : "iptables-legacy-restore";
}
function timedRestore(ns: string, backend: "nft" | "legacy", payload: string, noflush: boolean): Timed {
  const c0 = cpu();
  const t0 = performance.now();
  const result = spawnSync(
    "ip",
    ["netns", "exec", ns, restoreCommand(backend), ...(noflush ? ["--noflush"] : [])],
    {
      input: payload,
      maxBuffer: 1 << 30,
    },
  );
  const seconds = (performance.now() - t0) / 1000;
  const c1 = cpu();
  if (result.status !== 0) throw new Error(`${restoreCommand(backend)} failed: ${result.stderr}`);
  return {
    seconds: round(seconds),
    deckhandCpuSeconds: 0,
    iptablesCpuSeconds: round(c1.children - c0.children),
  };
}

const quiet: ProxyLogger = {
  debug() {},
  info() {},
  warn: (f, m) => console.warn(m, f),
  error: (f, m) => console.error(m, f),
};

function withJumps(payload: string): string {
  const out: string[] = [];
  let table = "";
  for (const line of payload.split("\n")) {
    if (line.startsWith("*")) table = line.slice(1);
    if (line === "COMMIT") for (const jump of JUMPS) if (jump.table === table) out.push(jump.rule);
    out.push(line);
  }
  return out.join("\n");
}

// ---------- one size on one backend ----------

interface Floors {
  wholeTableReplace: Timed;
  naiveNoflush?: Timed;
  upstreamPartial: Timed;
  oneServiceChains: Timed;
  saveNat: Timed;
}
interface DeckhandRun {
  firstSync: Timed & { restores: number };
  fullResync: Timed & { restores: number };
  /** Every full resync (fullResync holds their medians; restores in all of them). */
  resyncs?: Timed[];
  /** Not in quick mode. */
  oneServiceChange?: {
    p50Seconds: number;
    p50SyncSeconds: number;
    runs: Timed[];
    deckhandCpuSeconds: number;
    iptablesCpuSeconds: number;
  };
  memory: { heapUsedMiB: number; rssMiB: number; peakRssMiB: number };
  /** After the memory reducer shrank the young generation (or settleTimeoutSeconds passed); not in quick mode. */
  settledMemory?: { heapUsedMiB: number; rssMiB: number; settleSeconds: number; by: string };
  /** This process before the proxy was created (Node, the loaded modules, the fake API). */
  baselineRssMiB: number;
}

const SETTLE_TIMEOUT_SECONDS = 20;

/**
 * Waits, idle, until V8's memory reducer has shrunk the young generation (it does after some seconds of
 * quiet; on a loaded machine it may take much longer), runs the memory-reducing GC the reducer runs, and
 * reads heap and RSS once V8 has given the freed pages back. (Reading RSS right after a plain collection
 * swung by ±10 MiB at 10,000 Services, with how many resyncs had run before.)
 */
const RSS_AFTER_GC_MS = 2000;

async function settledMemory(): Promise<NonNullable<DeckhandRun["settledMemory"]>> {
  const t0 = performance.now();
  const newSpaceMiB = () =>
    (getHeapSpaceStatistics().find((space) => space.space_name === "new_space")?.space_size ?? 0) / 2 ** 20;
  while (newSpaceMiB() > 16 && performance.now() - t0 < SETTLE_TIMEOUT_SECONDS * 1000) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  const settleSeconds = round((performance.now() - t0) / 1000, 1);
  const by = newSpaceMiB() > 16 ? "memory-reducing GC" : "memory reducer";
  // A memory-reducing collection either way, as the memory reducer of an idle process runs them: a young
  // generation already small on arrival says nothing about whether the reducer has compacted the old one.
  await gc({ type: "major", execution: "async", flavor: "last-resort" });
  // V8 gives freed pages back from a background thread after the collection: read RSS once it has.
  await new Promise((resolve) => setTimeout(resolve, RSS_AFTER_GC_MS));
  const mem = process.memoryUsage();
  return {
    heapUsedMiB: round(mem.heapUsed / 2 ** 20, 1),
    rssMiB: round(mem.rss / 2 ** 20, 1),
    settleSeconds,
    by,
  };
}

async function deckhand(count: number, backend: "nft" | "legacy"): Promise<DeckhandRun> {
  const ns = netns("dhbench");
  try {
    gc();
    const baselineRssMiB = round(process.memoryUsage().rss / 2 ** 20, 1);
    const api = new BenchApi(count);
    const proxy = new ServiceProxy({
      client: api,
      nodeName: "bench-node",
      nodeIPs: [NODE_IP],
      clusterCIDR: CLUSTER_CIDR,
      iptables: new ExecIptables(backend, { netns: ns.name }),
      sysctl: procSysctl(ns.name),
      log: quiet,
      metrics: syncMetrics,
      minSyncPeriodMs: 0,
      syncPeriodMs: 3_600_000,
      fullSyncPeriodMs: 86_400_000,
    });
    const abort = new AbortController();
    let running: Promise<void> | undefined;
    const first = await timed(async () => {
      running = proxy.run(abort.signal);
      await proxy.ready;
    });
    const firstRestores = proxy.stats.restores;
    gc();
    const mem = process.memoryUsage();
    const memory = {
      heapUsedMiB: round(mem.heapUsed / 2 ** 20, 1),
      rssMiB: round(mem.rss / 2 ** 20, 1),
      peakRssMiB: round(process.resourceUsage().maxRSS / 1024, 1),
    };
    console.log(
      `  ${backend} ${count}: first sync ${first.seconds} s (${firstRestores} restores), heap ${memory.heapUsedMiB} MiB, rss ${memory.rssMiB} MiB`,
    );

    // Full resyncs one after another: the first pays for garbage the first sync left; the median is the
    // steady cost.
    const restoresBefore = proxy.stats.restores;
    const resyncs: Timed[] = [];
    for (let r = 0; r < RESYNCS; r++) {
      const fulls = proxy.stats.fullSyncs;
      const resync = await timed(async () => {
        proxy.requestFullSync();
        await until(() => proxy.stats.fullSyncs > fulls, "the full resync");
      });
      console.log(
        `  ${backend} ${count}: full resync ${resync.seconds} s, Deckhand CPU ${resync.deckhandCpuSeconds} s, iptables CPU ${resync.iptablesCpuSeconds} s (${cpuShare(resync)})`,
      );
      resyncs.push(resync);
    }
    const fullResync = {
      seconds: median(resyncs.map((t) => t.seconds)),
      deckhandCpuSeconds: median(resyncs.map((t) => t.deckhandCpuSeconds)),
      iptablesCpuSeconds: median(resyncs.map((t) => t.iptablesCpuSeconds)),
      restores: proxy.stats.restores - restoresBefore,
    };
    const run = {
      firstSync: { ...first, restores: firstRestores },
      fullResync,
      resyncs,
      memory,
      baselineRssMiB,
    };
    if (QUICK) {
      abort.abort();
      await running;
      return run;
    }

    const runs: Timed[] = [];
    const syncSeconds: number[] = [];
    for (let c = 0; c < CHANGES; c++) {
      const i = Math.floor((count * (c + 0.5)) / CHANGES);
      const syncs = proxy.stats.syncs;
      runs.push(
        await timed(async () => {
          api.modify("endpointslices", asApiServer(() => sliceObject(i, c + 1)) as unknown as KubeObject);
          await until(
            () => proxy.stats.syncs > syncs && proxy.stats.lastReport?.chainsWritten !== 0,
            "the one-service sync",
          );
        }),
      );
      syncSeconds.push(proxy.stats.lastSyncDurationMs / 1000);
    }
    console.log(`  ${backend} ${count}: one-service change p50 ${median(runs.map((r) => r.seconds))} s`);
    const settled = await settledMemory();
    console.log(
      `  ${backend} ${count}: settled (${settled.by}) after ${settled.settleSeconds} s: heap ${settled.heapUsedMiB} MiB, rss ${settled.rssMiB} MiB (before the proxy: ${baselineRssMiB} MiB)`,
    );
    abort.abort();
    await running;
    return {
      ...run,
      oneServiceChange: {
        p50Seconds: median(runs.map((r) => r.seconds)),
        p50SyncSeconds: round(median(syncSeconds)),
        runs,
        deckhandCpuSeconds: median(runs.map((r) => r.deckhandCpuSeconds)),
        iptablesCpuSeconds: median(runs.map((r) => r.iptablesCpuSeconds)),
      },
      settledMemory: settled,
    };
  } finally {
    ns.destroy();
  }
}

function floors(count: number, backend: "nft" | "legacy"): Floors {
  const config = {
    nodeIPs: [NODE_IP],
    clusterCIDR: CLUSTER_CIDR,
    masqueradeAll: false,
    masqueradeMark: "0x4000",
    localhostNodePorts: true,
    randomFully: true,
    conntrackTCPBeLiberal: false,
  };
  const s = modelState(count);
  // The whole ruleset plus the jumps from the built-in chains, so that the rules are in use (the kernel
  // revalidates what is reachable on every change) as they are on a node.
  const payload = withJumps(renderPayload(s, config));
  const ns = netns("dhfloor");
  try {
    const wholeTableReplace = timedRestore(ns.name, backend, payload, false);
    console.log(`  ${backend} ${count}: floor whole-table replace ${wholeTableReplace.seconds} s`);
    let naiveNoflush: Timed | undefined;
    if (backend === "legacy" || count <= 1000) {
      const fresh = netns("dhnaive");
      try {
        naiveNoflush = timedRestore(fresh.name, backend, payload, true);
        console.log(`  ${backend} ${count}: floor naive --noflush ${naiveNoflush.seconds} s`);
      } finally {
        fresh.destroy();
      }
    }
    // Upstream-style partial: every top-level chain re-declared with all its rules, plus one Service's chains.
    const ctx = renderContext(config, s);
    const base = renderBase(config);
    const keys = [...s.ports.keys()];
    const mid = keys[Math.floor(keys.length / 2)] as string;
    const one = renderServicePort(s.ports.get(mid) as ServicePortInfo, s.endpoints.get(mid) ?? [], ctx);
    const oneChains = one.chains.flatMap((c) => [`:${c.name} - [0:0]`]);
    const oneRules = one.chains.flatMap((c) => c.rules);
    const topNat: string[] = [];
    for (const key of keys) {
      const r = renderServicePort(s.ports.get(key) as ServicePortInfo, s.endpoints.get(key) ?? [], ctx);
      for (const t of r.top) if (t.table === "nat") topNat.push(t.rule);
    }
    const upstream = [
      "*filter",
      ":KUBE-SERVICES - [0:0]",
      ":KUBE-EXTERNAL-SERVICES - [0:0]",
      ":KUBE-FORWARD - [0:0]",
      ":KUBE-NODEPORTS - [0:0]",
      ":KUBE-PROXY-FIREWALL - [0:0]",
      ...base.chains.filter((c) => c.name === "KUBE-FORWARD").flatMap((c) => c.rules),
      "COMMIT",
      "*nat",
      ":KUBE-SERVICES - [0:0]",
      ":KUBE-NODEPORTS - [0:0]",
      ":KUBE-POSTROUTING - [0:0]",
      ":KUBE-MARK-MASQ - [0:0]",
      ...oneChains,
      ...base.chains.filter((c) => c.table === "nat").flatMap((c) => c.rules),
      ...topNat,
      ...base.natServicesTrailer,
      ...oneRules,
      "COMMIT",
      "",
    ].join("\n");
    const onlyChains = ["*nat", ...oneChains, ...oneRules, "COMMIT", ""].join("\n");
    const upstreamRuns: Timed[] = [];
    const chainRuns: Timed[] = [];
    const saveRuns: Timed[] = [];
    for (let r = 0; r < SMALL_RUNS; r++) {
      upstreamRuns.push(timedRestore(ns.name, backend, upstream, true));
      chainRuns.push(timedRestore(ns.name, backend, onlyChains, true));
      const c0 = cpu();
      const t0 = performance.now();
      const saved = spawnSync(
        "ip",
        [
          "netns",
          "exec",
          ns.name,
          backend === "nft" ? "iptables-nft-save" : "iptables-legacy-save",
          "-t",
          "nat",
        ],
        {
          maxBuffer: 1 << 30,
        },
      );
      if (saved.status !== 0) throw new Error(`save failed: ${saved.stderr}`);
      saveRuns.push({
        seconds: round((performance.now() - t0) / 1000),
        deckhandCpuSeconds: 0,
        iptablesCpuSeconds: round(cpu().children - c0.children),
      });
    }
    const pick = (runs: Timed[]) =>
      runs.slice().sort((a, b) => a.seconds - b.seconds)[Math.floor(runs.length / 2)] as Timed;
    const result = {
      wholeTableReplace,
      naiveNoflush,
      upstreamPartial: pick(upstreamRuns),
      oneServiceChains: pick(chainRuns),
      saveNat: pick(saveRuns),
    };
    console.log(
      `  ${backend} ${count}: floors upstream-style partial ${result.upstreamPartial.seconds} s, one service's chains ${result.oneServiceChains.seconds} s, save ${result.saveNat.seconds} s`,
    );
    return result;
  } finally {
    ns.destroy();
  }
}

// ---------- run ----------

// The Deckhand measurements run in a child process of their own (`--deckhand BACKEND COUNT`), so memory and
// CPU figures are the proxy's alone.
if (process.argv[2] === "--deckhand") {
  const result = await deckhand(Number(process.argv[4]), process.argv[3] as "nft" | "legacy");
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
  process.exit(0);
}

function deckhandInChild(count: number, backend: "nft" | "legacy"): DeckhandRun {
  // The child runs this file compiled to JavaScript, as the agent runs in production (type stripping the
  // sources keeps ~35 MiB more in the process).
  const compiled = buildBenchModule(import.meta.filename);
  const child = spawnSync(process.execPath, [compiled, "--deckhand", backend, String(count)], {
    stdio: ["ignore", "pipe", "inherit"],
    maxBuffer: 1 << 26,
  });
  const out = child.stdout.toString();
  for (const line of out.split("\n")) if (line && !line.startsWith("RESULT ")) console.log(line);
  const result = out.split("\n").find((line) => line.startsWith("RESULT "));
  if (child.status !== 0 || !result) throw new Error(`deckhand measurement failed (exit ${child.status})`);
  return JSON.parse(result.slice(7)) as DeckhandRun;
}

const results: Record<string, Record<number, { deckhand: DeckhandRun; floors?: Floors }>> = {};
const summary: string[] = [];
const available = (command: string) => spawnSync("sh", ["-c", `command -v ${command}`]).status === 0;
const iptablesVersion = execFileSync("iptables", ["--version"]).toString().trim();

for (const backend of BACKENDS) {
  if (!available(restoreCommand(backend))) {
    summary.push(`${backend}: ${restoreCommand(backend)} not installed; skipped`);
    continue;
  }
  const byCount: Record<number, { deckhand: DeckhandRun; floors?: Floors }> = {};
  results[backend] = byCount;
  for (const count of SIZES) {
    console.log(`== ${backend}, ${count} services × ${ENDPOINTS} endpoints${QUICK ? " (quick)" : ""}`);
    const d = deckhandInChild(count, backend);
    const name = backend === "nft" ? "nf_tables" : "legacy";
    if (QUICK) {
      byCount[count] = { deckhand: d };
      summary.push(
        `${name}, ${count.toLocaleString("en")} Services × ${ENDPOINTS} (quick): first sync ${d.firstSync.seconds} s, Deckhand CPU ${cpuShare(d.firstSync)} of iptables'; full resyncs ${(d.resyncs ?? []).map((t) => `${t.seconds} s (${t.deckhandCpuSeconds} s vs ${t.iptablesCpuSeconds} s: ${cpuShare(t)})`).join(", ")}`,
      );
      continue;
    }
    const f = floors(count, backend);
    byCount[count] = { deckhand: d, floors: f };
    const change = d.oneServiceChange;
    const settled = d.settledMemory;
    summary.push(
      `${name}, ${count.toLocaleString("en")} Services × ${ENDPOINTS}: first sync ${d.firstSync.seconds} s (whole-table replace floor ${f.wholeTableReplace.seconds} s${
        f.naiveNoflush ? `, naive --noflush ${f.naiveNoflush.seconds} s` : ""
      }); full resync ${d.fullResync.seconds} s (median of ${d.resyncs?.length}; iptables-save -t nat ${f.saveNat.seconds} s); one-service change p50 ${change?.p50Seconds} s end to end (one Service's chains floor ${f.oneServiceChains.seconds} s, upstream-style partial ${f.upstreamPartial.seconds} s); Deckhand CPU vs iptables CPU: first sync ${cpuShare(d.firstSync)}, resync ${cpuShare(d.fullResync)}; after the first sync heap ${d.memory.heapUsedMiB} MiB, RSS ${d.memory.rssMiB} MiB (peak ${d.memory.peakRssMiB} MiB); settled (${settled?.by} after ${settled?.settleSeconds} s idle) heap ${settled?.heapUsedMiB} MiB, RSS ${settled?.rssMiB} MiB, of which ${d.baselineRssMiB} MiB before the proxy started (Node running the compiled JavaScript)`,
    );
  }
}

const loadAfter = loadavg()[0] ?? 0;
summary.push(
  `machine: ${cpus().length} cores, load average ${round(loadBefore, 1)} → ${round(loadAfter, 1)} during the run (shared; wall times swing with it), kernel ${release()}, ${iptablesVersion}; total ${Math.round((performance.now() - benchStart) / 1000)} s`,
);
const out = {
  name: "proxy",
  summary,
  sizes: SIZES,
  endpointsPerService: ENDPOINTS,
  loadAverage: { before: loadBefore, after: loadAfter },
  results,
};
// Quick runs are for profiling on a busy machine: printed, never written over the results of a full run.
if (!QUICK)
  writeFileSync(join(import.meta.dirname, "results", "proxy.json"), `${JSON.stringify(out, null, 2)}\n`);
for (const line of summary) console.log(line);
