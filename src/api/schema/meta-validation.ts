// ObjectMeta validation on create and update (upstream's ValidateObjectMeta / ValidateObjectMetaUpdate), and
// label / label-selector checks shared by kinds.

import type { KubeObject, ObjectMeta } from "../resource.ts";
import {
  child,
  type FieldError,
  forbidden,
  immutable,
  index,
  invalid,
  key,
  required,
  tooLong,
} from "./field-errors.ts";
import type { LabelSelector } from "./meta.ts";
import { isDNS1123Label, isQualifiedName, isValidLabelValue, type NameValidator } from "./names.ts";

const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;

export function validateLabels(labels: Record<string, string> | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(labels ?? {})) {
    for (const msg of isQualifiedName(k)) errs.push(invalid(path, k, msg));
    for (const msg of isValidLabelValue(v)) errs.push(invalid(key(path, k), v, msg));
  }
  return errs;
}

export function validateAnnotations(
  annotations: Record<string, string> | undefined,
  path: string,
): FieldError[] {
  const errs: FieldError[] = [];
  let size = 0;
  for (const [k, v] of Object.entries(annotations ?? {})) {
    for (const msg of isQualifiedName(k.toLowerCase())) errs.push(invalid(path, k, msg));
    size += k.length + v.length;
  }
  if (size > TOTAL_ANNOTATION_SIZE_LIMIT) errs.push(tooLong(path, TOTAL_ANNOTATION_SIZE_LIMIT));
  return errs;
}

function validateOwnerReferences(meta: ObjectMeta, path: string): FieldError[] {
  const errs: FieldError[] = [];
  let controllers = 0;
  (meta.ownerReferences ?? []).forEach((ref, i) => {
    const p = index(path, i);
    if (!ref.apiVersion)
      errs.push(invalid(child(p, "apiVersion"), ref.apiVersion ?? "", "version must not be empty"));
    if (!ref.kind) errs.push(invalid(child(p, "kind"), ref.kind ?? "", "kind must not be empty"));
    if (!ref.name) errs.push(invalid(child(p, "name"), ref.name ?? "", "name must not be empty"));
    if (!ref.uid) errs.push(invalid(child(p, "uid"), ref.uid ?? "", "uid must not be empty"));
    if (ref.controller) controllers++;
  });
  if (controllers > 1) {
    errs.push(invalid(path, meta.ownerReferences, "Only one reference can have Controller set to true."));
  }
  return errs;
}

/** Metadata checks on create. `namespaced` decides whether metadata.namespace is required or forbidden. */
export function validateObjectMeta(
  obj: KubeObject,
  namespaced: boolean,
  nameFn: NameValidator,
): FieldError[] {
  const meta = obj.metadata ?? {};
  const errs: FieldError[] = [];
  const path = "metadata";
  if (meta.generateName && !meta.name) {
    for (const msg of nameFn(meta.generateName, true)) {
      errs.push(invalid(child(path, "generateName"), meta.generateName, msg));
    }
  }
  if (!meta.name) {
    if (!meta.generateName) errs.push(required(child(path, "name"), "name or generateName is required"));
  } else {
    for (const msg of nameFn(meta.name, false)) errs.push(invalid(child(path, "name"), meta.name, msg));
  }
  if (namespaced) {
    if (!meta.namespace) {
      errs.push(required(child(path, "namespace")));
    } else {
      for (const msg of isDNS1123Label(meta.namespace))
        errs.push(invalid(child(path, "namespace"), meta.namespace, msg));
    }
  } else if (meta.namespace) {
    errs.push(forbidden(child(path, "namespace"), "not allowed on this type"));
  }
  if (meta.generation !== undefined && meta.generation < 0) {
    errs.push(invalid(child(path, "generation"), meta.generation, "must be greater than or equal to 0"));
  }
  errs.push(...validateLabels(meta.labels, child(path, "labels")));
  errs.push(...validateAnnotations(meta.annotations, child(path, "annotations")));
  errs.push(...validateOwnerReferences(meta, child(path, "ownerReferences")));
  (meta.finalizers ?? []).forEach((f, i) => {
    for (const msg of isQualifiedName(f)) errs.push(invalid(index(child(path, "finalizers"), i), f, msg));
  });
  return errs;
}

/** Metadata checks on update: everything from create plus the immutable identity fields. */
export function validateObjectMetaUpdate(
  obj: KubeObject,
  old: KubeObject,
  namespaced: boolean,
  nameFn: NameValidator,
): FieldError[] {
  const meta = obj.metadata ?? {};
  const prev = old.metadata ?? {};
  const errs = validateObjectMeta(obj, namespaced, nameFn);
  const path = "metadata";
  if ((meta.name ?? "") !== (prev.name ?? "")) errs.push(immutable(child(path, "name"), meta.name ?? ""));
  if ((meta.namespace ?? "") !== (prev.namespace ?? "")) {
    errs.push(immutable(child(path, "namespace"), meta.namespace ?? ""));
  }
  if (prev.uid && meta.uid && meta.uid !== prev.uid) errs.push(immutable(child(path, "uid"), meta.uid));
  if (prev.creationTimestamp && meta.creationTimestamp && meta.creationTimestamp !== prev.creationTimestamp) {
    errs.push(immutable(child(path, "creationTimestamp"), meta.creationTimestamp));
  }
  return errs;
}

/** A metav1.LabelSelector's syntax (keys, values, operators). */
export function validateLabelSelector(selector: LabelSelector | undefined, path: string): FieldError[] {
  if (!selector) return [];
  const errs: FieldError[] = [];
  (selector.matchExpressions ?? []).forEach((req, i) => {
    const p = index(child(path, "matchExpressions"), i);
    const values = req.values ?? [];
    switch (req.operator) {
      case "In":
      case "NotIn":
        if (values.length === 0) {
          errs.push(required(child(p, "values"), "must be specified when `operator` is 'In' or 'NotIn'"));
        }
        break;
      case "Exists":
      case "DoesNotExist":
        if (values.length > 0) {
          errs.push(
            forbidden(
              child(p, "values"),
              "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
            ),
          );
        }
        break;
      default:
        errs.push(invalid(child(p, "operator"), req.operator, "not a valid selector operator"));
    }
    for (const msg of isQualifiedName(req.key)) errs.push(invalid(child(p, "key"), req.key, msg));
  });
  errs.push(...validateLabels(selector.matchLabels, child(path, "matchLabels")));
  return errs;
}

/** Does `labels` satisfy `selector`? An empty selector matches everything. */
export function selectorMatches(
  selector: LabelSelector,
  labels: Record<string, string> | undefined,
): boolean {
  const l = labels ?? {};
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (l[k] !== v) return false;
  for (const req of selector.matchExpressions ?? []) {
    const has = req.key in l;
    const value = l[req.key];
    const values = req.values ?? [];
    switch (req.operator) {
      case "In":
        if (!has || !values.includes(value as string)) return false;
        break;
      case "NotIn":
        if (has && values.includes(value as string)) return false;
        break;
      case "Exists":
        if (!has) return false;
        break;
      case "DoesNotExist":
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** Renders a LabelSelector the way kubectl shows selectors ("app=x,tier in (a,b)"); "<none>" when empty. */
export function formatLabelSelector(selector: LabelSelector | undefined): string {
  if (!selector) return "<none>";
  const parts: string[] = [];
  for (const [k, v] of Object.entries(selector.matchLabels ?? {}).sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  )) {
    parts.push(`${k}=${v}`);
  }
  for (const req of selector.matchExpressions ?? []) {
    const values = [...(req.values ?? [])].sort();
    switch (req.operator) {
      case "In":
        parts.push(`${req.key} in (${values.join(",")})`);
        break;
      case "NotIn":
        parts.push(`${req.key} notin (${values.join(",")})`);
        break;
      case "Exists":
        parts.push(req.key);
        break;
      case "DoesNotExist":
        parts.push(`!${req.key}`);
        break;
    }
  }
  return parts.length === 0 ? "<none>" : parts.join(",");
}
