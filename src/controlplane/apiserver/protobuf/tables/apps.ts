// k8s.io.api.apps.v1: Deployment, ReplicaSet and DaemonSet with their specs, statuses and update strategies.
// Numbers and names as in upstream's apps/v1/generated.proto (v1.33 API).

import { bool, int32, int64, kind, type MessageDef, obj, objs, ptr, str } from "../fields.ts";

export const APPS: Record<string, MessageDef> = {
  Deployment: kind("DeploymentSpec", "DeploymentStatus"),
  DeploymentSpec: {
    1: ptr(int32("replicas")),
    2: ptr(obj("selector", "LabelSelector")),
    3: obj("template", "PodTemplateSpec"),
    4: obj("strategy", "DeploymentStrategy"),
    5: int32("minReadySeconds"),
    6: ptr(int32("revisionHistoryLimit")),
    7: bool("paused"),
    9: ptr(int32("progressDeadlineSeconds")),
  },
  DeploymentStrategy: {
    1: str("type"),
    2: ptr(obj("rollingUpdate", "RollingUpdateDeployment")),
  },
  RollingUpdateDeployment: {
    1: ptr(obj("maxUnavailable", "IntOrString")),
    2: ptr(obj("maxSurge", "IntOrString")),
  },
  DeploymentStatus: {
    1: int64("observedGeneration"),
    2: int32("replicas"),
    3: int32("updatedReplicas"),
    7: int32("readyReplicas"),
    4: int32("availableReplicas"),
    5: int32("unavailableReplicas"),
    9: ptr(int32("terminatingReplicas")),
    6: objs("conditions", "DeploymentCondition"),
    8: ptr(int32("collisionCount")),
  },
  DeploymentCondition: {
    1: str("type"),
    2: str("status"),
    6: obj("lastUpdateTime", "Time"),
    7: obj("lastTransitionTime", "Time"),
    4: str("reason"),
    5: str("message"),
  },

  ReplicaSet: kind("ReplicaSetSpec", "ReplicaSetStatus"),
  ReplicaSetSpec: {
    1: ptr(int32("replicas")),
    4: int32("minReadySeconds"),
    2: ptr(obj("selector", "LabelSelector")),
    3: obj("template", "PodTemplateSpec"),
  },
  ReplicaSetStatus: {
    1: int32("replicas"),
    2: int32("fullyLabeledReplicas"),
    4: int32("readyReplicas"),
    5: int32("availableReplicas"),
    7: ptr(int32("terminatingReplicas")),
    3: int64("observedGeneration"),
    6: objs("conditions", "ReplicaSetCondition"),
  },
  ReplicaSetCondition: {
    1: str("type"),
    2: str("status"),
    3: obj("lastTransitionTime", "Time"),
    4: str("reason"),
    5: str("message"),
  },

  DaemonSet: kind("DaemonSetSpec", "DaemonSetStatus"),
  DaemonSetSpec: {
    1: ptr(obj("selector", "LabelSelector")),
    2: obj("template", "PodTemplateSpec"),
    3: obj("updateStrategy", "DaemonSetUpdateStrategy"),
    4: int32("minReadySeconds"),
    6: ptr(int32("revisionHistoryLimit")),
  },
  DaemonSetUpdateStrategy: {
    1: str("type"),
    2: ptr(obj("rollingUpdate", "RollingUpdateDaemonSet")),
  },
  RollingUpdateDaemonSet: {
    1: ptr(obj("maxUnavailable", "IntOrString")),
    2: ptr(obj("maxSurge", "IntOrString")),
  },
  DaemonSetStatus: {
    1: int32("currentNumberScheduled"),
    2: int32("numberMisscheduled"),
    3: int32("desiredNumberScheduled"),
    4: int32("numberReady"),
    5: int64("observedGeneration"),
    6: int32("updatedNumberScheduled"),
    7: int32("numberAvailable"),
    8: int32("numberUnavailable"),
    9: ptr(int32("collisionCount")),
    10: objs("conditions", "DaemonSetCondition"),
  },
  DaemonSetCondition: {
    1: str("type"),
    2: str("status"),
    3: obj("lastTransitionTime", "Time"),
    4: str("reason"),
    5: str("message"),
  },
};
