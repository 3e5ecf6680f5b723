// Resource arithmetic for scheduling: what a pod requests (upstream resourcehelper.PodRequests, with
// sidecar init containers), the non-zero defaults used for scoring, and what a node offers. CPU is kept in
// millicores, everything else in whole units; "pods" is the pod count.
import { cpuMillis, wholeUnits } from "../../api/quantity.ts";
import type { Node } from "../../api/schema/core/node-types.ts";
import type { Pod } from "../../api/schema/core/pod-types.ts";

export type Resources = Record<string, number>;

/** upstream DefaultMilliCPURequest / DefaultMemoryRequest: what a container without requests counts as when scoring. */
export const DEFAULT_MILLI_CPU_REQUEST = 100;
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;

function amount(name: string, value: string | number): number {
  return (name === "cpu" ? cpuMillis(value) : wholeUnits(value)) ?? 0;
}

export function toResources(list: Record<string, string | number> | undefined): Resources {
  const out: Resources = {};
  for (const [name, value] of Object.entries(list ?? {})) out[name] = amount(name, value);
  return out;
}

export function addInto(target: Resources, add: Resources, sign = 1): Resources {
  for (const [name, v] of Object.entries(add)) target[name] = (target[name] ?? 0) + sign * v;
  return target;
}

function maxInto(target: Resources, other: Resources): void {
  for (const [name, v] of Object.entries(other)) target[name] = Math.max(target[name] ?? 0, v);
}

interface ContainerLike {
  resources?: { requests?: Record<string, string | number> };
  restartPolicy?: string;
}

function containerRequests(c: ContainerLike, nonZero: boolean): Resources {
  const r = toResources(c.resources?.requests);
  if (nonZero) {
    if (!r.cpu) r.cpu = DEFAULT_MILLI_CPU_REQUEST;
    if (!r.memory) r.memory = DEFAULT_MEMORY_REQUEST;
  }
  return r;
}

/**
 * The pod's effective requests: the sum over app containers and sidecars, or the largest init container
 * step if that is bigger, plus overhead; pod-level resources win for the resources they name.
 * With `nonZero`, containers without cpu/memory requests count as 100m/200Mi (for scoring only).
 */
export function podRequests(pod: Pod, nonZero = false): Resources {
  const spec = pod.spec;
  const total: Resources = {};
  for (const c of spec?.containers ?? []) addInto(total, containerRequests(c, nonZero));
  const sidecars: Resources = {};
  const initPeak: Resources = {};
  for (const c of (spec?.initContainers ?? []) as ContainerLike[]) {
    const r = containerRequests(c, nonZero);
    if (c.restartPolicy === "Always") {
      addInto(total, r);
      addInto(sidecars, r);
      maxInto(initPeak, { ...sidecars });
    } else {
      maxInto(initPeak, addInto({ ...r }, sidecars));
    }
  }
  maxInto(total, initPeak);
  addInto(total, toResources(spec?.overhead as Record<string, string> | undefined));
  const podLevel = toResources(
    (spec?.resources as { requests?: Record<string, string> } | undefined)?.requests,
  );
  for (const [name, v] of Object.entries(podLevel)) total[name] = v;
  return total;
}

/** What the node offers: status.allocatable (capacity when allocatable is missing). */
export function nodeAllocatable(node: Node): Resources {
  return toResources(
    (node.status?.allocatable ?? node.status?.capacity) as Record<string, string> | undefined,
  );
}

export interface HostPort {
  ip: string;
  protocol: string;
  port: number;
}

/** Host ports the pod's containers (and sidecars) claim. */
export function podHostPorts(pod: Pod): HostPort[] {
  const out: HostPort[] = [];
  const containers = [
    ...(pod.spec?.containers ?? []),
    ...(pod.spec?.initContainers ?? []).filter((c) => (c as ContainerLike).restartPolicy === "Always"),
  ];
  for (const c of containers) {
    for (const p of c.ports ?? []) {
      if (!p.hostPort) continue;
      out.push({ ip: p.hostIP || "0.0.0.0", protocol: p.protocol || "TCP", port: p.hostPort });
    }
  }
  return out;
}

export function portsConflict(a: HostPort, b: HostPort): boolean {
  return (
    a.port === b.port &&
    a.protocol === b.protocol &&
    (a.ip === b.ip || a.ip === "0.0.0.0" || b.ip === "0.0.0.0")
  );
}
