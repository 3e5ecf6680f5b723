// k8s.io.api.batch.v1: Job with its spec, status, conditions, pod failure policy and success policy.
// Numbers and names as in upstream's batch/v1/generated.proto (v1.33 API).

import { bool, int32, int32s, int64, kind, type MessageDef, obj, objs, ptr, str, strs } from "../fields.ts";

export const BATCH: Record<string, MessageDef> = {
  Job: kind("JobSpec", "JobStatus"),
  JobSpec: {
    1: ptr(int32("parallelism")),
    2: ptr(int32("completions")),
    3: ptr(int64("activeDeadlineSeconds")),
    11: ptr(obj("podFailurePolicy", "PodFailurePolicy")),
    16: ptr(obj("successPolicy", "SuccessPolicy")),
    7: ptr(int32("backoffLimit")),
    12: ptr(int32("backoffLimitPerIndex")),
    13: ptr(int32("maxFailedIndexes")),
    4: ptr(obj("selector", "LabelSelector")),
    5: ptr(bool("manualSelector")),
    6: obj("template", "PodTemplateSpec"),
    8: ptr(int32("ttlSecondsAfterFinished")),
    9: ptr(str("completionMode")),
    10: ptr(bool("suspend")),
    14: ptr(str("podReplacementPolicy")),
    15: ptr(str("managedBy")),
  },
  PodFailurePolicy: { 1: objs("rules", "PodFailurePolicyRule") },
  PodFailurePolicyRule: {
    1: str("action"),
    2: ptr(obj("onExitCodes", "PodFailurePolicyOnExitCodesRequirement")),
    3: objs("onPodConditions", "PodFailurePolicyOnPodConditionsPattern"),
  },
  PodFailurePolicyOnExitCodesRequirement: {
    1: ptr(str("containerName")),
    2: str("operator"),
    3: int32s("values"),
  },
  PodFailurePolicyOnPodConditionsPattern: { 1: str("type"), 2: str("status") },
  SuccessPolicy: { 1: objs("rules", "SuccessPolicyRule") },
  SuccessPolicyRule: { 1: ptr(str("succeededIndexes")), 2: ptr(int32("succeededCount")) },
  JobStatus: {
    1: objs("conditions", "JobCondition"),
    2: ptr(obj("startTime", "Time")),
    3: ptr(obj("completionTime", "Time")),
    4: int32("active"),
    5: int32("succeeded"),
    6: int32("failed"),
    11: ptr(int32("terminating")),
    7: str("completedIndexes"),
    10: ptr(str("failedIndexes")),
    8: ptr(obj("uncountedTerminatedPods", "UncountedTerminatedPods")),
    9: ptr(int32("ready")),
  },
  JobCondition: {
    1: str("type"),
    2: str("status"),
    3: obj("lastProbeTime", "Time"),
    4: obj("lastTransitionTime", "Time"),
    5: str("reason"),
    6: str("message"),
  },
  UncountedTerminatedPods: { 1: strs("succeeded"), 2: strs("failed") },
};
