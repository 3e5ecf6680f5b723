// The scheduler: an ordinary API client that watches pods and nodes, picks a node for each pending pod of
// `default-scheduler` (filters, then weighted scores, ties at random) and binds it through pods/binding.
// Decisions are serial and fast; bindings run concurrently, with the pod assumed onto its node meanwhile
// so the next decision counts it. A pod that fits nowhere gets a FailedScheduling event in upstream's words
// and PodScheduled=False/Unschedulable, and is retried when nodes or bound pods change, with backoff.
import type { Logger } from "pino";
import { isConflict, isNotFound } from "../../api/client/errors.ts";
import { type EventRecorder, referenceTo } from "../../api/client/events.ts";
import type { Node } from "../../api/schema/core/node-types.ts";
import type { Pod } from "../../api/schema/core/pod-types.ts";
import type { Clock } from "../../util/clock.ts";
import { k8sTime } from "../../util/time.ts";
import { type ControllerContext, RESOURCES } from "../controllers/machinery/context.ts";
import type { Informer } from "../controllers/machinery/informer.ts";
import { keyOf } from "../controllers/machinery/keys.ts";
import { messageOf } from "../controllers/machinery/pod-control.ts";
import { isPodTerminal, podCondition } from "../controllers/machinery/pods.ts";
import { SchedulerCache } from "./cache.ts";
import { type FilterFailure, runFilters } from "./filters.ts";
import { fitErrorMessage } from "./fit-error.ts";
import { type NodeInfo, podEntry } from "./node-info.ts";
import { type QueuedPod, type QueueOptions, SchedulingQueue } from "./queue.ts";
import { scoreNodes, selectHost } from "./scores.ts";

export const DEFAULT_SCHEDULER_NAME = "default-scheduler";

export interface SchedulerOptions {
  ctx: ControllerContext;
  schedulerName?: string;
  /** Bindings in flight at once (default 32). */
  bindConcurrency?: number;
  random?: () => number;
  queue?: QueueOptions;
}

export interface SchedulerStats {
  attempts: number;
  scheduled: number;
  unschedulable: number;
  bindErrors: number;
  pending: { active: number; backoff: number; unschedulable: number };
}

export class Scheduler {
  private readonly ctx: ControllerContext;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly name: string;
  private readonly random: () => number;
  private readonly recorder: EventRecorder;
  private readonly pods: Informer<Pod>;
  private readonly nodes: Informer<Node>;
  private readonly cache = new SchedulerCache();
  private readonly queue: SchedulingQueue;
  private readonly bindConcurrency: number;
  private inFlightBinds = 0;
  private bindSlotWaiters: Array<() => void> = [];
  private readonly counters = { attempts: 0, scheduled: 0, unschedulable: 0, bindErrors: 0 };

  constructor(options: SchedulerOptions) {
    this.ctx = options.ctx;
    this.clock = options.ctx.clock;
    this.name = options.schedulerName ?? DEFAULT_SCHEDULER_NAME;
    this.log = options.ctx.log.child({ component: this.name });
    this.random = options.random ?? Math.random;
    this.bindConcurrency = options.bindConcurrency ?? 32;
    this.recorder = options.ctx.recorder(this.name);
    this.queue = new SchedulingQueue({ clock: this.clock, ...options.queue });
    this.pods = options.ctx.informers.get("pods");
    this.nodes = options.ctx.informers.get("nodes");
    this.nodes.addHandler({
      add: (node) => {
        this.cache.setNode(node);
        this.queue.moveAllToActiveOrBackoff();
      },
      update: (old, node) => {
        this.cache.setNode(node);
        if (schedulingRelevantChange(old, node)) this.queue.moveAllToActiveOrBackoff();
      },
      delete: (node) => this.cache.removeNode(node.metadata?.name ?? ""),
    });
    this.pods.addHandler({
      add: (pod) => this.podChanged(pod),
      update: (_old, pod) => this.podChanged(pod),
      delete: (pod) => {
        const key = keyOf(pod);
        this.queue.delete(key);
        if (pod.spec?.nodeName) {
          this.cache.remove(key);
          this.queue.moveAllToActiveOrBackoff();
        }
      },
    });
  }

  get stats(): SchedulerStats {
    return { ...this.counters, pending: this.queue.pending };
  }

  /** Schedules until `signal` aborts (informers must be running). */
  async run(signal: AbortSignal): Promise<void> {
    this.log.info("scheduler started");
    const stop = () => this.queue.close();
    signal.addEventListener("abort", stop, { once: true });
    for (;;) {
      const item = await this.queue.pop(signal);
      if (!item) break;
      try {
        await this.scheduleOne(item);
      } catch (error) {
        this.log.error({ pod: item.key, err: error }, "scheduling attempt failed");
        this.queue.retry(item);
      }
    }
    await this.drainBinds();
  }

  private responsible(pod: Pod): boolean {
    return (pod.spec?.schedulerName || DEFAULT_SCHEDULER_NAME) === this.name;
  }

  private podChanged(pod: Pod): void {
    const key = keyOf(pod);
    if (pod.spec?.nodeName) {
      this.queue.delete(key);
      if (isPodTerminal(pod)) {
        this.cache.remove(key);
        this.queue.moveAllToActiveOrBackoff();
      } else {
        this.cache.addOrUpdate(key, pod);
      }
      return;
    }
    if (this.responsible(pod) && !pod.metadata?.deletionTimestamp && !isPodTerminal(pod))
      this.queue.add(key, pod);
    else this.queue.delete(key);
  }

  private async scheduleOne(item: QueuedPod): Promise<void> {
    const pod = this.pods.get(item.key) ?? item.pod;
    if (
      pod.spec?.nodeName ||
      pod.metadata?.deletionTimestamp ||
      !this.responsible(pod) ||
      isPodTerminal(pod)
    ) {
      this.queue.done(item.key);
      return;
    }
    if (pod.metadata?.uid !== item.pod.metadata?.uid) item.pod = pod;
    this.counters.attempts++;
    if ((pod.spec?.schedulingGates ?? []).length > 0) {
      await this.setUnschedulable(
        pod,
        "SchedulingGated",
        "Scheduling is blocked due to non-empty scheduling gates",
      );
      this.queue.unschedulable(item);
      return;
    }
    const nodes = this.cache.nodeInfos();
    const entry = podEntry(pod);
    const feasible: NodeInfo[] = [];
    const failures: FilterFailure[] = [];
    for (const info of nodes) {
      const failure = runFilters(pod, entry, info);
      if (failure) failures.push(failure);
      else feasible.push(info);
    }
    if (feasible.length === 0) {
      const message = fitErrorMessage(nodes.length, failures, pod.spec?.preemptionPolicy);
      this.counters.unschedulable++;
      this.log.debug({ pod: item.key, message }, "unable to schedule pod");
      this.recorder.record(referenceTo(withKind(pod)), "Warning", "FailedScheduling", message);
      await this.setUnschedulable(pod, "Unschedulable", message);
      this.queue.unschedulable(item);
      return;
    }
    const scores = scoreNodes(pod, entry, feasible);
    const chosen = feasible[selectHost(scores, this.random)] as NodeInfo;
    this.cache.assume(item.key, pod, chosen.name);
    await this.bindSlot();
    void this.bind(item, pod, chosen.name);
  }

  private async bind(item: QueuedPod, pod: Pod, nodeName: string): Promise<void> {
    const namespace = pod.metadata?.namespace ?? "";
    const name = pod.metadata?.name ?? "";
    try {
      await this.ctx.client.create(
        { ...RESOURCES.pods, namespace, name, subresource: "binding" },
        {
          apiVersion: "v1",
          kind: "Binding",
          metadata: { name, namespace, uid: pod.metadata?.uid },
          target: { apiVersion: "v1", kind: "Node", name: nodeName },
        },
      );
      this.counters.scheduled++;
      this.queue.done(item.key);
      this.recorder.record(
        referenceTo(withKind(pod)),
        "Normal",
        "Scheduled",
        `Successfully assigned ${namespace}/${name} to ${nodeName}`,
      );
    } catch (error) {
      this.cache.forget(item.key);
      if (isNotFound(error) || isConflict(error)) {
        // The pod is gone, being deleted or was bound by someone else: nothing to retry.
        this.queue.done(item.key);
      } else {
        this.counters.bindErrors++;
        this.log.info({ pod: item.key, node: nodeName, err: messageOf(error) }, "binding failed; retrying");
        this.recorder.record(
          referenceTo(withKind(pod)),
          "Warning",
          "FailedScheduling",
          `Binding rejected: ${messageOf(error)}`,
        );
        this.queue.retry(item);
      }
    } finally {
      this.inFlightBinds--;
      this.bindSlotWaiters.shift()?.();
    }
  }

  private bindSlot(): Promise<void> {
    if (this.inFlightBinds < this.bindConcurrency) {
      this.inFlightBinds++;
      return Promise.resolve();
    }
    return new Promise((resolve) =>
      this.bindSlotWaiters.push(() => {
        this.inFlightBinds++;
        resolve();
      }),
    );
  }

  private async drainBinds(): Promise<void> {
    while (this.inFlightBinds > 0) await this.clock.sleep(20);
  }

  /** PodScheduled=False with the reason and message, written only when they change. */
  private async setUnschedulable(pod: Pod, reason: string, message: string): Promise<void> {
    const current = podCondition(pod, "PodScheduled");
    if (current?.status === "False" && current.reason === reason && current.message === message) return;
    const now = k8sTime(this.clock.now());
    try {
      await this.ctx.client.patch(
        {
          ...RESOURCES.pods,
          namespace: pod.metadata?.namespace,
          name: pod.metadata?.name,
          subresource: "status",
        },
        "strategic",
        {
          status: {
            conditions: [
              {
                type: "PodScheduled",
                status: "False",
                reason,
                message,
                lastProbeTime: null,
                lastTransitionTime: current?.status === "False" ? current.lastTransitionTime : now,
              },
            ],
          },
        },
      );
    } catch (error) {
      if (!isNotFound(error))
        this.log.debug({ pod: keyOf(pod), err: messageOf(error) }, "could not update the pod's condition");
    }
  }
}

/** Informer objects may lack kind/apiVersion (lists strip them); events need them. */
function withKind(pod: Pod): Pod {
  return pod.kind ? pod : { ...pod, apiVersion: "v1", kind: "Pod" };
}

function readyStatus(node: Node): string | undefined {
  return node.status?.conditions?.find((c) => c.type === "Ready")?.status;
}

/** Changes that can make a pending pod fit: labels, taints, schedulability, allocatable, readiness. */
function schedulingRelevantChange(old: Node, node: Node): boolean {
  return (
    JSON.stringify(old.metadata?.labels) !== JSON.stringify(node.metadata?.labels) ||
    JSON.stringify(old.spec?.taints) !== JSON.stringify(node.spec?.taints) ||
    !!old.spec?.unschedulable !== !!node.spec?.unschedulable ||
    JSON.stringify(old.status?.allocatable) !== JSON.stringify(node.status?.allocatable) ||
    readyStatus(old) !== readyStatus(node) ||
    JSON.stringify(old.status?.conditions?.map((c) => [c.type, c.status])) !==
      JSON.stringify(node.status?.conditions?.map((c) => [c.type, c.status]))
  );
}
