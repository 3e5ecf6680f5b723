// A small vocabulary over TypeBox for writing Kubernetes schemas the way upstream's OpenAPI describes them.
//
// Conventions (they mirror Go's encoding of the upstream types, and upstream's published OpenAPI v3):
// - `req(t)`: a field without `omitempty` — listed in `required`; primitives carry their Go zero value as
//   `default` ("" / 0 / false), so decoding fills it in exactly like a Go round trip would.
// - `always(t)`: a non-pointer struct field (metadata, spec, status, resources …) — optional on input, but
//   always present on output as at least `{}` (`default: {}`).
// - `opt(t)`: an optional (`omitempty`/pointer) field.
// - `named(name, t)`: a reusable definition; the OpenAPI generator emits it once under
//   `components.schemas[name]` and refers to it with `$ref` everywhere else.

import Type, { type Static, type TSchema } from "typebox";

export type { Static, TSchema };
export { Type };

const NAME_KEY = "~k8sName";

/** Every named definition, by OpenAPI component name. */
const registry = new Map<string, TSchema>();

/** Registers `schema` as the named definition `name` (e.g. "io.k8s.api.core.v1.Container"). */
export function named<T extends TSchema>(name: string, schema: T): T {
  if (registry.has(name)) throw new Error(`schema ${name} is defined twice`);
  Object.defineProperty(schema, NAME_KEY, {
    value: name,
    enumerable: false,
    configurable: true,
    writable: true,
  });
  registry.set(name, schema);
  return schema;
}

/** The component name of a named definition (also of an annotated copy of one), else undefined. */
export function schemaName(schema: object): string | undefined {
  return (schema as Record<string, unknown>)[NAME_KEY] as string | undefined;
}

/** The canonical (unannotated) named definition. */
export function namedSchema(name: string): TSchema | undefined {
  return registry.get(name);
}

/** A copy of `schema` with extra annotations (description, default, x-kubernetes-*); hidden markers are kept. */
export function annotate<T extends TSchema>(schema: T, options: Record<string, unknown>): T {
  const copy = {} as Record<PropertyKey, unknown>;
  for (const key of Reflect.ownKeys(schema)) {
    Object.defineProperty(copy, key, Object.getOwnPropertyDescriptor(schema, key) as PropertyDescriptor);
  }
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined) copy[key] = value;
  }
  return copy as T;
}

/** Extensions and annotations a field may carry. */
export interface FieldOptions {
  /** Strategic-merge-patch merge key (`x-kubernetes-patch-merge-key`). */
  mergeKey?: string;
  /** Strategic-merge-patch strategy (`x-kubernetes-patch-strategy`), e.g. "merge" or "merge,retainKeys". */
  patchStrategy?: string;
  /** Server-side-apply list type. */
  listType?: "atomic" | "set" | "map";
  listMapKeys?: string[];
  /** Server-side-apply map/struct type (`x-kubernetes-map-type`). */
  mapType?: "atomic" | "granular";
  default?: unknown;
}

function fieldOptions(description: string | undefined, o: FieldOptions = {}): Record<string, unknown> {
  return {
    description,
    default: o.default,
    "x-kubernetes-patch-merge-key": o.mergeKey,
    "x-kubernetes-patch-strategy": o.patchStrategy,
    "x-kubernetes-list-type": o.listType,
    "x-kubernetes-list-map-keys": o.listMapKeys,
    "x-kubernetes-map-type": o.mapType,
  };
}

function zeroValue(schema: TSchema): unknown {
  const { type, format } = schema as { type?: unknown; format?: unknown };
  if (format === "date-time") return undefined; // Go's zero Time encodes as null
  if (type === "string") return "";
  if (type === "integer" || type === "number") return 0;
  if (type === "boolean") return false;
  return undefined;
}

/** A required field (Go: no `omitempty`); primitives default to their zero value. */
export function req<T extends TSchema>(schema: T, description?: string, o: FieldOptions = {}): T {
  const def = o.default !== undefined ? o.default : zeroValue(schema);
  return annotate(schema, fieldOptions(description, { ...o, default: def }));
}

/** An optional field. */
export function opt<T extends TSchema>(schema: T, description?: string, o: FieldOptions = {}) {
  return Type.Optional(annotate(schema, fieldOptions(description, o)));
}

/** A non-pointer struct field: optional on input, always emitted (at least `{}`). */
export function always<T extends TSchema>(schema: T, description?: string, o: FieldOptions = {}) {
  return Type.Optional(annotate(schema, fieldOptions(description, { ...o, default: {} })));
}

// Primitive builders ------------------------------------------------------------------------------------------

export const str = () => Type.String();
export const bool = () => Type.Boolean();
export const int32 = () => Type.Integer({ format: "int32" });
export const int64 = () => Type.Integer({ format: "int64" });
export const double = () => Type.Number({ format: "double" });
export const byteString = () => Type.String({ format: "byte" });

/** A string restricted to `values`; other values are reported as upstream's "Unsupported value". */
export function oneOfStrings<const V extends readonly string[]>(values: V) {
  return Type.Unsafe<V[number]>({ type: "string", enum: [...values] });
}

/** map[string]string */
export function stringMap() {
  return Type.Unsafe<Record<string, string>>({
    type: "object",
    additionalProperties: { type: "string", default: "" },
  });
}

/** map[string]T */
export function mapOf<T extends TSchema>(value: T) {
  return Type.Unsafe<Record<string, Static<T>>>({ type: "object", additionalProperties: value });
}

/** []T treated as one value by apply and strategic merge patch (replaced wholesale). */
export function atomicList<T extends TSchema>(items: T) {
  return Type.Array(items, { "x-kubernetes-list-type": "atomic" });
}

/** []string treated as a set (finalizers, …). */
export function setList<T extends TSchema>(items: T) {
  return Type.Array(items, { "x-kubernetes-list-type": "set" });
}

/** []T keyed by `keys` (server-side apply); `mergeKey` adds upstream's strategic-merge-patch metadata. */
export function mapList<T extends TSchema>(
  items: T,
  keys: string[],
  mergeKey?: string,
  patchStrategy = "merge",
) {
  const extensions: Record<string, unknown> = {
    "x-kubernetes-list-type": "map",
    "x-kubernetes-list-map-keys": keys,
  };
  if (mergeKey) {
    extensions["x-kubernetes-patch-merge-key"] = mergeKey;
    extensions["x-kubernetes-patch-strategy"] = patchStrategy;
  }
  return Type.Array(items, extensions);
}

/** A plain []T (no list-type marker upstream). */
export function list<T extends TSchema>(items: T) {
  return Type.Array(items);
}

/** An object with the given fields; `description` is the type's own documentation. */
export function struct<P extends Record<string, TSchema>>(description: string, properties: P) {
  return Type.Object(properties, { description });
}

/** Standard `apiVersion`/`kind` fields of every top-level kind. */
export function typeMetaFields() {
  return {
    apiVersion: opt(
      str(),
      "APIVersion defines the versioned schema of this representation of an object. Servers convert recognized schemas to the latest internal value and may reject unrecognized values.",
    ),
    kind: opt(
      str(),
      "Kind is a string value representing the REST resource this object represents, in CamelCase. Servers may infer it from the endpoint the client submits requests to. Cannot be updated.",
    ),
  };
}
