// The pure half of the DaemonSet controller (upstream pkg/controller/daemon): which nodes should run a
// daemon pod (node selector, required affinity, taints, with the tolerations upstream adds to every daemon
// pod), the pod pinned to its node through node affinity, and the rolling-update plan.
import type { DaemonSet } from "../../../api/schema/apps/types.ts";
import type { Node } from "../../../api/schema/core/node-types.ts";
import type { Pod, PodTemplateSpec } from "../../../api/schema/core/pod-types.ts";
import type { Toleration } from "../../../api/schema/core/scheduling.ts";
import { matchesRequiredNodeAffinity } from "../../scheduler/node-affinity.ts";
import {
  firstUntolerated,
  TAINT_DISK_PRESSURE,
  TAINT_MEMORY_PRESSURE,
  TAINT_NETWORK_UNAVAILABLE,
  TAINT_NOT_READY,
  TAINT_PID_PRESSURE,
  TAINT_UNREACHABLE,
  TAINT_UNSCHEDULABLE,
} from "../../scheduler/taints.ts";
import { isPodAvailable } from "../machinery/pods.ts";
import { scaledValue, shortHash } from "../machinery/util.ts";

export const REVISION_HASH_LABEL = "controller-revision-hash";
export const TEMPLATE_GENERATION_LABEL = "pod-template-generation";

/** upstream AddOrUpdateDaemonPodTolerations. */
export function daemonTolerations(hostNetwork: boolean): Toleration[] {
  const t: Toleration[] = [
    { key: TAINT_NOT_READY, operator: "Exists", effect: "NoExecute" },
    { key: TAINT_UNREACHABLE, operator: "Exists", effect: "NoExecute" },
    { key: TAINT_DISK_PRESSURE, operator: "Exists", effect: "NoSchedule" },
    { key: TAINT_MEMORY_PRESSURE, operator: "Exists", effect: "NoSchedule" },
    { key: TAINT_PID_PRESSURE, operator: "Exists", effect: "NoSchedule" },
    { key: TAINT_UNSCHEDULABLE, operator: "Exists", effect: "NoSchedule" },
  ];
  if (hostNetwork) t.push({ key: TAINT_NETWORK_UNAVAILABLE, operator: "Exists", effect: "NoSchedule" });
  return t;
}

function addTolerations(existing: readonly Toleration[], add: readonly Toleration[]): Toleration[] {
  const out = [...existing];
  for (const t of add) {
    if (!out.some((e) => e.key === t.key && e.effect === t.effect && (e.operator ?? "Equal") === t.operator))
      out.push(t);
  }
  return out;
}

/** The revision hash of the DaemonSet's template (the controller-revision-hash label of current pods). */
export function templateRevisionHash(ds: DaemonSet): string {
  return shortHash(ds.spec?.template ?? {}, ds.status?.collisionCount);
}

/** The template every daemon pod is made from: the DaemonSet's with the daemon tolerations and revision labels. */
export function daemonTemplate(ds: DaemonSet, hash: string): PodTemplateSpec {
  const template = structuredClone(ds.spec?.template ?? {}) as PodTemplateSpec;
  const spec = template.spec ?? ({ containers: [] } as unknown as NonNullable<PodTemplateSpec["spec"]>);
  spec.tolerations = addTolerations(spec.tolerations ?? [], daemonTolerations(spec.hostNetwork === true));
  template.spec = spec;
  template.metadata = {
    ...template.metadata,
    labels: {
      ...(template.metadata?.labels ?? {}),
      [REVISION_HASH_LABEL]: hash,
      [TEMPLATE_GENERATION_LABEL]: String(ds.metadata?.generation ?? 1),
    },
  };
  return template;
}

export interface NodeDecision {
  /** A daemon pod should be created here if there is none. */
  shouldRun: boolean;
  /** An existing daemon pod may stay (only NoExecute taints evict). */
  shouldContinueRunning: boolean;
}

/** upstream NodeShouldRunDaemonPod. */
export function nodeShouldRunDaemonPod(template: PodTemplateSpec, node: Node): NodeDecision {
  const pod = { spec: template.spec } as Pod;
  const wanted = template.spec?.nodeName;
  if (wanted && wanted !== node.metadata?.name) return { shouldRun: false, shouldContinueRunning: false };
  if (!matchesRequiredNodeAffinity(pod, node)) return { shouldRun: false, shouldContinueRunning: false };
  const taints = node.spec?.taints ?? [];
  const tolerations = template.spec?.tolerations;
  if (firstUntolerated(taints, tolerations, ["NoSchedule", "NoExecute"])) {
    return { shouldRun: false, shouldContinueRunning: !firstUntolerated(taints, tolerations, ["NoExecute"]) };
  }
  return { shouldRun: true, shouldContinueRunning: true };
}

/** upstream ReplaceDaemonSetPodNodeNameNodeAffinity: the pod may only go to `nodeName`. */
export function pinToNode(pod: Pod, nodeName: string): Pod {
  const spec = pod.spec as NonNullable<Pod["spec"]>;
  const affinity = { ...(spec.affinity ?? {}) };
  affinity.nodeAffinity = {
    ...(affinity.nodeAffinity ?? {}),
    requiredDuringSchedulingIgnoredDuringExecution: {
      nodeSelectorTerms: [{ matchFields: [{ key: "metadata.name", operator: "In", values: [nodeName] }] }],
    },
  };
  spec.affinity = affinity;
  return pod;
}

/** The node a daemon pod is for: its nodeName, or the node its affinity pins it to. */
export function targetNode(pod: Pod): string | undefined {
  if (pod.spec?.nodeName) return pod.spec.nodeName;
  for (const term of pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution
    ?.nodeSelectorTerms ?? []) {
    for (const f of term.matchFields ?? []) {
      if (f.key === "metadata.name" && f.operator === "In" && f.values?.length === 1) return f.values[0];
    }
  }
  return undefined;
}

export interface RollingInput {
  /** Per node that should run the daemon: its live (not deleting, not failed) daemon pods. */
  nodes: Array<{ name: string; pods: Pod[] }>;
  hash: string;
  maxUnavailable: number | string | undefined;
  maxSurge: number | string | undefined;
  minReadySeconds: number;
  now: number;
}

export interface RollingPlan {
  deletePods: Pod[];
  /** Nodes that get a new pod next to the old one (surge). */
  surgeNodes: string[];
}

/**
 * upstream rollingUpdate: without surge, old pods are deleted on as many nodes as maxUnavailable allows
 * (unavailable old pods first, at no cost); with surge, new pods start next to available old ones on up to
 * maxSurge nodes and the old pod goes once the new one is available.
 */
export function planRollingUpdate(input: RollingInput): RollingPlan {
  const desired = input.nodes.length;
  const maxSurge = scaledValue(input.maxSurge, desired, true, 0);
  const maxUnavailable = maxSurge > 0 ? 0 : Math.max(1, scaledValue(input.maxUnavailable, desired, true, 1));
  const available = (p: Pod) => isPodAvailable(p, input.minReadySeconds, input.now);
  const plan: RollingPlan = { deletePods: [], surgeNodes: [] };
  let unavailable = 0;
  const candidates: Pod[] = [];
  let surging = 0;
  const surgeCandidates: string[] = [];
  for (const { name, pods } of input.nodes) {
    const newPod = pods.find((p) => p.metadata?.labels?.[REVISION_HASH_LABEL] === input.hash);
    const oldPods = pods.filter((p) => p !== newPod);
    if (maxSurge === 0) {
      if (pods.length === 0 || (newPod && oldPods.length > 0) || oldPods.length > 1) {
        // The manage loop creates or removes pods here; count the node as unavailable meanwhile.
        unavailable++;
      } else if (newPod) {
        if (!available(newPod)) unavailable++;
      } else {
        const old = oldPods[0] as Pod;
        // An unavailable old pod is replaced at no cost; an available one only within maxUnavailable.
        if (!available(old)) plan.deletePods.push(old);
        else candidates.push(old);
      }
      continue;
    }
    if (oldPods.length === 0) continue;
    if (newPod) {
      surging++;
      if (available(newPod)) plan.deletePods.push(...oldPods);
      continue;
    }
    if (!oldPods.some(available)) plan.deletePods.push(...oldPods);
    else surgeCandidates.push(name);
  }
  if (maxSurge === 0) plan.deletePods.push(...candidates.slice(0, Math.max(0, maxUnavailable - unavailable)));
  else plan.surgeNodes.push(...surgeCandidates.slice(0, Math.max(0, maxSurge - surging)));
  return plan;
}
