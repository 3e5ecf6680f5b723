// apps/v1 replicasets.

import { type FieldError, immutable } from "../field-errors.ts";
import { defineKind } from "../kind.ts";
import { formatLabelSelector, validateLabelSelector } from "../meta-validation.ts";
import { nameIsDNSSubdomain } from "../names.ts";
import { AGE_COLUMN, column, containersAndImages, NAME_COLUMN, since } from "../printing.ts";
import {
  CONTAINERS_COLUMN,
  defaultTemplate,
  IMAGES_COLUMN,
  nonNegativeInt,
  SELECTOR_COLUMN,
  validateSelectorMatchesTemplate,
  validateTemplate,
} from "../workload.ts";
import { ReplicaSet } from "./types.ts";

export const replicaSets = defineKind<ReplicaSet>({
  group: "apps",
  version: "v1",
  kind: "ReplicaSet",
  plural: "replicasets",
  namespaced: true,
  shortNames: ["rs"],
  categories: ["all"],
  subresources: ["status", "scale"],
  schema: ReplicaSet,
  nameValidator: nameIsDNSSubdomain,
  tracksGeneration: true,
  scale: { specReplicas: "spec.replicas", statusReplicas: "status.replicas", labelSelector: "spec.selector" },
  applyDefaults(rs) {
    rs.spec ??= {} as NonNullable<ReplicaSet["spec"]>;
    if (rs.spec.replicas === undefined) rs.spec.replicas = 1;
    defaultTemplate(rs.spec.template);
  },
  prepareForCreate(rs) {
    rs.status = { replicas: 0 };
  },
  validate(rs, old) {
    const errs: FieldError[] = [];
    const spec = rs.spec ?? ({} as NonNullable<ReplicaSet["spec"]>);
    errs.push(...nonNegativeInt(spec.replicas, "spec.replicas"));
    errs.push(...nonNegativeInt(spec.minReadySeconds, "spec.minReadySeconds"));
    errs.push(...validateLabelSelector(spec.selector, "spec.selector"));
    errs.push(...validateSelectorMatchesTemplate(spec.selector, spec.template, "spec", "replicaset"));
    errs.push(
      ...validateTemplate(spec.template, "spec.template", {
        restartPolicies: ["Always"],
        kind: "ReplicaSet",
      }),
    );
    if (old && JSON.stringify(old.spec?.selector) !== JSON.stringify(spec.selector)) {
      errs.push(immutable("spec.selector", spec.selector));
    }
    return errs;
  },
  table: {
    columns: [
      NAME_COLUMN,
      column("Desired", "Number of desired pods.", 0, "integer"),
      column("Current", "Number of actual replicas.", 0, "integer"),
      column("Ready", "Number of ready replicas.", 0, "integer"),
      AGE_COLUMN,
      CONTAINERS_COLUMN,
      IMAGES_COLUMN,
      SELECTOR_COLUMN,
    ],
    row(rs, now = new Date()) {
      const [names, images] = containersAndImages(rs.spec?.template?.spec?.containers);
      return [
        rs.metadata?.name ?? "",
        rs.spec?.replicas ?? 0,
        rs.status?.replicas ?? 0,
        rs.status?.readyReplicas ?? 0,
        since(rs.metadata?.creationTimestamp, now),
        names,
        images,
        formatLabelSelector(rs.spec?.selector),
      ];
    },
  },
  fieldSelectors: { "status.replicas": (rs) => String(rs.status?.replicas ?? 0) },
});
