// apps/v1 Deployment, ReplicaSet and DaemonSet schemas.

import { PodTemplateSpec } from "../core/pod-types.ts";
import {
  always,
  bool,
  int32,
  int64,
  mapList,
  named,
  oneOfStrings,
  opt,
  req,
  type Static,
  str,
  struct,
  typeMetaFields,
} from "../dsl.ts";
import { IntOrString, LabelSelector, ObjectMeta, Time } from "../meta.ts";

const APPS = "io.k8s.api.apps.v1";

function condition(kind: string, withUpdateTime: boolean) {
  return named(
    `${APPS}.${kind}Condition`,
    struct(`${kind}Condition describes the state of a ${kind.toLowerCase()} at a certain point.`, {
      type: req(str(), `Type of ${kind.toLowerCase()} condition.`),
      status: req(str(), "Status of the condition, one of True, False, Unknown."),
      ...(withUpdateTime ? { lastUpdateTime: opt(Time, "The last time this condition was updated.") } : {}),
      lastTransitionTime: opt(Time, "Last time the condition transitioned from one status to another."),
      reason: opt(str(), "The reason for the condition's last transition."),
      message: opt(str(), "A human readable message indicating details about the transition."),
    }),
  );
}

const selectorField = (what: string) =>
  req(
    LabelSelector,
    `Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this ${what}. It must match the pod template's labels.`,
  );

// Deployment -------------------------------------------------------------------------------------------------

export const RollingUpdateDeployment = named(
  `${APPS}.RollingUpdateDeployment`,
  struct("Spec to control the desired behavior of rolling update.", {
    maxUnavailable: opt(
      IntOrString,
      "The maximum number of pods that can be unavailable during the update. Value can be an absolute number (ex: 5) or a percentage of desired pods (ex: 10%). Defaults to 25%.",
    ),
    maxSurge: opt(
      IntOrString,
      "The maximum number of pods that can be scheduled above the desired number of pods. Value can be an absolute number (ex: 5) or a percentage of desired pods (ex: 10%). Defaults to 25%.",
    ),
  }),
);

export const DeploymentStrategy = named(
  `${APPS}.DeploymentStrategy`,
  struct("DeploymentStrategy describes how to replace existing pods with new ones.", {
    type: opt(
      oneOfStrings(["Recreate", "RollingUpdate"] as const),
      'Type of deployment. Can be "Recreate" or "RollingUpdate". Default is RollingUpdate.',
    ),
    rollingUpdate: opt(
      RollingUpdateDeployment,
      "Rolling update config params. Present only if DeploymentStrategyType = RollingUpdate.",
    ),
  }),
);

export const DeploymentCondition = condition("Deployment", true);

export const DeploymentSpec = named(
  `${APPS}.DeploymentSpec`,
  struct("DeploymentSpec is the specification of the desired behavior of the Deployment.", {
    replicas: opt(
      int32(),
      "Number of desired pods. This is a pointer to distinguish between explicit zero and not specified. Defaults to 1.",
    ),
    selector: selectorField("deployment"),
    template: req(
      PodTemplateSpec,
      'Template describes the pods that will be created. The only allowed template.spec.restartPolicy value is "Always".',
      {
        default: {},
      },
    ),
    strategy: opt(
      DeploymentStrategy,
      "The deployment strategy to use to replace existing pods with new ones.",
      {
        patchStrategy: "retainKeys",
        default: {},
      },
    ),
    minReadySeconds: opt(
      int32(),
      "Minimum number of seconds for which a newly created pod should be ready without any of its container crashing, for it to be considered available. Defaults to 0.",
    ),
    revisionHistoryLimit: opt(
      int32(),
      "The number of old ReplicaSets to retain to allow rollback. Defaults to 10.",
    ),
    paused: opt(bool(), "Indicates that the deployment is paused."),
    progressDeadlineSeconds: opt(
      int32(),
      "The maximum time in seconds for a deployment to make progress before it is considered to be failed. Defaults to 600s.",
    ),
  }),
);

export const DeploymentStatus = named(
  `${APPS}.DeploymentStatus`,
  struct("DeploymentStatus is the most recently observed status of the Deployment.", {
    observedGeneration: opt(int64(), "The generation observed by the deployment controller."),
    replicas: opt(
      int32(),
      "Total number of non-terminated pods targeted by this deployment (their labels match the selector).",
    ),
    updatedReplicas: opt(
      int32(),
      "Total number of non-terminated pods targeted by this deployment that have the desired template spec.",
    ),
    readyReplicas: opt(
      int32(),
      "Total number of non-terminated pods targeted by this Deployment with a Ready Condition.",
    ),
    availableReplicas: opt(
      int32(),
      "Total number of available non-terminated pods (ready for at least minReadySeconds) targeted by this deployment.",
    ),
    unavailableReplicas: opt(int32(), "Total number of unavailable pods targeted by this deployment."),
    conditions: opt(
      mapList(DeploymentCondition, ["type"], "type"),
      "Represents the latest available observations of a deployment's current state.",
    ),
    collisionCount: opt(
      int32(),
      "Count of hash collisions for the Deployment, used to create unique names for the newest ReplicaSet.",
    ),
  }),
);

export const Deployment = named(
  `${APPS}.Deployment`,
  struct("Deployment enables declarative updates for Pods and ReplicaSets.", {
    ...typeMetaFields(),
    metadata: always(ObjectMeta, "Standard object's metadata."),
    spec: always(DeploymentSpec, "Specification of the desired behavior of the Deployment."),
    status: always(DeploymentStatus, "Most recently observed status of the Deployment."),
  }),
);
export type Deployment = Static<typeof Deployment>;

// ReplicaSet -------------------------------------------------------------------------------------------------

export const ReplicaSetCondition = condition("ReplicaSet", false);

export const ReplicaSetSpec = named(
  `${APPS}.ReplicaSetSpec`,
  struct("ReplicaSetSpec is the specification of a ReplicaSet.", {
    replicas: opt(int32(), "Replicas is the number of desired pods. Defaults to 1."),
    minReadySeconds: opt(
      int32(),
      "Minimum number of seconds for which a newly created pod should be ready without any of its container crashing, for it to be considered available. Defaults to 0.",
    ),
    selector: req(
      LabelSelector,
      "Selector is a label query over pods that should match the replica count. Label keys and values that must match in order to be controlled by this replica set. It must match the pod template's labels.",
    ),
    template: opt(
      PodTemplateSpec,
      "Template is the object that describes the pod that will be created if insufficient replicas are detected.",
      {
        default: {},
      },
    ),
  }),
);

export const ReplicaSetStatus = named(
  `${APPS}.ReplicaSetStatus`,
  struct("ReplicaSetStatus represents the current status of a ReplicaSet.", {
    replicas: req(int32(), "Replicas is the most recently observed number of non-terminating pods."),
    fullyLabeledReplicas: opt(
      int32(),
      "The number of non-terminating pods that have labels matching the labels of the pod template of the replicaset.",
    ),
    readyReplicas: opt(
      int32(),
      "The number of non-terminating pods targeted by this ReplicaSet with a Ready Condition.",
    ),
    availableReplicas: opt(
      int32(),
      "The number of available non-terminating pods (ready for at least minReadySeconds) for this replica set.",
    ),
    observedGeneration: opt(
      int64(),
      "ObservedGeneration reflects the generation of the most recently observed ReplicaSet.",
    ),
    conditions: opt(
      mapList(ReplicaSetCondition, ["type"], "type"),
      "Represents the latest available observations of a replica set's current state.",
    ),
  }),
);

export const ReplicaSet = named(
  `${APPS}.ReplicaSet`,
  struct("ReplicaSet ensures that a specified number of pod replicas are running at any given time.", {
    ...typeMetaFields(),
    metadata: always(
      ObjectMeta,
      "If the Labels of a ReplicaSet are empty, they are defaulted to be the same as the Pod(s) that the ReplicaSet manages.",
    ),
    spec: always(ReplicaSetSpec, "Spec defines the specification of the desired behavior of the ReplicaSet."),
    status: always(
      ReplicaSetStatus,
      "Status is the most recently observed status of the ReplicaSet. Populated by the system. Read-only.",
    ),
  }),
);
export type ReplicaSet = Static<typeof ReplicaSet>;

// DaemonSet --------------------------------------------------------------------------------------------------

export const RollingUpdateDaemonSet = named(
  `${APPS}.RollingUpdateDaemonSet`,
  struct("Spec to control the desired behavior of daemon set rolling update.", {
    maxUnavailable: opt(
      IntOrString,
      "The maximum number of DaemonSet pods that can be unavailable during the update. Value can be an absolute number (ex: 5) or a percentage of total number of DaemonSet pods at the start of the update (ex: 10%). Default value is 1.",
    ),
    maxSurge: opt(
      IntOrString,
      "The maximum number of nodes with an existing available DaemonSet pod that can have an updated DaemonSet pod during during an update. Default value is 0.",
    ),
  }),
);

export const DaemonSetUpdateStrategy = named(
  `${APPS}.DaemonSetUpdateStrategy`,
  struct("DaemonSetUpdateStrategy is a struct used to control the update strategy for a DaemonSet.", {
    type: opt(
      oneOfStrings(["OnDelete", "RollingUpdate"] as const),
      'Type of daemon set update. Can be "RollingUpdate" or "OnDelete". Default is RollingUpdate.',
    ),
    rollingUpdate: opt(
      RollingUpdateDaemonSet,
      'Rolling update config params. Present only if type = "RollingUpdate".',
    ),
  }),
);

export const DaemonSetCondition = condition("DaemonSet", false);

export const DaemonSetSpec = named(
  `${APPS}.DaemonSetSpec`,
  struct("DaemonSetSpec is the specification of a daemon set.", {
    selector: req(
      LabelSelector,
      "A label query over pods that are managed by the daemon set. Must match in order to be controlled. It must match the pod template's labels.",
    ),
    template: req(
      PodTemplateSpec,
      'An object that describes the pod that will be created. The DaemonSet will create exactly one copy of this pod on every node that matches the template\'s node selector (or on every node if no node selector is specified). The only allowed template.spec.restartPolicy value is "Always".',
      { default: {} },
    ),
    updateStrategy: opt(
      DaemonSetUpdateStrategy,
      "An update strategy to replace existing DaemonSet pods with new pods.",
      { default: {} },
    ),
    minReadySeconds: opt(
      int32(),
      "The minimum number of seconds for which a newly created DaemonSet pod should be ready without any of its container crashing, for it to be considered available. Defaults to 0.",
    ),
    revisionHistoryLimit: opt(
      int32(),
      "The number of old history to retain to allow rollback. Defaults to 10.",
    ),
  }),
);

export const DaemonSetStatus = named(
  `${APPS}.DaemonSetStatus`,
  struct("DaemonSetStatus represents the current status of a daemon set.", {
    currentNumberScheduled: req(
      int32(),
      "The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.",
    ),
    numberMisscheduled: req(
      int32(),
      "The number of nodes that are running the daemon pod, but are not supposed to run the daemon pod.",
    ),
    desiredNumberScheduled: req(
      int32(),
      "The total number of nodes that should be running the daemon pod (including nodes correctly running the daemon pod).",
    ),
    numberReady: req(
      int32(),
      "numberReady is the number of nodes that should be running the daemon pod and have one or more of the daemon pod running with a Ready Condition.",
    ),
    observedGeneration: opt(int64(), "The most recent generation observed by the daemon set controller."),
    updatedNumberScheduled: opt(int32(), "The total number of nodes that are running updated daemon pod"),
    numberAvailable: opt(
      int32(),
      "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)",
    ),
    numberUnavailable: opt(
      int32(),
      "The number of nodes that should be running the daemon pod and have none of the daemon pod running and available (ready for at least spec.minReadySeconds)",
    ),
    collisionCount: opt(int32(), "Count of hash collisions for the DaemonSet."),
    conditions: opt(
      mapList(DaemonSetCondition, ["type"], "type"),
      "Represents the latest available observations of a DaemonSet's current state.",
    ),
  }),
);

export const DaemonSet = named(
  `${APPS}.DaemonSet`,
  struct("DaemonSet represents the configuration of a daemon set.", {
    ...typeMetaFields(),
    metadata: always(ObjectMeta, "Standard object's metadata."),
    spec: always(DaemonSetSpec, "The desired behavior of this daemon set."),
    status: always(
      DaemonSetStatus,
      "The current status of this daemon set. Populated by the system. Read-only.",
    ),
  }),
);
export type DaemonSet = Static<typeof DaemonSet>;
