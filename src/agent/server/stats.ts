// GET /stats/summary: kubelet's stats/v1alpha1 Summary for the node and each pod it runs — CPU and memory
// from the runtime's container stats (the node's from /proc), and filesystem use from statfs and a walk of
// each pod's directory (volumes) plus its containers' log files. Rates (usageNanoCores) come from the
// difference to the previous sample of the same container, so the first summary has none.
import { lstat, readdir, readFile, stat, statfs } from "node:fs/promises";
import { join } from "node:path";
import type { Pod } from "../../api/schema/core/pod-types.ts";
import { type ContainerStats, RuntimeLabels } from "../../runtime/types.ts";
import type { NodeServerHost } from "./host.ts";

export interface CpuStats {
  time: string;
  usageNanoCores?: number;
  usageCoreNanoSeconds: number;
}

export interface MemoryStats {
  time: string;
  availableBytes?: number;
  usageBytes?: number;
  workingSetBytes: number;
}

export interface FsStats {
  time: string;
  availableBytes?: number;
  capacityBytes?: number;
  usedBytes: number;
  inodesFree?: number;
  inodes?: number;
  inodesUsed?: number;
}

export interface ContainerSummary {
  name: string;
  startTime: string;
  cpu?: CpuStats;
  memory?: MemoryStats;
  logs?: FsStats;
}

export interface VolumeSummary extends FsStats {
  name: string;
}

export interface PodSummary {
  podRef: { name: string; namespace: string; uid: string };
  startTime: string;
  containers: ContainerSummary[];
  cpu?: CpuStats;
  memory?: MemoryStats;
  volume?: VolumeSummary[];
  "ephemeral-storage"?: FsStats;
}

export interface Summary {
  node: {
    nodeName: string;
    startTime: string;
    cpu: CpuStats;
    memory: MemoryStats;
    fs: FsStats;
    runtime?: { imageFs?: FsStats };
  };
  pods: PodSummary[];
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Remembers the previous cumulative CPU sample per key and turns the next one into a rate. */
export class CpuRates {
  readonly #last = new Map<string, { atMs: number; usageNs: number }>();

  /** usageNanoCores between the previous sample of `key` and this one; undefined for the first. */
  rate(key: string, atMs: number, usageNs: number): number | undefined {
    const last = this.#last.get(key);
    this.#last.set(key, { atMs, usageNs });
    if (!last || atMs <= last.atMs || usageNs < last.usageNs) return undefined;
    return Math.round(((usageNs - last.usageNs) / ((atMs - last.atMs) * 1e6)) * 1e9);
  }

  /** Forgets keys not in `alive` (containers that are gone). */
  retain(alive: Set<string>): void {
    for (const key of this.#last.keys()) if (!alive.has(key) && key !== "node") this.#last.delete(key);
  }
}

/** Cumulative non-idle CPU time of the whole machine from /proc/stat, in nanoseconds. */
export function parseProcStat(text: string): number {
  const line = text.split("\n").find((l) => l.startsWith("cpu "));
  if (!line) throw new Error("/proc/stat has no aggregate cpu line");
  const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
  const jiffies = [user, nice, system, irq, softirq, steal].reduce<number>((a, b) => a + (b ?? 0), 0);
  // USER_HZ is 100 on every Linux architecture Deckhand supports.
  return jiffies * 10_000_000;
}

/** Node memory from /proc/meminfo, the way cAdvisor reports the root cgroup. */
export function parseMeminfo(text: string): {
  usageBytes: number;
  workingSetBytes: number;
  availableBytes: number;
} {
  const kb = (key: string) => {
    const match = new RegExp(`^${key.replace(/[()]/g, "\\$&")}:\\s+(\\d+)`, "m").exec(text);
    return match ? Number(match[1]) * 1024 : 0;
  };
  const total = kb("MemTotal");
  const usage = total - kb("MemFree");
  return {
    usageBytes: usage,
    workingSetBytes: Math.max(0, usage - kb("Inactive(file)")),
    availableBytes: kb("MemAvailable"),
  };
}

async function fsStats(path: string, now: number): Promise<FsStats | undefined> {
  try {
    const fs = await statfs(path);
    return {
      time: iso(now),
      availableBytes: fs.bavail * fs.bsize,
      capacityBytes: fs.blocks * fs.bsize,
      usedBytes: (fs.blocks - fs.bfree) * fs.bsize,
      inodesFree: fs.ffree,
      inodes: fs.files,
      inodesUsed: fs.files - fs.ffree,
    };
  } catch {
    return undefined;
  }
}

/** Bytes on disk and inodes below `dir` (not following symlinks), skipping `skip` names at the top. */
export async function diskUsage(
  dir: string,
  options: { skip?: readonly string[]; maxEntries?: number } = {},
): Promise<{ bytes: number; inodes: number }> {
  let bytes = 0;
  let inodes = 0;
  const maxEntries = options.maxEntries ?? 100_000;
  const walk = async (path: string, top: boolean): Promise<void> => {
    if (inodes >= maxEntries) return;
    let entries: string[];
    try {
      entries = await readdir(path);
    } catch {
      return;
    }
    for (const name of entries) {
      if (top && options.skip?.includes(name)) continue;
      const full = join(path, name);
      const info = await lstat(full).catch(() => undefined);
      if (!info) continue;
      inodes++;
      bytes += info.blocks * 512;
      if (info.isDirectory()) await walk(full, false);
      if (inodes >= maxEntries) return;
    }
  };
  await walk(dir, true);
  return { bytes, inodes };
}

async function volumeStats(podDir: string, now: number): Promise<VolumeSummary[]> {
  const volumesDir = join(podDir, "volumes");
  const plugins = await readdir(volumesDir).catch(() => [] as string[]);
  const out: VolumeSummary[] = [];
  for (const plugin of plugins) {
    for (const name of await readdir(join(volumesDir, plugin)).catch(() => [] as string[])) {
      const path = join(volumesDir, plugin, name);
      const usage = await diskUsage(path);
      const fs = await fsStats(path, now);
      out.push({
        name,
        time: iso(now),
        usedBytes: usage.bytes,
        inodesUsed: usage.inodes,
        ...(fs
          ? {
              availableBytes: fs.availableBytes,
              capacityBytes: fs.capacityBytes,
              inodes: fs.inodes,
              inodesFree: fs.inodesFree,
            }
          : {}),
      });
    }
  }
  return out;
}

export interface StatsOptions {
  host: NodeServerHost;
  /** When the agent started (the node's startTime in the summary). */
  startedAtMs: number;
  now?: () => number;
  procStat?: () => Promise<string>;
  meminfo?: () => Promise<string>;
}

export class StatsProvider {
  readonly #options: StatsOptions;
  readonly #rates = new CpuRates();

  constructor(options: StatsOptions) {
    this.#options = options;
  }

  async summary(): Promise<Summary> {
    const { host } = this.#options;
    const now = (this.#options.now ?? Date.now)();
    const [procStat, meminfo, rootFs, imageFs, stats] = await Promise.all([
      (this.#options.procStat ?? (() => readFile("/proc/stat", "utf8")))(),
      (this.#options.meminfo ?? (() => readFile("/proc/meminfo", "utf8")))(),
      fsStats(host.rootDir, now),
      this.#imageFs(now),
      host.runtime.listContainerStats({ labelSelector: { [RuntimeLabels.nodeName]: host.nodeName } }),
    ]);
    const nodeCpuNs = parseProcStat(procStat);
    const nodeCpuRate = this.#rates.rate("node", now, nodeCpuNs);
    const memory = parseMeminfo(meminfo);
    const byId = new Map(stats.map((s) => [s.containerId, s]));
    const pods: PodSummary[] = [];
    for (const pod of host.pods()) {
      const summary = await this.#podSummary(pod, byId, now);
      if (summary) pods.push(summary);
    }
    this.#rates.retain(new Set(stats.map((s) => s.containerId)));
    return {
      node: {
        nodeName: host.nodeName,
        startTime: iso(this.#options.startedAtMs),
        cpu: {
          time: iso(now),
          usageCoreNanoSeconds: nodeCpuNs,
          ...(nodeCpuRate !== undefined ? { usageNanoCores: nodeCpuRate } : {}),
        },
        memory: { time: iso(now), ...memory },
        fs: rootFs ?? { time: iso(now), usedBytes: 0 },
        ...(imageFs ? { runtime: { imageFs } } : {}),
      },
      pods,
    };
  }

  async #imageFs(now: number): Promise<FsStats | undefined> {
    const usage = await this.#options.host.runtime.imageFsInfo().catch(() => []);
    const first = usage[0];
    if (!first) return undefined;
    const fs = first.mountpoint ? await fsStats(first.mountpoint, now) : undefined;
    return {
      ...(fs ?? { time: iso(now) }),
      usedBytes: usage.reduce((a, u) => a + u.usedBytes, 0),
      inodesUsed: usage.reduce((a, u) => a + u.inodesUsed, 0),
    };
  }

  async #podSummary(
    pod: Pod,
    stats: Map<string, ContainerStats>,
    now: number,
  ): Promise<PodSummary | undefined> {
    const uid = pod.metadata?.uid ?? "";
    const runtime = this.#options.host.runtimeStatus(uid);
    if (!runtime) return undefined;
    const running = runtime.containers.filter((c) => c.state === "running");
    const containers: ContainerSummary[] = [];
    let cpuNs = 0;
    let cpuRate: number | undefined;
    let workingSet = 0;
    let usage = 0;
    let logBytes = 0;
    for (const c of running) {
      const s = stats.get(c.id);
      const logs = c.logPath ? await stat(c.logPath).catch(() => undefined) : undefined;
      if (logs) logBytes += logs.blocks * 512;
      const rate = s ? this.#rates.rate(c.id, s.timestampMs, s.cpuUsageCoreNanoSeconds) : undefined;
      if (s) {
        cpuNs += s.cpuUsageCoreNanoSeconds;
        workingSet += s.memoryWorkingSetBytes;
        usage += s.memoryUsageBytes ?? s.memoryWorkingSetBytes;
        if (rate !== undefined) cpuRate = (cpuRate ?? 0) + rate;
      }
      containers.push({
        name: c.metadata.name,
        startTime: iso(c.startedAt || c.createdAt),
        ...(s
          ? {
              cpu: {
                time: iso(s.timestampMs),
                usageCoreNanoSeconds: s.cpuUsageCoreNanoSeconds,
                ...(rate !== undefined ? { usageNanoCores: rate } : {}),
              },
              memory: {
                time: iso(s.timestampMs),
                workingSetBytes: s.memoryWorkingSetBytes,
                ...(s.memoryUsageBytes !== undefined ? { usageBytes: s.memoryUsageBytes } : {}),
              },
            }
          : {}),
        ...(logs ? { logs: { time: iso(now), usedBytes: logs.blocks * 512 } } : {}),
      });
    }
    const podDir = join(this.#options.host.rootDir, "pods", uid);
    const [dirUsage, volume, rootFs] = await Promise.all([
      // CRI keeps logs below the pod directory; they are counted once, through the containers.
      diskUsage(podDir, { skip: ["logs"] }),
      volumeStats(podDir, now),
      fsStats(this.#options.host.rootDir, now),
    ]);
    const sandbox = runtime.sandboxes[0];
    return {
      podRef: { name: pod.metadata?.name ?? "", namespace: pod.metadata?.namespace ?? "", uid },
      startTime: pod.status?.startTime ?? iso(sandbox?.createdAt ?? now),
      containers,
      ...(running.some((c) => stats.has(c.id))
        ? {
            cpu: {
              time: iso(now),
              usageCoreNanoSeconds: cpuNs,
              ...(cpuRate !== undefined ? { usageNanoCores: cpuRate } : {}),
            },
            memory: { time: iso(now), workingSetBytes: workingSet, usageBytes: usage },
          }
        : {}),
      ...(volume.length > 0 ? { volume } : {}),
      "ephemeral-storage": {
        time: iso(now),
        ...(rootFs ? { availableBytes: rootFs.availableBytes, capacityBytes: rootFs.capacityBytes } : {}),
        usedBytes: dirUsage.bytes + logBytes,
        inodesUsed: dirUsage.inodes,
      },
    };
  }
}
