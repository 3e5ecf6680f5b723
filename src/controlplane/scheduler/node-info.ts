// What the scheduler knows about one node: the Node object and the pods bound (or assumed bound) to it,
// with their summed requests and host ports kept up to date incrementally.
import type { Node } from "../../api/schema/core/node-types.ts";
import type { Pod } from "../../api/schema/core/pod-types.ts";
import {
  addInto,
  type HostPort,
  nodeAllocatable,
  podHostPorts,
  podRequests,
  type Resources,
} from "./resources.ts";

export interface PodEntry {
  pod: Pod;
  requests: Resources;
  nonZero: Resources;
  ports: HostPort[];
  /** UID of the pod's controller, for spreading. */
  owner?: string;
}

export function podEntry(pod: Pod): PodEntry {
  return {
    pod,
    requests: podRequests(pod),
    nonZero: podRequests(pod, true),
    ports: podHostPorts(pod),
    owner: pod.metadata?.ownerReferences?.find((r) => r.controller)?.uid,
  };
}

export class NodeInfo {
  node: Node | undefined;
  allocatable: Resources = {};
  readonly pods = new Map<string, PodEntry>();
  readonly requested: Resources = {};
  readonly nonZeroRequested: Resources = {};
  readonly ports: HostPort[] = [];
  readonly owners = new Map<string, number>();

  constructor(node?: Node) {
    if (node) this.setNode(node);
  }

  get name(): string {
    return this.node?.metadata?.name ?? "";
  }

  setNode(node: Node): void {
    this.node = node;
    this.allocatable = nodeAllocatable(node);
  }

  addPod(key: string, entry: PodEntry): void {
    if (this.pods.has(key)) this.removePod(key);
    this.pods.set(key, entry);
    addInto(this.requested, entry.requests);
    addInto(this.nonZeroRequested, entry.nonZero);
    this.ports.push(...entry.ports);
    if (entry.owner) this.owners.set(entry.owner, (this.owners.get(entry.owner) ?? 0) + 1);
  }

  removePod(key: string): void {
    const entry = this.pods.get(key);
    if (!entry) return;
    this.pods.delete(key);
    addInto(this.requested, entry.requests, -1);
    addInto(this.nonZeroRequested, entry.nonZero, -1);
    for (const p of entry.ports) {
      const i = this.ports.findIndex((q) => q.ip === p.ip && q.port === p.port && q.protocol === p.protocol);
      if (i >= 0) this.ports.splice(i, 1);
    }
    if (entry.owner) {
      const n = (this.owners.get(entry.owner) ?? 1) - 1;
      if (n <= 0) this.owners.delete(entry.owner);
      else this.owners.set(entry.owner, n);
    }
  }
}
