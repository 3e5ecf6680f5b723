// Linux container resources from requests and limits (kuberuntime's generateLinuxContainerResources and
// qos.GetContainerOOMScoreAdjust): CPU shares, CFS quota, memory limit and the OOM score adjustment.
import { cpuMillis, wholeUnits } from "../../api/quantity.ts";
import type { Container } from "../../api/schema/core/container.ts";
import type { Pod } from "../../api/schema/core/pod-types.ts";
import type { ContainerResources } from "../../runtime/types.ts";
import { qosClass } from "../pod-status.ts";

export const MIN_SHARES = 2;
export const MAX_SHARES = 262144;
export const SHARES_PER_CPU = 1024;
export const QUOTA_PERIOD = 100000;
export const MIN_QUOTA = 1000;
export const GUARANTEED_OOM_SCORE_ADJ = -997;
export const BESTEFFORT_OOM_SCORE_ADJ = 1000;
const SYSTEM_CRITICAL_PRIORITY = 2_000_000_000;

export function milliCpuToShares(milliCpu: number): number {
  if (milliCpu === 0) return MIN_SHARES;
  const shares = Math.floor((milliCpu * SHARES_PER_CPU) / 1000);
  return Math.min(Math.max(shares, MIN_SHARES), MAX_SHARES);
}

export function milliCpuToQuota(milliCpu: number, period: number): number {
  if (milliCpu === 0) return 0;
  return Math.max(Math.floor((milliCpu * period) / 1000), MIN_QUOTA);
}

function quantity(
  list: Record<string, string> | undefined,
  name: string,
  parse: (q: string) => number | undefined,
) {
  const text = list?.[name];
  if (text === undefined) return 0;
  const value = parse(text);
  if (value === undefined) throw new Error(`resources: ${name} "${text}" is not a quantity`);
  return value;
}

function memoryRequest(container: Container): number {
  return quantity(container.resources?.requests, "memory", wholeUnits);
}

/** Static, mirror, or system-critical priority and the system-node-critical class (upstream's IsNodeCriticalPod). */
function isNodeCritical(pod: Pod): boolean {
  if (pod.spec?.priorityClassName !== "system-node-critical") return false;
  const annotations = pod.metadata?.annotations ?? {};
  const source = annotations["kubernetes.io/config.source"];
  const isStatic = source !== undefined && source !== "api";
  const isMirror = annotations["kubernetes.io/config.mirror"] !== undefined;
  return isStatic || isMirror || (pod.spec?.priority ?? 0) >= SYSTEM_CRITICAL_PRIORITY;
}

function isSidecar(pod: Pod, container: Container): boolean {
  return (
    container.restartPolicy === "Always" &&
    (pod.spec?.initContainers ?? []).some((c) => c.name === container.name)
  );
}

/**
 * Upstream's policy: node-critical and Guaranteed pods -997, BestEffort 1000, Burstable
 * 1000 − 1000·memoryRequest/memoryCapacity clamped to [3, 999] (sidecars no higher than the smallest regular
 * container). Without allowNegative a negative score becomes 0 (needs CAP_SYS_RESOURCE; see host notes).
 */
export function oomScoreAdj(
  pod: Pod,
  container: Container,
  memoryCapacity: number,
  allowNegative: boolean,
): number {
  let score: number;
  if (isNodeCritical(pod)) score = GUARANTEED_OOM_SCORE_ADJ;
  else {
    const qos = qosClass(pod);
    if (qos === "Guaranteed") score = GUARANTEED_OOM_SCORE_ADJ;
    else if (qos === "BestEffort") score = BESTEFFORT_OOM_SCORE_ADJ;
    else score = burstableScore(pod, container, memoryCapacity);
  }
  return allowNegative ? score : Math.max(0, score);
}

function burstableScore(pod: Pod, container: Container, memoryCapacity: number): number {
  const formula = (request: number) =>
    memoryCapacity > 0 ? 1000 - Math.trunc((1000 * request) / memoryCapacity) : 1000;
  let score = formula(memoryRequest(container));
  if (isSidecar(pod, container)) {
    const requests = (pod.spec?.containers ?? []).map(memoryRequest).filter((r) => r > 0);
    if (requests.length > 0) score = Math.min(score, formula(Math.min(...requests)));
  }
  if (score < 1000 + GUARANTEED_OOM_SCORE_ADJ) return 1000 + GUARANTEED_OOM_SCORE_ADJ;
  if (score === BESTEFFORT_OOM_SCORE_ADJ) return score - 1;
  return score;
}

/** Throws an Error naming the bad quantity. */
export function containerResources(
  pod: Pod,
  container: Container,
  memoryCapacity: number,
  allowNegativeOomScoreAdj: boolean,
): ContainerResources {
  const requests = container.resources?.requests;
  const limits = container.resources?.limits;
  const cpuRequest = quantity(requests, "cpu", cpuMillis);
  const cpuLimit = quantity(limits, "cpu", cpuMillis);
  const memoryLimit = quantity(limits, "memory", wholeUnits);
  // A request defaults to the limit (the API server does this for new pods; kubelet repeats it).
  const shares = milliCpuToShares(cpuRequest === 0 && cpuLimit !== 0 ? cpuLimit : cpuRequest);
  return {
    cpuShares: shares,
    cpuPeriod: QUOTA_PERIOD,
    cpuQuota: milliCpuToQuota(cpuLimit, QUOTA_PERIOD),
    memoryLimitBytes: memoryLimit,
    oomScoreAdj: oomScoreAdj(pod, container, memoryCapacity, allowNegativeOomScoreAdj),
  };
}

/**
 * The pod's memory limit as its cgroup would get it (upstream's ResourceConfigForPod): the sum of the app
 * containers' limits, at least the largest init container limit, plus overhead; undefined when any container
 * has no memory limit.
 */
export function podMemoryLimit(pod: Pod): number | undefined {
  let sum = 0;
  for (const c of pod.spec?.containers ?? []) {
    const limit = c.resources?.limits?.memory;
    if (limit === undefined) return undefined;
    sum += wholeUnits(limit) ?? 0;
  }
  let initMax = 0;
  let sidecars = 0;
  for (const c of pod.spec?.initContainers ?? []) {
    const limit = c.resources?.limits?.memory;
    if (limit === undefined) return undefined;
    const value = wholeUnits(limit) ?? 0;
    if (c.restartPolicy === "Always") {
      sidecars += value;
      sum += value;
    } else initMax = Math.max(initMax, value + sidecars);
  }
  const overhead = pod.spec?.overhead?.memory;
  return Math.max(sum, initMax) + (overhead === undefined ? 0 : (wholeUnits(overhead) ?? 0));
}
