// The taint eviction controller (upstream pkg/controller/tainteviction): a pod on a node with NoExecute
// taints it does not tolerate is deleted at once; one that tolerates them for tolerationSeconds (300 s for
// not-ready/unreachable, added by the DefaultTolerationSeconds admission) is deleted when that runs out,
// counted from when the taint was added. Deleted pods get the DisruptionTarget condition first, as
// upstream, and their controllers replace them elsewhere.
import { isConflict, isNotFound } from "../../../api/client/errors.ts";
import { type EventRecorder, referenceTo } from "../../../api/client/events.ts";
import type { Node } from "../../../api/schema/core/node-types.ts";
import type { Pod } from "../../../api/schema/core/pod-types.ts";
import { k8sTime } from "../../../util/time.ts";
import { type ControllerContext, RESOURCES } from "../machinery/context.ts";
import { ControllerLoop, type SyncResult } from "../machinery/controller.ts";
import type { Informer } from "../machinery/informer.ts";
import { keyOf, typed } from "../machinery/keys.ts";
import { isPodTerminal } from "../machinery/pods.ts";
import { NODE_NAME_INDEX, podsByNode } from "./controller.ts";
import { evictionTime } from "./planner.ts";

const COMPONENT = "taint-eviction-controller";

export class TaintEvictionController {
  readonly loop: ControllerLoop;
  private readonly ctx: ControllerContext;
  private readonly recorder: EventRecorder;
  private readonly nodes: Informer<Node>;
  private readonly pods: Informer<Pod>;
  /** pod key → when this controller first saw it on a NoExecute-tainted node (for taints without timeAdded). */
  private readonly firstSeen = new Map<string, number>();

  constructor(ctx: ControllerContext) {
    this.ctx = ctx;
    this.recorder = ctx.recorder(COMPONENT);
    this.nodes = ctx.informers.get("nodes");
    this.pods = podsByNode(ctx);
    this.loop = new ControllerLoop({
      name: COMPONENT,
      log: ctx.log.child({ controller: COMPONENT }),
      clock: ctx.clock,
      workers: 4,
      sync: (key) => this.sync(key),
    });
    const podsOn = (node: Node) => {
      for (const pod of this.pods.byIndex(NODE_NAME_INDEX, node.metadata?.name ?? ""))
        this.loop.enqueue(keyOf(pod));
    };
    this.nodes.addHandler({
      add: (n) => {
        if (hasNoExecute(n)) podsOn(n);
      },
      update: (old, n) => {
        if (JSON.stringify(old.spec?.taints) !== JSON.stringify(n.spec?.taints)) podsOn(n);
      },
    });
    this.pods.addHandler({
      add: (p) => this.podChanged(p),
      update: (old, p) => {
        if (
          old.spec?.nodeName !== p.spec?.nodeName ||
          JSON.stringify(old.spec?.tolerations) !== JSON.stringify(p.spec?.tolerations)
        ) {
          this.podChanged(p);
        }
      },
      delete: (p) => this.firstSeen.delete(keyOf(p)),
    });
  }

  run(signal: AbortSignal): Promise<void> {
    return this.loop.run(signal);
  }

  private podChanged(pod: Pod): void {
    const node = pod.spec?.nodeName ? this.nodes.get(pod.spec.nodeName) : undefined;
    if (node && hasNoExecute(node)) this.loop.enqueue(keyOf(pod));
  }

  private async sync(key: string): Promise<SyncResult | undefined> {
    const pod = this.pods.get(key);
    if (!pod || pod.metadata?.deletionTimestamp || isPodTerminal(pod) || !pod.spec?.nodeName) {
      this.firstSeen.delete(key);
      return undefined;
    }
    const node = this.nodes.get(pod.spec.nodeName);
    const taints = (node?.spec?.taints ?? []).filter((t) => t.effect === "NoExecute");
    if (taints.length === 0) {
      this.firstSeen.delete(key);
      return undefined;
    }
    const now = this.ctx.clock.now();
    const seen = this.firstSeen.get(key) ?? now;
    this.firstSeen.set(key, seen);
    const at = evictionTime(taints, pod.spec.tolerations, seen);
    if (at === undefined) return undefined;
    if (at > now) return { requeueAfterMs: at - now };
    await this.evict(typed(pod, "v1", "Pod"), now);
    this.firstSeen.delete(key);
    return undefined;
  }

  private async evict(pod: Pod, now: number): Promise<void> {
    const ref = { ...RESOURCES.pods, namespace: pod.metadata?.namespace, name: pod.metadata?.name };
    this.recorder.record(
      referenceTo(pod),
      "Normal",
      "TaintManagerEviction",
      `Marking for deletion Pod ${pod.metadata?.namespace}/${pod.metadata?.name}`,
    );
    try {
      await this.ctx.client.patch({ ...ref, subresource: "status" }, "strategic", {
        status: {
          conditions: [
            {
              type: "DisruptionTarget",
              status: "True",
              reason: "DeletionByTaintManager",
              message: "Taint manager: deleting due to NoExecute taint",
              lastTransitionTime: k8sTime(now),
            },
          ],
        },
      });
      await this.ctx.client.delete(ref, { preconditions: { uid: pod.metadata?.uid } });
    } catch (error) {
      if (!isNotFound(error) && !isConflict(error)) throw error;
    }
  }
}

function hasNoExecute(node: Node): boolean {
  return (node.spec?.taints ?? []).some((t) => t.effect === "NoExecute");
}
