// The pure half of the Deployment controller (upstream pkg/controller/deployment/util): revisions and their
// annotations, which ReplicaSet is new, surge/unavailability arithmetic, proportional scaling, and the
// status and conditions a Deployment should report.
import type { Deployment, ReplicaSet } from "../../../api/schema/apps/types.ts";
import type { PodTemplateSpec } from "../../../api/schema/core/pod-types.ts";
import { timeOf } from "../machinery/pods.ts";
import { canonicalJson, scaledValue, shortHash } from "../machinery/util.ts";

export const REVISION_ANNOTATION = "deployment.kubernetes.io/revision";
export const REVISION_HISTORY_ANNOTATION = "deployment.kubernetes.io/revision-history";
export const DESIRED_REPLICAS_ANNOTATION = "deployment.kubernetes.io/desired-replicas";
export const MAX_REPLICAS_ANNOTATION = "deployment.kubernetes.io/max-replicas";
export const ROLLBACK_TO_ANNOTATION = "deprecated.deployment.rollback.to";
export const HASH_LABEL = "pod-template-hash";
export const LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration";

export const NEW_RS_AVAILABLE_REASON = "NewReplicaSetAvailable";
export const RS_UPDATED_REASON = "ReplicaSetUpdated";
export const TIMED_OUT_REASON = "ProgressDeadlineExceeded";
export const NEW_RS_REASON = "NewReplicaSetCreated";
export const FOUND_NEW_RS_REASON = "FoundNewReplicaSet";
export const PAUSED_REASON = "DeploymentPaused";
export const RESUMED_REASON = "DeploymentResumed";
export const MIN_AVAILABLE_REASON = "MinimumReplicasAvailable";
export const MIN_UNAVAILABLE_REASON = "MinimumReplicasUnavailable";
export const FAILED_RS_CREATE_REASON = "ReplicaSetCreateError";

/** upstream math.MaxInt32: "no progress deadline". */
export const NO_DEADLINE = 2147483647;

const NOT_COPIED = new Set([
  LAST_APPLIED_ANNOTATION,
  REVISION_ANNOTATION,
  REVISION_HISTORY_ANNOTATION,
  DESIRED_REPLICAS_ANNOTATION,
  MAX_REPLICAS_ANNOTATION,
  ROLLBACK_TO_ANNOTATION,
]);

export interface DeploymentCondition {
  type: string;
  status: string;
  lastUpdateTime?: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

export type DeploymentStatus = NonNullable<Deployment["status"]>;

export const replicasOf = (obj: { spec?: { replicas?: number } }) => obj.spec?.replicas ?? 0;

export function revisionOf(rs: ReplicaSet): number {
  const n = Number(rs.metadata?.annotations?.[REVISION_ANNOTATION] ?? "0");
  return Number.isInteger(n) ? n : 0;
}

export function maxRevision(sets: readonly ReplicaSet[]): number {
  return sets.reduce((max, rs) => Math.max(max, revisionOf(rs)), 0);
}

/** The template without the pod-template-hash label, in a canonical text form. */
function templateKey(template: PodTemplateSpec | undefined): string {
  const copy = structuredClone(template ?? {}) as PodTemplateSpec;
  if (copy.metadata?.labels) {
    delete copy.metadata.labels[HASH_LABEL];
    if (Object.keys(copy.metadata.labels).length === 0) delete copy.metadata.labels;
  }
  return canonicalJson(copy);
}

/** upstream EqualIgnoreHash. */
export function equalIgnoreHash(a: PodTemplateSpec | undefined, b: PodTemplateSpec | undefined): boolean {
  return templateKey(a) === templateKey(b);
}

/** The pod-template-hash of a deployment template (with the collision count mixed in once it is non-zero). */
export function templateHash(template: PodTemplateSpec | undefined, collisionCount?: number): string {
  return shortHash(JSON.parse(templateKey(template)), collisionCount);
}

export function byCreation(
  a: { metadata?: { creationTimestamp?: string; name?: string } },
  b: typeof a,
): number {
  const ta = timeOf(a.metadata?.creationTimestamp) ?? 0;
  const tb = timeOf(b.metadata?.creationTimestamp) ?? 0;
  if (ta !== tb) return ta - tb;
  return (a.metadata?.name ?? "") < (b.metadata?.name ?? "") ? -1 : 1;
}

/** upstream FindNewReplicaSet: the oldest ReplicaSet whose template equals the deployment's. */
export function findNewReplicaSet(d: Deployment, sets: readonly ReplicaSet[]): ReplicaSet | undefined {
  return [...sets].sort(byCreation).find((rs) => equalIgnoreHash(rs.spec?.template, d.spec?.template));
}

export function findOldReplicaSets(sets: readonly ReplicaSet[], newRS: ReplicaSet | undefined): ReplicaSet[] {
  return sets.filter((rs) => rs.metadata?.uid !== newRS?.metadata?.uid);
}

export const isRolling = (d: Deployment) => (d.spec?.strategy?.type ?? "RollingUpdate") === "RollingUpdate";

/** upstream ResolveFenceposts: surge rounded up, unavailable rounded down; never both zero. */
export function resolveFenceposts(d: Deployment): { surge: number; unavailable: number } {
  const desired = replicasOf(d);
  const ru = d.spec?.strategy?.rollingUpdate;
  const surge = scaledValue(ru?.maxSurge, desired, true, "25%");
  let unavailable = scaledValue(ru?.maxUnavailable, desired, false, "25%");
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

export function maxSurge(d: Deployment): number {
  return isRolling(d) ? resolveFenceposts(d).surge : 0;
}

export function maxUnavailable(d: Deployment): number {
  if (!isRolling(d) || replicasOf(d) === 0) return 0;
  return Math.min(resolveFenceposts(d).unavailable, replicasOf(d));
}

export const specReplicasSum = (sets: readonly (ReplicaSet | undefined)[]) =>
  sets.reduce((n, rs) => n + (rs ? replicasOf(rs) : 0), 0);
export const statusReplicasSum = (sets: readonly (ReplicaSet | undefined)[]) =>
  sets.reduce((n, rs) => n + (rs?.status?.replicas ?? 0), 0);
export const readySum = (sets: readonly (ReplicaSet | undefined)[]) =>
  sets.reduce((n, rs) => n + (rs?.status?.readyReplicas ?? 0), 0);
export const availableSum = (sets: readonly (ReplicaSet | undefined)[]) =>
  sets.reduce((n, rs) => n + (rs?.status?.availableReplicas ?? 0), 0);

/** upstream NewRSNewReplicas: how big the new ReplicaSet may be now. */
export function newRSNewReplicas(
  d: Deployment,
  all: readonly ReplicaSet[],
  newRS: ReplicaSet | undefined,
): number {
  if (!isRolling(d)) return replicasOf(d);
  const current = newRS ? replicasOf(newRS) : 0;
  const total = specReplicasSum(all);
  const maxTotal = replicasOf(d) + maxSurge(d);
  if (total >= maxTotal) return current;
  const scaleUp = Math.min(maxTotal - total, replicasOf(d) - current);
  return current + Math.max(0, scaleUp);
}

/** Active = scaled above zero. */
export const activeSets = (sets: readonly ReplicaSet[]) => sets.filter((rs) => replicasOf(rs) > 0);

function annotationInt(rs: ReplicaSet, name: string): number | undefined {
  const text = rs.metadata?.annotations?.[name];
  if (text === undefined) return undefined;
  const n = Number(text);
  return Number.isInteger(n) ? n : undefined;
}

export const desiredReplicasAnnotation = (rs: ReplicaSet) => annotationInt(rs, DESIRED_REPLICAS_ANNOTATION);

/**
 * Annotations the new (or updated) ReplicaSet should carry: the deployment's own (minus the ones upstream
 * never copies), its revision, and desired/max replicas. Returns undefined when nothing changes.
 */
export function newReplicaSetAnnotations(
  d: Deployment,
  rs: ReplicaSet | undefined,
  newRevision: number,
): Record<string, string> {
  const current = { ...(rs?.metadata?.annotations ?? {}) };
  const out = { ...current };
  for (const [k, v] of Object.entries(d.metadata?.annotations ?? {})) if (!NOT_COPIED.has(k)) out[k] = v;
  const old = Number(current[REVISION_ANNOTATION] ?? "0");
  if (!current[REVISION_ANNOTATION] || old < newRevision) {
    out[REVISION_ANNOTATION] = String(newRevision);
    if (rs && current[REVISION_ANNOTATION]) {
      const history = current[REVISION_HISTORY_ANNOTATION];
      out[REVISION_HISTORY_ANNOTATION] = history ? `${history},${old}` : String(old);
    }
  }
  out[DESIRED_REPLICAS_ANNOTATION] = String(replicasOf(d));
  out[MAX_REPLICAS_ANNOTATION] = String(replicasOf(d) + maxSurge(d));
  return out;
}

/** upstream IsSaturated: the new ReplicaSet has all desired pods, all available. */
export function isSaturated(d: Deployment, rs: ReplicaSet | undefined): boolean {
  if (!rs) return false;
  return (
    replicasOf(rs) === replicasOf(d) &&
    desiredReplicasAnnotation(rs) === replicasOf(d) &&
    (rs.status?.availableReplicas ?? 0) === replicasOf(d)
  );
}

/**
 * upstream proportional scaling (DeploymentController.scale for RollingUpdate): when the deployment is
 * resized mid-rollout, spread the difference over the active ReplicaSets in proportion to their size.
 * Returns the new size per ReplicaSet uid.
 */
export function proportionalScale(d: Deployment, active: readonly ReplicaSet[]): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const rs of active) sizes.set(rs.metadata?.uid ?? "", replicasOf(rs));
  const allowed = replicasOf(d) + maxSurge(d);
  const current = specReplicasSum(active);
  const toAdd = allowed - current;
  if (toAdd === 0 || active.length === 0) return sizes;
  // Largest first; among equals the newest when growing, the oldest when shrinking (ReplicaSetsBySizeNewer/Older).
  const ordered = [...active].sort(
    (a, b) => replicasOf(b) - replicasOf(a) || (toAdd > 0 ? byCreation(b, a) : byCreation(a, b)),
  );
  const deploymentReplicas = replicasOf(d) + maxSurge(d);
  let added = 0;
  for (const rs of ordered) {
    const size = replicasOf(rs);
    let proportion = 0;
    if (size !== 0 && toAdd !== added) {
      const annotated = annotationInt(rs, MAX_REPLICAS_ANNOTATION) ?? d.status?.replicas ?? 0;
      const fraction =
        replicasOf(d) === 0
          ? -size
          : annotated === 0
            ? 0
            : Math.round((size * deploymentReplicas) / annotated) - size;
      const remaining = toAdd - added;
      proportion = toAdd > 0 ? Math.min(fraction, remaining) : Math.max(fraction, remaining);
    }
    sizes.set(rs.metadata?.uid ?? "", size + proportion);
    added += proportion;
  }
  // Leftovers go to the first (largest) one, as upstream.
  const first = ordered[0];
  if (first && added !== toAdd) {
    const uid = first.metadata?.uid ?? "";
    sizes.set(uid, Math.max(0, (sizes.get(uid) ?? 0) + toAdd - added));
  }
  return sizes;
}

// Status and conditions -------------------------------------------------------------------------------------

export function getCondition(
  status: DeploymentStatus | undefined,
  type: string,
): DeploymentCondition | undefined {
  return (status?.conditions as DeploymentCondition[] | undefined)?.find((c) => c.type === type);
}

export function newCondition(
  type: string,
  status: string,
  reason: string,
  message: string,
  now: string,
): DeploymentCondition {
  return { type, status, lastUpdateTime: now, lastTransitionTime: now, reason, message };
}

/** upstream SetDeploymentCondition: same status and reason → unchanged; same status → keep the transition time. */
export function setCondition(status: DeploymentStatus, cond: DeploymentCondition): void {
  const conditions = [...((status.conditions as DeploymentCondition[] | undefined) ?? [])];
  const current = conditions.find((c) => c.type === cond.type);
  if (current && current.status === cond.status && current.reason === cond.reason) return;
  const next = { ...cond };
  if (current && current.status === cond.status) next.lastTransitionTime = current.lastTransitionTime;
  status.conditions = [
    ...conditions.filter((c) => c.type !== cond.type),
    next,
  ] as DeploymentStatus["conditions"];
}

export function removeCondition(status: DeploymentStatus, type: string): void {
  const conditions = (status.conditions as DeploymentCondition[] | undefined) ?? [];
  if (conditions.some((c) => c.type === type)) {
    status.conditions = conditions.filter((c) => c.type !== type) as DeploymentStatus["conditions"];
  }
}

/** upstream calculateStatus, including the Available condition. */
export function calculateStatus(
  d: Deployment,
  all: readonly ReplicaSet[],
  newRS: ReplicaSet | undefined,
  now: string,
): DeploymentStatus {
  const available = availableSum(all);
  const total = specReplicasSum(all);
  const status: DeploymentStatus = {
    observedGeneration: d.metadata?.generation,
    replicas: statusReplicasSum(all),
    updatedReplicas: statusReplicasSum([newRS]),
    readyReplicas: readySum(all),
    availableReplicas: available,
    unavailableReplicas: Math.max(0, total - available),
    ...(d.status?.collisionCount !== undefined ? { collisionCount: d.status.collisionCount } : {}),
    conditions: [
      ...((d.status?.conditions as DeploymentCondition[] | undefined) ?? []),
    ] as DeploymentStatus["conditions"],
  };
  if (available >= replicasOf(d) - maxUnavailable(d)) {
    setCondition(
      status,
      newCondition("Available", "True", MIN_AVAILABLE_REASON, "Deployment has minimum availability.", now),
    );
  } else {
    setCondition(
      status,
      newCondition(
        "Available",
        "False",
        MIN_UNAVAILABLE_REASON,
        "Deployment does not have minimum availability.",
        now,
      ),
    );
  }
  return status;
}

export function hasProgressDeadline(d: Deployment): boolean {
  const s = d.spec?.progressDeadlineSeconds;
  return s !== undefined && s !== NO_DEADLINE;
}

/** upstream DeploymentComplete. */
export function deploymentComplete(d: Deployment, status: DeploymentStatus): boolean {
  const want = replicasOf(d);
  return (
    status.updatedReplicas === want &&
    status.replicas === want &&
    status.availableReplicas === want &&
    (status.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0)
  );
}

/** upstream DeploymentProgressing: more updated, ready or available pods, or fewer old ones. */
export function deploymentProgressing(d: Deployment, status: DeploymentStatus): boolean {
  const old = d.status ?? {};
  const oldOld = (old.replicas ?? 0) - (old.updatedReplicas ?? 0);
  const newOld = (status.replicas ?? 0) - (status.updatedReplicas ?? 0);
  return (
    (status.updatedReplicas ?? 0) > (old.updatedReplicas ?? 0) ||
    newOld < oldOld ||
    (status.readyReplicas ?? 0) > (old.readyReplicas ?? 0) ||
    (status.availableReplicas ?? 0) > (old.availableReplicas ?? 0)
  );
}

/** upstream DeploymentTimedOut: no progress for progressDeadlineSeconds since the Progressing condition's last update. */
export function deploymentTimedOut(d: Deployment, status: DeploymentStatus, now: number): boolean {
  if (!hasProgressDeadline(d)) return false;
  const cond = getCondition(status, "Progressing");
  if (!cond) return false;
  if (cond.reason === NEW_RS_AVAILABLE_REASON) return false;
  if (cond.reason === TIMED_OUT_REASON) return true;
  const from = timeOf(cond.lastUpdateTime);
  if (from === undefined) return false;
  return from + (d.spec?.progressDeadlineSeconds ?? 0) * 1000 < now;
}

/**
 * upstream syncRolloutStatus's condition logic: Progressing=True NewReplicaSetAvailable when complete,
 * ReplicaSetUpdated while progressing, False ProgressDeadlineExceeded when stuck past the deadline.
 */
export function rolloutStatus(
  d: Deployment,
  all: readonly ReplicaSet[],
  newRS: ReplicaSet | undefined,
  now: number,
  nowText: string,
): DeploymentStatus {
  const status = calculateStatus(d, all, newRS, nowText);
  if (!hasProgressDeadline(d)) removeCondition(status, "Progressing");
  const current = getCondition(status, "Progressing");
  const complete = status.replicas === status.updatedReplicas && current?.reason === NEW_RS_AVAILABLE_REASON;
  if (hasProgressDeadline(d) && !complete) {
    const rsName = newRS?.metadata?.name;
    if (deploymentComplete(d, status)) {
      const msg = rsName
        ? `ReplicaSet "${rsName}" has successfully progressed.`
        : "Deployment has successfully progressed.";
      setCondition(status, newCondition("Progressing", "True", NEW_RS_AVAILABLE_REASON, msg, nowText));
    } else if (deploymentProgressing(d, status)) {
      const msg = rsName ? `ReplicaSet "${rsName}" is progressing.` : "Deployment is progressing.";
      const cond = newCondition("Progressing", "True", RS_UPDATED_REASON, msg, nowText);
      // Progress refreshes lastUpdateTime (the deadline's start) but not the transition time.
      if (current?.status === "True") cond.lastTransitionTime = current.lastTransitionTime;
      removeCondition(status, "Progressing");
      setCondition(status, cond);
    } else if (deploymentTimedOut(d, status, now)) {
      const msg = rsName
        ? `ReplicaSet "${rsName}" has timed out progressing.`
        : "Deployment has timed out progressing.";
      setCondition(status, newCondition("Progressing", "False", TIMED_OUT_REASON, msg, nowText));
    }
  }
  const failure = all
    .map((rs) => (rs.status?.conditions ?? []).find((c) => c.type === "ReplicaFailure"))
    .find((c) => c !== undefined);
  if (failure) {
    setCondition(
      status,
      newCondition("ReplicaFailure", failure.status, failure.reason ?? "", failure.message ?? "", nowText),
    );
  } else {
    removeCondition(status, "ReplicaFailure");
  }
  return status;
}

/** When to look again at a deployment that may hit its progress deadline (upstream requeueStuckDeployment); -1 = no need. */
export function stuckRequeueMs(d: Deployment, status: DeploymentStatus, now: number): number {
  const cond = getCondition(status, "Progressing");
  if (!hasProgressDeadline(d) || !cond || cond.reason === NEW_RS_AVAILABLE_REASON || cond.status === "False")
    return -1;
  if (deploymentComplete(d, status)) return -1;
  const from = timeOf(cond.lastUpdateTime);
  if (from === undefined) return -1;
  const after = from + (d.spec?.progressDeadlineSeconds ?? 0) * 1000 - now;
  return after < 1000 ? 0 : after;
}

export function sameStatus(a: DeploymentStatus | undefined, b: DeploymentStatus): boolean {
  return canonicalJson(a ?? {}) === canonicalJson(b);
}

/** Old ReplicaSets beyond revisionHistoryLimit that are fully scaled down, oldest revision first. */
export function replicaSetsToClean(d: Deployment, old: readonly ReplicaSet[]): ReplicaSet[] {
  const limit = d.spec?.revisionHistoryLimit;
  if (limit === undefined) return [];
  const alive = old.filter((rs) => !rs.metadata?.deletionTimestamp);
  const diff = alive.length - limit;
  if (diff <= 0) return [];
  const sorted = [...alive].sort((a, b) => revisionOf(a) - revisionOf(b) || byCreation(a, b));
  return sorted
    .slice(0, diff)
    .filter(
      (rs) =>
        (rs.status?.replicas ?? 0) === 0 &&
        replicasOf(rs) === 0 &&
        (rs.metadata?.generation ?? 0) <= (rs.status?.observedGeneration ?? 0),
    );
}
