// The scheduler's view of the cluster: one NodeInfo per node with the pods bound to it, plus pods the
// scheduler has assumed onto a node while their binding is in flight, so the next decision already counts
// them (upstream's scheduler cache). An assumed pod is confirmed when the informer shows it bound, and
// forgotten if its binding fails.
import type { Node } from "../../api/schema/core/node-types.ts";
import type { Pod } from "../../api/schema/core/pod-types.ts";
import { NodeInfo, podEntry } from "./node-info.ts";

export class SchedulerCache {
  private readonly nodes = new Map<string, NodeInfo>();
  /** pod key → node name, for every pod counted on a node. */
  private readonly placed = new Map<string, string>();
  private readonly assumed = new Set<string>();

  private info(name: string): NodeInfo {
    const existing = this.nodes.get(name);
    if (existing) return existing;
    const info = new NodeInfo();
    this.nodes.set(name, info);
    return info;
  }

  setNode(node: Node): void {
    this.info(node.metadata?.name ?? "").setNode(node);
  }

  removeNode(name: string): void {
    const info = this.nodes.get(name);
    if (!info) return;
    // Pods still bound to a deleted node keep a placeholder so their accounting stays right if it returns.
    if (info.pods.size === 0) this.nodes.delete(name);
    else info.node = undefined;
  }

  /** Nodes that exist (have a Node object). */
  nodeInfos(): NodeInfo[] {
    const out: NodeInfo[] = [];
    for (const info of this.nodes.values()) if (info.node) out.push(info);
    return out;
  }

  get nodeCount(): number {
    let n = 0;
    for (const info of this.nodes.values()) if (info.node) n++;
    return n;
  }

  isAssumed(key: string): boolean {
    return this.assumed.has(key);
  }

  /** Counts `pod` on `nodeName` before the binding is confirmed. */
  assume(key: string, pod: Pod, nodeName: string): void {
    this.remove(key);
    this.info(nodeName).addPod(key, podEntry(pod));
    this.placed.set(key, nodeName);
    this.assumed.add(key);
  }

  /** The binding failed: stop counting the pod. */
  forget(key: string): void {
    if (!this.assumed.has(key)) return;
    this.remove(key);
  }

  /** A bound, non-terminal pod as the informer shows it (confirms an assumed pod). */
  addOrUpdate(key: string, pod: Pod): void {
    const nodeName = pod.spec?.nodeName ?? "";
    this.assumed.delete(key);
    const previous = this.placed.get(key);
    if (previous && previous !== nodeName) this.remove(key);
    this.info(nodeName).addPod(key, podEntry(pod));
    this.placed.set(key, nodeName);
  }

  remove(key: string): void {
    const nodeName = this.placed.get(key);
    this.assumed.delete(key);
    if (nodeName === undefined) return;
    this.placed.delete(key);
    const info = this.nodes.get(nodeName);
    info?.removePod(key);
    if (info && !info.node && info.pods.size === 0) this.nodes.delete(nodeName);
  }
}
