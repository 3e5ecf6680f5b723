// Taints and tolerations (upstream's v1helper / component-helpers): matching rules shared by the scheduler,
// the DaemonSet controller and taint-based eviction, plus the taints a node's conditions imply.
import type { Node, Taint } from "../../api/schema/core/node-types.ts";
import type { Toleration } from "../../api/schema/core/scheduling.ts";

export const TAINT_NOT_READY = "node.kubernetes.io/not-ready";
export const TAINT_UNREACHABLE = "node.kubernetes.io/unreachable";
export const TAINT_UNSCHEDULABLE = "node.kubernetes.io/unschedulable";
export const TAINT_MEMORY_PRESSURE = "node.kubernetes.io/memory-pressure";
export const TAINT_DISK_PRESSURE = "node.kubernetes.io/disk-pressure";
export const TAINT_PID_PRESSURE = "node.kubernetes.io/pid-pressure";
export const TAINT_NETWORK_UNAVAILABLE = "node.kubernetes.io/network-unavailable";

export type TaintEffect = "NoSchedule" | "PreferNoSchedule" | "NoExecute";

/** upstream Toleration.ToleratesTaint. */
export function toleratesTaint(
  toleration: Toleration,
  taint: Pick<Taint, "key" | "value" | "effect">,
): boolean {
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  if (toleration.key && toleration.key !== taint.key) return false;
  const operator = toleration.operator || "Equal";
  if (operator === "Exists") return true;
  if (operator === "Equal") return (toleration.value ?? "") === (taint.value ?? "");
  return false;
}

export function toleratedBy(
  tolerations: readonly Toleration[] | undefined,
  taint: Pick<Taint, "key" | "value" | "effect">,
): boolean {
  return (tolerations ?? []).some((t) => toleratesTaint(t, taint));
}

/** The first taint (of the given effects) that no toleration tolerates. */
export function firstUntolerated(
  taints: readonly Taint[],
  tolerations: readonly Toleration[] | undefined,
  effects: readonly string[],
): Taint | undefined {
  return taints.find((t) => effects.includes(t.effect) && !toleratedBy(tolerations, t));
}

function conditionStatus(node: Node, type: string): string | undefined {
  return node.status?.conditions?.find((c) => c.type === type)?.status;
}

/**
 * The NoSchedule taints upstream's node lifecycle controller keeps in step with the node's conditions
 * (TaintNodesByCondition): not-ready, unreachable, unschedulable and the pressure conditions.
 */
export function conditionTaints(node: Node): Taint[] {
  const taints: Taint[] = [];
  const ready = conditionStatus(node, "Ready");
  if (ready === "False") taints.push({ key: TAINT_NOT_READY, effect: "NoSchedule" });
  else if (ready !== "True") taints.push({ key: TAINT_UNREACHABLE, effect: "NoSchedule" });
  if (node.spec?.unschedulable) taints.push({ key: TAINT_UNSCHEDULABLE, effect: "NoSchedule" });
  if (conditionStatus(node, "MemoryPressure") === "True")
    taints.push({ key: TAINT_MEMORY_PRESSURE, effect: "NoSchedule" });
  if (conditionStatus(node, "DiskPressure") === "True")
    taints.push({ key: TAINT_DISK_PRESSURE, effect: "NoSchedule" });
  if (conditionStatus(node, "PIDPressure") === "True")
    taints.push({ key: TAINT_PID_PRESSURE, effect: "NoSchedule" });
  if (conditionStatus(node, "NetworkUnavailable") === "True")
    taints.push({ key: TAINT_NETWORK_UNAVAILABLE, effect: "NoSchedule" });
  return taints;
}

/**
 * The taints the scheduler honours: the node's own plus those its conditions imply but the lifecycle
 * controller has not written yet (so a node that just went NotReady is avoided at once).
 */
export function effectiveTaints(node: Node): Taint[] {
  const own = node.spec?.taints ?? [];
  const implied = conditionTaints(node).filter(
    (t) => !own.some((o) => o.key === t.key && o.effect === t.effect),
  );
  // A node that says it is unschedulable is reported as such, not through its taint.
  return [...own, ...implied.filter((t) => t.key !== TAINT_UNSCHEDULABLE)];
}

export function sameTaint(a: Pick<Taint, "key" | "effect">, b: Pick<Taint, "key" | "effect">): boolean {
  return a.key === b.key && a.effect === b.effect;
}
