// The ReplicaSet and ReplicationController controllers (upstream pkg/controller/replicaset, which also
// runs ReplicationControllers through an adapter): keep `spec.replicas` active pods matching the selector,
// adopting orphans and releasing pods that stopped matching, creating in slow-start batches and deleting
// the least valuable pods first, with expectations so a lagging watch never doubles a create or delete.
import type { Logger } from "pino";
import type { ResourceRef } from "../../../api/client/client.ts";
import { isConflict, isNotFound } from "../../../api/client/errors.ts";
import type { KubeObject } from "../../../api/resource.ts";
import type { ReplicaSet } from "../../../api/schema/apps/types.ts";
import type { Pod, PodTemplateSpec } from "../../../api/schema/core/pod-types.ts";
import type { ReplicationController } from "../../../api/schema/core/replicationcontroller.ts";
import { selectorMatches } from "../../../api/schema/index.ts";
import { k8sTime } from "../../../util/time.ts";
import { claimObjects } from "../machinery/claim.ts";
import { type ControllerContext, RESOURCES } from "../machinery/context.ts";
import { ControllerLoop, type SyncResult } from "../machinery/controller.ts";
import { Expectations } from "../machinery/expectations.ts";
import { CONTROLLER_INDEX, type Informer, NAMESPACE_INDEX } from "../machinery/informer.ts";
import { keyFor, keyOf, splitKey, typed } from "../machinery/keys.ts";
import { messageOf, PodControl, podFromTemplate, podNamePrefix } from "../machinery/pod-control.ts";
import { controllerRef, isPodActive, isPodReady, newControllerRef } from "../machinery/pods.ts";
import { slowStartBatch } from "../machinery/util.ts";
import { calculateReplicaStatus, podsToDelete, type ReplicaStatus, sameReplicaStatus } from "./planner.ts";

/** upstream BurstReplicas: at most this many creates or deletes per sync. */
export const BURST_REPLICAS = 500;

type Replicated = ReplicaSet | ReplicationController;

/** What differs between ReplicaSets and ReplicationControllers. */
interface ReplicaKind {
  component: string;
  apiVersion: string;
  kind: string;
  ref: ResourceRef;
  informer(ctx: ControllerContext): Informer<Replicated>;
  matches(obj: Replicated, labels: Record<string, string> | undefined): boolean;
}

export const REPLICA_SET_KIND: ReplicaKind = {
  component: "replicaset-controller",
  apiVersion: "apps/v1",
  kind: "ReplicaSet",
  ref: RESOURCES.replicaSets,
  informer: (ctx) => ctx.informers.get("replicaSets") as Informer<Replicated>,
  matches(obj, labels) {
    const selector = (obj as ReplicaSet).spec?.selector;
    if (!selector) return false;
    if (
      Object.keys(selector.matchLabels ?? {}).length === 0 &&
      (selector.matchExpressions ?? []).length === 0
    )
      return false;
    return selectorMatches(selector, labels);
  },
};

export const REPLICATION_CONTROLLER_KIND: ReplicaKind = {
  component: "replication-controller",
  apiVersion: "v1",
  kind: "ReplicationController",
  ref: RESOURCES.replicationControllers,
  informer: (ctx) => ctx.informers.get("replicationControllers") as Informer<Replicated>,
  matches(obj, labels) {
    const selector = (obj as ReplicationController).spec?.selector ?? {};
    if (Object.keys(selector).length === 0) return false;
    return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
  },
};

export class ReplicaController {
  readonly loop: ControllerLoop;
  private readonly ctx: ControllerContext;
  private readonly kind: ReplicaKind;
  private readonly log: Logger;
  private readonly owners: Informer<Replicated>;
  private readonly pods: Informer<Pod>;
  private readonly expectations: Expectations;
  private readonly podControl: PodControl;

  constructor(ctx: ControllerContext, kind: ReplicaKind) {
    this.ctx = ctx;
    this.kind = kind;
    this.log = ctx.log.child({ controller: kind.component });
    this.owners = kind.informer(ctx);
    this.pods = ctx.informers.get("pods");
    this.expectations = new Expectations(ctx.clock);
    this.podControl = new PodControl(ctx.client, ctx.recorder(kind.component));
    this.loop = new ControllerLoop({
      name: kind.component,
      log: this.log,
      clock: ctx.clock,
      workers: 5,
      sync: (key) => this.sync(key),
    });
    this.owners.addHandler({
      add: (obj) => this.loop.enqueue(keyOf(obj)),
      update: (_old, obj) => this.loop.enqueue(keyOf(obj)),
      delete: (obj) => {
        this.expectations.delete(keyOf(obj));
        this.loop.enqueue(keyOf(obj));
      },
    });
    this.pods.addHandler({
      add: (pod) => this.podAdded(pod),
      update: (old, pod) => this.podUpdated(old, pod),
      delete: (pod) => this.podDeleted(pod),
    });
  }

  run(signal: AbortSignal): Promise<void> {
    return this.loop.run(signal);
  }

  // Pod events --------------------------------------------------------------------------------------------

  /** The owner a controller reference points at, if it is one of ours and still the same object. */
  private resolve(pod: Pod, ref = controllerRef(pod)): Replicated | undefined {
    if (!ref || ref.kind !== this.kind.kind) return undefined;
    const owner = this.owners.get(keyFor(pod.metadata?.namespace, ref.name));
    return owner?.metadata?.uid === ref.uid ? owner : undefined;
  }

  /** Owners in the pod's namespace whose selector matches it (orphans may be adopted by them). */
  private matchingOwners(pod: Pod): Replicated[] {
    return this.owners
      .byIndex(NAMESPACE_INDEX, pod.metadata?.namespace ?? "")
      .filter((o) => this.kind.matches(o, pod.metadata?.labels));
  }

  private podAdded(pod: Pod): void {
    if (pod.metadata?.deletionTimestamp) {
      this.podDeleted(pod);
      return;
    }
    const ref = controllerRef(pod);
    if (ref) {
      const owner = this.resolve(pod, ref);
      if (!owner) return;
      this.expectations.creationObserved(keyOf(owner));
      this.loop.enqueue(keyOf(owner));
      return;
    }
    for (const owner of this.matchingOwners(pod)) this.loop.enqueue(keyOf(owner));
  }

  private podUpdated(old: Pod, pod: Pod): void {
    const labelsChanged = JSON.stringify(old.metadata?.labels) !== JSON.stringify(pod.metadata?.labels);
    if (pod.metadata?.deletionTimestamp && !old.metadata?.deletionTimestamp) {
      // Graceful deletion started: count it now, as upstream does, so replacements are not delayed.
      this.podDeleted(pod);
      if (labelsChanged) this.podDeleted(old);
      return;
    }
    const oldRef = controllerRef(old);
    const ref = controllerRef(pod);
    if (oldRef && oldRef.uid !== ref?.uid) {
      const previous = this.resolve(old, oldRef);
      if (previous) this.loop.enqueue(keyOf(previous));
    }
    if (ref) {
      const owner = this.resolve(pod, ref);
      if (!owner) return;
      this.loop.enqueue(keyOf(owner));
      const minReady = (owner.spec as { minReadySeconds?: number } | undefined)?.minReadySeconds ?? 0;
      if (minReady > 0 && !isPodReady(old) && isPodReady(pod)) {
        this.loop.enqueueAfter(keyOf(owner), minReady * 1000 + 1000);
      }
      return;
    }
    if (labelsChanged || oldRef)
      for (const owner of this.matchingOwners(pod)) this.loop.enqueue(keyOf(owner));
  }

  private podDeleted(pod: Pod): void {
    const owner = this.resolve(pod);
    if (!owner) return;
    this.expectations.deletionObserved(keyOf(owner), keyOf(pod));
    this.loop.enqueue(keyOf(owner));
  }

  // Sync --------------------------------------------------------------------------------------------------

  private async sync(key: string): Promise<SyncResult | undefined> {
    const owner = this.owners.get(key);
    if (!owner) {
      this.expectations.delete(key);
      return undefined;
    }
    const needsSync = this.expectations.satisfied(key);
    const { namespace } = splitKey(key);
    const active = this.pods.byIndex(NAMESPACE_INDEX, namespace).filter(isPodActive);
    const pods = await claimObjects(active, {
      client: this.ctx.client,
      owner,
      ownerRef: { ...this.kind.ref, namespace, name: owner.metadata?.name },
      ownerApiVersion: this.kind.apiVersion,
      ownerKind: this.kind.kind,
      objectRef: RESOURCES.pods,
      match: (pod) => this.kind.matches(owner, pod.metadata?.labels),
    });

    let manageError: { kind: "create" | "delete"; message: string; error: unknown } | undefined;
    if (needsSync && !owner.metadata?.deletionTimestamp) {
      manageError = await this.manageReplicas(key, owner, pods);
    }
    const spec = owner.spec as { replicas?: number; minReadySeconds?: number; template?: PodTemplateSpec };
    const now = this.ctx.clock.now();
    const status: ReplicaStatus = {
      ...calculateReplicaStatus({
        current: owner.status as ReplicaStatus | undefined,
        pods,
        templateLabels: spec.template?.metadata?.labels ?? {},
        minReadySeconds: spec.minReadySeconds ?? 0,
        now,
        nowText: k8sTime(now),
        manageError,
      }),
      observedGeneration: owner.metadata?.generation,
    };
    await this.updateStatus(owner, status);
    if (manageError) throw manageError.error;
    const minReady = spec.minReadySeconds ?? 0;
    const replicas = spec.replicas ?? 1;
    if (minReady > 0 && status.readyReplicas === replicas && status.availableReplicas !== replicas) {
      return { requeueAfterMs: minReady * 1000 };
    }
    return undefined;
  }

  /** Creates or deletes pods towards spec.replicas; returns the first error, if any. */
  private async manageReplicas(
    key: string,
    cached: Replicated,
    pods: Pod[],
  ): Promise<{ kind: "create" | "delete"; message: string; error: unknown } | undefined> {
    const owner = typed(cached, this.kind.apiVersion, this.kind.kind);
    const spec = owner.spec as { replicas?: number; template?: PodTemplateSpec };
    const diff = pods.length - (spec.replicas ?? 1);
    const namespace = owner.metadata?.namespace ?? "";
    if (diff < 0) {
      const count = Math.min(-diff, BURST_REPLICAS);
      this.expectations.expectCreations(key, count);
      const ref = newControllerRef(owner, this.kind.apiVersion, this.kind.kind);
      const prefix = podNamePrefix(owner.metadata?.name ?? "");
      const { successes, error } = await slowStartBatch(count, 1, async () => {
        try {
          await this.podControl.create(owner, podFromTemplate(spec.template, namespace, prefix, ref));
        } catch (createError) {
          // A terminating namespace refuses new pods; that is not worth a retry.
          if (
            (createError as { reason?: string }).reason === "Forbidden" &&
            /being terminated/.test(messageOf(createError))
          )
            return;
          throw createError;
        }
      });
      // Creations that failed or never started will not be observed: stop waiting for them.
      for (let i = successes; i < count; i++) this.expectations.creationObserved(key);
      if (error) return { kind: "create", message: messageOf(error), error };
      return undefined;
    }
    if (diff > 0) {
      const count = Math.min(diff, BURST_REPLICAS);
      const victims = podsToDelete(pods, this.relatedPods(owner, pods), count);
      this.expectations.expectDeletions(key, victims.map(keyOf));
      const results = await Promise.allSettled(victims.map((pod) => this.podControl.delete(owner, pod)));
      let firstError: unknown;
      results.forEach((r, i) => {
        if (r.status === "rejected") {
          this.expectations.deletionObserved(key, keyOf(victims[i] as Pod));
          firstError ??= r.reason;
        }
      });
      if (firstError) return { kind: "delete", message: messageOf(firstError), error: firstError };
    }
    return undefined;
  }

  /** Pods of every sibling under the same controller (a Deployment's ReplicaSets), for co-location ranks. */
  private relatedPods(owner: Replicated, own: Pod[]): Pod[] {
    const parent = controllerRef(owner as KubeObject);
    if (!parent) return own;
    const siblings = this.owners.byIndex(CONTROLLER_INDEX, parent.uid);
    const related: Pod[] = [];
    for (const sibling of siblings) {
      const uid = sibling.metadata?.uid;
      if (uid) related.push(...this.pods.byIndex(CONTROLLER_INDEX, uid).filter(isPodActive));
    }
    return related;
  }

  private async updateStatus(owner: Replicated, status: ReplicaStatus): Promise<void> {
    if (sameReplicaStatus(owner.status as ReplicaStatus | undefined, status)) return;
    const ref = {
      ...this.kind.ref,
      namespace: owner.metadata?.namespace,
      name: owner.metadata?.name,
      subresource: "status",
    };
    try {
      await this.ctx.client.update(ref, { ...owner, status } as KubeObject);
    } catch (error) {
      if (isNotFound(error)) return;
      if (!isConflict(error)) throw error;
      // Someone else wrote meanwhile: retry once on the fresh object, as upstream does.
      const fresh = await this.ctx.client.get<KubeObject>({ ...ref, subresource: undefined });
      if (fresh.metadata?.uid !== owner.metadata?.uid) return;
      await this.ctx.client.update(ref, {
        ...fresh,
        status: { ...status, observedGeneration: owner.metadata?.generation },
      });
    }
  }
}
