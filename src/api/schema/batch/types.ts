// batch/v1 Job schema.

import { PodTemplateSpec } from "../core/pod-types.ts";
import {
  always,
  atomicList,
  bool,
  int32,
  int64,
  named,
  opt,
  req,
  type Static,
  setList,
  str,
  struct,
  typeMetaFields,
} from "../dsl.ts";
import { LabelSelector, ObjectMeta, Time } from "../meta.ts";

const BATCH = "io.k8s.api.batch.v1";

export const PodFailurePolicyOnExitCodesRequirement = named(
  `${BATCH}.PodFailurePolicyOnExitCodesRequirement`,
  struct(
    "PodFailurePolicyOnExitCodesRequirement describes the requirement for handling a failed pod based on its container exit codes.",
    {
      containerName: opt(
        str(),
        "Restricts the check for exit codes to the container with the specified name.",
      ),
      operator: req(
        str(),
        "Represents the relationship between the container exit code(s) and the specified values: In or NotIn.",
      ),
      values: req(
        setList(int32()),
        "Specifies the set of values. Each returned container exit code (might be multiple in case of multiple containers) is checked against this set of values with respect to the operator.",
      ),
    },
  ),
);

export const PodFailurePolicyOnPodConditionsPattern = named(
  `${BATCH}.PodFailurePolicyOnPodConditionsPattern`,
  struct(
    "PodFailurePolicyOnPodConditionsPattern describes a pattern for matching an actual pod condition type.",
    {
      type: req(str(), "Specifies the required Pod condition type."),
      status: opt(str(), "Specifies the required Pod condition status. Defaults to True."),
    },
  ),
);

export const PodFailurePolicyRule = named(
  `${BATCH}.PodFailurePolicyRule`,
  struct("PodFailurePolicyRule describes how a pod failure is handled when the requirements are met.", {
    action: req(
      str(),
      "Specifies the action taken on a pod failure when the requirements are satisfied: FailJob, FailIndex, Ignore or Count.",
    ),
    onExitCodes: opt(
      PodFailurePolicyOnExitCodesRequirement,
      "Represents the requirement on the container exit codes.",
    ),
    onPodConditions: opt(
      atomicList(PodFailurePolicyOnPodConditionsPattern),
      "Represents the requirement on the pod conditions.",
    ),
  }),
);

export const PodFailurePolicy = named(
  `${BATCH}.PodFailurePolicy`,
  struct("PodFailurePolicy describes how failed pods influence the backoffLimit.", {
    rules: req(
      atomicList(PodFailurePolicyRule),
      "A list of pod failure policy rules. The rules are evaluated in order.",
    ),
  }),
);

export const SuccessPolicyRule = named(
  `${BATCH}.SuccessPolicyRule`,
  struct("SuccessPolicyRule describes rule for declaring a Job as succeeded.", {
    succeededIndexes: opt(
      str(),
      "succeededIndexes specifies the set of indexes which need to be contained in the actual set of the succeeded indexes for the Job.",
    ),
    succeededCount: opt(
      int32(),
      "succeededCount specifies the minimal required size of the actual set of the succeeded indexes for the Job.",
    ),
  }),
);

export const SuccessPolicy = named(
  `${BATCH}.SuccessPolicy`,
  struct(
    "SuccessPolicy describes when a Job can be declared as succeeded based on the success of some indexes.",
    {
      rules: req(
        atomicList(SuccessPolicyRule),
        "rules represents the list of alternative rules for the declaring the Jobs as successful before `.status.succeeded >= .spec.completions`.",
      ),
    },
  ),
);

export const JobSpec = named(
  `${BATCH}.JobSpec`,
  struct("JobSpec describes how the job execution will look like.", {
    parallelism: opt(
      int32(),
      "Specifies the maximum desired number of pods the job should run at any given time.",
    ),
    completions: opt(
      int32(),
      "Specifies the desired number of successfully finished pods the job should be run with. Setting to null means that the success of any pod signals the success of all pods, and allows parallelism to have any positive value.",
    ),
    activeDeadlineSeconds: opt(
      int64(),
      "Specifies the duration in seconds relative to the startTime that the job may be continuously active before the system tries to terminate it; value must be positive integer.",
    ),
    podFailurePolicy: opt(PodFailurePolicy, "Specifies the policy of handling failed pods."),
    successPolicy: opt(
      SuccessPolicy,
      "successPolicy specifies the policy when the Job can be declared as succeeded.",
    ),
    backoffLimit: opt(
      int32(),
      "Specifies the number of retries before marking this job failed. Defaults to 6.",
    ),
    backoffLimitPerIndex: opt(
      int32(),
      "Specifies the limit for the number of retries within an index before marking this index as failed.",
    ),
    maxFailedIndexes: opt(
      int32(),
      "Specifies the maximal number of failed indexes before marking the Job as failed, when backoffLimitPerIndex is set.",
    ),
    selector: opt(
      LabelSelector,
      "A label query over pods that should match the pod count. Normally, the system sets this field for you.",
    ),
    manualSelector: opt(
      bool(),
      "manualSelector controls generation of pod labels and pod selectors. Leave `manualSelector` unset unless you are certain what you are doing.",
    ),
    template: req(
      PodTemplateSpec,
      'Describes the pod that will be created when executing a job. The only allowed template.spec.restartPolicy values are "Never" or "OnFailure".',
      {
        default: {},
      },
    ),
    ttlSecondsAfterFinished: opt(
      int32(),
      "ttlSecondsAfterFinished limits the lifetime of a Job that has finished execution (either Complete or Failed).",
    ),
    completionMode: opt(
      str(),
      "completionMode specifies how Pod completions are tracked. It can be `NonIndexed` (default) or `Indexed`.",
    ),
    suspend: opt(
      bool(),
      "suspend specifies whether the Job controller should create Pods or not. Defaults to false.",
    ),
    podReplacementPolicy: opt(
      str(),
      "podReplacementPolicy specifies when to create replacement Pods: TerminatingOrFailed or Failed.",
    ),
    managedBy: opt(str(), "ManagedBy field indicates the controller that manages a Job."),
  }),
);

export const JobCondition = named(
  `${BATCH}.JobCondition`,
  struct("JobCondition describes current state of a job.", {
    type: req(str(), "Type of job condition, Complete or Failed."),
    status: req(str(), "Status of the condition, one of True, False, Unknown."),
    lastProbeTime: opt(Time, "Last time the condition was checked."),
    lastTransitionTime: opt(Time, "Last time the condition transit from one status to another."),
    reason: opt(str(), "(brief) reason for the condition's last transition."),
    message: opt(str(), "Human readable message indicating details about last transition."),
  }),
);

export const UncountedTerminatedPods = named(
  `${BATCH}.UncountedTerminatedPods`,
  struct(
    "UncountedTerminatedPods holds UIDs of Pods that have terminated but haven't been accounted in Job status counters.",
    {
      succeeded: opt(setList(str()), "succeeded holds UIDs of succeeded Pods."),
      failed: opt(setList(str()), "failed holds UIDs of failed Pods."),
    },
  ),
);

export const JobStatus = named(
  `${BATCH}.JobStatus`,
  struct("JobStatus represents the current state of a Job.", {
    conditions: opt(
      atomicList(JobCondition),
      "The latest available observations of an object's current state.",
      {
        mergeKey: "type",
        patchStrategy: "merge",
      },
    ),
    startTime: opt(Time, "Represents time when the job controller started processing a job."),
    completionTime: opt(Time, "Represents time when the job was completed."),
    active: opt(int32(), "The number of pending and running pods which are not terminating."),
    succeeded: opt(int32(), "The number of pods which reached phase Succeeded."),
    failed: opt(int32(), "The number of pods which reached phase Failed."),
    terminating: opt(
      int32(),
      "The number of pods which are terminating (in phase Pending or Running and have a deletionTimestamp).",
    ),
    completedIndexes: opt(
      str(),
      'completedIndexes holds the completed indexes when .spec.completionMode = "Indexed" in a text format.',
    ),
    failedIndexes: opt(
      str(),
      "FailedIndexes holds the failed indexes when spec.backoffLimitPerIndex is set.",
    ),
    uncountedTerminatedPods: opt(
      UncountedTerminatedPods,
      "uncountedTerminatedPods holds the UIDs of Pods that have terminated but the job controller hasn't yet accounted for in the status counters.",
    ),
    ready: opt(int32(), "The number of active pods which have a Ready condition and are not terminating."),
  }),
);

export const Job = named(
  `${BATCH}.Job`,
  struct("Job represents the configuration of a single job.", {
    ...typeMetaFields(),
    metadata: always(ObjectMeta, "Standard object's metadata."),
    spec: always(JobSpec, "Specification of the desired behavior of a job."),
    status: always(JobStatus, "Current status of a job."),
  }),
);
export type Job = Static<typeof Job>;
