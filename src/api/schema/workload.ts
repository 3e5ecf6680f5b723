// What every pod-template workload shares: template defaults and validation, selector/template matching,
// replica counts, and the CONTAINERS / IMAGES / SELECTOR columns.

import { defaultPodSpec } from "./core/pod-defaults.ts";
import type { PodTemplateSpec } from "./core/pod-types.ts";
import { validatePodSpec } from "./core/pod-validation.ts";
import { child, type FieldError, forbidden, invalid, notSupported } from "./field-errors.ts";
import type { LabelSelector } from "./meta.ts";
import { selectorMatches, validateAnnotations, validateLabels } from "./meta-validation.ts";
import { column } from "./printing.ts";

export function defaultTemplate(template: PodTemplateSpec | undefined): void {
  if (!template) return;
  template.spec ??= { containers: [] };
  defaultPodSpec(template.spec);
}

export interface TemplateRules {
  /** Allowed spec.restartPolicy values (["Always"] for controllers that keep pods running). */
  restartPolicies: string[];
  /** The kind name upstream uses in "activeDeadlineSeconds in ReplicaSet is not Supported". */
  kind: string;
}

/** Validates `spec.template` (metadata labels/annotations and the pod spec). */
export function validateTemplate(
  template: PodTemplateSpec | undefined,
  path: string,
  rules: TemplateRules,
): FieldError[] {
  if (!template) return [];
  const errs: FieldError[] = [];
  const meta = template.metadata ?? {};
  errs.push(...validateLabels(meta.labels, child(child(path, "metadata"), "labels")));
  errs.push(...validateAnnotations(meta.annotations, child(child(path, "metadata"), "annotations")));
  const spec = template.spec ?? { containers: [] };
  const specPath = child(path, "spec");
  errs.push(...validatePodSpec(spec, specPath));
  const restartPolicy = spec.restartPolicy ?? "Always";
  if (!rules.restartPolicies.includes(restartPolicy)) {
    errs.push(notSupported(child(specPath, "restartPolicy"), restartPolicy, rules.restartPolicies));
  }
  if (
    rules.restartPolicies.length === 1 &&
    rules.restartPolicies[0] === "Always" &&
    spec.activeDeadlineSeconds !== undefined
  ) {
    errs.push(
      forbidden(
        child(specPath, "activeDeadlineSeconds"),
        `activeDeadlineSeconds in ${rules.kind} is not Supported`,
      ),
    );
  }
  return errs;
}

/** A LabelSelector selector must be non-empty and match the template's labels. */
export function validateSelectorMatchesTemplate(
  selector: LabelSelector | undefined,
  template: PodTemplateSpec | undefined,
  specPath: string,
  kindWord: string,
): FieldError[] {
  const errs: FieldError[] = [];
  if (!selector)
    return [{ reason: "FieldValueRequired", field: child(specPath, "selector"), message: "Required value" }];
  const empty =
    Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0;
  if (empty) {
    errs.push(invalid(child(specPath, "selector"), selector, `empty selector is invalid for ${kindWord}`));
    return errs;
  }
  const labels = template?.metadata?.labels ?? {};
  if (!selectorMatches(selector, labels)) {
    errs.push(
      invalid(
        child(child(child(specPath, "template"), "metadata"), "labels"),
        labels,
        "`selector` does not match template `labels`",
      ),
    );
  }
  return errs;
}

export function nonNegativeInt(value: number | undefined, path: string): FieldError[] {
  return value !== undefined && value < 0 ? [invalid(path, value, "must be greater than or equal to 0")] : [];
}

/** "25%" or 1: upstream's IsValidPercent / non-negative int checks for rolling-update parameters. */
export function validateIntOrPercent(value: number | string | undefined, path: string): FieldError[] {
  if (value === undefined) return [];
  if (typeof value === "number") return nonNegativeInt(value, path);
  if (!/^[0-9]+%$/.test(value))
    return [
      invalid(
        path,
        value,
        "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
      ),
    ];
  if (Number.parseInt(value, 10) > 100) return [invalid(path, value, "must not be greater than 100%")];
  return [];
}

export function isZeroIntOrPercent(value: number | string | undefined): boolean {
  return value === undefined || value === 0 || value === "0%";
}

export const CONTAINERS_COLUMN = column("Containers", "Names of each container in the template.", 1);
export const IMAGES_COLUMN = column("Images", "Images referenced by each container in the template.", 1);
export const SELECTOR_COLUMN = column(
  "Selector",
  "Label selector for pods. Existing pods selected by this selector are the ones affected.",
  1,
);
