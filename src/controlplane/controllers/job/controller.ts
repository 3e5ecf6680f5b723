// The Job controller (upstream pkg/controller/job, NonIndexed jobs): runs pods until `completions` succeed
// with at most `parallelism` at once; replaces failed pods after a growing backoff; fails the job past
// backoffLimit (BackoffLimitExceeded) or activeDeadlineSeconds (DeadlineExceeded), first with a
// FailureTarget condition while its pods are stopped, then Failed; completes with SuccessCriteriaMet then
// Complete. Finished pods are counted exactly once through the batch.kubernetes.io/job-tracking finalizer
// and status.uncountedTerminatedPods, as upstream does, so a pod deleted after finishing is never lost.
import type { Logger } from "pino";
import { isNotFound } from "../../../api/client/errors.ts";
import { type EventRecorder, referenceTo } from "../../../api/client/events.ts";
import type { Job } from "../../../api/schema/batch/types.ts";
import type { Pod } from "../../../api/schema/core/pod-types.ts";
import { selectorMatches } from "../../../api/schema/index.ts";
import { k8sTime } from "../../../util/time.ts";
import { claimObjects } from "../machinery/claim.ts";
import { type ControllerContext, RESOURCES } from "../machinery/context.ts";
import { ControllerLoop, type SyncResult } from "../machinery/controller.ts";
import { Expectations } from "../machinery/expectations.ts";
import { type Informer, NAMESPACE_INDEX } from "../machinery/informer.ts";
import { keyFor, keyOf, splitKey, typed } from "../machinery/keys.ts";
import { PodControl, podFromTemplate, podNamePrefix } from "../machinery/pod-control.ts";
import { controllerRef, isPodReady, newControllerRef } from "../machinery/pods.ts";
import { slowStartBatch } from "../machinery/util.ts";
import { podsToDelete } from "../replicaset/planner.ts";
import {
  COMPLETIONS,
  condition,
  countsAsFailed,
  deadlineRemainingMs,
  failureBackoffMs,
  failureReason,
  isActive,
  isFinished,
  type JobCondition,
  successReached,
  TRACKING_FINALIZER,
  wantedActive,
} from "./planner.ts";

const COMPONENT = "job-controller";
const KIND = { apiVersion: "batch/v1", kind: "Job" } as const;
const ORPHAN_PREFIX = "orphan-pod:";

type JobStatus = NonNullable<Job["status"]>;

export class JobController {
  readonly loop: ControllerLoop;
  private readonly ctx: ControllerContext;
  private readonly log: Logger;
  private readonly recorder: EventRecorder;
  private readonly jobs: Informer<Job>;
  private readonly pods: Informer<Pod>;
  private readonly expectations: Expectations;
  private readonly podControl: PodControl;

  constructor(ctx: ControllerContext) {
    this.ctx = ctx;
    this.log = ctx.log.child({ controller: COMPONENT });
    this.recorder = ctx.recorder(COMPONENT);
    this.jobs = ctx.informers.get("jobs");
    this.pods = ctx.informers.get("pods");
    this.expectations = new Expectations(ctx.clock);
    this.podControl = new PodControl(ctx.client, this.recorder);
    this.loop = new ControllerLoop({
      name: COMPONENT,
      log: this.log,
      clock: ctx.clock,
      workers: 5,
      sync: (key) => this.sync(key),
    });
    this.jobs.addHandler({
      add: (j) => this.loop.enqueue(keyOf(j)),
      update: (_o, j) => this.loop.enqueue(keyOf(j)),
      delete: (j) => {
        this.expectations.delete(keyOf(j));
        // Its pods may still carry the tracking finalizer: release them.
        for (const pod of this.pods.byIndex(NAMESPACE_INDEX, j.metadata?.namespace ?? "")) {
          if (controllerRef(pod)?.uid === j.metadata?.uid) this.loop.enqueue(ORPHAN_PREFIX + keyOf(pod));
        }
      },
    });
    this.pods.addHandler({
      add: (pod) => this.podChanged(pod, true),
      update: (_old, pod) => this.podChanged(pod, false),
      delete: (pod) => {
        const job = this.resolve(pod);
        if (!job) return;
        this.expectations.deletionObserved(keyOf(job), keyOf(pod));
        this.loop.enqueue(keyOf(job));
      },
    });
  }

  run(signal: AbortSignal): Promise<void> {
    return this.loop.run(signal);
  }

  private resolve(pod: Pod): Job | undefined {
    const ref = controllerRef(pod);
    if (ref?.kind !== "Job") return undefined;
    const job = this.jobs.get(keyFor(pod.metadata?.namespace, ref.name));
    return job?.metadata?.uid === ref.uid ? job : undefined;
  }

  private podChanged(pod: Pod, added: boolean): void {
    const job = this.resolve(pod);
    if (job) {
      if (added) this.expectations.creationObserved(keyOf(job));
      if (pod.metadata?.deletionTimestamp) this.expectations.deletionObserved(keyOf(job), keyOf(pod));
      this.loop.enqueue(keyOf(job));
      return;
    }
    if (controllerRef(pod)?.kind === "Job" && pod.metadata?.finalizers?.includes(TRACKING_FINALIZER)) {
      this.loop.enqueue(ORPHAN_PREFIX + keyOf(pod));
    }
  }

  private now(): { ms: number; text: string } {
    const ms = this.ctx.clock.now();
    return { ms, text: k8sTime(ms) };
  }

  private async sync(key: string): Promise<SyncResult | undefined> {
    if (key.startsWith(ORPHAN_PREFIX)) return this.releaseOrphan(key.slice(ORPHAN_PREFIX.length));
    const cached = this.jobs.get(key);
    if (!cached) {
      this.expectations.delete(key);
      return undefined;
    }
    const job = structuredClone(typed(cached, KIND.apiVersion, KIND.kind));
    const { namespace } = splitKey(key);
    const selector = job.spec?.selector;
    const pods = selector
      ? await claimObjects(this.pods.byIndex(NAMESPACE_INDEX, namespace), {
          client: this.ctx.client,
          owner: job,
          ownerRef: { ...RESOURCES.jobs, namespace, name: job.metadata?.name },
          ownerApiVersion: KIND.apiVersion,
          ownerKind: KIND.kind,
          objectRef: RESOURCES.pods,
          match: (pod) => selectorMatches(selector, pod.metadata?.labels),
        })
      : [];
    const { ms: now, text: nowText } = this.now();
    const status: JobStatus = structuredClone(job.status ?? {});

    // Count finished pods exactly once: record them as uncounted, drop their finalizers, then count them.
    await this.trackFinishedPods(job, pods, status);

    if (isFinished(job)) {
      await this.writeStatusIfChanged(job, status);
      return undefined;
    }
    const active = pods.filter(isActive);
    const terminating = pods.filter(
      (p) =>
        !!p.metadata?.deletionTimestamp && p.status?.phase !== "Succeeded" && p.status?.phase !== "Failed",
    );
    const succeeded = status.succeeded ?? 0;
    const failed = status.failed ?? 0;
    if (!status.startTime && !job.spec?.suspend) status.startTime = nowText;

    let requeueAfterMs: number | undefined;
    const failureTarget = condition(job, "FailureTarget");
    const successTarget = condition(job, "SuccessCriteriaMet");
    const failure = failureTarget
      ? { reason: failureTarget.reason ?? "", message: failureTarget.message ?? "" }
      : successTarget
        ? undefined
        : failureReason({ ...job, status }, failed, active, now);

    if (failure) {
      setCondition(status, "FailureTarget", failure, nowText);
      await this.deletePods(job, active);
      if (active.length === 0 && terminating.length === 0) {
        setCondition(status, "Failed", failure, nowText);
        this.recorder.record(referenceTo(job), "Warning", failure.reason, failure.message);
      }
    } else if (successTarget || successReached(job, succeeded, active.length)) {
      setCondition(status, "SuccessCriteriaMet", COMPLETIONS, nowText);
      await this.deletePods(job, active);
      if (active.length === 0 && terminating.length === 0) {
        setCondition(status, "Complete", COMPLETIONS, nowText);
        status.completionTime = nowText;
        this.recorder.record(referenceTo(job), "Normal", "Completed", "Job completed");
      }
    } else if (job.spec?.suspend) {
      await this.deletePods(job, active);
      if (!condition(job, "Suspended")) {
        setCondition(status, "Suspended", { reason: "JobSuspended", message: "Job suspended" }, nowText);
        this.recorder.record(referenceTo(job), "Normal", "Suspended", "Job suspended");
      }
    } else {
      if (condition(job, "Suspended")) {
        setCondition(status, "Suspended", { reason: "JobResumed", message: "Job resumed" }, nowText, "False");
        this.recorder.record(referenceTo(job), "Normal", "Resumed", "Job resumed");
      }
      requeueAfterMs = await this.managePods(key, job, active, pods, succeeded, now);
      const deadline = deadlineRemainingMs({ ...job, status }, now);
      if (deadline !== undefined) requeueAfterMs = Math.min(requeueAfterMs ?? deadline, deadline + 100);
    }
    const remaining = pods.filter(isActive);
    status.active = remaining.filter((p) => !p.metadata?.deletionTimestamp).length;
    status.ready = remaining.filter(isPodReady).length;
    status.terminating = terminating.length;
    await this.writeStatusIfChanged(job, status);
    return requeueAfterMs !== undefined ? { requeueAfterMs } : undefined;
  }

  /** Creates or deletes pods towards the wanted number, after the failure backoff. Returns a requeue delay. */
  private async managePods(
    key: string,
    job: Job,
    active: Pod[],
    all: Pod[],
    succeeded: number,
    now: number,
  ): Promise<number | undefined> {
    if (!this.expectations.satisfied(key)) return undefined;
    const want = wantedActive(job, succeeded, active.length);
    const diff = active.length - want;
    if (diff > 0) {
      const victims = podsToDelete(active, active, diff);
      this.expectations.expectDeletions(key, victims.map(keyOf));
      await this.deletePods(job, victims);
      return undefined;
    }
    if (diff === 0) return undefined;
    const wait = failureBackoffMs(all.filter(countsAsFailed), now);
    if (wait > 0) return wait;
    const count = -diff;
    this.expectations.expectCreations(key, count);
    const template = structuredClone(job.spec?.template ?? {});
    const ref = newControllerRef(job, KIND.apiVersion, KIND.kind);
    const prefix = podNamePrefix(job.metadata?.name ?? "");
    const { successes, error } = await slowStartBatch(count, 1, async () => {
      const pod = podFromTemplate(template, job.metadata?.namespace ?? "", prefix, ref);
      pod.metadata = {
        ...pod.metadata,
        finalizers: [...(pod.metadata?.finalizers ?? []), TRACKING_FINALIZER],
      };
      await this.podControl.create(job, pod);
    });
    for (let i = successes; i < count; i++) this.expectations.creationObserved(key);
    if (error) throw error;
    return undefined;
  }

  private async deletePods(job: Job, pods: readonly Pod[]): Promise<void> {
    const results = await Promise.allSettled(
      pods.filter((p) => !p.metadata?.deletionTimestamp).map((p) => this.podControl.delete(job, p)),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
  }

  /**
   * upstream trackJobStatusAndRemoveFinalizers: finished pods still holding the finalizer are written to
   * status.uncountedTerminatedPods first, then released, then moved into succeeded/failed.
   */
  private async trackFinishedPods(job: Job, pods: Pod[], status: JobStatus): Promise<void> {
    const uncounted = {
      succeeded: [...(status.uncountedTerminatedPods?.succeeded ?? [])],
      failed: [...(status.uncountedTerminatedPods?.failed ?? [])],
    };
    const known = new Set([...uncounted.succeeded, ...uncounted.failed]);
    let added = false;
    for (const pod of pods) {
      const uid = pod.metadata?.uid ?? "";
      if (!pod.metadata?.finalizers?.includes(TRACKING_FINALIZER) || known.has(uid)) continue;
      if (pod.status?.phase === "Succeeded") uncounted.succeeded.push(uid);
      else if (countsAsFailed(pod)) uncounted.failed.push(uid);
      else continue;
      known.add(uid);
      added = true;
    }
    if (known.size === 0) return;
    if (added) {
      status.uncountedTerminatedPods = uncounted;
      await this.writeStatus(job, status);
    }
    for (const pod of pods) {
      if (known.has(pod.metadata?.uid ?? "") && pod.metadata?.finalizers?.includes(TRACKING_FINALIZER))
        await this.removeFinalizer(pod);
    }
    status.succeeded = (status.succeeded ?? 0) + uncounted.succeeded.length;
    status.failed = (status.failed ?? 0) + uncounted.failed.length;
    status.uncountedTerminatedPods = {};
    await this.writeStatus(job, status);
  }

  private async removeFinalizer(pod: Pod): Promise<void> {
    const finalizers = (pod.metadata?.finalizers ?? []).filter((f) => f !== TRACKING_FINALIZER);
    await this.ctx.client
      .patch({ ...RESOURCES.pods, namespace: pod.metadata?.namespace, name: pod.metadata?.name }, "json", [
        { op: "test", path: "/metadata/uid", value: pod.metadata?.uid },
        { op: "replace", path: "/metadata/finalizers", value: finalizers },
      ])
      .catch((error) => {
        if (!isNotFound(error)) throw error;
      });
  }

  private async releaseOrphan(podKey: string): Promise<undefined> {
    const pod = this.pods.get(podKey);
    if (!pod?.metadata?.finalizers?.includes(TRACKING_FINALIZER)) return undefined;
    if (this.resolve(pod)) return undefined;
    await this.removeFinalizer(pod);
    return undefined;
  }

  private async writeStatus(job: Job, status: JobStatus): Promise<void> {
    const updated = await this.ctx.client.update<Job>(
      {
        ...RESOURCES.jobs,
        namespace: job.metadata?.namespace,
        name: job.metadata?.name,
        subresource: "status",
      },
      { ...job, status },
    );
    Object.assign(job, typed(updated, KIND.apiVersion, KIND.kind));
  }

  private async writeStatusIfChanged(job: Job, status: JobStatus): Promise<void> {
    if (JSON.stringify(job.status ?? {}) === JSON.stringify(status)) return;
    await this.writeStatus(job, status).catch((error) => {
      if (!isNotFound(error)) throw error;
    });
  }
}

function setCondition(
  status: JobStatus,
  type: string,
  why: { reason: string; message: string },
  now: string,
  value: "True" | "False" = "True",
): void {
  const conditions = [...((status.conditions as JobCondition[] | undefined) ?? [])];
  const current = conditions.find((c) => c.type === type);
  if (current?.status === value && current.reason === why.reason) return;
  const next: JobCondition = {
    type,
    status: value,
    lastProbeTime: now,
    lastTransitionTime: now,
    reason: why.reason,
    message: why.message,
  };
  status.conditions = [...conditions.filter((c) => c.type !== type), next] as JobStatus["conditions"];
}
