// policy/v1 PodDisruptionBudget: what pods/eviction checks before it deletes a pod. Not in the served set
// yet: its status (disruptionsAllowed, currentHealthy …) is kept by a disruption controller this project does
// not have, and without one every budget would refuse every eviction. A server given this definition (tests,
// or once the controller exists) honours budgets in pods/eviction.

import {
  always,
  int32,
  int64,
  list,
  mapOf,
  named,
  opt,
  req,
  type Static,
  str,
  struct,
  typeMetaFields,
} from "../dsl.ts";
import { type FieldError, invalid, notSupported } from "../field-errors.ts";
import { defineKind } from "../kind.ts";
import { Condition, IntOrString, LabelSelector, ObjectMeta, Time } from "../meta.ts";
import { nameIsDNSSubdomain } from "../names.ts";
import { AGE_COLUMN, column, NAME_COLUMN, since } from "../printing.ts";

const POLICY = "io.k8s.api.policy.v1";

export const PodDisruptionBudgetSpec = named(
  `${POLICY}.PodDisruptionBudgetSpec`,
  struct("PodDisruptionBudgetSpec is a description of a PodDisruptionBudget.", {
    minAvailable: opt(
      IntOrString,
      'An eviction is allowed if at least "minAvailable" pods selected by "selector" will still be available after the eviction.',
    ),
    maxUnavailable: opt(
      IntOrString,
      'An eviction is allowed if at most "maxUnavailable" pods selected by "selector" are unavailable after the eviction.',
    ),
    selector: opt(
      LabelSelector,
      "Label query over pods whose evictions are managed by the disruption budget.",
    ),
    unhealthyPodEvictionPolicy: opt(
      str(),
      "UnhealthyPodEvictionPolicy defines the criteria for when unhealthy pods should be considered for eviction (IfHealthyBudget, AlwaysAllow).",
    ),
  }),
);

export const PodDisruptionBudgetStatus = named(
  `${POLICY}.PodDisruptionBudgetStatus`,
  struct("PodDisruptionBudgetStatus represents information about the status of a PodDisruptionBudget.", {
    observedGeneration: opt(int64(), "Most recent generation observed when updating this PDB status."),
    disruptedPods: opt(
      mapOf(Time),
      "DisruptedPods contains information about pods whose eviction was processed by the API server eviction subresource handler but has not yet been observed by the PodDisruptionBudget controller.",
    ),
    disruptionsAllowed: req(int32(), "Number of pod disruptions that are currently allowed."),
    currentHealthy: req(int32(), "current number of healthy pods"),
    desiredHealthy: req(int32(), "minimum desired number of healthy pods"),
    expectedPods: req(int32(), "total number of pods counted by this disruption budget"),
    conditions: opt(list(Condition), "Conditions contain conditions for PDB (DisruptionAllowed)."),
  }),
);

export const PodDisruptionBudget = named(
  `${POLICY}.PodDisruptionBudget`,
  struct(
    "PodDisruptionBudget is an object to define the max disruption that can be caused to a collection of pods",
    {
      ...typeMetaFields(),
      metadata: always(ObjectMeta, "Standard object's metadata."),
      spec: always(
        PodDisruptionBudgetSpec,
        "Specification of the desired behavior of the PodDisruptionBudget.",
      ),
      status: opt(PodDisruptionBudgetStatus, "Most recently observed status of the PodDisruptionBudget."),
    },
  ),
);
export type PodDisruptionBudget = Static<typeof PodDisruptionBudget>;

const intOrPercent = (v: unknown) => (v === undefined ? "N/A" : String(v));

export const podDisruptionBudgets = defineKind<PodDisruptionBudget>({
  group: "policy",
  version: "v1",
  kind: "PodDisruptionBudget",
  plural: "poddisruptionbudgets",
  namespaced: true,
  shortNames: ["pdb"],
  subresources: ["status"],
  tracksGeneration: true,
  schema: PodDisruptionBudget,
  nameValidator: nameIsDNSSubdomain,
  validate(pdb) {
    const errs: FieldError[] = [];
    const spec = pdb.spec ?? {};
    if (spec.minAvailable !== undefined && spec.maxUnavailable !== undefined) {
      errs.push(invalid("spec", "", "minAvailable and maxUnavailable cannot be both set"));
    }
    const policy = spec.unhealthyPodEvictionPolicy;
    if (policy !== undefined && policy !== "IfHealthyBudget" && policy !== "AlwaysAllow") {
      errs.push(notSupported("spec.unhealthyPodEvictionPolicy", policy, ["AlwaysAllow", "IfHealthyBudget"]));
    }
    return errs;
  },
  table: {
    columns: [
      NAME_COLUMN,
      column("Min Available", "The minimum number of pods that must be available."),
      column("Max Unavailable", "The maximum number of pods that may be unavailable."),
      column(
        "Allowed Disruptions",
        "Calculated number of pods that may be disrupted at this time.",
        0,
        "integer",
      ),
      AGE_COLUMN,
    ],
    row(pdb, now = new Date()) {
      return [
        pdb.metadata?.name ?? "",
        intOrPercent(pdb.spec?.minAvailable),
        intOrPercent(pdb.spec?.maxUnavailable),
        pdb.status?.disruptionsAllowed ?? 0,
        since(pdb.metadata?.creationTimestamp, now),
      ];
    },
  },
});
