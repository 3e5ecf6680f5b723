// core/v1 ReplicationController.

import {
  always,
  int32,
  int64,
  mapList,
  named,
  opt,
  req,
  type Static,
  str,
  stringMap,
  struct,
  typeMetaFields,
} from "../dsl.ts";
import { child, type FieldError, invalid, required } from "../field-errors.ts";
import { defineKind } from "../kind.ts";
import { ObjectMeta, Time } from "../meta.ts";
import { validateLabels } from "../meta-validation.ts";
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
  nonNegativeInt,
  SELECTOR_COLUMN,
  validateTemplate,
} from "../workload.ts";
import { PodTemplateSpec } from "./pod-types.ts";

const CORE = "io.k8s.api.core.v1";

export const ReplicationControllerCondition = named(
  `${CORE}.ReplicationControllerCondition`,
  struct(
    "ReplicationControllerCondition describes the state of a replication controller at a certain point.",
    {
      type: req(str(), "Type of replication controller condition."),
      status: req(str(), "Status of the condition, one of True, False, Unknown."),
      lastTransitionTime: opt(Time, "The last time the condition transitioned from one status to another."),
      reason: opt(str(), "The reason for the condition's last transition."),
      message: opt(str(), "A human readable message indicating details about the transition."),
    },
  ),
);

export const ReplicationControllerSpec = named(
  `${CORE}.ReplicationControllerSpec`,
  struct("ReplicationControllerSpec is the specification of a replication controller.", {
    replicas: opt(int32(), "Replicas is the number of desired replicas. Defaults to 1."),
    minReadySeconds: opt(
      int32(),
      "Minimum number of seconds for which a newly created pod should be ready without any of its container crashing, for it to be considered available. Defaults to 0.",
    ),
    selector: opt(
      stringMap(),
      "Selector is a label query over pods that should match the Replicas count. If Selector is empty, it is defaulted to the labels present on the Pod template.",
      { mapType: "atomic" },
    ),
    template: opt(
      PodTemplateSpec,
      "Template is the object that describes the pod that will be created if insufficient replicas are detected.",
    ),
  }),
);

export const ReplicationControllerStatus = named(
  `${CORE}.ReplicationControllerStatus`,
  struct("ReplicationControllerStatus represents the current status of a replication controller.", {
    replicas: req(int32(), "Replicas is the most recently observed number of replicas."),
    fullyLabeledReplicas: opt(
      int32(),
      "The number of pods that have labels matching the labels of the pod template of the replication controller.",
    ),
    readyReplicas: opt(int32(), "The number of ready replicas for this replication controller."),
    availableReplicas: opt(
      int32(),
      "The number of available replicas (ready for at least minReadySeconds) for this replication controller.",
    ),
    observedGeneration: opt(
      int64(),
      "ObservedGeneration reflects the generation of the most recently observed replication controller.",
    ),
    conditions: opt(
      mapList(ReplicationControllerCondition, ["type"], "type"),
      "Represents the latest available observations of a replication controller's current state.",
    ),
  }),
);

export const ReplicationController = named(
  `${CORE}.ReplicationController`,
  struct("ReplicationController represents the configuration of a replication controller.", {
    ...typeMetaFields(),
    metadata: always(
      ObjectMeta,
      "If the Labels of a ReplicationController are empty, they are defaulted to be the same as the Pod(s) that the replication controller manages.",
    ),
    spec: always(
      ReplicationControllerSpec,
      "Spec defines the specification of the desired behavior of the replication controller.",
    ),
    status: always(
      ReplicationControllerStatus,
      "Status is the most recently observed status of the replication controller. Populated by the system. Read-only.",
    ),
  }),
);
export type ReplicationController = Static<typeof ReplicationController>;

export const replicationControllers = defineKind<ReplicationController>({
  group: "",
  version: "v1",
  kind: "ReplicationController",
  plural: "replicationcontrollers",
  namespaced: true,
  shortNames: ["rc"],
  categories: ["all"],
  subresources: ["status", "scale"],
  schema: ReplicationController,
  nameValidator: nameIsDNSSubdomain,
  tracksGeneration: true,
  scale: { specReplicas: "spec.replicas", statusReplicas: "status.replicas" },
  applyDefaults(rc) {
    rc.spec ??= {};
    const spec = rc.spec;
    const templateLabels = spec.template?.metadata?.labels;
    if (templateLabels && Object.keys(templateLabels).length > 0) {
      if (!spec.selector || Object.keys(spec.selector).length === 0) spec.selector = { ...templateLabels };
      rc.metadata ??= {};
      if (!rc.metadata.labels || Object.keys(rc.metadata.labels).length === 0)
        rc.metadata.labels = { ...templateLabels };
    }
    if (spec.replicas === undefined) spec.replicas = 1;
    defaultTemplate(spec.template);
  },
  prepareForCreate(rc) {
    rc.status = { replicas: 0 };
  },
  validate(rc) {
    const errs: FieldError[] = [];
    const spec = rc.spec ?? {};
    errs.push(...nonNegativeInt(spec.replicas, "spec.replicas"));
    errs.push(...nonNegativeInt(spec.minReadySeconds, "spec.minReadySeconds"));
    const selector = spec.selector ?? {};
    if (Object.keys(selector).length === 0) errs.push(required("spec.selector"));
    errs.push(...validateLabels(selector, "spec.selector"));
    if (!spec.template) {
      errs.push(required("spec.template"));
    } else {
      const labels = spec.template.metadata?.labels ?? {};
      const matches = Object.entries(selector).every(([k, v]) => labels[k] === v);
      if (Object.keys(selector).length > 0 && !matches) {
        errs.push(
          invalid(
            child(child("spec.template", "metadata"), "labels"),
            labels,
            "`selector` does not match template `labels`",
          ),
        );
      }
      errs.push(
        ...validateTemplate(spec.template, "spec.template", {
          restartPolicies: ["Always"],
          kind: "ReplicationController",
        }),
      );
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
    row(rc, now = new Date()) {
      const [names, images] = containersAndImages(rc.spec?.template?.spec?.containers);
      return [
        rc.metadata?.name ?? "",
        rc.spec?.replicas ?? 0,
        rc.status?.replicas ?? 0,
        rc.status?.readyReplicas ?? 0,
        since(rc.metadata?.creationTimestamp, now),
        names,
        images,
        formatMapSelector(rc.spec?.selector),
      ];
    },
  },
  fieldSelectors: { "status.replicas": (rc) => String(rc.status?.replicas ?? 0) },
});
