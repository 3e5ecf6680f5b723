// The pure half of the Job controller (upstream pkg/controller/job): how many pods should run, whether the
// job succeeded or failed and with which condition, and the pod-failure backoff before replacements.
import type { Job } from "../../../api/schema/batch/types.ts";
import type { Pod } from "../../../api/schema/core/pod-types.ts";
import { podRestarts, timeOf } from "../machinery/pods.ts";

export const TRACKING_FINALIZER = "batch.kubernetes.io/job-tracking";
export const DEFAULT_BACKOFF_LIMIT = 6;
/** upstream DefaultJobPodFailureBackOff / MaxJobPodFailureBackOff. */
export const POD_FAILURE_BACKOFF_MS = 10_000;
export const MAX_POD_FAILURE_BACKOFF_MS = 6 * 60_000;

export interface JobCondition {
  type: string;
  status: string;
  lastProbeTime?: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

export const BACKOFF_LIMIT = {
  reason: "BackoffLimitExceeded",
  message: "Job has reached the specified backoff limit",
};
export const DEADLINE = {
  reason: "DeadlineExceeded",
  message: "Job was active longer than specified deadline",
};
export const COMPLETIONS = {
  reason: "CompletionsReached",
  message: "Reached expected number of succeeded pods",
};

export function condition(job: Job, type: string): JobCondition | undefined {
  return (job.status?.conditions as JobCondition[] | undefined)?.find(
    (c) => c.type === type && c.status === "True",
  );
}

/** Complete or Failed: nothing more to do for this job. */
export function isFinished(job: Job): boolean {
  return !!(condition(job, "Complete") ?? condition(job, "Failed"));
}

/** When the job finished (the transition time of its Complete/Failed condition). */
export function finishedAt(job: Job): number | undefined {
  const c = condition(job, "Complete") ?? condition(job, "Failed");
  return timeOf(c?.lastTransitionTime);
}

export const isActive = (p: Pod) =>
  !p.metadata?.deletionTimestamp && p.status?.phase !== "Succeeded" && p.status?.phase !== "Failed";

/** A pod that counts as failed: phase Failed, or deleted before it succeeded (upstream with finalizer tracking). */
export function countsAsFailed(p: Pod): boolean {
  return p.status?.phase === "Failed" || (!!p.metadata?.deletionTimestamp && p.status?.phase !== "Succeeded");
}

/** How many pods should run now (without completions, once one succeeded the running ones are left alone). */
export function wantedActive(job: Job, succeeded: number, active: number): number {
  const parallelism = job.spec?.parallelism ?? 1;
  const completions = job.spec?.completions;
  if (completions === undefined || completions === null)
    return succeeded > 0 ? Math.min(active, parallelism) : parallelism;
  return Math.max(0, Math.min(parallelism, completions - succeeded));
}

export function successReached(job: Job, succeeded: number, active: number): boolean {
  const completions = job.spec?.completions;
  if (completions === undefined || completions === null) return succeeded > 0 && active === 0;
  return succeeded >= completions;
}

/**
 * Why the job fails, if it does: more failures than backoffLimit (for OnFailure pods container restarts
 * count too), or running longer than activeDeadlineSeconds since startTime.
 */
export function failureReason(
  job: Job,
  failed: number,
  activePods: readonly Pod[],
  now: number,
): typeof BACKOFF_LIMIT | undefined {
  const limit = job.spec?.backoffLimit ?? DEFAULT_BACKOFF_LIMIT;
  const restarts =
    job.spec?.template?.spec?.restartPolicy === "OnFailure"
      ? activePods.reduce((n, p) => n + podRestarts(p), 0)
      : 0;
  if (failed + restarts > limit) return BACKOFF_LIMIT;
  const deadline = job.spec?.activeDeadlineSeconds;
  const start = timeOf(job.status?.startTime);
  if (deadline !== undefined && deadline !== null && start !== undefined && now - start >= deadline * 1000)
    return DEADLINE;
  return undefined;
}

/** ms until the deadline passes (undefined without one). */
export function deadlineRemainingMs(job: Job, now: number): number | undefined {
  const deadline = job.spec?.activeDeadlineSeconds;
  const start = timeOf(job.status?.startTime);
  if (deadline === undefined || deadline === null || start === undefined) return undefined;
  return Math.max(0, start + deadline * 1000 - now);
}

/**
 * upstream's pod failure backoff: after n consecutive failures, replacements wait 10 s × 2^(n−1) (at most
 * 6 min) from the last failure. Returns ms still to wait (0 = go).
 */
export function failureBackoffMs(failedPods: readonly Pod[], now: number): number {
  if (failedPods.length === 0) return 0;
  let last = 0;
  for (const p of failedPods) {
    let t = 0;
    for (const s of p.status?.containerStatuses ?? [])
      t = Math.max(t, timeOf(s.state?.terminated?.finishedAt) ?? 0);
    t = Math.max(t, timeOf(p.metadata?.deletionTimestamp) ?? 0);
    last = Math.max(last, t || (timeOf(p.metadata?.creationTimestamp) ?? 0));
  }
  const delay = Math.min(MAX_POD_FAILURE_BACKOFF_MS, POD_FAILURE_BACKOFF_MS * 2 ** (failedPods.length - 1));
  return Math.max(0, last + delay - now);
}
