// POST pods/x/eviction (policy/v1 Eviction, as kube-apiserver's pod eviction REST): deletes the pod with the
// Eviction's DeleteOptions, unless a PodDisruptionBudget covering it allows no disruption right now (429
// TooManyRequests, which `kubectl drain` retries). Budgets are honoured when this server serves
// policy/v1 poddisruptionbudgets; without that kind every eviction is a plain delete.
//
// As upstream: pods that are already terminal, pending or terminating ignore budgets; a pod covered by more
// than one budget cannot be evicted (500); a budget whose status is older than its spec (observedGeneration)
// refuses; an allowed eviction first takes one disruption from the budget's status (compare-and-swap, so two
// evictions cannot both spend the last one) and records the pod under status.disruptedPods, then deletes.

import type { KubeObject } from "../../../api/resource.ts";
import { decodeObjectBody, readBody } from "../body.ts";
import { ApiError, badRequest, internalError, invalid, notFound, successStatus } from "../errors.ts";
import { formatTime, metaOf } from "../metadata.ts";
import type { ServedResource } from "../resources.ts";
import { type LabelSelectorObject, selectorFromObject } from "../selectors.ts";
import type { ObjectStore } from "../store/object-store.ts";
import { checkTypeMeta } from "./decode.ts";
import { parseDeleteOptions } from "./query.ts";
import { type RequestScope, respondObject } from "./scope.ts";

/** The Eviction versions upstream accepts on pods/eviction. */
const EVICTION_VERSIONS = ["policy/v1", "policy/v1beta1"];

interface PodLike extends KubeObject {
  status?: { phase?: string; conditions?: Array<{ type?: string; status?: string }> };
}

export interface DisruptionBudget extends KubeObject {
  spec?: { selector?: LabelSelectorObject | null; unhealthyPodEvictionPolicy?: string };
  status?: {
    observedGeneration?: number;
    disruptionsAllowed?: number;
    currentHealthy?: number;
    desiredHealthy?: number;
    expectedPods?: number;
    disruptedPods?: Record<string, string>;
  };
}

/** Upstream's message for an eviction a budget refuses; kubectl drain prints it and retries. */
const VIOLATION = "Cannot evict pod as it would violate the pod's disruption budget.";

function tooManyRequests(cause: string): ApiError {
  return new ApiError(429, "TooManyRequests", VIOLATION, {
    causes: [{ reason: "DisruptionBudget", message: cause }],
  });
}

/** Pods whose eviction does not count against a budget (upstream's canIgnorePDB). */
function ignoresBudgets(pod: PodLike): boolean {
  const phase = pod.status?.phase;
  return (
    phase === "Succeeded" || phase === "Failed" || phase === "Pending" || !!pod.metadata?.deletionTimestamp
  );
}

function isReady(pod: PodLike): boolean {
  return (pod.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");
}

/** The budgets in the pod's namespace whose selector matches it; a null selector matches nothing. */
export function budgetsFor(pod: PodLike, budgets: readonly DisruptionBudget[]): DisruptionBudget[] {
  const labels = pod.metadata?.labels ?? {};
  return budgets.filter((b) => {
    const selector = b.spec?.selector;
    if (selector === undefined || selector === null) return false;
    return selectorFromObject(selector).matches(labels);
  });
}

/**
 * Whether a budget lets this pod go, and whether the eviction spends one of its disruptions. Throws the
 * 429 upstream answers when it does not.
 */
export function checkBudget(pod: PodLike, budget: DisruptionBudget): { spend: boolean } {
  const name = budget.metadata?.name ?? "";
  const status = budget.status ?? {};
  const generation = budget.metadata?.generation ?? 0;
  if ((status.observedGeneration ?? 0) < generation) {
    throw tooManyRequests(`The disruption budget ${name} is still being processed by the server.`);
  }
  const healthy = status.currentHealthy ?? 0;
  const desired = status.desiredHealthy ?? 0;
  if (!isReady(pod)) {
    // An unhealthy pod may go when the budget is met anyway, or always under AlwaysAllow.
    if (budget.spec?.unhealthyPodEvictionPolicy === "AlwaysAllow" || healthy >= desired) {
      return { spend: false };
    }
  }
  const allowed = status.disruptionsAllowed ?? 0;
  if (allowed < 0) {
    throw internalError(`pdb disruptions allowed is negative`);
  }
  if (allowed === 0) {
    throw tooManyRequests(
      `The disruption budget ${name} needs ${desired} healthy pods and has ${healthy} currently`,
    );
  }
  return { spend: true };
}

function budgetStore(scope: RequestScope): { served: ServedResource; store: ObjectStore } | undefined {
  const served = scope.ctx.registry.lookup("policy", "v1", "poddisruptionbudgets");
  const store = served ? scope.ctx.stores.get(served) : undefined;
  return served && store ? { served, store } : undefined;
}

/** Takes one disruption from the budget's status for `podName`; a concurrent change re-checks the budget. */
async function spendDisruption(
  scope: RequestScope,
  store: ObjectStore,
  pod: PodLike,
  budgetName: string,
  dryRun: boolean,
): Promise<void> {
  const podName = pod.metadata?.name ?? "";
  await store.update(
    scope.info.namespace,
    budgetName,
    (current) => {
      const budget = current as DisruptionBudget;
      if (!checkBudget(pod, budget).spend) return budget;
      const status = budget.status ?? {};
      budget.status = {
        ...status,
        disruptionsAllowed: (status.disruptionsAllowed ?? 0) - 1,
        disruptedPods: {
          ...(status.disruptedPods ?? {}),
          [podName]: formatTime(new Date(scope.ctx.clock.now())),
        },
      };
      // Not a client precondition: a concurrent change just runs this again on the new status.
      delete metaOf(budget).resourceVersion;
      return budget;
    },
    { user: scope.user, dryRun, subresource: "status" },
    { mode: "internal" },
  );
}

export async function evictPod(scope: RequestScope): Promise<void> {
  const raw = decodeObjectBody(await readBody(scope.req), scope.req.headers["content-type"]);
  const apiVersion =
    typeof raw.apiVersion === "string" && raw.apiVersion !== "" ? raw.apiVersion : "policy/v1";
  if (!EVICTION_VERSIONS.includes(apiVersion)) {
    throw badRequest(
      `the API version in the data (${apiVersion}) does not match the expected API version (policy/v1)`,
    );
  }
  checkTypeMeta(raw, apiVersion, "Eviction");
  const name = scope.info.name;
  const meta = (raw.metadata ?? {}) as { name?: string; namespace?: string };
  if (meta.name !== undefined && meta.name !== "" && meta.name !== name) {
    throw badRequest("name in URL does not match name in Eviction object");
  }
  if (meta.namespace && meta.namespace !== scope.info.namespace) {
    throw badRequest("the namespace of the provided object does not match the namespace sent on the request");
  }
  const deleteBody =
    raw.deleteOptions && typeof raw.deleteOptions === "object"
      ? (raw.deleteOptions as Record<string, unknown>)
      : undefined;
  const options = parseDeleteOptions(deleteBody, scope.query);
  const dryRun = (options.dryRun ?? []).includes("All");
  if (options.gracePeriodSeconds !== undefined && options.gracePeriodSeconds < 0) {
    throw invalid("policy", "Eviction", name, [
      {
        reason: "FieldValueInvalid",
        field: "deleteOptions.gracePeriodSeconds",
        message: `Invalid value: ${options.gracePeriodSeconds}: must be greater than or equal to 0`,
      },
    ]);
  }

  const pod = (await scope.store.tryGet(scope.info.namespace, name))?.object as PodLike | undefined;
  if (!pod) throw notFound(scope.served.qualified, name);

  const budgets = budgetStore(scope);
  if (budgets && !ignoresBudgets(pod)) {
    const all = (await budgets.store.list(scope.info.namespace, {})).items as DisruptionBudget[];
    const matching = budgetsFor(pod, all);
    if (matching.length > 1) {
      throw internalError(
        "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
      );
    }
    const budget = matching[0];
    if (budget && checkBudget(pod, budget).spend) {
      await spendDisruption(scope, budgets.store, pod, budget.metadata?.name ?? "", dryRun);
    }
  }

  // The pod the budget was checked against is the one deleted (upstream pins its UID).
  const uid = pod.metadata?.uid;
  if (uid && !options.preconditions?.uid) options.preconditions = { ...options.preconditions, uid };
  await scope.store.delete(scope.info.namespace, name, options, {
    user: scope.user,
    dryRun,
    subresource: "eviction",
  });
  respondObject(scope, 201, { ...successStatus(), code: 201 });
}
