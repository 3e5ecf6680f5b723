// The scheduler's filters (upstream's default Filter plugins, in their order): each says whether a pod may
// go on a node and, if not, why in upstream's words and whether preemption could ever help.
import type { Pod } from "../../api/schema/core/pod-types.ts";
import { matchesRequiredNodeAffinity } from "./node-affinity.ts";
import type { NodeInfo, PodEntry } from "./node-info.ts";
import { portsConflict } from "./resources.ts";
import { effectiveTaints, firstUntolerated, TAINT_UNSCHEDULABLE, toleratedBy } from "./taints.ts";

export interface FilterFailure {
  /** upstream plugin name, for logs. */
  plugin: string;
  reasons: string[];
  /** UnschedulableAndUnresolvable: removing other pods (preemption) would not help. */
  unresolvable: boolean;
}

export const REASON_UNSCHEDULABLE = "node(s) were unschedulable";
export const REASON_NODE_NAME = "node(s) didn't match the requested node name";
export const REASON_AFFINITY = "node(s) didn't match Pod's node affinity/selector";
export const REASON_PORTS = "node(s) didn't have free ports for the requested pod ports";
export const REASON_TOO_MANY_PODS = "Too many pods";
export const taintReason = (key: string, value: string | undefined) =>
  `node(s) had untolerated taint {${key}: ${value ?? ""}}`;

type Filter = (pod: Pod, entry: PodEntry, node: NodeInfo) => FilterFailure | undefined;

export const nodeUnschedulable: Filter = (pod, _entry, info) => {
  if (!info.node?.spec?.unschedulable) return undefined;
  if (toleratedBy(pod.spec?.tolerations, { key: TAINT_UNSCHEDULABLE, effect: "NoSchedule" }))
    return undefined;
  return { plugin: "NodeUnschedulable", reasons: [REASON_UNSCHEDULABLE], unresolvable: true };
};

export const nodeName: Filter = (pod, _entry, info) => {
  const wanted = pod.spec?.nodeName;
  if (!wanted || wanted === info.name) return undefined;
  return { plugin: "NodeName", reasons: [REASON_NODE_NAME], unresolvable: true };
};

export const taintToleration: Filter = (pod, _entry, info) => {
  if (!info.node) return undefined;
  const taint = firstUntolerated(effectiveTaints(info.node), pod.spec?.tolerations, [
    "NoSchedule",
    "NoExecute",
  ]);
  if (!taint) return undefined;
  return { plugin: "TaintToleration", reasons: [taintReason(taint.key, taint.value)], unresolvable: true };
};

export const nodeAffinity: Filter = (pod, _entry, info) => {
  if (!info.node || matchesRequiredNodeAffinity(pod, info.node)) return undefined;
  return { plugin: "NodeAffinity", reasons: [REASON_AFFINITY], unresolvable: true };
};

export const nodePorts: Filter = (_pod, entry, info) => {
  for (const want of entry.ports) {
    if (info.ports.some((used) => portsConflict(want, used))) {
      return { plugin: "NodePorts", reasons: [REASON_PORTS], unresolvable: false };
    }
  }
  return undefined;
};

/** upstream NodeResourcesFit: pod count, then every requested resource against allocatable minus requested. */
export const nodeResourcesFit: Filter = (_pod, entry, info) => {
  const reasons: string[] = [];
  if (info.pods.size + 1 > (info.allocatable.pods ?? 0)) reasons.push(REASON_TOO_MANY_PODS);
  for (const [name, want] of Object.entries(entry.requests)) {
    if (want <= 0 || name === "pods") continue;
    const free = (info.allocatable[name] ?? 0) - (info.requested[name] ?? 0);
    if (want > free) reasons.push(`Insufficient ${name}`);
  }
  return reasons.length ? { plugin: "NodeResourcesFit", reasons, unresolvable: false } : undefined;
};

export const DEFAULT_FILTERS: readonly Filter[] = [
  nodeUnschedulable,
  nodeName,
  taintToleration,
  nodeAffinity,
  nodePorts,
  nodeResourcesFit,
];

/** Runs the filters in order; the first failure decides, like upstream's framework. */
export function runFilters(
  pod: Pod,
  entry: PodEntry,
  info: NodeInfo,
  filters = DEFAULT_FILTERS,
): FilterFailure | undefined {
  for (const filter of filters) {
    const failure = filter(pod, entry, info);
    if (failure) return failure;
  }
  return undefined;
}
