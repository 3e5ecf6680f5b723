// ObjectMeta rules every kind shares (upstream ValidateObjectMeta and the generic registry's BeforeCreate /
// BeforeUpdate): generated names, timestamps, which metadata fields the system owns, and their validation.

import { randomInt } from "node:crypto";
import type { KubeObject, ObjectMeta, ResourceDefinition } from "../../api/resource.ts";
import { asKindDefinition } from "../../api/schema/kind.ts";
import {
  type NameValidator,
  nameIsDNS1035Label,
  nameIsDNSLabel,
  nameIsDNSSubdomain,
  nameIsPathSegment,
} from "../../api/schema/names.ts";

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

/** Upstream's name syntax for kinds whose definition does not name one (DNS-1123 subdomain otherwise). */
const NAME_VALIDATORS: Record<string, NameValidator> = {
  "/Namespace": nameIsDNSLabel,
  "/Service": nameIsDNS1035Label,
  "/Event": nameIsPathSegment,
  "events.k8s.io/Event": nameIsPathSegment,
};

export function nameValidatorFor(def: ResourceDefinition): NameValidator {
  return (
    asKindDefinition(def)?.nameValidator ?? NAME_VALIDATORS[`${def.group}/${def.kind}`] ?? nameIsDNSSubdomain
  );
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
