// The pure half of the ReplicaSet/ReplicationController controller: which pods go first when scaling down
// (upstream's ActivePodsWithRanks ordering) and what the status should say.
import type { Pod } from "../../../api/schema/core/pod-types.ts";
import { isPodAvailable, isPodReady, podCondition, podRestarts, timeOf } from "../machinery/pods.ts";

export const DELETION_COST_ANNOTATION = "controller.kubernetes.io/pod-deletion-cost";

export interface ReplicaStatus {
  replicas: number;
  fullyLabeledReplicas: number;
  readyReplicas: number;
  availableReplicas: number;
  observedGeneration?: number;
  conditions?: ReplicaCondition[];
}

export interface ReplicaCondition {
  type: string;
  status: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

const PHASE_ORDER: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

function deletionCost(pod: Pod): number {
  const text = pod.metadata?.annotations?.[DELETION_COST_ANNOTATION];
  const n = text === undefined ? 0 : Number(text);
  return Number.isInteger(n) ? n : 0;
}

function readySince(pod: Pod): number | undefined {
  const c = podCondition(pod, "Ready");
  return c?.status === "True" ? timeOf(c.lastTransitionTime) : undefined;
}

/**
 * Orders pods the way upstream deletes them: unscheduled before scheduled, Pending before Unknown before
 * Running, not ready before ready, lower deletion cost first, pods doubled up on a node (rank = related pods
 * on the same node) before lone ones, most recently ready first, more restarts first, newest first.
 */
export function compareForDeletion(a: Pod, b: Pod, rankA: number, rankB: number): number {
  const nodeA = a.spec?.nodeName ?? "";
  const nodeB = b.spec?.nodeName ?? "";
  if ((nodeA === "") !== (nodeB === "")) return nodeA === "" ? -1 : 1;
  const phaseA = PHASE_ORDER[a.status?.phase ?? "Pending"] ?? 0;
  const phaseB = PHASE_ORDER[b.status?.phase ?? "Pending"] ?? 0;
  if (phaseA !== phaseB) return phaseA - phaseB;
  const readyA = isPodReady(a);
  const readyB = isPodReady(b);
  if (readyA !== readyB) return readyA ? 1 : -1;
  const costA = deletionCost(a);
  const costB = deletionCost(b);
  if (costA !== costB) return costA - costB;
  if (rankA !== rankB) return rankB - rankA;
  if (readyA && readyB) {
    const sinceA = readySince(a) ?? Number.POSITIVE_INFINITY;
    const sinceB = readySince(b) ?? Number.POSITIVE_INFINITY;
    if (sinceA !== sinceB) return sinceB - sinceA;
  }
  const restartsA = podRestarts(a);
  const restartsB = podRestarts(b);
  if (restartsA !== restartsB) return restartsB - restartsA;
  const createdA = timeOf(a.metadata?.creationTimestamp) ?? Number.POSITIVE_INFINITY;
  const createdB = timeOf(b.metadata?.creationTimestamp) ?? Number.POSITIVE_INFINITY;
  if (createdA !== createdB) return createdB - createdA;
  // Same second: the later name (a later generated suffix is no better a guess) keeps the order stable.
  return (b.metadata?.name ?? "") < (a.metadata?.name ?? "") ? -1 : 1;
}

/** The `count` pods to delete first; `related` are the pods whose co-location raises a pod's rank. */
export function podsToDelete(pods: readonly Pod[], related: readonly Pod[], count: number): Pod[] {
  if (count >= pods.length) return [...pods];
  const perNode = new Map<string, number>();
  for (const p of related) {
    const node = p.spec?.nodeName;
    if (node) perNode.set(node, (perNode.get(node) ?? 0) + 1);
  }
  const rank = (p: Pod) => (p.spec?.nodeName ? (perNode.get(p.spec.nodeName) ?? 0) : 0);
  return pods
    .map((pod) => ({ pod, rank: rank(pod) }))
    .sort((x, y) => compareForDeletion(x.pod, y.pod, x.rank, y.rank))
    .slice(0, count)
    .map((x) => x.pod);
}

function labelsContain(labels: Record<string, string> | undefined, wanted: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(wanted)) if (labels?.[k] !== v) return false;
  return true;
}

/**
 * upstream calculateStatus: counts of the owned active pods, and the ReplicaFailure condition set on a
 * create/delete error (reason FailedCreate/FailedDelete) and removed when syncing succeeds again.
 */
export function calculateReplicaStatus(input: {
  current: ReplicaStatus | undefined;
  pods: readonly Pod[];
  templateLabels: Record<string, string>;
  minReadySeconds: number;
  now: number;
  manageError?: { kind: "create" | "delete"; message: string };
  nowText: string;
}): ReplicaStatus {
  const { pods, now } = input;
  let fullyLabeled = 0;
  let ready = 0;
  let available = 0;
  for (const pod of pods) {
    if (labelsContain(pod.metadata?.labels, input.templateLabels)) fullyLabeled++;
    if (isPodReady(pod)) {
      ready++;
      if (isPodAvailable(pod, input.minReadySeconds, now)) available++;
    }
  }
  let conditions = [...(input.current?.conditions ?? [])];
  const failure = conditions.find((c) => c.type === "ReplicaFailure");
  if (input.manageError && !failure) {
    conditions.push({
      type: "ReplicaFailure",
      status: "True",
      lastTransitionTime: input.nowText,
      reason: input.manageError.kind === "create" ? "FailedCreate" : "FailedDelete",
      message: input.manageError.message,
    });
  } else if (!input.manageError && failure) {
    conditions = conditions.filter((c) => c.type !== "ReplicaFailure");
  }
  return {
    replicas: pods.length,
    fullyLabeledReplicas: fullyLabeled,
    readyReplicas: ready,
    availableReplicas: available,
    ...(conditions.length > 0 ? { conditions } : {}),
  };
}

export function sameReplicaStatus(a: ReplicaStatus | undefined, b: ReplicaStatus): boolean {
  return (
    (a?.replicas ?? 0) === b.replicas &&
    (a?.fullyLabeledReplicas ?? 0) === b.fullyLabeledReplicas &&
    (a?.readyReplicas ?? 0) === b.readyReplicas &&
    (a?.availableReplicas ?? 0) === b.availableReplicas &&
    a?.observedGeneration === b.observedGeneration &&
    JSON.stringify(a?.conditions ?? []) === JSON.stringify(b.conditions ?? [])
  );
}
