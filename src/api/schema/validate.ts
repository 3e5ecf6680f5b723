// The entry points the API server calls for writes: decode (structure, unknown fields), default, apply the
// kind's strategy, validate — in upstream's order. Nothing here touches storage or identity metadata (uid,
// resourceVersion, creationTimestamp, generateName suffixes): that stays with the server.

import type { FieldError, KubeObject, ResourceDefinition } from "../resource.ts";
import { decode } from "./decode.ts";
import { child, index, invalidMessage, notSupported } from "./field-errors.ts";
import { asKindDefinition, type KindDefinition } from "./kind.ts";
import { validateObjectMeta, validateObjectMetaUpdate } from "./meta-validation.ts";
import { nameIsDNSSubdomain } from "./names.ts";

export type FieldValidation = "Strict" | "Warn" | "Ignore";

export interface PrepareOptions {
  /** The request's fieldValidation parameter; upstream's default when absent is "Warn". */
  fieldValidation?: FieldValidation;
  /** Set for writes through a subresource; "status" keeps everything but status (and the reverse for the main resource). */
  subresource?: string;
}

export interface PrepareResult<T extends KubeObject = KubeObject> {
  /** The decoded, defaulted object to store (valid only when neither badRequest nor errors is set). */
  obj: T;
  /** Answer 400 BadRequest with this message: the body could not be decoded (types, unknown fields under Strict). */
  badRequest?: string;
  /** Answer 422 Invalid: Status.details.causes are these; `invalidMessage()` gives the Status message. */
  errors: FieldError[];
  /** Warnings for the response's Warning headers (unknown fields under fieldValidation=Warn). */
  warnings: string[];
}

function decodeFor<T extends KubeObject>(
  def: ResourceDefinition<T>,
  raw: unknown,
  fieldValidation: FieldValidation,
): { obj: T; badRequest?: string; warnings: string[] } {
  const { value, unknownFields, typeError } = decode(def.schema, raw);
  const prefix = `${def.kind} in version "${def.version}" cannot be handled as a ${def.kind}`;
  const obj = value as T;
  if (typeError) return { obj, badRequest: `${prefix}: ${typeError}`, warnings: [] };
  const unknown = unknownFields.map((f) => `unknown field ${JSON.stringify(f)}`);
  if (unknown.length > 0 && fieldValidation === "Strict") {
    return { obj, badRequest: `${prefix}: strict decoding error: ${unknown.join(", ")}`, warnings: [] };
  }
  return { obj, warnings: fieldValidation === "Warn" ? unknown : [] };
}

const enumBearing = new WeakMap<object, boolean>();

/** Whether any node below `schema` declares an enum (cached per schema object; schemas are immutable). */
function hasEnum(schema: object, seen = new Set<object>()): boolean {
  const cached = enumBearing.get(schema);
  if (cached !== undefined) return cached;
  if (seen.has(schema)) return false;
  seen.add(schema);
  const node = schema as Record<string, unknown>;
  let found = Array.isArray(node.enum);
  const children: unknown[] = [
    ...Object.values((node.properties as Record<string, object> | undefined) ?? {}),
    node.items,
    node.additionalProperties,
  ];
  for (const c of children) if (!found && c && typeof c === "object") found = hasEnum(c, seen);
  enumBearing.set(schema, found);
  return found;
}

/** Values outside a field's `enum`, reported like upstream's "Unsupported value" (after defaults). */
export function validateEnums(schema: object, value: unknown, path = ""): FieldError[] {
  const node = schema as Record<string, unknown>;
  const errs: FieldError[] = [];
  if (!hasEnum(schema)) return errs;
  if (Array.isArray(node.enum) && typeof value === "string" && !node.enum.includes(value)) {
    errs.push(notSupported(path, value, node.enum as string[]));
    return errs;
  }
  if (node.type === "object" && value && typeof value === "object" && !Array.isArray(value)) {
    const props = node.properties as Record<string, object> | undefined;
    const additional = node.additionalProperties;
    for (const [k, v] of Object.entries(value)) {
      const sub = props?.[k] ?? (additional && typeof additional === "object" ? additional : undefined);
      if (sub) errs.push(...validateEnums(sub, v, props?.[k] ? child(path, k) : `${path}[${k}]`));
    }
  } else if (node.type === "array" && Array.isArray(value) && node.items) {
    value.forEach((v, i) => {
      errs.push(...validateEnums(node.items as object, v, index(path, i)));
    });
  }
  return errs;
}

function kindOf<T extends KubeObject>(def: ResourceDefinition<T>): KindDefinition<T> | undefined {
  return asKindDefinition(def as unknown as ResourceDefinition) as KindDefinition<T> | undefined;
}

function setTypeMeta(def: ResourceDefinition, obj: KubeObject): void {
  obj.apiVersion = def.group ? `${def.group}/${def.version}` : def.version;
  obj.kind = def.kind;
}

/**
 * Create: decode → defaults → strategy (status reset, generation 1) → validation.
 * Call it with metadata.name already generated, or with only generateName set (then the prefix is validated).
 */
export function prepareForCreate<T extends KubeObject>(
  def: ResourceDefinition<T>,
  raw: unknown,
  options: PrepareOptions = {},
): PrepareResult<T> {
  const decoded = decodeFor(def, raw, options.fieldValidation ?? "Warn");
  const obj = decoded.obj;
  if (decoded.badRequest) return { obj, badRequest: decoded.badRequest, errors: [], warnings: [] };
  const kind = kindOf(def);
  setTypeMeta(def as unknown as ResourceDefinition, obj);
  obj.metadata ??= {};
  if (!def.namespaced) delete obj.metadata.namespace;
  delete obj.metadata.deletionTimestamp;
  delete obj.metadata.deletionGracePeriodSeconds;
  def.applyDefaults(obj);
  kind?.prepareForCreate?.(obj);
  if (kind?.tracksGeneration) obj.metadata.generation = 1;
  const errors = [
    ...validateObjectMeta(obj, def.namespaced, kind?.nameValidator ?? nameIsDNSSubdomain),
    ...validateEnums(def.schema, obj),
    ...def.validate(obj),
  ];
  return { obj, errors, warnings: decoded.warnings };
}

const STATUS_META_FIELDS = [
  "labels",
  "annotations",
  "finalizers",
  "ownerReferences",
  "deletionTimestamp",
  "deletionGracePeriodSeconds",
  "generation",
] as const;

/**
 * Update (PUT, or the result of a PATCH): decode → defaults → strategy → validation against `old`.
 * Through the main resource the stored status is kept; through "status" everything except status is kept.
 */
export function prepareForUpdate<T extends KubeObject>(
  def: ResourceDefinition<T>,
  raw: unknown,
  old: T,
  options: PrepareOptions = {},
): PrepareResult<T> {
  const decoded = decodeFor(def, raw, options.fieldValidation ?? "Warn");
  const obj = decoded.obj;
  if (decoded.badRequest) return { obj, badRequest: decoded.badRequest, errors: [], warnings: [] };
  const kind = kindOf(def);
  setTypeMeta(def as unknown as ResourceDefinition, obj);
  obj.metadata ??= {};
  if (!def.namespaced) delete obj.metadata.namespace;
  def.applyDefaults(obj);
  const hasStatus = def.subresources.includes("status");
  if (options.subresource === "status") {
    for (const [k, v] of Object.entries(old)) {
      if (k !== "status" && k !== "metadata") (obj as Record<string, unknown>)[k] = structuredClone(v);
    }
    const meta = obj.metadata as Record<string, unknown>;
    const oldMeta = (old.metadata ?? {}) as Record<string, unknown>;
    for (const f of STATUS_META_FIELDS) {
      if (oldMeta[f] === undefined) delete meta[f];
      else meta[f] = structuredClone(oldMeta[f]);
    }
  } else {
    if (hasStatus) {
      const target = obj as KubeObject;
      const oldStatus = (old as KubeObject).status;
      if (oldStatus === undefined) delete target.status;
      else target.status = structuredClone(oldStatus);
    }
    kind?.prepareForUpdate?.(obj, old);
  }
  if (kind?.tracksGeneration) {
    const generation = old.metadata?.generation ?? 1;
    obj.metadata.generation = specChanged(obj, old) ? generation + 1 : generation;
  }
  const errors = [
    ...validateObjectMetaUpdate(obj, old, def.namespaced, kind?.nameValidator ?? nameIsDNSSubdomain),
    ...validateEnums(def.schema, obj),
  ];
  if (options.subresource === "status") {
    errors.push(...(kind?.validateStatusUpdate?.(obj, old) ?? []));
  } else {
    errors.push(...def.validate(obj, old));
  }
  return { obj, errors, warnings: decoded.warnings };
}

function specChanged(obj: KubeObject, old: KubeObject): boolean {
  const strip = (o: KubeObject) => {
    const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = o;
    return JSON.stringify(sortKeys(rest));
  };
  return strip(obj) !== strip(old);
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === "object") {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}

/** The Status message for a 422: `Pod "x" is invalid: spec.containers[0].image: Required value`. */
export function invalidStatusMessage(def: ResourceDefinition, name: string, errors: FieldError[]): string {
  return invalidMessage(def.kind, name, errors);
}

/** A complete 422 Status object, as upstream sends it. */
export function invalidStatus(
  def: ResourceDefinition,
  name: string,
  errors: FieldError[],
): Record<string, unknown> {
  return {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message: invalidMessage(def.kind, name, errors),
    reason: "Invalid",
    details: {
      name,
      ...(def.group ? { group: def.group } : {}),
      kind: def.kind,
      causes: errors.map((e) => ({ reason: e.reason, message: e.message, field: e.field })),
    },
    code: 422,
  };
}
