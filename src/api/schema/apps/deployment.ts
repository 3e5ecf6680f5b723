// apps/v1 deployments: RollingUpdate 25%/25%, revisionHistoryLimit 10, progressDeadlineSeconds 600.

import { child, type FieldError, forbidden, immutable, invalid } from "../field-errors.ts";
import { defineKind } from "../kind.ts";
import { formatLabelSelector, validateLabelSelector } from "../meta-validation.ts";
import { nameIsDNSSubdomain } from "../names.ts";
import { AGE_COLUMN, column, containersAndImages, NAME_COLUMN, since } from "../printing.ts";
import {
  CONTAINERS_COLUMN,
  defaultTemplate,
  IMAGES_COLUMN,
  isZeroIntOrPercent,
  nonNegativeInt,
  SELECTOR_COLUMN,
  validateIntOrPercent,
  validateSelectorMatchesTemplate,
  validateTemplate,
} from "../workload.ts";
import { Deployment } from "./types.ts";

export const deployments = defineKind<Deployment>({
  group: "apps",
  version: "v1",
  kind: "Deployment",
  plural: "deployments",
  namespaced: true,
  shortNames: ["deploy"],
  categories: ["all"],
  subresources: ["status", "scale"],
  schema: Deployment,
  nameValidator: nameIsDNSSubdomain,
  tracksGeneration: true,
  scale: { specReplicas: "spec.replicas", statusReplicas: "status.replicas", labelSelector: "spec.selector" },
  applyDefaults(d) {
    d.spec ??= {} as NonNullable<Deployment["spec"]>;
    const spec = d.spec;
    if (spec.replicas === undefined) spec.replicas = 1;
    spec.strategy ??= {};
    if (!spec.strategy.type) spec.strategy.type = "RollingUpdate";
    if (spec.strategy.type === "RollingUpdate") {
      spec.strategy.rollingUpdate ??= {};
      spec.strategy.rollingUpdate.maxUnavailable ??= "25%";
      spec.strategy.rollingUpdate.maxSurge ??= "25%";
    }
    if (spec.revisionHistoryLimit === undefined) spec.revisionHistoryLimit = 10;
    if (spec.progressDeadlineSeconds === undefined) spec.progressDeadlineSeconds = 600;
    defaultTemplate(spec.template);
  },
  prepareForCreate(d) {
    d.status = {};
  },
  validate(d, old) {
    const errs: FieldError[] = [];
    const spec = d.spec ?? ({} as NonNullable<Deployment["spec"]>);
    errs.push(...nonNegativeInt(spec.replicas, "spec.replicas"));
    errs.push(...nonNegativeInt(spec.minReadySeconds, "spec.minReadySeconds"));
    errs.push(...nonNegativeInt(spec.revisionHistoryLimit, "spec.revisionHistoryLimit"));
    errs.push(...validateLabelSelector(spec.selector, "spec.selector"));
    errs.push(...validateSelectorMatchesTemplate(spec.selector, spec.template, "spec", "deployment"));
    errs.push(
      ...validateTemplate(spec.template, "spec.template", {
        restartPolicies: ["Always"],
        kind: "Deployment",
      }),
    );
    const strategy = spec.strategy ?? {};
    const sp = child("spec", "strategy");
    if (strategy.type === "Recreate" && strategy.rollingUpdate) {
      errs.push(
        forbidden(child(sp, "rollingUpdate"), "may not be specified when strategy `type` is 'Recreate'"),
      );
    }
    const ru = strategy.rollingUpdate;
    if (ru) {
      const rp = child(sp, "rollingUpdate");
      errs.push(...validateIntOrPercent(ru.maxUnavailable, child(rp, "maxUnavailable")));
      errs.push(...validateIntOrPercent(ru.maxSurge, child(rp, "maxSurge")));
      if (isZeroIntOrPercent(ru.maxUnavailable) && isZeroIntOrPercent(ru.maxSurge)) {
        errs.push(
          invalid(child(rp, "maxUnavailable"), ru.maxUnavailable ?? 0, "may not be 0 when `maxSurge` is 0"),
        );
      }
    }
    if (spec.progressDeadlineSeconds !== undefined) {
      errs.push(...nonNegativeInt(spec.progressDeadlineSeconds, "spec.progressDeadlineSeconds"));
      if (spec.progressDeadlineSeconds <= (spec.minReadySeconds ?? 0)) {
        errs.push(
          invalid(
            "spec.progressDeadlineSeconds",
            spec.progressDeadlineSeconds,
            "must be greater than minReadySeconds",
          ),
        );
      }
    }
    if (old && JSON.stringify(old.spec?.selector) !== JSON.stringify(spec.selector)) {
      errs.push(immutable("spec.selector", spec.selector));
    }
    return errs;
  },
  table: {
    columns: [
      NAME_COLUMN,
      column("Ready", "Number of the pod with ready state"),
      column(
        "Up-to-date",
        "Total number of non-terminated pods targeted by this deployment that have the desired template spec.",
        0,
        "integer",
      ),
      column(
        "Available",
        "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.",
        0,
        "integer",
      ),
      AGE_COLUMN,
      CONTAINERS_COLUMN,
      IMAGES_COLUMN,
      SELECTOR_COLUMN,
    ],
    row(d, now = new Date()) {
      const [names, images] = containersAndImages(d.spec?.template?.spec?.containers);
      return [
        d.metadata?.name ?? "",
        `${d.status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 0}`,
        d.status?.updatedReplicas ?? 0,
        d.status?.availableReplicas ?? 0,
        since(d.metadata?.creationTimestamp, now),
        names,
        images,
        formatLabelSelector(d.spec?.selector),
      ];
    },
  },
});
