// core/v1 Namespace.

import {
  always,
  atomicList,
  mapList,
  named,
  opt,
  req,
  type Static,
  str,
  struct,
  typeMetaFields,
} from "../dsl.ts";
import { ObjectMeta, Time } from "../meta.ts";

const CORE = "io.k8s.api.core.v1";

export const NamespaceCondition = named(
  `${CORE}.NamespaceCondition`,
  struct("NamespaceCondition contains details about state of namespace.", {
    type: req(str(), "Type of namespace controller condition."),
    status: req(str(), "Status of the condition, one of True, False, Unknown."),
    lastTransitionTime: opt(Time, "Last time the condition transitioned from one status to another."),
    reason: opt(str(), "Unique, one-word, CamelCase reason for the condition's last transition."),
    message: opt(str(), "Human-readable message indicating details about last transition."),
  }),
);

export const NamespaceSpec = named(
  `${CORE}.NamespaceSpec`,
  struct("NamespaceSpec describes the attributes on a Namespace.", {
    finalizers: opt(
      atomicList(str()),
      "Finalizers is an opaque list of values that must be empty to permanently remove object from storage.",
    ),
  }),
);

export const NamespaceStatus = named(
  `${CORE}.NamespaceStatus`,
  struct("NamespaceStatus is information about the current status of a Namespace.", {
    phase: opt(str(), "Phase is the current lifecycle phase of the namespace: Active or Terminating."),
    conditions: opt(
      mapList(NamespaceCondition, ["type"], "type"),
      "Represents the latest available observations of a namespace's current state.",
    ),
  }),
);

export const Namespace = named(
  `${CORE}.Namespace`,
  struct("Namespace provides a scope for Names. Use of multiple namespaces is optional.", {
    ...typeMetaFields(),
    metadata: always(ObjectMeta, "Standard object's metadata."),
    spec: always(NamespaceSpec, "Spec defines the behavior of the Namespace."),
    status: always(NamespaceStatus, "Status describes the current status of a Namespace."),
  }),
);
export type Namespace = Static<typeof Namespace>;
