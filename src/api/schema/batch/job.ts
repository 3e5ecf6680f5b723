// batch/v1 jobs: completions/parallelism 1, backoffLimit 6, NonIndexed, generated selector from the UID.

import { randomUUID } from "node:crypto";
import { sameJson } from "../core/pod-validation.ts";
import { child, type FieldError, immutable, invalid, notSupported } from "../field-errors.ts";
import { defineKind } from "../kind.ts";
import { formatLabelSelector, validateLabelSelector } from "../meta-validation.ts";
import { nameIsDNSSubdomain } from "../names.ts";
import { AGE_COLUMN, column, containersAndImages, humanDuration, NAME_COLUMN, since } from "../printing.ts";
import {
  CONTAINERS_COLUMN,
  defaultTemplate,
  IMAGES_COLUMN,
  nonNegativeInt,
  SELECTOR_COLUMN,
  validateSelectorMatchesTemplate,
  validateTemplate,
} from "../workload.ts";
import { Job } from "./types.ts";

type JobSpec = NonNullable<Job["spec"]>;

const CONTROLLER_UID = "batch.kubernetes.io/controller-uid";
const JOB_NAME = "batch.kubernetes.io/job-name";

function hasCondition(job: Job, type: string): boolean {
  return (job.status?.conditions ?? []).some((c) => c.type === type && c.status === "True");
}

/** The Job table's STATUS column (upstream printJob). */
export function jobStatus(job: Job): string {
  if (hasCondition(job, "Complete")) return "Complete";
  if (hasCondition(job, "Failed")) return "Failed";
  if (job.metadata?.deletionTimestamp) return "Terminating";
  if (hasCondition(job, "Suspended")) return "Suspended";
  if (hasCondition(job, "FailureTarget")) return "FailureTarget";
  if (hasCondition(job, "SuccessCriteriaMet")) return "SuccessCriteriaMet";
  return "Running";
}

export const jobs = defineKind<Job>({
  group: "batch",
  version: "v1",
  kind: "Job",
  plural: "jobs",
  namespaced: true,
  categories: ["all"],
  subresources: ["status"],
  schema: Job,
  nameValidator: nameIsDNSSubdomain,
  tracksGeneration: true,
  applyDefaults(job) {
    job.spec ??= {} as JobSpec;
    const spec = job.spec;
    if (spec.completions === undefined && spec.parallelism === undefined) {
      spec.completions = 1;
      spec.parallelism = 1;
    }
    if (spec.parallelism === undefined) spec.parallelism = 1;
    if (spec.backoffLimit === undefined)
      spec.backoffLimit = spec.backoffLimitPerIndex === undefined ? 6 : 2147483647;
    if (!spec.completionMode) spec.completionMode = "NonIndexed";
    if (spec.suspend === undefined) spec.suspend = false;
    if (!spec.podReplacementPolicy)
      spec.podReplacementPolicy = spec.podFailurePolicy ? "Failed" : "TerminatingOrFailed";
    const templateLabels = spec.template?.metadata?.labels;
    job.metadata ??= {};
    if (templateLabels && Object.keys(job.metadata.labels ?? {}).length === 0)
      job.metadata.labels = { ...templateLabels };
    defaultTemplate(spec.template);
  },
  prepareForCreate(job) {
    job.status = {};
    const spec = job.spec ?? ({} as JobSpec);
    if (spec.manualSelector === true) return;
    // Upstream generates the selector from the job's UID (assigned before PrepareForCreate).
    job.metadata ??= {};
    job.metadata.uid ??= randomUUID();
    const uid = job.metadata.uid;
    const name = job.metadata.name ?? "";
    spec.template ??= {};
    spec.template.metadata ??= {};
    spec.template.metadata.labels = {
      ...(spec.template.metadata.labels ?? {}),
      [CONTROLLER_UID]: uid,
      [JOB_NAME]: name,
      "controller-uid": uid,
      "job-name": name,
    };
    spec.selector ??= { matchLabels: { [CONTROLLER_UID]: uid } };
    if (!spec.selector.matchLabels?.[CONTROLLER_UID]) {
      spec.selector.matchLabels = { ...(spec.selector.matchLabels ?? {}), [CONTROLLER_UID]: uid };
    }
  },
  validate(job, old) {
    const errs: FieldError[] = [];
    const spec = job.spec ?? ({} as JobSpec);
    errs.push(...nonNegativeInt(spec.parallelism, "spec.parallelism"));
    errs.push(...nonNegativeInt(spec.completions, "spec.completions"));
    errs.push(...nonNegativeInt(spec.backoffLimit, "spec.backoffLimit"));
    errs.push(...nonNegativeInt(spec.ttlSecondsAfterFinished, "spec.ttlSecondsAfterFinished"));
    if (spec.activeDeadlineSeconds !== undefined && spec.activeDeadlineSeconds <= 0) {
      errs.push(invalid("spec.activeDeadlineSeconds", spec.activeDeadlineSeconds, "must be greater than 0"));
    }
    if (spec.completionMode && !["NonIndexed", "Indexed"].includes(spec.completionMode)) {
      errs.push(notSupported("spec.completionMode", spec.completionMode, ["NonIndexed", "Indexed"]));
    }
    if (spec.completionMode === "Indexed" && spec.completions === undefined) {
      errs.push({
        reason: "FieldValueRequired",
        field: "spec.completions",
        message: "Required value: when completion mode is Indexed",
      });
    }
    errs.push(...validateLabelSelector(spec.selector, "spec.selector"));
    errs.push(...validateSelectorMatchesTemplate(spec.selector, spec.template, "spec", "job"));
    errs.push(
      ...validateTemplate(spec.template, "spec.template", {
        restartPolicies: ["OnFailure", "Never"],
        kind: "Job",
      }),
    );
    if (old) {
      const before = old.spec ?? ({} as JobSpec);
      if (!sameJson(before.selector, spec.selector)) errs.push(immutable("spec.selector", spec.selector));
      if ((before.completionMode ?? "") !== (spec.completionMode ?? "")) {
        errs.push(immutable("spec.completionMode", spec.completionMode));
      }
      if (before.completionMode !== "Indexed" && before.completions !== spec.completions) {
        errs.push(immutable("spec.completions", spec.completions));
      }
      if (!before.suspend && !sameJson(before.template, spec.template)) {
        errs.push(immutable(child("spec", "template"), "<template>"));
      }
    }
    return errs;
  },
  table: {
    columns: [
      NAME_COLUMN,
      column("Status", "Status of the job."),
      column("Completions", "The desired number of successfully finished pods the job should be run with."),
      column("Duration", "Time required to complete the job."),
      AGE_COLUMN,
      CONTAINERS_COLUMN,
      IMAGES_COLUMN,
      SELECTOR_COLUMN,
    ],
    row(job, now = new Date()) {
      const spec = job.spec ?? ({} as JobSpec);
      const succeeded = job.status?.succeeded ?? 0;
      let completions: string;
      if (spec.completions !== undefined) {
        completions = `${succeeded}/${spec.completions}`;
      } else {
        const parallelism = spec.parallelism ?? 0;
        completions = parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
      }
      const start = job.status?.startTime;
      const end = job.status?.completionTime;
      let duration = "";
      if (start) duration = humanDuration((end ? Date.parse(end) : now.getTime()) - Date.parse(start));
      const [names, images] = containersAndImages(spec.template?.spec?.containers);
      return [
        job.metadata?.name ?? "",
        jobStatus(job),
        completions,
        duration,
        since(job.metadata?.creationTimestamp, now),
        names,
        images,
        formatLabelSelector(spec.selector),
      ];
    },
  },
  fieldSelectors: { "status.successful": (job) => String(job.status?.succeeded ?? 0) },
});
