// ObjectMeta rules every kind shares (upstream ValidateObjectMeta and the generic registry's BeforeCreate /
// BeforeUpdate): generated names, timestamps, which metadata fields the system owns, and their validation.

import { randomInt } from "node:crypto";
import type { FieldError, KubeObject, ObjectMeta } from "../../api/resource.ts";
import { labelKeyError, labelValueError } from "./selectors.ts";

/** RFC 3339 with second precision, as metav1.Time serializes. */
export function formatTime(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

const NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";
const MAX_GENERATED_NAME_LENGTH = 63;
const RANDOM_LENGTH = 5;

/** upstream SimpleNameGenerator: the prefix (cut to leave room) plus 5 random characters. */
export function generateName(base: string): string {
  const prefix =
    base.length > MAX_GENERATED_NAME_LENGTH - RANDOM_LENGTH
      ? base.slice(0, MAX_GENERATED_NAME_LENGTH - RANDOM_LENGTH)
      : base;
  let suffix = "";
  for (let i = 0; i < RANDOM_LENGTH; i++) suffix += NAME_ALPHABET[randomInt(NAME_ALPHABET.length)];
  return prefix + suffix;
}

export function metaOf(obj: KubeObject): ObjectMeta {
  if (obj.metadata === undefined || obj.metadata === null || typeof obj.metadata !== "object")
    obj.metadata = {};
  return obj.metadata;
}

export type NameRule = "subdomain" | "label" | "dns1035" | "path-segment";

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/** Checks a name by one of upstream's rules; returns the messages (empty when valid). */
export function nameErrors(name: string, rule: NameRule): string[] {
  const errors: string[] = [];
  if (name === "." || name === "..") errors.push(`may not be '${name}'`);
  if (name.includes("/")) errors.push("may not contain '/'");
  if (name.includes("%")) errors.push("may not contain '%'");
  if (rule === "path-segment") return errors;
  if (rule === "label" || rule === "dns1035") {
    if (name.length > 63) errors.push("must be no more than 63 characters");
    if (rule === "label" && !DNS1123_LABEL.test(name)) {
      errors.push(
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
      );
    }
    if (rule === "dns1035" && !DNS1035_LABEL.test(name)) {
      errors.push(
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
      );
    }
    return errors;
  }
  if (name.length > 253) errors.push("must be no more than 253 characters");
  if (!DNS1123_SUBDOMAIN.test(name)) {
    errors.push(
      "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    );
  }
  return errors;
}

/** Which name rule each kind uses upstream; kinds not listed use DNS-1123 subdomains. */
const NAME_RULES: Record<string, NameRule> = {
  "/Namespace": "label",
  "/Service": "dns1035",
  "/Event": "path-segment",
  "events.k8s.io/Event": "path-segment",
};

export function nameRuleFor(group: string, kind: string): NameRule {
  return NAME_RULES[`${group}/${kind}`] ?? "subdomain";
}

const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;

/** ObjectMeta validation shared by every kind (names, labels, annotations, finalizers, owner references). */
export function validateObjectMeta(obj: KubeObject, rule: NameRule, namespaced: boolean): FieldError[] {
  const errors: FieldError[] = [];
  const meta = obj.metadata ?? {};
  const name = meta.name ?? "";
  if (name === "") {
    errors.push({
      reason: "FieldValueRequired",
      field: "metadata.name",
      message: "Required value: name or generateName is required",
    });
  } else {
    for (const message of nameErrors(name, rule)) {
      errors.push({
        reason: "FieldValueInvalid",
        field: "metadata.name",
        message: `Invalid value: "${name}": ${message}`,
      });
    }
  }
  if (namespaced && !meta.namespace) {
    errors.push({ reason: "FieldValueRequired", field: "metadata.namespace", message: "Required value" });
  }
  for (const [key, value] of Object.entries(meta.labels ?? {})) {
    const keyError = labelKeyError(key);
    if (keyError) {
      errors.push({
        reason: "FieldValueInvalid",
        field: "metadata.labels",
        message: `Invalid value: "${key}": ${keyError}`,
      });
    }
    const valueError = typeof value === "string" ? labelValueError(value) : "must be a string";
    if (valueError) {
      errors.push({
        reason: "FieldValueInvalid",
        field: `metadata.labels`,
        message: `Invalid value: "${String(value)}": ${valueError}`,
      });
    }
  }
  let annotationSize = 0;
  for (const [key, value] of Object.entries(meta.annotations ?? {})) {
    const keyError = labelKeyError(key.toLowerCase());
    if (keyError) {
      errors.push({
        reason: "FieldValueInvalid",
        field: "metadata.annotations",
        message: `Invalid value: "${key}": ${keyError}`,
      });
    }
    annotationSize += key.length + String(value).length;
  }
  if (annotationSize > TOTAL_ANNOTATION_SIZE_LIMIT) {
    errors.push({
      reason: "FieldValueTooLong",
      field: "metadata.annotations",
      message: `Too long: must have at most ${TOTAL_ANNOTATION_SIZE_LIMIT} bytes`,
    });
  }
  (meta.finalizers ?? []).forEach((finalizer, i) => {
    const error = labelKeyError(finalizer);
    if (error) {
      errors.push({
        reason: "FieldValueInvalid",
        field: `metadata.finalizers[${i}]`,
        message: `Invalid value: "${finalizer}": ${error}`,
      });
    }
  });
  let controllers = 0;
  (meta.ownerReferences ?? []).forEach((ref, i) => {
    for (const field of ["apiVersion", "kind", "name", "uid"] as const) {
      if (!ref[field]) {
        errors.push({
          reason: "FieldValueInvalid",
          field: `metadata.ownerReferences[${i}].${field}`,
          message: `Invalid value: "": ${field} must not be empty`,
        });
      }
    }
    if (ref.controller) controllers++;
  });
  if (controllers > 1) {
    errors.push({
      reason: "FieldValueInvalid",
      field: "metadata.ownerReferences",
      message: "Invalid value: Only one reference can have Controller set to true",
    });
  }
  return errors;
}

/** Metadata fields a client may not change on update; they are carried over from the stored object. */
export function carryOverSystemMetadata(next: KubeObject, old: KubeObject): void {
  const meta = metaOf(next);
  const oldMeta = old.metadata ?? {};
  meta.uid = oldMeta.uid;
  meta.creationTimestamp = oldMeta.creationTimestamp;
  setOrDelete(meta, "deletionTimestamp", oldMeta.deletionTimestamp);
  setOrDelete(meta, "deletionGracePeriodSeconds", oldMeta.deletionGracePeriodSeconds);
  setOrDelete(meta, "generation", oldMeta.generation);
  delete (meta as Record<string, unknown>).selfLink;
}

function setOrDelete<K extends keyof ObjectMeta>(
  meta: ObjectMeta,
  key: K,
  value: ObjectMeta[K] | undefined,
): void {
  if (value === undefined) delete meta[key];
  else meta[key] = value;
}

/** Deep equality on JSON values (key order ignored). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== "object") return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    return a.every((v, i) => jsonEqual(v, b[i]));
  }
  if (Array.isArray(b)) return false;
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const ak = Object.keys(ao).filter((k) => ao[k] !== undefined);
  const bk = Object.keys(bo).filter((k) => bo[k] !== undefined);
  if (ak.length !== bk.length) return false;
  return ak.every((k) => Object.hasOwn(bo, k) && jsonEqual(ao[k], bo[k]));
}
