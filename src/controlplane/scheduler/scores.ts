// The scheduler's scores (upstream's default Score plugins, reduced): least allocated and balanced
// allocation of cpu and memory, spreading pods of the same controller across nodes, avoiding
// PreferNoSchedule taints, and preferred node affinity. Each yields 0–100 per node; the weighted sum
// decides and ties are broken at random.
import type { Pod } from "../../api/schema/core/pod-types.ts";
import { preferredAffinityWeight } from "./node-affinity.ts";
import type { NodeInfo, PodEntry } from "./node-info.ts";
import { toleratedBy } from "./taints.ts";

export const MAX_NODE_SCORE = 100;

const SCORED = ["cpu", "memory"] as const;

/** Fractions of allocatable cpu and memory that would be requested with the pod on the node (non-zero requests). */
function fractions(entry: PodEntry, info: NodeInfo): number[] {
  return SCORED.map((r) => {
    const alloc = info.allocatable[r] ?? 0;
    if (alloc <= 0) return 1;
    return ((info.nonZeroRequested[r] ?? 0) + (entry.nonZero[r] ?? 0)) / alloc;
  });
}

/** upstream LeastAllocated: the free share of cpu and memory after placing the pod, averaged. */
export function leastAllocatedScore(entry: PodEntry, info: NodeInfo): number {
  const f = fractions(entry, info);
  const free = f.map((x) => (x > 1 ? 0 : (1 - x) * MAX_NODE_SCORE));
  return Math.floor(free.reduce((a, b) => a + b, 0) / free.length);
}

/** upstream BalancedAllocation: 100 × (1 − standard deviation of the requested fractions). */
export function balancedAllocationScore(entry: PodEntry, info: NodeInfo): number {
  const f = fractions(entry, info).map((x) => Math.min(x, 1));
  const mean = f.reduce((a, b) => a + b, 0) / f.length;
  const std = Math.sqrt(f.reduce((a, b) => a + (b - mean) ** 2, 0) / f.length);
  return Math.floor((1 - std) * MAX_NODE_SCORE);
}

/** Raw counts per node, normalized across nodes afterwards (fewer → better). */
export function spreadCount(entry: PodEntry, info: NodeInfo): number {
  return entry.owner ? (info.owners.get(entry.owner) ?? 0) : 0;
}

export function preferNoScheduleCount(pod: Pod, info: NodeInfo): number {
  let n = 0;
  for (const t of info.node?.spec?.taints ?? []) {
    if (t.effect === "PreferNoSchedule" && !toleratedBy(pod.spec?.tolerations, t)) n++;
  }
  return n;
}

/** Scales raw values to 0–100: the highest raw value gets 100 (or 0 when `reverse`, fewer being better). */
export function normalize(raw: readonly number[], reverse: boolean): number[] {
  const max = Math.max(0, ...raw);
  if (max === 0) return raw.map(() => (reverse ? MAX_NODE_SCORE : 0));
  return raw.map((v) => {
    const s = Math.floor((v * MAX_NODE_SCORE) / max);
    return reverse ? MAX_NODE_SCORE - s : s;
  });
}

export const SCORE_WEIGHTS = {
  leastAllocated: 1,
  balancedAllocation: 1,
  spread: 2,
  taintToleration: 3,
  nodeAffinity: 2,
} as const;

/** Total weighted score per node, in the order of `nodes`. */
export function scoreNodes(pod: Pod, entry: PodEntry, nodes: readonly NodeInfo[]): number[] {
  const spread = normalize(
    nodes.map((n) => spreadCount(entry, n)),
    true,
  );
  const taints = normalize(
    nodes.map((n) => preferNoScheduleCount(pod, n)),
    true,
  );
  const affinity = normalize(
    nodes.map((n) => (n.node ? preferredAffinityWeight(pod, n.node) : 0)),
    false,
  );
  return nodes.map(
    (n, i) =>
      SCORE_WEIGHTS.leastAllocated * leastAllocatedScore(entry, n) +
      SCORE_WEIGHTS.balancedAllocation * balancedAllocationScore(entry, n) +
      SCORE_WEIGHTS.spread * (spread[i] ?? 0) +
      SCORE_WEIGHTS.taintToleration * (taints[i] ?? 0) +
      SCORE_WEIGHTS.nodeAffinity * (affinity[i] ?? 0),
  );
}

/** Index of the best score; among equal best ones, one picked at random (upstream selectHost). */
export function selectHost(scores: readonly number[], random: () => number): number {
  let best = -1;
  let bestScore = Number.NEGATIVE_INFINITY;
  let ties = 0;
  scores.forEach((s, i) => {
    if (s > bestScore) {
      bestScore = s;
      best = i;
      ties = 1;
    } else if (s === bestScore) {
      ties++;
      if (random() * ties < 1) best = i;
    }
  });
  return best;
}
