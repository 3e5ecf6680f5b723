// The Deployment controller (upstream pkg/controller/deployment): owns ReplicaSets, one per pod template
// revision; rolls between them with RollingUpdate (maxSurge/maxUnavailable) or Recreate; scales
// proportionally mid-rollout; pauses and resumes; keeps revisionHistoryLimit old ReplicaSets; and reports
// Available/Progressing conditions with upstream's reasons, timing out after progressDeadlineSeconds.
// Rollback (`kubectl rollout undo`) is client-side: kubectl copies an old ReplicaSet's template back.
import type { Logger } from "pino";
import { isAlreadyExists, isConflict, isNotFound } from "../../../api/client/errors.ts";
import { type EventRecorder, referenceTo } from "../../../api/client/events.ts";
import type { Deployment, ReplicaSet } from "../../../api/schema/apps/types.ts";
import type { Pod } from "../../../api/schema/core/pod-types.ts";
import { selectorMatches } from "../../../api/schema/index.ts";
import { k8sTime } from "../../../util/time.ts";
import { claimObjects } from "../machinery/claim.ts";
import { type ControllerContext, RESOURCES } from "../machinery/context.ts";
import { ControllerLoop, type SyncResult } from "../machinery/controller.ts";
import { CONTROLLER_INDEX, type Informer, NAMESPACE_INDEX } from "../machinery/informer.ts";
import { keyFor, keyOf, splitKey, typed } from "../machinery/keys.ts";
import { messageOf } from "../machinery/pod-control.ts";
import { controllerRef, newControllerRef } from "../machinery/pods.ts";
import {
  activeSets,
  availableSum,
  byCreation,
  calculateStatus,
  DESIRED_REPLICAS_ANNOTATION,
  type DeploymentStatus,
  deploymentComplete,
  desiredReplicasAnnotation,
  FAILED_RS_CREATE_REASON,
  FOUND_NEW_RS_REASON,
  findNewReplicaSet,
  findOldReplicaSets,
  getCondition,
  HASH_LABEL,
  hasProgressDeadline,
  isRolling,
  isSaturated,
  MAX_REPLICAS_ANNOTATION,
  maxRevision,
  maxSurge,
  maxUnavailable,
  NEW_RS_REASON,
  newCondition,
  newReplicaSetAnnotations,
  newRSNewReplicas,
  PAUSED_REASON,
  proportionalScale,
  RESUMED_REASON,
  REVISION_ANNOTATION,
  replicaSetsToClean,
  replicasOf,
  rolloutStatus,
  sameStatus,
  setCondition,
  specReplicasSum,
  statusReplicasSum,
  stuckRequeueMs,
  templateHash,
} from "./util.ts";

const COMPONENT = "deployment-controller";
const KIND = { apiVersion: "apps/v1", kind: "Deployment" } as const;

export class DeploymentController {
  readonly loop: ControllerLoop;
  private readonly ctx: ControllerContext;
  private readonly log: Logger;
  private readonly recorder: EventRecorder;
  private readonly deployments: Informer<Deployment>;
  private readonly replicaSets: Informer<ReplicaSet>;
  private readonly pods: Informer<Pod>;

  constructor(ctx: ControllerContext) {
    this.ctx = ctx;
    this.log = ctx.log.child({ controller: COMPONENT });
    this.recorder = ctx.recorder(COMPONENT);
    this.deployments = ctx.informers.get("deployments");
    this.replicaSets = ctx.informers.get("replicaSets");
    this.pods = ctx.informers.get("pods");
    this.loop = new ControllerLoop({
      name: COMPONENT,
      log: this.log,
      clock: ctx.clock,
      workers: 5,
      sync: (key) => this.sync(key),
    });
    this.deployments.addHandler({
      add: (d) => this.loop.enqueue(keyOf(d)),
      update: (_old, d) => this.loop.enqueue(keyOf(d)),
      delete: (d) => this.loop.enqueue(keyOf(d)),
    });
    this.replicaSets.addHandler({
      add: (rs) => this.rsChanged(rs),
      update: (old, rs) => {
        const oldRef = controllerRef(old);
        if (oldRef && oldRef.uid !== controllerRef(rs)?.uid) this.rsChanged(old);
        this.rsChanged(rs, JSON.stringify(old.metadata?.labels) !== JSON.stringify(rs.metadata?.labels));
      },
      delete: (rs) => this.rsChanged(rs),
    });
    this.pods.addHandler({
      delete: (pod) => {
        // Recreate waits for the old pods to be gone.
        const rsRef = controllerRef(pod);
        if (rsRef?.kind !== "ReplicaSet") return;
        const rs = this.replicaSets.get(keyFor(pod.metadata?.namespace, rsRef.name));
        const d = rs && this.owner(rs);
        if (d && d.spec?.strategy?.type === "Recreate") this.loop.enqueue(keyOf(d));
      },
    });
  }

  run(signal: AbortSignal): Promise<void> {
    return this.loop.run(signal);
  }

  private owner(rs: ReplicaSet): Deployment | undefined {
    const ref = controllerRef(rs);
    if (ref?.kind !== "Deployment") return undefined;
    const d = this.deployments.get(keyFor(rs.metadata?.namespace, ref.name));
    return d?.metadata?.uid === ref.uid ? d : undefined;
  }

  private rsChanged(rs: ReplicaSet, labelsChanged = true): void {
    if (controllerRef(rs)) {
      const d = this.owner(rs);
      if (d) this.loop.enqueue(keyOf(d));
      return;
    }
    if (!labelsChanged) return;
    for (const d of this.deployments.byIndex(NAMESPACE_INDEX, rs.metadata?.namespace ?? "")) {
      const sel = d.spec?.selector;
      if (sel && selectorMatches(sel, rs.metadata?.labels)) this.loop.enqueue(keyOf(d));
    }
  }

  // Sync ----------------------------------------------------------------------------------------------------

  private async sync(key: string): Promise<SyncResult | undefined> {
    const cached = this.deployments.get(key);
    if (!cached) return undefined;
    let d = structuredClone(typed(cached, KIND.apiVersion, KIND.kind));
    const sel = d.spec?.selector;
    if (
      !sel ||
      (Object.keys(sel.matchLabels ?? {}).length === 0 && (sel.matchExpressions ?? []).length === 0)
    ) {
      this.recorder.record(
        referenceTo(d),
        "Warning",
        "SelectingAll",
        "This deployment is selecting all pods. A non-empty selector is required.",
      );
      if ((d.status?.observedGeneration ?? 0) < (d.metadata?.generation ?? 0)) {
        await this.writeStatus(d, { ...d.status, observedGeneration: d.metadata?.generation });
      }
      return undefined;
    }
    const { namespace } = splitKey(key);
    const rsList = await claimObjects(this.replicaSets.byIndex(NAMESPACE_INDEX, namespace), {
      client: this.ctx.client,
      owner: d,
      ownerRef: { ...RESOURCES.deployments, namespace, name: d.metadata?.name },
      ownerApiVersion: KIND.apiVersion,
      ownerKind: KIND.kind,
      objectRef: RESOURCES.replicaSets,
      match: (rs) => selectorMatches(sel, rs.metadata?.labels),
    });
    if (d.metadata?.deletionTimestamp) return this.syncStatusOnly(d, rsList);
    d = await this.checkPausedConditions(d);
    if (d.spec?.paused) return this.syncScaling(d, rsList);
    if (await this.isScalingEvent(d, rsList)) return this.syncScaling(d, rsList);
    return d.spec?.strategy?.type === "Recreate"
      ? this.rolloutRecreate(d, rsList)
      : this.rolloutRolling(d, rsList);
  }

  private now(): { ms: number; text: string } {
    const ms = this.ctx.clock.now();
    return { ms, text: k8sTime(ms) };
  }

  // New and old ReplicaSets ------------------------------------------------------------------------------------

  /** upstream getAllReplicaSetsAndSyncRevision; `d` is updated in place when its revision or conditions change. */
  private async replicaSetsAndRevision(
    d: Deployment,
    rsList: ReplicaSet[],
    create: boolean,
  ): Promise<{ newRS: ReplicaSet | undefined; oldRSs: ReplicaSet[] }> {
    const existing = findNewReplicaSet(d, rsList);
    const oldRSs = findOldReplicaSets(rsList, existing);
    const newRS = await this.newReplicaSet(d, rsList, oldRSs, existing, create);
    return { newRS, oldRSs };
  }

  private async newReplicaSet(
    d: Deployment,
    rsList: ReplicaSet[],
    oldRSs: ReplicaSet[],
    existing: ReplicaSet | undefined,
    create: boolean,
  ): Promise<ReplicaSet | undefined> {
    const newRevision = maxRevision(oldRSs) + 1;
    const namespace = d.metadata?.namespace ?? "";
    if (existing) {
      let rs = existing;
      const annotations = newReplicaSetAnnotations(d, rs, newRevision);
      const minReadyChanged = (rs.spec?.minReadySeconds ?? 0) !== (d.spec?.minReadySeconds ?? 0);
      if (JSON.stringify(annotations) !== JSON.stringify(rs.metadata?.annotations ?? {}) || minReadyChanged) {
        const copy = structuredClone(rs);
        copy.metadata = { ...copy.metadata, annotations };
        copy.spec = { ...copy.spec, minReadySeconds: d.spec?.minReadySeconds ?? 0 } as ReplicaSet["spec"];
        rs = await this.ctx.client.update<ReplicaSet>(
          { ...RESOURCES.replicaSets, namespace, name: rs.metadata?.name },
          copy,
        );
      }
      await this.setRevision(d, rs.metadata?.annotations?.[REVISION_ANNOTATION] ?? String(newRevision));
      if (hasProgressDeadline(d) && !getCondition(d.status, "Progressing")) {
        const status = structuredClone(d.status ?? {}) as DeploymentStatus;
        setCondition(
          status,
          newCondition(
            "Progressing",
            "True",
            FOUND_NEW_RS_REASON,
            `Found new replica set "${rs.metadata?.name}"`,
            this.now().text,
          ),
        );
        await this.writeStatus(d, status);
      }
      return rs;
    }
    if (!create) return undefined;

    const hash = templateHash(d.spec?.template, d.status?.collisionCount);
    const template = structuredClone(d.spec?.template ?? {});
    template.metadata = {
      ...template.metadata,
      labels: { ...(template.metadata?.labels ?? {}), [HASH_LABEL]: hash },
    };
    const selector = structuredClone(d.spec?.selector ?? {});
    selector.matchLabels = { ...(selector.matchLabels ?? {}), [HASH_LABEL]: hash };
    const name = `${d.metadata?.name}-${hash}`;
    const candidate: ReplicaSet = {
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: {
        name,
        namespace,
        labels: { ...(template.metadata?.labels ?? {}) },
        annotations: newReplicaSetAnnotations(d, undefined, newRevision),
        ownerReferences: [newControllerRef(d, KIND.apiVersion, KIND.kind)],
      },
      spec: { replicas: 0, minReadySeconds: d.spec?.minReadySeconds ?? 0, selector, template },
    } as ReplicaSet;
    const replicas = newRSNewReplicas(d, [...oldRSs, candidate], candidate);
    (candidate.spec as { replicas: number }).replicas = replicas;

    let created: ReplicaSet;
    try {
      created = await this.ctx.client.create<ReplicaSet>({ ...RESOURCES.replicaSets, namespace }, candidate);
    } catch (error) {
      if (isAlreadyExists(error)) {
        const found = await this.ctx.client.get<ReplicaSet>({ ...RESOURCES.replicaSets, namespace, name });
        const mine = controllerRef(found)?.uid === d.metadata?.uid;
        if (mine && findNewReplicaSet(d, [found])) return found; // our own create, not yet in the informer
        // A hash collision: bump collisionCount so the next attempt picks another name.
        const status = structuredClone(d.status ?? {}) as DeploymentStatus;
        status.collisionCount = (status.collisionCount ?? 0) + 1;
        await this.writeStatus(d, status);
        throw new Error(
          `replica set ${namespace}/${name} exists and is not the new one of deployment ${d.metadata?.name}: collision count now ${status.collisionCount}`,
        );
      }
      const message = `Failed to create new replica set "${name}": ${messageOf(error)}`;
      if (hasProgressDeadline(d)) {
        const status = structuredClone(d.status ?? {}) as DeploymentStatus;
        setCondition(
          status,
          newCondition("Progressing", "False", FAILED_RS_CREATE_REASON, message, this.now().text),
        );
        await this.writeStatus(d, status).catch(() => undefined);
      }
      this.recorder.record(referenceTo(d), "Warning", "FailedCreate", message);
      throw error;
    }
    if (replicas > 0) {
      this.recorder.record(
        referenceTo(d),
        "Normal",
        "ScalingReplicaSet",
        `Scaled up replica set ${name} from 0 to ${replicas}`,
      );
    }
    await this.setRevision(d, String(newRevision));
    if (hasProgressDeadline(d)) {
      const status = structuredClone(d.status ?? {}) as DeploymentStatus;
      setCondition(
        status,
        newCondition(
          "Progressing",
          "True",
          NEW_RS_REASON,
          `Created new replica set "${name}"`,
          this.now().text,
        ),
      );
      await this.writeStatus(d, status);
    }
    rsList.push(created);
    return created;
  }

  /** Sets the deployment's revision annotation (a metadata update of the main resource). */
  private async setRevision(d: Deployment, revision: string): Promise<void> {
    if (d.metadata?.annotations?.[REVISION_ANNOTATION] === revision) return;
    const copy = structuredClone(d);
    copy.metadata = {
      ...copy.metadata,
      annotations: { ...(copy.metadata?.annotations ?? {}), [REVISION_ANNOTATION]: revision },
    };
    const updated = await this.ctx.client.update<Deployment>(
      { ...RESOURCES.deployments, namespace: d.metadata?.namespace, name: d.metadata?.name },
      copy,
    );
    Object.assign(d, typed(updated, KIND.apiVersion, KIND.kind));
  }

  private async writeStatus(d: Deployment, status: DeploymentStatus): Promise<void> {
    const updated = await this.ctx.client.update<Deployment>(
      {
        ...RESOURCES.deployments,
        namespace: d.metadata?.namespace,
        name: d.metadata?.name,
        subresource: "status",
      },
      { ...d, status },
    );
    Object.assign(d, typed(updated, KIND.apiVersion, KIND.kind));
  }

  // Scaling ---------------------------------------------------------------------------------------------------

  /** Resizes a ReplicaSet (and its desired/max annotations); records ScalingReplicaSet like upstream. */
  private async scaleReplicaSet(rs: ReplicaSet, size: number, d: Deployment): Promise<ReplicaSet> {
    const old = replicasOf(rs);
    const desired = String(replicasOf(d));
    const max = String(replicasOf(d) + maxSurge(d));
    const annotationsChange =
      rs.metadata?.annotations?.[DESIRED_REPLICAS_ANNOTATION] !== desired ||
      rs.metadata?.annotations?.[MAX_REPLICAS_ANNOTATION] !== max;
    if (old === size && !annotationsChange) return rs;
    const copy = structuredClone(rs);
    copy.spec = { ...copy.spec, replicas: size } as ReplicaSet["spec"];
    copy.metadata = {
      ...copy.metadata,
      annotations: {
        ...(copy.metadata?.annotations ?? {}),
        [DESIRED_REPLICAS_ANNOTATION]: desired,
        [MAX_REPLICAS_ANNOTATION]: max,
      },
    };
    const updated = await this.ctx.client.update<ReplicaSet>(
      { ...RESOURCES.replicaSets, namespace: rs.metadata?.namespace, name: rs.metadata?.name },
      copy,
    );
    if (old !== size) {
      this.recorder.record(
        referenceTo(d),
        "Normal",
        "ScalingReplicaSet",
        `Scaled ${old < size ? "up" : "down"} replica set ${rs.metadata?.name} from ${old} to ${size}`,
      );
    }
    return updated;
  }

  private async isScalingEvent(d: Deployment, rsList: ReplicaSet[]): Promise<boolean> {
    const { newRS, oldRSs } = await this.replicaSetsAndRevision(d, rsList, false);
    const all = newRS ? [...oldRSs, newRS] : oldRSs;
    return activeSets(all).some((rs) => {
      const desired = desiredReplicasAnnotation(rs);
      return desired !== undefined && desired !== replicasOf(d);
    });
  }

  /** upstream sync: scaling and paused deployments (no new ReplicaSet is created). */
  private async syncScaling(d: Deployment, rsList: ReplicaSet[]): Promise<SyncResult | undefined> {
    const { newRS, oldRSs } = await this.replicaSetsAndRevision(d, rsList, false);
    const scaled = await this.scale(d, newRS, oldRSs);
    if (d.spec?.paused) await this.cleanup(d, scaled.oldRSs);
    const all = scaled.newRS ? [...scaled.oldRSs, scaled.newRS] : scaled.oldRSs;
    const status = calculateStatus(d, all, scaled.newRS, this.now().text);
    if (!sameStatus(d.status, status)) await this.writeStatus(d, status);
    return undefined;
  }

  private async scale(
    d: Deployment,
    newRS: ReplicaSet | undefined,
    oldRSs: ReplicaSet[],
  ): Promise<{ newRS: ReplicaSet | undefined; oldRSs: ReplicaSet[] }> {
    const replace = (rs: ReplicaSet, updated: ReplicaSet) => {
      if (newRS && rs.metadata?.uid === newRS.metadata?.uid) newRS = updated;
      oldRSs = oldRSs.map((o) => (o.metadata?.uid === rs.metadata?.uid ? updated : o));
    };
    // One active (or only the latest) ReplicaSet: it simply gets the deployment's size.
    const sortedOld = [...oldRSs].sort((a, b) => byCreation(b, a));
    const all = newRS ? [...sortedOld, newRS] : sortedOld;
    const active = activeSets(all);
    let single: ReplicaSet | undefined;
    if (newRS || oldRSs.length > 0) {
      if (active.length === 0) single = newRS ?? sortedOld[0];
      else if (active.length === 1) single = active[0];
    }
    if (single) {
      if (replicasOf(single) !== replicasOf(d))
        replace(single, await this.scaleReplicaSet(single, replicasOf(d), d));
      return { newRS, oldRSs };
    }
    if (isSaturated(d, newRS)) {
      for (const rs of activeSets(oldRSs)) replace(rs, await this.scaleReplicaSet(rs, 0, d));
      return { newRS, oldRSs };
    }
    if (isRolling(d)) {
      const sizes = proportionalScale(d, active);
      for (const rs of active) {
        const size = sizes.get(rs.metadata?.uid ?? "") ?? replicasOf(rs);
        if (size !== replicasOf(rs)) replace(rs, await this.scaleReplicaSet(rs, size, d));
      }
    }
    return { newRS, oldRSs };
  }

  // Rollouts --------------------------------------------------------------------------------------------------

  private async rolloutRolling(d: Deployment, rsList: ReplicaSet[]): Promise<SyncResult | undefined> {
    let { newRS, oldRSs } = await this.replicaSetsAndRevision(d, rsList, true);
    const wasComplete = deploymentComplete(d, d.status ?? {});
    if (newRS && replicasOf(newRS) !== replicasOf(d)) {
      const all = [...oldRSs, newRS];
      const target = replicasOf(newRS) > replicasOf(d) ? replicasOf(d) : newRSNewReplicas(d, all, newRS);
      if (target !== replicasOf(newRS)) {
        newRS = await this.scaleReplicaSet(newRS, target, d);
        return this.syncRolloutStatus(d, [...oldRSs, newRS], newRS);
      }
    }
    const reconciled = await this.reconcileOldReplicaSets(d, oldRSs, newRS);
    oldRSs = reconciled.oldRSs;
    if (reconciled.scaled) return this.syncRolloutStatus(d, newRS ? [...oldRSs, newRS] : oldRSs, newRS);
    if (wasComplete) await this.cleanup(d, oldRSs);
    return this.syncRolloutStatus(d, newRS ? [...oldRSs, newRS] : oldRSs, newRS);
  }

  /** upstream reconcileOldReplicaSets: first scale down unhealthy old pods, then healthy ones within maxUnavailable. */
  private async reconcileOldReplicaSets(
    d: Deployment,
    oldRSs: ReplicaSet[],
    newRS: ReplicaSet | undefined,
  ): Promise<{ scaled: boolean; oldRSs: ReplicaSet[] }> {
    let old = [...oldRSs];
    const activeOld = () => activeSets(old);
    if (specReplicasSum(activeOld()) === 0) return { scaled: false, oldRSs: old };
    const all = () => (newRS ? [...old, newRS] : old);
    const minAvailable = replicasOf(d) - maxUnavailable(d);
    const newUnavailable = newRS ? replicasOf(newRS) - (newRS.status?.availableReplicas ?? 0) : 0;
    const maxScaledDown = specReplicasSum(all()) - minAvailable - newUnavailable;
    if (maxScaledDown <= 0) return { scaled: false, oldRSs: old };
    const replace = (updated: ReplicaSet) => {
      old = old.map((o) => (o.metadata?.uid === updated.metadata?.uid ? updated : o));
    };
    let total = 0;
    // Unhealthy replicas first: they cost no availability.
    for (const rs of [...activeOld()].sort(byCreation)) {
      if (total >= maxScaledDown) break;
      const unhealthy = replicasOf(rs) - (rs.status?.availableReplicas ?? 0);
      if (unhealthy <= 0) continue;
      const down = Math.min(maxScaledDown - total, unhealthy);
      replace(await this.scaleReplicaSet(rs, replicasOf(rs) - down, d));
      total += down;
    }
    // Then healthy ones, as far as availability allows.
    const available = availableSum(all());
    const allowed = available - minAvailable;
    let downHealthy = 0;
    if (allowed > 0) {
      for (const rs of [...activeOld()].sort(byCreation)) {
        if (downHealthy >= allowed) break;
        const down = Math.min(replicasOf(rs), allowed - downHealthy);
        if (down <= 0) continue;
        replace(await this.scaleReplicaSet(rs, replicasOf(rs) - down, d));
        downHealthy += down;
      }
    }
    return { scaled: total + downHealthy > 0, oldRSs: old };
  }

  private async rolloutRecreate(d: Deployment, rsList: ReplicaSet[]): Promise<SyncResult | undefined> {
    let { newRS, oldRSs } = await this.replicaSetsAndRevision(d, rsList, false);
    const wasComplete = deploymentComplete(d, d.status ?? {});
    let scaledDown = false;
    const old: ReplicaSet[] = [];
    for (const rs of oldRSs) {
      if (replicasOf(rs) > 0) {
        old.push(await this.scaleReplicaSet(rs, 0, d));
        scaledDown = true;
      } else old.push(rs);
    }
    oldRSs = old;
    if (scaledDown || this.oldPodsRunning(oldRSs)) {
      return this.syncRolloutStatus(d, newRS ? [...oldRSs, newRS] : oldRSs, newRS);
    }
    if (!newRS) ({ newRS, oldRSs } = await this.replicaSetsAndRevision(d, rsList, true));
    if (newRS && replicasOf(newRS) !== replicasOf(d))
      newRS = await this.scaleReplicaSet(newRS, replicasOf(d), d);
    if (wasComplete) await this.cleanup(d, oldRSs);
    return this.syncRolloutStatus(d, newRS ? [...oldRSs, newRS] : oldRSs, newRS);
  }

  /** upstream oldPodsRunning: old ReplicaSets still report pods, or pods of theirs still exist unfinished. */
  private oldPodsRunning(oldRSs: ReplicaSet[]): boolean {
    if (statusReplicasSum(oldRSs) > 0) return true;
    for (const rs of oldRSs) {
      for (const pod of this.pods.byIndex(CONTROLLER_INDEX, rs.metadata?.uid ?? "")) {
        const phase = pod.status?.phase;
        if (phase !== "Failed" && phase !== "Succeeded") return true;
      }
    }
    return false;
  }

  private async syncRolloutStatus(
    d: Deployment,
    all: ReplicaSet[],
    newRS: ReplicaSet | undefined,
  ): Promise<SyncResult | undefined> {
    const { ms, text } = this.now();
    const status = rolloutStatus(d, all, newRS, ms, text);
    if (!sameStatus(d.status, status)) await this.writeStatus(d, status);
    const after = stuckRequeueMs(d, status, ms);
    return after >= 0 ? { requeueAfterMs: after + 100 } : undefined;
  }

  private async syncStatusOnly(d: Deployment, rsList: ReplicaSet[]): Promise<SyncResult | undefined> {
    const { newRS, oldRSs } = await this.replicaSetsAndRevision(d, rsList, false);
    const all = newRS ? [...oldRSs, newRS] : oldRSs;
    const status = calculateStatus(d, all, newRS, this.now().text);
    if (!sameStatus(d.status, status))
      await this.writeStatus(d, status).catch((e) => (isNotFound(e) ? undefined : Promise.reject(e)));
    return undefined;
  }

  /** Progressing=Unknown DeploymentPaused/DeploymentResumed as the deployment is paused and resumed. */
  private async checkPausedConditions(d: Deployment): Promise<Deployment> {
    if (!hasProgressDeadline(d)) return d;
    const cond = getCondition(d.status, "Progressing");
    const pausedCond = cond?.reason === PAUSED_REASON;
    const status = structuredClone(d.status ?? {}) as DeploymentStatus;
    if (d.spec?.paused && !pausedCond) {
      setCondition(
        status,
        newCondition("Progressing", "Unknown", PAUSED_REASON, "Deployment is paused", this.now().text),
      );
    } else if (!d.spec?.paused && pausedCond) {
      setCondition(
        status,
        newCondition("Progressing", "Unknown", RESUMED_REASON, "Deployment is resumed", this.now().text),
      );
    } else {
      return d;
    }
    try {
      await this.writeStatus(d, status);
    } catch (error) {
      if (!isConflict(error)) throw error;
    }
    return d;
  }

  /** Deletes old ReplicaSets beyond revisionHistoryLimit that are scaled down to zero. */
  private async cleanup(d: Deployment, oldRSs: ReplicaSet[]): Promise<void> {
    for (const rs of replicaSetsToClean(d, oldRSs)) {
      this.log.debug(
        { deployment: keyOf(d), replicaSet: rs.metadata?.name },
        "cleaning up an old replica set",
      );
      await this.ctx.client
        .delete({ ...RESOURCES.replicaSets, namespace: rs.metadata?.namespace, name: rs.metadata?.name })
        .catch((error) => {
          if (!isNotFound(error)) throw error;
        });
    }
  }
}
