// The DaemonSet controller (upstream pkg/controller/daemon): one pod per eligible node, pinned to it through
// node affinity and placed by the scheduler like upstream since 1.12; pods on nodes that no longer qualify
// go (only NoExecute taints evict running ones); failed daemon pods are replaced with a per-node backoff;
// template changes roll out with RollingUpdate (maxUnavailable/maxSurge) or wait for deletes (OnDelete).
import type { Logger } from "pino";
import { isNotFound } from "../../../api/client/errors.ts";
import { type EventRecorder, referenceTo } from "../../../api/client/events.ts";
import type { DaemonSet } from "../../../api/schema/apps/types.ts";
import type { Node } from "../../../api/schema/core/node-types.ts";
import type { Pod } from "../../../api/schema/core/pod-types.ts";
import { selectorMatches } from "../../../api/schema/index.ts";
import { claimObjects } from "../machinery/claim.ts";
import { type ControllerContext, RESOURCES } from "../machinery/context.ts";
import { ControllerLoop, type SyncResult } from "../machinery/controller.ts";
import { Expectations } from "../machinery/expectations.ts";
import { type Informer, NAMESPACE_INDEX } from "../machinery/informer.ts";
import { keyFor, keyOf, splitKey, typed } from "../machinery/keys.ts";
import { PodControl, podFromTemplate, podNamePrefix } from "../machinery/pod-control.ts";
import { controllerRef, isPodAvailable, isPodReady, newControllerRef, timeOf } from "../machinery/pods.ts";
import { slowStartBatch } from "../machinery/util.ts";
import {
  daemonTemplate,
  nodeShouldRunDaemonPod,
  pinToNode,
  planRollingUpdate,
  REVISION_HASH_LABEL,
  targetNode,
  templateRevisionHash,
} from "./planner.ts";

const COMPONENT = "daemonset-controller";
const KIND = { apiVersion: "apps/v1", kind: "DaemonSet" } as const;
/** upstream failedPodsBackoff: 1 s doubling to 15 min per node. */
const FAILED_POD_BACKOFF_MS = 1000;
const MAX_FAILED_POD_BACKOFF_MS = 15 * 60_000;

type DaemonSetStatus = NonNullable<DaemonSet["status"]>;

export class DaemonSetController {
  readonly loop: ControllerLoop;
  private readonly ctx: ControllerContext;
  private readonly log: Logger;
  private readonly recorder: EventRecorder;
  private readonly daemonSets: Informer<DaemonSet>;
  private readonly pods: Informer<Pod>;
  private readonly nodes: Informer<Node>;
  private readonly expectations: Expectations;
  private readonly podControl: PodControl;
  /** ds key + node → { delay, until } for replacing failed pods. */
  private readonly failedBackoff = new Map<string, { delay: number; until: number }>();

  constructor(ctx: ControllerContext) {
    this.ctx = ctx;
    this.log = ctx.log.child({ controller: COMPONENT });
    this.recorder = ctx.recorder(COMPONENT);
    this.daemonSets = ctx.informers.get("daemonSets");
    this.pods = ctx.informers.get("pods");
    this.nodes = ctx.informers.get("nodes");
    this.expectations = new Expectations(ctx.clock);
    this.podControl = new PodControl(ctx.client, this.recorder);
    this.loop = new ControllerLoop({
      name: COMPONENT,
      log: this.log,
      clock: ctx.clock,
      workers: 2,
      sync: (key) => this.sync(key),
    });
    this.daemonSets.addHandler({
      add: (ds) => this.loop.enqueue(keyOf(ds)),
      update: (_o, ds) => this.loop.enqueue(keyOf(ds)),
      delete: (ds) => {
        this.expectations.delete(keyOf(ds));
        this.loop.enqueue(keyOf(ds));
      },
    });
    const allDaemonSets = () => {
      for (const ds of this.daemonSets.list()) this.loop.enqueue(keyOf(ds));
    };
    this.nodes.addHandler({
      add: allDaemonSets,
      update: (old, node) => {
        if (
          JSON.stringify(old.metadata?.labels) !== JSON.stringify(node.metadata?.labels) ||
          JSON.stringify(old.spec?.taints) !== JSON.stringify(node.spec?.taints) ||
          !!old.spec?.unschedulable !== !!node.spec?.unschedulable
        ) {
          allDaemonSets();
        }
      },
      delete: allDaemonSets,
    });
    this.pods.addHandler({
      add: (pod) => {
        const ds = this.resolve(pod);
        if (ds) {
          this.expectations.creationObserved(keyOf(ds));
          this.loop.enqueue(keyOf(ds));
        } else if (!controllerRef(pod)) this.enqueueMatching(pod);
      },
      update: (old, pod) => {
        const ds = this.resolve(pod);
        if (ds) {
          if (pod.metadata?.deletionTimestamp && !old.metadata?.deletionTimestamp) {
            this.expectations.deletionObserved(keyOf(ds), keyOf(pod));
          }
          this.loop.enqueue(keyOf(ds));
          const minReady = ds.spec?.minReadySeconds ?? 0;
          if (minReady > 0 && !isPodReady(old) && isPodReady(pod))
            this.loop.enqueueAfter(keyOf(ds), minReady * 1000 + 1000);
        } else if (!controllerRef(pod)) this.enqueueMatching(pod);
      },
      delete: (pod) => {
        const ds = this.resolve(pod);
        if (!ds) return;
        this.expectations.deletionObserved(keyOf(ds), keyOf(pod));
        this.loop.enqueue(keyOf(ds));
      },
    });
  }

  run(signal: AbortSignal): Promise<void> {
    return this.loop.run(signal);
  }

  private resolve(pod: Pod): DaemonSet | undefined {
    const ref = controllerRef(pod);
    if (!ref || ref.kind !== KIND.kind) return undefined;
    const ds = this.daemonSets.get(keyFor(pod.metadata?.namespace, ref.name));
    return ds?.metadata?.uid === ref.uid ? ds : undefined;
  }

  private enqueueMatching(pod: Pod): void {
    for (const ds of this.daemonSets.byIndex(NAMESPACE_INDEX, pod.metadata?.namespace ?? "")) {
      const sel = ds.spec?.selector;
      if (sel && selectorMatches(sel, pod.metadata?.labels)) this.loop.enqueue(keyOf(ds));
    }
  }

  private async sync(key: string): Promise<SyncResult | undefined> {
    const cached = this.daemonSets.get(key);
    if (!cached) {
      this.expectations.delete(key);
      return undefined;
    }
    const ds = structuredClone(typed(cached, KIND.apiVersion, KIND.kind));
    const { namespace } = splitKey(key);
    const selector = ds.spec?.selector;
    if (!selector) return undefined;
    const pods = await claimObjects(this.pods.byIndex(NAMESPACE_INDEX, namespace), {
      client: this.ctx.client,
      owner: ds,
      ownerRef: { ...RESOURCES.daemonSets, namespace, name: ds.metadata?.name },
      ownerApiVersion: KIND.apiVersion,
      ownerKind: KIND.kind,
      objectRef: RESOURCES.pods,
      match: (pod) => selectorMatches(selector, pod.metadata?.labels),
    });
    const hash = templateRevisionHash(ds);
    const template = daemonTemplate(ds, hash);
    const now = this.ctx.clock.now();
    const byNode = new Map<string, Pod[]>();
    for (const pod of pods) {
      const node = targetNode(pod);
      if (!node) continue;
      byNode.set(node, [...(byNode.get(node) ?? []), pod]);
    }
    const nodes = this.nodes.list();
    let requeueAfterMs: number | undefined;
    const eligible: Array<{ name: string; pods: Pod[] }> = [];
    if (this.expectations.satisfied(key) && !ds.metadata?.deletionTimestamp) {
      const create: string[] = [];
      const remove: Pod[] = [];
      for (const node of nodes) {
        const nodeName = node.metadata?.name ?? "";
        const { shouldRun, shouldContinueRunning } = nodeShouldRunDaemonPod(template, node);
        const daemonPods = (byNode.get(nodeName) ?? []).filter((p) => !p.metadata?.deletionTimestamp);
        if (shouldRun) {
          const failed = daemonPods.filter((p) => p.status?.phase === "Failed");
          const live = daemonPods.filter((p) => p.status?.phase !== "Failed");
          if (failed.length > 0) {
            const backoffKey = `${key}/${nodeName}`;
            const b = this.failedBackoff.get(backoffKey);
            if (b && now < b.until) {
              requeueAfterMs = Math.min(requeueAfterMs ?? b.until - now, b.until - now);
            } else {
              const delay = b ? Math.min(MAX_FAILED_POD_BACKOFF_MS, b.delay * 2) : FAILED_POD_BACKOFF_MS;
              this.failedBackoff.set(backoffKey, { delay, until: now + delay });
              for (const p of failed) {
                this.recorder.record(
                  referenceTo(ds),
                  "Warning",
                  "FailedDaemonPod",
                  `Found failed daemon pod ${namespace}/${p.metadata?.name} on node ${nodeName}, will try to kill it`,
                );
                remove.push(p);
              }
            }
          }
          if (live.length === 0 && failed.length === 0) create.push(nodeName);
          else if (live.length > 1 && ds.spec?.updateStrategy?.type !== "RollingUpdate") {
            // Duplicates: keep the oldest.
            const sorted = [...live].sort(
              (a, b) =>
                (timeOf(a.metadata?.creationTimestamp) ?? 0) - (timeOf(b.metadata?.creationTimestamp) ?? 0),
            );
            remove.push(...sorted.slice(1));
          }
          eligible.push({ name: nodeName, pods: live });
        } else if (!shouldContinueRunning) {
          remove.push(...daemonPods);
        }
      }
      // Pods for nodes that no longer exist are left to the pod garbage collector, as upstream.
      if ((ds.spec?.updateStrategy?.type ?? "RollingUpdate") === "RollingUpdate") {
        const plan = planRollingUpdate({
          nodes: eligible,
          hash,
          maxUnavailable: ds.spec?.updateStrategy?.rollingUpdate?.maxUnavailable,
          maxSurge: ds.spec?.updateStrategy?.rollingUpdate?.maxSurge,
          minReadySeconds: ds.spec?.minReadySeconds ?? 0,
          now,
        });
        for (const p of plan.deletePods) if (!remove.includes(p)) remove.push(p);
        create.push(...plan.surgeNodes);
      }
      await this.syncNodes(key, ds, template, create, remove);
    }
    await this.updateStatus(ds, nodes, byNode, template, hash, now);
    if ((ds.spec?.minReadySeconds ?? 0) > 0) {
      requeueAfterMs = Math.min(
        requeueAfterMs ?? Number.POSITIVE_INFINITY,
        (ds.spec?.minReadySeconds ?? 0) * 1000,
      );
    }
    return requeueAfterMs !== undefined && Number.isFinite(requeueAfterMs) ? { requeueAfterMs } : undefined;
  }

  private async syncNodes(
    key: string,
    ds: DaemonSet,
    template: ReturnType<typeof daemonTemplate>,
    create: string[],
    remove: Pod[],
  ): Promise<void> {
    const namespace = ds.metadata?.namespace ?? "";
    const ref = newControllerRef(ds, KIND.apiVersion, KIND.kind);
    const prefix = podNamePrefix(ds.metadata?.name ?? "");
    this.expectations.expect(key, create.length, remove.map(keyOf));
    const deletions = Promise.allSettled(remove.map((p) => this.podControl.delete(ds, p)));
    const { successes, error } = await slowStartBatch(create.length, 1, async (i) => {
      const pod = pinToNode(podFromTemplate(template, namespace, prefix, ref), create[i] as string);
      await this.podControl.create(ds, pod);
    });
    for (let i = successes; i < create.length; i++) this.expectations.creationObserved(key);
    const results = await deletions;
    results.forEach((r, i) => {
      if (r.status === "rejected") this.expectations.deletionObserved(key, keyOf(remove[i] as Pod));
    });
    const deleteError = results.find((r): r is PromiseRejectedResult => r.status === "rejected")?.reason;
    if (error ?? deleteError) throw error ?? deleteError;
  }

  private async updateStatus(
    ds: DaemonSet,
    nodes: Node[],
    byNode: Map<string, Pod[]>,
    template: ReturnType<typeof daemonTemplate>,
    hash: string,
    now: number,
  ): Promise<void> {
    let desired = 0;
    let current = 0;
    let misscheduled = 0;
    let ready = 0;
    let available = 0;
    let updated = 0;
    const minReady = ds.spec?.minReadySeconds ?? 0;
    for (const node of nodes) {
      const pods = (byNode.get(node.metadata?.name ?? "") ?? []).filter(
        (p) => !p.metadata?.deletionTimestamp,
      );
      const { shouldRun } = nodeShouldRunDaemonPod(template, node);
      if (shouldRun) {
        desired++;
        if (pods.length > 0) {
          current++;
          if (pods.some(isPodReady)) ready++;
          if (pods.some((p) => isPodAvailable(p, minReady, now))) available++;
          if (pods.some((p) => p.metadata?.labels?.[REVISION_HASH_LABEL] === hash)) updated++;
        }
      } else if (pods.length > 0) {
        misscheduled++;
      }
    }
    const status: DaemonSetStatus = {
      ...(ds.status ?? {}),
      currentNumberScheduled: current,
      numberMisscheduled: misscheduled,
      desiredNumberScheduled: desired,
      numberReady: ready,
      observedGeneration: ds.metadata?.generation,
      updatedNumberScheduled: updated,
      numberAvailable: available,
      numberUnavailable: desired - available,
    };
    if (JSON.stringify(status) === JSON.stringify(ds.status ?? {})) return;
    await this.ctx.client
      .update(
        {
          ...RESOURCES.daemonSets,
          namespace: ds.metadata?.namespace,
          name: ds.metadata?.name,
          subresource: "status",
        },
        { ...ds, status },
      )
      .catch((error) => {
        if (!isNotFound(error)) throw error;
      });
  }
}
