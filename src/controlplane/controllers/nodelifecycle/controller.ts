// The node lifecycle controller (upstream pkg/controller/nodelifecycle): watches every node's heartbeats (its
// Lease in kube-node-lease and its Ready condition); when neither moved for the grace period (50 s by
// default, as upstream 1.32) the node's conditions become Unknown ("Kubelet stopped posting node status."),
// its pods are marked not ready, and it gets the node.kubernetes.io/unreachable NoExecute and NoSchedule
// taints; condition-based NoSchedule taints (not-ready, unschedulable, pressure) are kept in step too.
// Evicting the pods is the taint eviction controller's job.
import type { Logger } from "pino";
import { isNotFound } from "../../../api/client/errors.ts";
import { type EventRecorder, referenceTo } from "../../../api/client/events.ts";
import type { Lease } from "../../../api/schema/coordination/lease.ts";
import type { Node } from "../../../api/schema/core/node-types.ts";
import type { Pod } from "../../../api/schema/core/pod-types.ts";
import { k8sTime } from "../../../util/time.ts";
import { type ControllerContext, RESOURCES } from "../machinery/context.ts";
import { ControllerLoop, type SyncResult } from "../machinery/controller.ts";
import type { Informer } from "../machinery/informer.ts";
import { keyOf, typed } from "../machinery/keys.ts";
import { podCondition } from "../machinery/pods.ts";
import { markUnknown, reconcileTaints } from "./planner.ts";

const COMPONENT = "node-controller";
export const NODE_NAME_INDEX = "nodeName";

export interface NodeLifecycleOptions {
  /** How often every node is checked (upstream --node-monitor-period, 5 s). */
  monitorPeriodMs: number;
  /** Heartbeat silence after which a node is Unknown (upstream --node-monitor-grace-period, 50 s in 1.32). */
  gracePeriodMs: number;
  /** Silence allowed to a node that never reported Ready (upstream node-startup-grace-period, 60 s). */
  startupGracePeriodMs: number;
}

export const DEFAULT_NODE_LIFECYCLE: NodeLifecycleOptions = {
  monitorPeriodMs: 5_000,
  gracePeriodMs: 50_000,
  startupGracePeriodMs: 60_000,
};

interface Health {
  /** Local time the controller last saw a heartbeat move. */
  probeAt: number;
  heartbeat?: string;
  leaseRenew?: string;
  ready?: string;
}

/** Adds the pods-by-node index to the shared pods informer (idempotent). */
export function podsByNode(ctx: ControllerContext): Informer<Pod> {
  const pods = ctx.informers.get("pods");
  pods.addIndex(NODE_NAME_INDEX, (p) => (p.spec?.nodeName ? [p.spec.nodeName] : []));
  return pods;
}

export class NodeLifecycleController {
  readonly loop: ControllerLoop;
  private readonly ctx: ControllerContext;
  private readonly log: Logger;
  private readonly options: NodeLifecycleOptions;
  private readonly recorder: EventRecorder;
  private readonly nodes: Informer<Node>;
  private readonly leases: Informer<Lease>;
  private readonly pods: Informer<Pod>;
  private readonly health = new Map<string, Health>();

  constructor(ctx: ControllerContext, options: Partial<NodeLifecycleOptions> = {}) {
    this.ctx = ctx;
    this.options = { ...DEFAULT_NODE_LIFECYCLE, ...options };
    this.log = ctx.log.child({ controller: COMPONENT });
    this.recorder = ctx.recorder(COMPONENT);
    this.nodes = ctx.informers.get("nodes");
    this.leases = ctx.informers.get("nodeLeases");
    this.pods = podsByNode(ctx);
    this.loop = new ControllerLoop({
      name: COMPONENT,
      log: this.log,
      clock: ctx.clock,
      workers: 2,
      sync: (key) => this.sync(key),
    });
    this.nodes.addHandler({
      add: (n) => this.loop.enqueue(keyOf(n)),
      update: (_o, n) => this.loop.enqueue(keyOf(n)),
      delete: (n) => this.health.delete(n.metadata?.name ?? ""),
    });
    this.leases.addHandler({
      add: (l) => this.loop.enqueue(l.metadata?.name ?? ""),
      update: (_o, l) => this.loop.enqueue(l.metadata?.name ?? ""),
    });
  }

  async run(signal: AbortSignal): Promise<void> {
    const ticker = (async () => {
      while (!signal.aborted) {
        await this.ctx.clock.sleep(this.options.monitorPeriodMs, signal).catch(() => undefined);
        for (const node of this.nodes.list()) this.loop.enqueue(keyOf(node));
      }
    })();
    await Promise.all([this.loop.run(signal), ticker]);
  }

  private async sync(name: string): Promise<SyncResult | undefined> {
    const cached = this.nodes.get(name);
    if (!cached) return undefined;
    let node = typed(cached, "v1", "Node");
    const now = this.ctx.clock.now();
    const nowText = k8sTime(now);
    const ready = node.status?.conditions?.find((c) => c.type === "Ready");
    const heartbeat = ready?.lastHeartbeatTime ?? undefined;
    const leaseRenew = this.leases.get(`kube-node-lease/${name}`)?.spec?.renewTime ?? undefined;
    let h = this.health.get(name);
    if (!h) {
      h = { probeAt: now, heartbeat, leaseRenew, ready: ready?.status };
      this.health.set(name, h);
      this.recorder.record(
        referenceTo(node),
        "Normal",
        "RegisteredNode",
        `Node ${name} event: Registered Node ${name} in Controller`,
      );
    } else {
      if (heartbeat !== h.heartbeat || leaseRenew !== h.leaseRenew) h.probeAt = now;
      h.heartbeat = heartbeat;
      h.leaseRenew = leaseRenew;
    }
    const grace = ready ? this.options.gracePeriodMs : this.options.startupGracePeriodMs;
    const silentFor = now - h.probeAt;
    if (silentFor > grace) {
      const conditions = markUnknown(node, nowText);
      if (conditions) {
        this.log.info(
          { node: name, silentForMs: silentFor },
          "node stopped posting status; marking it Unknown",
        );
        const updated = await this.ctx.client.update<Node>(
          { ...RESOURCES.nodes, name, subresource: "status" },
          { ...node, status: { ...node.status, conditions } },
        );
        node = typed(updated, "v1", "Node");
      }
    }
    const taints = reconcileTaints(node, nowText);
    if (taints) {
      const updated = await this.ctx.client.update<Node>(
        { ...RESOURCES.nodes, name },
        { ...node, spec: { ...node.spec, taints } },
      );
      node = typed(updated, "v1", "Node");
    }
    const readyNow = node.status?.conditions?.find((c) => c.type === "Ready")?.status;
    if (h.ready !== readyNow) {
      if (h.ready === "True" && readyNow !== "True") {
        this.recorder.record(
          referenceTo(node),
          "Normal",
          "NodeNotReady",
          `Node ${name} status is now: NodeNotReady`,
        );
        await this.markPodsNotReady(name, nowText);
      } else if (readyNow === "True") {
        this.recorder.record(
          referenceTo(node),
          "Normal",
          "NodeReady",
          `Node ${name} status is now: NodeReady`,
        );
      }
      h.ready = readyNow;
    }
    // Look again right when the grace period would run out.
    return silentFor <= grace ? { requeueAfterMs: grace - silentFor + 100 } : undefined;
  }

  /** upstream MarkPodsNotReady: the node cannot vouch for its pods any more. */
  private async markPodsNotReady(nodeName: string, nowText: string): Promise<void> {
    for (const pod of this.pods.byIndex(NODE_NAME_INDEX, nodeName)) {
      if (podCondition(pod, "Ready")?.status !== "True") continue;
      try {
        await this.ctx.client.patch(
          {
            ...RESOURCES.pods,
            namespace: pod.metadata?.namespace,
            name: pod.metadata?.name,
            subresource: "status",
          },
          "strategic",
          { status: { conditions: [{ type: "Ready", status: "False", lastTransitionTime: nowText }] } },
        );
        this.recorder.record(
          referenceTo(typed(pod, "v1", "Pod")),
          "Warning",
          "NodeNotReady",
          "Node is not ready",
        );
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    }
  }
}
