// Node selection by labels (upstream component-helpers nodeaffinity): spec.nodeSelector and required
// node affinity terms, plus the weight of matching preferred terms.
import type { Node } from "../../api/schema/core/node-types.ts";
import type { Pod } from "../../api/schema/core/pod-types.ts";
import type { NodeSelectorRequirement, NodeSelectorTerm } from "../../api/schema/core/scheduling.ts";

function requirementMatches(
  req: NodeSelectorRequirement,
  value: string | undefined,
  present: boolean,
): boolean {
  const values = req.values ?? [];
  switch (req.operator) {
    case "In":
      return present && values.includes(value as string);
    case "NotIn":
      return !present || !values.includes(value as string);
    case "Exists":
      return present;
    case "DoesNotExist":
      return !present;
    case "Gt":
    case "Lt": {
      if (!present || values.length !== 1) return false;
      const have = Number.parseInt(value as string, 10);
      const want = Number.parseInt(values[0] as string, 10);
      if (!Number.isFinite(have) || !Number.isFinite(want)) return false;
      return req.operator === "Gt" ? have > want : have < want;
    }
    default:
      return false;
  }
}

/** A term matches when all its expressions (labels) and fields (metadata.name) match; an empty term never does. */
export function termMatches(term: NodeSelectorTerm, node: Node): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  const labels = node.metadata?.labels ?? {};
  for (const req of exprs) if (!requirementMatches(req, labels[req.key], req.key in labels)) return false;
  for (const req of fields) {
    if (req.key !== "metadata.name") return false;
    if (!requirementMatches(req, node.metadata?.name, true)) return false;
  }
  return true;
}

/** spec.nodeSelector and requiredDuringSchedulingIgnoredDuringExecution both hold for the node. */
export function matchesRequiredNodeAffinity(pod: Pod, node: Node): boolean {
  const labels = node.metadata?.labels ?? {};
  for (const [k, v] of Object.entries(pod.spec?.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (!required) return true;
  return (required.nodeSelectorTerms ?? []).some((term) => termMatches(term, node));
}

/** Sum of the weights of the preferred terms the node matches. */
export function preferredAffinityWeight(pod: Pod, node: Node): number {
  let sum = 0;
  for (const p of pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []) {
    if (p.weight && termMatches(p.preference, node)) sum += p.weight;
  }
  return sum;
}
