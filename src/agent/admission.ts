// Node-side admission, like kubelet's predicate admit handler: a pod bound to this node that cannot fit
// (resources, pod count, host ports, node selector/affinity) is rejected and goes Failed with upstream's
// reason (OutOfcpu, OutOfmemory, OutOfpods, NodeAffinity, HostPort…) instead of running.
import { cpuMillis, parseQuantity } from "../api/quantity.ts";
import type { Pod } from "../api/schema/core/pod-types.ts";

export interface NodeForAdmission {
  labels: Record<string, string>;
  allocatable: Record<string, string>;
}

export type AdmitResult = { admit: true } | { admit: false; reason: string; message: string };

function requests(pod: Pod): Record<string, number> {
  const total: Record<string, number> = {};
  const add = (name: string, value: number) => {
    total[name] = (total[name] ?? 0) + value;
  };
  for (const container of pod.spec?.containers ?? []) {
    for (const [name, quantity] of Object.entries(container.resources?.requests ?? {})) {
      add(name, amount(name, String(quantity)));
    }
  }
  // Init containers run one at a time: the pod needs the largest of them if that exceeds the app sum.
  for (const container of pod.spec?.initContainers ?? []) {
    for (const [name, quantity] of Object.entries(container.resources?.requests ?? {})) {
      total[name] = Math.max(total[name] ?? 0, amount(name, String(quantity)));
    }
  }
  return total;
}

function amount(resource: string, quantity: string): number {
  return (resource === "cpu" ? cpuMillis(quantity) : parseQuantity(quantity)) ?? 0;
}

interface HostPort {
  protocol: string;
  ip: string;
  port: number;
}

function hostPorts(pod: Pod): HostPort[] {
  return (pod.spec?.containers ?? []).flatMap((c) =>
    (c.ports ?? [])
      .filter((p) => (p.hostPort ?? 0) > 0)
      .map((p) => ({ protocol: p.protocol ?? "TCP", ip: p.hostIP || "0.0.0.0", port: p.hostPort ?? 0 })),
  );
}

/** Same protocol and port, and the same address or either one is the wildcard. */
function portsConflict(a: HostPort, b: HostPort): boolean {
  return (
    a.protocol === b.protocol &&
    a.port === b.port &&
    (a.ip === b.ip || a.ip === "0.0.0.0" || b.ip === "0.0.0.0")
  );
}

function matchesSelector(pod: Pod, labels: Record<string, string>): boolean {
  for (const [key, value] of Object.entries(pod.spec?.nodeSelector ?? {}))
    if (labels[key] !== value) return false;
  const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (!required) return true;
  // Terms are ORed; expressions within a term are ANDed.
  return (required.nodeSelectorTerms ?? []).some((term) =>
    (term.matchExpressions ?? []).every((expr) => {
      const value = labels[expr.key];
      const values = expr.values ?? [];
      switch (expr.operator) {
        case "In":
          return value !== undefined && values.includes(value);
        case "NotIn":
          return value === undefined || !values.includes(value);
        case "Exists":
          return value !== undefined;
        case "DoesNotExist":
          return value === undefined;
        case "Gt":
          return value !== undefined && Number(value) > Number(values[0]);
        case "Lt":
          return value !== undefined && Number(value) < Number(values[0]);
        default:
          return false;
      }
    }),
  );
}

/** Whether `pod` fits on the node next to the already admitted, still active pods. */
export function admitPod(pod: Pod, active: readonly Pod[], node: NodeForAdmission): AdmitResult {
  const maxPods = Number(node.allocatable.pods ?? "110");
  if (active.length + 1 > maxPods) {
    return {
      admit: false,
      reason: "OutOfpods",
      message: `Node didn't have enough resource: pods, requested: 1, used: ${active.length}, capacity: ${maxPods}`,
    };
  }
  if (!matchesSelector(pod, node.labels)) {
    return { admit: false, reason: "NodeAffinity", message: "Pod Predicate NodeAffinity failed" };
  }
  const used = active.flatMap(hostPorts);
  if (hostPorts(pod).some((wanted) => used.some((taken) => portsConflict(wanted, taken)))) {
    return { admit: false, reason: "HostPort", message: "Pod Predicate HostPort failed" };
  }
  const wanted = requests(pod);
  const usedByOthers: Record<string, number> = {};
  for (const other of active) {
    for (const [name, value] of Object.entries(requests(other)))
      usedByOthers[name] = (usedByOthers[name] ?? 0) + value;
  }
  for (const [name, requested] of Object.entries(wanted)) {
    const capacityText = node.allocatable[name];
    if (capacityText === undefined || requested === 0) continue;
    const capacity = amount(name, capacityText);
    const inUse = usedByOthers[name] ?? 0;
    if (requested + inUse > capacity) {
      return {
        admit: false,
        reason: `OutOf${name}`,
        message: `Node didn't have enough resource: ${name}, requested: ${requested}, used: ${inUse}, capacity: ${capacity}`,
      };
    }
  }
  return { admit: true };
}
