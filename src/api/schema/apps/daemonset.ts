// apps/v1 daemonsets: RollingUpdate with maxUnavailable 1 / maxSurge 0, revisionHistoryLimit 10.

import { child, type FieldError, forbidden, immutable, invalid } from "../field-errors.ts";
import { defineKind } from "../kind.ts";
import { formatLabelSelector, validateLabelSelector } from "../meta-validation.ts";
import { nameIsDNSSubdomain } from "../names.ts";
import {
  AGE_COLUMN,
  column,
  containersAndImages,
  formatMapSelector,
  NAME_COLUMN,
  since,
} from "../printing.ts";
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
import { DaemonSet } from "./types.ts";

export const daemonSets = defineKind<DaemonSet>({
  group: "apps",
  version: "v1",
  kind: "DaemonSet",
  plural: "daemonsets",
  namespaced: true,
  shortNames: ["ds"],
  categories: ["all"],
  subresources: ["status"],
  schema: DaemonSet,
  nameValidator: nameIsDNSSubdomain,
  tracksGeneration: true,
  applyDefaults(ds) {
    ds.spec ??= {} as NonNullable<DaemonSet["spec"]>;
    const spec = ds.spec;
    spec.updateStrategy ??= {};
    if (!spec.updateStrategy.type) spec.updateStrategy.type = "RollingUpdate";
    if (spec.updateStrategy.type === "RollingUpdate") {
      spec.updateStrategy.rollingUpdate ??= {};
      spec.updateStrategy.rollingUpdate.maxUnavailable ??= 1;
      spec.updateStrategy.rollingUpdate.maxSurge ??= 0;
    }
    if (spec.revisionHistoryLimit === undefined) spec.revisionHistoryLimit = 10;
    defaultTemplate(spec.template);
  },
  prepareForCreate(ds) {
    ds.status = {
      currentNumberScheduled: 0,
      numberMisscheduled: 0,
      desiredNumberScheduled: 0,
      numberReady: 0,
    };
  },
  validate(ds, old) {
    const errs: FieldError[] = [];
    const spec = ds.spec ?? ({} as NonNullable<DaemonSet["spec"]>);
    errs.push(...nonNegativeInt(spec.minReadySeconds, "spec.minReadySeconds"));
    errs.push(...nonNegativeInt(spec.revisionHistoryLimit, "spec.revisionHistoryLimit"));
    errs.push(...validateLabelSelector(spec.selector, "spec.selector"));
    errs.push(...validateSelectorMatchesTemplate(spec.selector, spec.template, "spec", "daemonset"));
    errs.push(
      ...validateTemplate(spec.template, "spec.template", { restartPolicies: ["Always"], kind: "DaemonSet" }),
    );
    const strategy = spec.updateStrategy ?? {};
    const sp = child("spec", "updateStrategy");
    if (strategy.type === "OnDelete" && strategy.rollingUpdate) {
      errs.push(
        forbidden(child(sp, "rollingUpdate"), "may not be specified when strategy `type` is 'OnDelete'"),
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
    if (old && JSON.stringify(old.spec?.selector) !== JSON.stringify(spec.selector)) {
      errs.push(immutable("spec.selector", spec.selector));
    }
    return errs;
  },
  table: {
    columns: [
      NAME_COLUMN,
      column("Desired", "The total number of nodes that should be running the daemon pod.", 0, "integer"),
      column(
        "Current",
        "The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.",
        0,
        "integer",
      ),
      column(
        "Ready",
        "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.",
        0,
        "integer",
      ),
      column("Up-to-date", "The total number of nodes that are running updated daemon pod", 0, "integer"),
      column(
        "Available",
        "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available.",
        0,
        "integer",
      ),
      column("Node Selector", "NodeSelector is a selector which must be true for the pod to fit on a node."),
      AGE_COLUMN,
      CONTAINERS_COLUMN,
      IMAGES_COLUMN,
      SELECTOR_COLUMN,
    ],
    row(ds, now = new Date()) {
      const [names, images] = containersAndImages(ds.spec?.template?.spec?.containers);
      const s = ds.status;
      return [
        ds.metadata?.name ?? "",
        s?.desiredNumberScheduled ?? 0,
        s?.currentNumberScheduled ?? 0,
        s?.numberReady ?? 0,
        s?.updatedNumberScheduled ?? 0,
        s?.numberAvailable ?? 0,
        formatMapSelector(ds.spec?.template?.spec?.nodeSelector),
        since(ds.metadata?.creationTimestamp, now),
        names,
        images,
        formatLabelSelector(ds.spec?.selector),
      ];
    },
  },
});
