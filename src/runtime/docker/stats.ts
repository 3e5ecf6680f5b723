// Docker's stats document → ContainerStats, with cAdvisor's working set: usage − inactive_file.
import type { ContainerStats } from "../types.ts";
import { dockerTimeMs } from "./convert.ts";

/** The parts of Docker's /containers/{id}/stats answer used here (cgroup v1 and v2 keys). */
export interface DockerStatsDocument {
  read?: string;
  cpu_stats?: { cpu_usage?: { total_usage?: number } };
  memory_stats?: {
    usage?: number;
    stats?: { total_inactive_file?: number; inactive_file?: number };
  };
}

export function statsFromDocument(
  doc: DockerStatsDocument,
  ids: { containerId: string; name: string; podSandboxId?: string },
  nowMs: number,
): ContainerStats {
  const usage = doc.memory_stats?.usage ?? 0;
  const stats = doc.memory_stats?.stats ?? {};
  // cgroup v1 reports the hierarchical total_inactive_file; cgroup v2 only inactive_file.
  const inactive = stats.total_inactive_file ?? stats.inactive_file ?? 0;
  return {
    containerId: ids.containerId,
    name: ids.name,
    ...(ids.podSandboxId ? { podSandboxId: ids.podSandboxId } : {}),
    timestampMs: dockerTimeMs(doc.read) || nowMs,
    cpuUsageCoreNanoSeconds: doc.cpu_stats?.cpu_usage?.total_usage ?? 0,
    memoryWorkingSetBytes: Math.max(0, usage - inactive),
    memoryUsageBytes: usage,
  };
}
