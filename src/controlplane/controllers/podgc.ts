// The pod garbage collector (upstream pkg/controller/podgc): every 20 s, force-deletes pods bound to nodes
// that no longer exist (after checking with the API, as upstream quarantines them), pods being deleted that
// were never scheduled, and the oldest finished pods above a threshold.
import { isNotFound } from "../../api/client/errors.ts";
import type { Node } from "../../api/schema/core/node-types.ts";
import type { Pod } from "../../api/schema/core/pod-types.ts";
import { k8sTime } from "../../util/time.ts";
import { type ControllerContext, RESOURCES } from "./machinery/context.ts";
import type { Informer } from "./machinery/informer.ts";
import { keyOf } from "./machinery/keys.ts";
import { isPodTerminal, timeOf } from "./machinery/pods.ts";

export interface PodGcOptions {
  periodMs: number;
  /** Finished pods kept before the oldest are deleted (upstream --terminated-pod-gc-threshold). */
  terminatedThreshold: number;
  /** How long a pod's node must have been missing before its pods go (upstream's 40 s quarantine). */
  quarantineMs: number;
}

export const DEFAULT_POD_GC: PodGcOptions = {
  periodMs: 20_000,
  terminatedThreshold: 12_500,
  quarantineMs: 40_000,
};

export class PodGarbageCollector {
  private readonly ctx: ControllerContext;
  private readonly options: PodGcOptions;
  private readonly pods: Informer<Pod>;
  private readonly nodes: Informer<Node>;
  /** node name → when it was first found missing. */
  private readonly missingSince = new Map<string, number>();
  readonly stats = { deleted: 0, runs: 0 };

  constructor(ctx: ControllerContext, options: Partial<PodGcOptions> = {}) {
    this.ctx = ctx;
    this.options = { ...DEFAULT_POD_GC, ...options };
    this.pods = ctx.informers.get("pods");
    this.nodes = ctx.informers.get("nodes");
  }

  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await this.ctx.clock.sleep(this.options.periodMs, signal).catch(() => undefined);
      if (signal.aborted) break;
      try {
        await this.gc();
      } catch (error) {
        this.ctx.log.info(
          { controller: "pod-garbage-collector", err: (error as Error).message },
          "pod GC pass failed",
        );
      }
    }
  }

  async gc(): Promise<void> {
    this.stats.runs++;
    const now = this.ctx.clock.now();
    const pods = this.pods.list();
    // Orphans: bound to a node that is gone (confirmed by the API after the quarantine).
    const missing = new Set<string>();
    for (const pod of pods) {
      const node = pod.spec?.nodeName;
      if (node && !this.nodes.get(node)) missing.add(node);
    }
    for (const node of [...this.missingSince.keys()]) if (!missing.has(node)) this.missingSince.delete(node);
    for (const node of missing) {
      const since = this.missingSince.get(node) ?? now;
      this.missingSince.set(node, since);
      if (now - since < this.options.quarantineMs) continue;
      const exists = await this.ctx.client.get({ ...RESOURCES.nodes, name: node }).then(
        () => true,
        (error) => (isNotFound(error) ? false : Promise.reject(error)),
      );
      if (exists) continue;
      for (const pod of pods) {
        if (pod.spec?.nodeName === node && !isPodTerminal(pod))
          await this.forceDelete(pod, "DeletionByPodGC", "PodGC: node no longer exists", now);
        else if (pod.spec?.nodeName === node) await this.forceDelete(pod);
      }
    }
    // Deleted before they were ever scheduled: nothing will confirm their deletion.
    for (const pod of pods) {
      if (pod.metadata?.deletionTimestamp && !pod.spec?.nodeName) await this.forceDelete(pod);
    }
    // Too many finished pods: the oldest go.
    const finished = pods.filter((p) => isPodTerminal(p) && !p.metadata?.deletionTimestamp);
    const excess = finished.length - this.options.terminatedThreshold;
    if (excess > 0) {
      finished.sort(
        (a, b) => (timeOf(a.metadata?.creationTimestamp) ?? 0) - (timeOf(b.metadata?.creationTimestamp) ?? 0),
      );
      for (const pod of finished.slice(0, excess)) await this.forceDelete(pod);
    }
  }

  private async forceDelete(pod: Pod, reason?: string, message?: string, now?: number): Promise<void> {
    const ref = { ...RESOURCES.pods, namespace: pod.metadata?.namespace, name: pod.metadata?.name };
    try {
      if (reason) {
        await this.ctx.client.patch({ ...ref, subresource: "status" }, "strategic", {
          status: {
            conditions: [
              {
                type: "DisruptionTarget",
                status: "True",
                reason,
                message,
                lastTransitionTime: k8sTime(now ?? this.ctx.clock.now()),
              },
            ],
          },
        });
      }
      await this.ctx.client.delete(ref, { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata?.uid } });
      this.stats.deleted++;
      this.ctx.log.info({ controller: "pod-garbage-collector", pod: keyOf(pod) }, "force-deleted a pod");
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
}
