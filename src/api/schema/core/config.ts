// core/v1 configmaps and secrets: key syntax, size limit, immutability, secret types and stringData.

import { child, type FieldError, forbidden, immutable, invalid, key, required } from "../field-errors.ts";
import { defineKind } from "../kind.ts";
import { isConfigMapKey, nameIsDNSSubdomain } from "../names.ts";
import { AGE_COLUMN, column, NAME_COLUMN, since } from "../printing.ts";
import { ConfigMap, Secret } from "./config-types.ts";

const MAX_SIZE = 1024 * 1024;

function validateKeys(data: Record<string, string> | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const k of Object.keys(data ?? {}))
    for (const msg of isConfigMapKey(k)) errs.push(invalid(key(path, k), k, msg));
  return errs;
}

function validateImmutable(
  immutableNow: boolean | undefined,
  old: { immutable?: boolean } & Record<string, unknown>,
  obj: Record<string, unknown>,
  fields: string[],
): FieldError[] {
  if (old.immutable !== true) return [];
  const errs: FieldError[] = [];
  if (immutableNow !== true) errs.push(forbidden("immutable", "field is immutable when `immutable` is set"));
  for (const f of fields) {
    if (JSON.stringify(obj[f] ?? {}) !== JSON.stringify(old[f] ?? {})) {
      errs.push(forbidden(f, "field is immutable when `immutable` is set"));
    }
  }
  return errs;
}

export const configMaps = defineKind<ConfigMap>({
  group: "",
  version: "v1",
  kind: "ConfigMap",
  plural: "configmaps",
  singular: "configmap",
  namespaced: true,
  shortNames: ["cm"],
  schema: ConfigMap,
  nameValidator: nameIsDNSSubdomain,
  validate(cm, old) {
    const errs = [...validateKeys(cm.data, "data"), ...validateKeys(cm.binaryData, "binaryData")];
    let size = 0;
    for (const [k, v] of Object.entries(cm.data ?? {})) {
      size += k.length + v.length;
      if (cm.binaryData && k in cm.binaryData) {
        errs.push(invalid(key("data", k), k, "duplicate of key present in binaryData"));
      }
    }
    for (const [k, v] of Object.entries(cm.binaryData ?? {}))
      size += k.length + Math.floor((v.length * 3) / 4);
    if (size > MAX_SIZE)
      errs.push({
        reason: "FieldValueTooLong",
        field: "",
        message: `Too long: must have at most ${MAX_SIZE} bytes`,
      });
    if (old) errs.push(...validateImmutable(cm.immutable, old, cm, ["data", "binaryData"]));
    return errs;
  },
  table: {
    columns: [
      NAME_COLUMN,
      column("Data", "Number of keys in the ConfigMap's data and binaryData.", 0, "integer"),
      AGE_COLUMN,
    ],
    row: (cm, now = new Date()) => [
      cm.metadata?.name ?? "",
      Object.keys(cm.data ?? {}).length + Object.keys(cm.binaryData ?? {}).length,
      since(cm.metadata?.creationTimestamp, now),
    ],
  },
});

const REQUIRED_KEYS: Record<string, string[]> = {
  "kubernetes.io/dockercfg": [".dockercfg"],
  "kubernetes.io/dockerconfigjson": [".dockerconfigjson"],
  "kubernetes.io/ssh-auth": ["ssh-privatekey"],
  "kubernetes.io/tls": ["tls.crt", "tls.key"],
};

export const secrets = defineKind<Secret>({
  group: "",
  version: "v1",
  kind: "Secret",
  plural: "secrets",
  namespaced: true,
  schema: Secret,
  nameValidator: nameIsDNSSubdomain,
  applyDefaults(secret) {
    if (!secret.type) secret.type = "Opaque";
    // stringData is write-only: merged into data on every write.
    if (secret.stringData) {
      secret.data ??= {};
      for (const [k, v] of Object.entries(secret.stringData))
        secret.data[k] = Buffer.from(v, "utf8").toString("base64");
      delete secret.stringData;
    }
  },
  validate(secret, old) {
    const errs = validateKeys(secret.data, "data");
    let size = 0;
    for (const [k, v] of Object.entries(secret.data ?? {}))
      size += k.length + Buffer.from(v, "base64").length;
    if (size > MAX_SIZE)
      errs.push(invalid("data", "<secret contents redacted>", `may not be more than ${MAX_SIZE} bytes`));
    const type = secret.type ?? "Opaque";
    for (const k of REQUIRED_KEYS[type] ?? []) {
      if (!secret.data || !(k in secret.data)) errs.push(required(key("data", k)));
    }
    if (
      type === "kubernetes.io/service-account-token" &&
      !secret.metadata?.annotations?.["kubernetes.io/service-account.name"]
    ) {
      errs.push(required(child(child("metadata", "annotations"), "kubernetes.io/service-account.name")));
    }
    if (type === "kubernetes.io/basic-auth" && !secret.data?.username && !secret.data?.password) {
      errs.push(required(key("data", "username")));
    }
    if (old) {
      if ((old.type ?? "Opaque") !== type) errs.push(immutable("type", type));
      errs.push(...validateImmutable(secret.immutable, old, secret, ["data"]));
    }
    return errs;
  },
  table: {
    columns: [
      NAME_COLUMN,
      column("Type", "The type of the secret"),
      column("Data", "The number of entries in the secret's data.", 0, "integer"),
      AGE_COLUMN,
    ],
    row: (s, now = new Date()) => [
      s.metadata?.name ?? "",
      s.type ?? "",
      Object.keys(s.data ?? {}).length,
      since(s.metadata?.creationTimestamp, now),
    ],
  },
  fieldSelectors: { type: (s) => s.type ?? "" },
});
