// The schema view the patch engines need, and nothing more. A kind's schema is a JSON-schema object (as in
// OpenAPI v3) that may refer to named definitions with `$ref` (or `allOf: [{$ref}]`, as upstream's published
// documents do); the strategic-merge and apply metadata ride along as upstream's extensions:
//   x-kubernetes-patch-strategy   "merge" | "replace" | "retainKeys" | "merge,retainKeys"
//   x-kubernetes-patch-merge-key  the merge key of a list of objects ("name", "containerPort", "uid" …)
//   x-kubernetes-list-type        "atomic" | "set" | "map"
//   x-kubernetes-list-map-keys    the keys of a "map" list (["containerPort", "protocol"])
//   x-kubernetes-map-type         "atomic" | "granular"
// Extensions on a property win over those of the definition it refers to. Parts of an object the schema does
// not describe are handled generically (objects merge field by field, lists replace), so a partial schema is
// safe.

export type SchemaNode = Readonly<Record<string, unknown>>;

/** What a patch engine needs to walk a kind's schema. */
export interface PatchSchema {
  /** The schema of the whole object (e.g. a Deployment); undefined means "no schema": generic rules only. */
  readonly root: SchemaNode | undefined;
  /** Resolves a `$ref` value (e.g. "#/components/schemas/io.k8s.api.core.v1.Container"). */
  resolveRef(ref: string): SchemaNode | undefined;
}

/** A schema with no type information: merge patch rules for objects, replace for lists. */
export const NO_SCHEMA: PatchSchema = { root: undefined, resolveRef: () => undefined };

/** A PatchSchema for a self-contained schema (no `$ref`s), such as a ResourceDefinition's `schema`. */
export function inlineSchema(root: SchemaNode | undefined): PatchSchema {
  return { root, resolveRef: () => undefined };
}

/**
 * A PatchSchema whose `$ref`s are JSON pointers into `document` (an OpenAPI v3 document with
 * `components.schemas`, a swagger 2 document with `definitions`, or any JSON-schema bundle).
 * `root` is the kind's node, or a `$ref` string into the document.
 */
export function schemaFromDocument(document: SchemaNode, root: SchemaNode | string): PatchSchema {
  const resolveRef = (ref: string): SchemaNode | undefined => {
    if (!ref.startsWith("#")) return undefined;
    let node: unknown = document;
    for (const raw of ref.slice(1).split("/").slice(1)) {
      const token = decodeURIComponent(raw).replaceAll("~1", "/").replaceAll("~0", "~");
      if (typeof node !== "object" || node === null) return undefined;
      node = (node as Record<string, unknown>)[token];
    }
    return typeof node === "object" && node !== null ? (node as SchemaNode) : undefined;
  };
  return { root: typeof root === "string" ? resolveRef(root) : root, resolveRef };
}

const MAX_REF_DEPTH = 32;

/**
 * The node with `$ref`, `allOf`, `anyOf` and `oneOf` folded in: properties and extensions of every part are
 * combined, the node's own keys winning. Undefined in, undefined out.
 */
export function resolveNode(schema: PatchSchema, node: SchemaNode | undefined): SchemaNode | undefined {
  if (!node) return node;
  let perSchema = resolvedCache.get(schema);
  if (!perSchema) {
    perSchema = new WeakMap();
    resolvedCache.set(schema, perSchema);
  }
  const cached = perSchema.get(node);
  if (cached) return cached;
  const resolved = resolveUncached(schema, node, 0) ?? node;
  perSchema.set(node, resolved);
  return resolved;
}

/** Resolved views per schema and node: schemas are immutable definitions, walked many times per patch. */
const resolvedCache = new WeakMap<PatchSchema, WeakMap<SchemaNode, SchemaNode>>();

function resolveUncached(
  schema: PatchSchema,
  node: SchemaNode | undefined,
  depth: number,
): SchemaNode | undefined {
  if (!node || depth > MAX_REF_DEPTH) return node;
  const parts: SchemaNode[] = [];
  const ref = node.$ref;
  if (typeof ref === "string") {
    const target = resolveUncached(schema, schema.resolveRef(ref), depth + 1);
    if (target) parts.push(target);
  }
  for (const combinator of ["allOf", "anyOf", "oneOf"] as const) {
    const list = node[combinator];
    if (!Array.isArray(list)) continue;
    for (const part of list) {
      if (typeof part !== "object" || part === null) continue;
      const resolved = resolveUncached(schema, part as SchemaNode, depth + 1);
      if (resolved && (combinator === "allOf" || isObjectish(resolved))) parts.push(resolved);
    }
  }
  if (parts.length === 0) return node;
  const merged: Record<string, unknown> = {};
  const properties: Record<string, unknown> = {};
  let hasProperties = false;
  for (const part of [...parts, node]) {
    for (const [key, value] of Object.entries(part)) {
      if (key === "$ref" || key === "allOf" || key === "anyOf" || key === "oneOf") continue;
      if (key === "properties" && typeof value === "object" && value !== null) {
        Object.assign(properties, value);
        hasProperties = true;
        continue;
      }
      merged[key] = value;
    }
  }
  if (hasProperties) merged.properties = properties;
  return merged;
}

function isObjectish(node: SchemaNode): boolean {
  return (
    node.type === "object" ||
    typeof node.properties === "object" ||
    typeof node.additionalProperties === "object"
  );
}

function propertiesOf(node: SchemaNode | undefined): Record<string, SchemaNode> | undefined {
  const properties = node?.properties;
  return typeof properties === "object" && properties !== null
    ? (properties as Record<string, SchemaNode>)
    : undefined;
}

/** The (unresolved) schema of member `name` of an object described by `node`. */
export function fieldSchema(
  schema: PatchSchema,
  node: SchemaNode | undefined,
  name: string,
): SchemaNode | undefined {
  const resolved = resolveNode(schema, node);
  const declared = propertiesOf(resolved)?.[name];
  if (declared) return declared;
  const additional = resolved?.additionalProperties;
  return typeof additional === "object" && additional !== null ? (additional as SchemaNode) : undefined;
}

/** Whether `name` is a declared property (a struct field) rather than a key of a free-form map. */
export function isDeclaredField(schema: PatchSchema, node: SchemaNode | undefined, name: string): boolean {
  const properties = propertiesOf(resolveNode(schema, node));
  return properties !== undefined && Object.hasOwn(properties, name);
}

/**
 * Whether member `name` is always present in the Go serialization upstream's field manager compares: a field
 * without `omitempty` (listed in `required`) or a non-pointer struct (published with `default: {}`). Such a
 * field is never reported as added or removed itself, only its contents (so no `.` in managedFields).
 */
export function isAlwaysPresent(schema: PatchSchema, node: SchemaNode | undefined, name: string): boolean {
  const required = resolveNode(schema, node)?.required;
  if (Array.isArray(required) && required.includes(name)) return true;
  const fallback = resolveNode(schema, fieldSchema(schema, node, name))?.default;
  return typeof fallback === "object" && fallback !== null;
}

/** The (unresolved) schema of the elements of a list described by `node`. */
export function itemSchema(schema: PatchSchema, node: SchemaNode | undefined): SchemaNode | undefined {
  const items = resolveNode(schema, node)?.items;
  return typeof items === "object" && items !== null && !Array.isArray(items)
    ? (items as SchemaNode)
    : undefined;
}

export interface PatchMeta {
  /** List: merge by key (objects) or as a set (primitives) instead of replacing. */
  merge: boolean;
  /** Object: replace wholesale instead of merging. */
  replace: boolean;
  retainKeys: boolean;
  /** Merge key of a list of objects ("" when none). */
  mergeKey: string;
}

/** The strategic-merge-patch metadata of a field (upstream's patchStrategy / patchMergeKey struct tags). */
export function patchMeta(schema: PatchSchema, node: SchemaNode | undefined): PatchMeta {
  const resolved = resolveNode(schema, node);
  const raw = resolved?.["x-kubernetes-patch-strategy"];
  const strategies = typeof raw === "string" ? raw.split(",").map((s) => s.trim()) : [];
  const mergeKey = resolved?.["x-kubernetes-patch-merge-key"];
  return {
    merge: strategies.includes("merge"),
    replace: strategies.includes("replace"),
    retainKeys: strategies.includes("retainKeys"),
    mergeKey: typeof mergeKey === "string" ? mergeKey : "",
  };
}

export type ListType = { type: "atomic" } | { type: "set" } | { type: "map"; keys: string[] };

/**
 * How server-side apply treats a list: `x-kubernetes-list-type`, else what upstream derives from the patch
 * strategy (merge with a key → map keyed by it, merge without → set), else atomic.
 */
export function listType(schema: PatchSchema, node: SchemaNode | undefined): ListType {
  const resolved = resolveNode(schema, node);
  const declared = resolved?.["x-kubernetes-list-type"];
  const rawKeys = resolved?.["x-kubernetes-list-map-keys"];
  const keys = Array.isArray(rawKeys) ? rawKeys.filter((k): k is string => typeof k === "string") : [];
  if (declared === "atomic") return { type: "atomic" };
  if (declared === "set") return { type: "set" };
  const meta = patchMeta(schema, node);
  if (declared === "map")
    return { type: "map", keys: keys.length > 0 ? keys : meta.mergeKey ? [meta.mergeKey] : [] };
  if (meta.merge) return meta.mergeKey ? { type: "map", keys: [meta.mergeKey] } : { type: "set" };
  return { type: "atomic" };
}

/** Whether server-side apply treats an object as one value (`x-kubernetes-map-type: atomic`). */
export function isAtomicMap(schema: PatchSchema, node: SchemaNode | undefined): boolean {
  return resolveNode(schema, node)?.["x-kubernetes-map-type"] === "atomic";
}

/** The schema default of member `name` of `node` (used for list-map keys the applied object omits). */
export function fieldDefault(schema: PatchSchema, node: SchemaNode | undefined, name: string): unknown {
  return resolveNode(schema, fieldSchema(schema, node, name))?.default;
}
