// The pure half of the node lifecycle controller (upstream pkg/controller/nodelifecycle): when a node's
// heartbeat is stale, what its conditions become; which taints its conditions call for; and how long a pod
// tolerates a node's NoExecute taints (taint-based eviction).
import type { Node, NodeCondition, Taint } from "../../../api/schema/core/node-types.ts";
import type { Toleration } from "../../../api/schema/core/scheduling.ts";
import {
  conditionTaints,
  sameTaint,
  TAINT_DISK_PRESSURE,
  TAINT_MEMORY_PRESSURE,
  TAINT_NETWORK_UNAVAILABLE,
  TAINT_NOT_READY,
  TAINT_PID_PRESSURE,
  TAINT_UNREACHABLE,
  TAINT_UNSCHEDULABLE,
  toleratesTaint,
} from "../../scheduler/taints.ts";
import { timeOf } from "../machinery/pods.ts";

export const STATUS_UNKNOWN_REASON = "NodeStatusUnknown";
export const STATUS_UNKNOWN_MESSAGE = "Kubelet stopped posting node status.";
export const NEVER_UPDATED_REASON = "NodeStatusNeverUpdated";
export const NEVER_UPDATED_MESSAGE = "Kubelet never posted node status.";
/** Conditions the controller marks Unknown besides Ready (upstream's list). */
const KUBELET_CONDITIONS = ["MemoryPressure", "DiskPressure", "PIDPressure"];

/**
 * Ready (and the pressure conditions) set to Unknown as upstream does when the kubelet went silent: reason
 * NodeStatusUnknown, or NodeStatusNeverUpdated for a node that never reported; heartbeat times kept,
 * transition time now. Returns undefined when the conditions already say so.
 */
export function markUnknown(node: Node, nowText: string): NodeCondition[] | undefined {
  const conditions = [...(node.status?.conditions ?? [])];
  let changed = false;
  for (const type of ["Ready", ...KUBELET_CONDITIONS]) {
    const i = conditions.findIndex((c) => c.type === type);
    const current = conditions[i];
    if (!current) {
      conditions.push({
        type,
        status: "Unknown",
        reason: NEVER_UPDATED_REASON,
        message: NEVER_UPDATED_MESSAGE,
        lastHeartbeatTime: node.metadata?.creationTimestamp,
        lastTransitionTime: nowText,
      } as NodeCondition);
      changed = true;
    } else if (current.status !== "Unknown") {
      conditions[i] = {
        ...current,
        status: "Unknown",
        reason: STATUS_UNKNOWN_REASON,
        message: STATUS_UNKNOWN_MESSAGE,
        lastTransitionTime: nowText,
      };
      changed = true;
    }
  }
  return changed ? conditions : undefined;
}

const MANAGED_KEYS = new Set([
  TAINT_NOT_READY,
  TAINT_UNREACHABLE,
  TAINT_UNSCHEDULABLE,
  TAINT_MEMORY_PRESSURE,
  TAINT_DISK_PRESSURE,
  TAINT_PID_PRESSURE,
  TAINT_NETWORK_UNAVAILABLE,
]);

/**
 * The taints the node should carry for its conditions: NoSchedule ones for every condition
 * (TaintNodesByCondition) plus the NoExecute not-ready/unreachable taint for taint-based eviction.
 */
export function desiredConditionTaints(node: Node): Taint[] {
  const ready = node.status?.conditions?.find((c) => c.type === "Ready")?.status;
  // A node that has not reported yet is left alone until the startup grace period marks it Unknown.
  const taints = conditionTaints(node).filter(
    (t) => ready !== undefined || (t.key !== TAINT_NOT_READY && t.key !== TAINT_UNREACHABLE),
  );
  if (ready === undefined) return taints;
  if (ready === "False") taints.push({ key: TAINT_NOT_READY, effect: "NoExecute" });
  else if (ready !== "True") taints.push({ key: TAINT_UNREACHABLE, effect: "NoExecute" });
  return taints;
}

/**
 * The node's taint list with the controller-managed taints brought in line (others untouched; existing ones
 * keep their timeAdded); undefined when nothing changes.
 */
export function reconcileTaints(node: Node, nowText: string): Taint[] | undefined {
  const current = node.spec?.taints ?? [];
  const desired = desiredConditionTaints(node);
  const kept = current.filter((t) => !MANAGED_KEYS.has(t.key) || desired.some((d) => sameTaint(d, t)));
  const added = desired
    .filter((d) => !current.some((t) => sameTaint(d, t)))
    .map((d) => (d.effect === "NoExecute" ? { ...d, timeAdded: nowText } : d));
  if (added.length === 0 && kept.length === current.length) return undefined;
  return [...kept, ...added];
}

/**
 * upstream getMinTolerationTime over the tolerations that match the node's NoExecute taints: 0 = evict now
 * (some taint is not tolerated, or a toleration's seconds ran out), -1 = tolerated for ever, else ms.
 */
export function tolerationMs(
  taints: readonly Taint[],
  tolerations: readonly Toleration[] | undefined,
): number {
  const noExecute = taints.filter((t) => t.effect === "NoExecute");
  if (noExecute.length === 0) return -1;
  const used: Toleration[] = [];
  for (const taint of noExecute) {
    const matching = (tolerations ?? []).filter((t) => toleratesTaint(t, taint));
    if (matching.length === 0) return 0;
    used.push(...matching);
  }
  let min = Number.POSITIVE_INFINITY;
  for (const t of used) {
    if (t.tolerationSeconds === undefined || t.tolerationSeconds === null) continue;
    if (t.tolerationSeconds <= 0) return 0;
    min = Math.min(min, t.tolerationSeconds * 1000);
  }
  return Number.isFinite(min) ? min : -1;
}

/** When a pod on a NoExecute-tainted node must go: the newest relevant taint's timeAdded plus the toleration. */
export function evictionTime(
  taints: readonly Taint[],
  tolerations: readonly Toleration[] | undefined,
  firstSeen: number,
): number | undefined {
  const ms = tolerationMs(taints, tolerations);
  if (ms < 0) return undefined;
  const added = taints.filter((t) => t.effect === "NoExecute").map((t) => timeOf(t.timeAdded) ?? firstSeen);
  const since = added.length ? Math.max(...added) : firstSeen;
  return since + ms;
}
