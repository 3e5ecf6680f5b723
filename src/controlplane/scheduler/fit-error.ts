// The FailedScheduling message in upstream's shape:
// "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint {k: v}. preemption: 0/3
// nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for
// scheduling."
import type { FilterFailure } from "./filters.ts";

export const NO_NODES_AVAILABLE = "no nodes available to schedule pods";

function histogram(entries: Iterable<string>): string {
  const counts = new Map<string, number>();
  for (const e of entries) counts.set(e, (counts.get(e) ?? 0) + 1);
  return [...counts]
    .map(([reason, n]) => `${n} ${reason}`)
    .sort()
    .join(", ");
}

export function fitErrorMessage(
  totalNodes: number,
  failures: readonly FilterFailure[],
  preemptionPolicy?: string,
): string {
  if (totalNodes === 0) return NO_NODES_AVAILABLE;
  const reasons = histogram(failures.flatMap((f) => f.reasons));
  let message = `0/${totalNodes} nodes are available: ${reasons}.`;
  if (preemptionPolicy === "Never") {
    message += " preemption: not eligible due to preemptionPolicy=Never.";
  } else {
    // No lower-priority victims are ever chosen here, so preemption helps nowhere: say why per node.
    const preemption = histogram(
      failures.map((f) =>
        f.unresolvable
          ? "Preemption is not helpful for scheduling"
          : "No preemption victims found for incoming pod",
      ),
    );
    message += ` preemption: 0/${totalNodes} nodes are available: ${preemption}.`;
  }
  return message;
}
