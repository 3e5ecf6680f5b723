// Schema-aware operations behind server-side apply and managedFields, after upstream's structured-merge-diff
// (typed.ToFieldSet, TypedValue.Compare, TypedValue.Merge, RemoveItems), over plain JSON and the kind's schema:
//
// - lists are "atomic" (one value), "set" (elements by value) or "map" (elements by their key fields), from
//   x-kubernetes-list-type / list-map-keys or, failing that, the patch strategy (see schema.ts listType);
// - objects are granular (member by member) unless `x-kubernetes-map-type: atomic`;
// - scalars, atomic lists and atomic maps are leaves; so is an empty or absent container on both sides.

import { unprocessable } from "./errors.ts";
import {
  type FieldPath,
  FieldSet,
  keyElement,
  type PathElement,
  pathString,
  serializePathElement,
} from "./fieldpath.ts";
import { deepEqual, isJsonObject, type JsonObject, type JsonValue } from "./json-value.ts";
import {
  fieldDefault,
  fieldSchema,
  isAlwaysPresent,
  isAtomicMap,
  isDeclaredField,
  itemSchema,
  type ListType,
  listType,
  type PatchSchema,
  type SchemaNode,
} from "./schema.ts";

interface ListElement {
  pe: PathElement;
  id: string;
  item: JsonValue;
}

/**
 * The elements of a non-atomic list with their path elements, first occurrence winning. With `strict`,
 * duplicates are an error (an applied configuration must not repeat a key), as upstream's validation.
 */
export function listElements(
  schema: PatchSchema,
  list: readonly JsonValue[],
  type: ListType,
  node: SchemaNode | undefined,
  path: FieldPath,
  strict: boolean,
): ListElement[] {
  const out: ListElement[] = [];
  const seen = new Set<string>();
  const items = itemSchema(schema, node);
  list.forEach((item, index) => {
    const pe = elementPathElement(schema, type, item, index, items, path);
    const id = serializePathElement(pe);
    if (seen.has(id)) {
      if (strict) throw unprocessable(`${pathString(path)}: duplicate entries for key ${pathString([pe])}`);
      return;
    }
    seen.add(id);
    out.push({ pe, id, item });
  });
  return out;
}

function elementPathElement(
  schema: PatchSchema,
  type: ListType,
  item: JsonValue,
  index: number,
  items: SchemaNode | undefined,
  path: FieldPath,
): PathElement {
  if (type.type === "atomic") return { index };
  if (type.type === "set") {
    if (item !== null && typeof item === "object") {
      throw unprocessable(
        `${pathString(path)}: element ${index}: associative list without keys has an element that is not a scalar`,
      );
    }
    return { value: item };
  }
  if (!isJsonObject(item)) {
    throw unprocessable(
      `${pathString(path)}: element ${index}: associative list with keys may not have non-map elements`,
    );
  }
  const fields: [string, JsonValue][] = [];
  for (const key of type.keys) {
    let value: JsonValue | undefined = item[key];
    if (value === undefined || value === null)
      value = fieldDefault(schema, items, key) as JsonValue | undefined;
    if (value === undefined || value === null) {
      throw unprocessable(
        `${pathString(path)}: element ${index}: associative list with keys has an element that omits key field ${JSON.stringify(key)} (and doesn't have default value)`,
      );
    }
    fields.push([key, value]);
  }
  return keyElement(fields);
}

/** The fields a value sets: leaves, list elements and free-form map keys (upstream's ToFieldSet). */
export function toFieldSet(
  schema: PatchSchema,
  value: JsonValue,
  options: { strict?: boolean } = {},
  node: SchemaNode | undefined = schema.root,
): FieldSet {
  const set = new FieldSet();
  const strict = options.strict ?? false;
  const walk = (v: JsonValue, n: SchemaNode | undefined, path: PathElement[]): void => {
    if (v === null) return;
    if (Array.isArray(v)) {
      const type = listType(schema, n);
      if (type.type === "atomic") {
        set.insert(path);
        return;
      }
      const items = itemSchema(schema, n);
      for (const element of listElements(schema, v, type, n, path, strict)) {
        const elementPath = [...path, element.pe];
        if (type.type === "map") walk(element.item, items, elementPath);
        set.insert(elementPath);
      }
      return;
    }
    if (isJsonObject(v)) {
      if (isAtomicMap(schema, n)) {
        set.insert(path);
        return;
      }
      for (const [key, child] of Object.entries(v)) {
        if (child === null) continue;
        const childPath = [...path, { field: key }];
        walk(child, fieldSchema(schema, n, key), childPath);
        if (!isDeclaredField(schema, n, key)) set.insert(childPath);
      }
      return;
    }
    set.insert(path);
  };
  walk(value, node, []);
  return set;
}

export interface Comparison {
  /** Fields present only on the right. */
  added: FieldSet;
  /** Leaves present on both sides with different values. */
  modified: FieldSet;
  /** Fields present only on the left. */
  removed: FieldSet;
}

type Shape = "object" | "array" | "scalar";

function shapeOf(value: JsonValue | undefined): Shape | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) return "array";
  if (isJsonObject(value)) return "object";
  return "scalar";
}

function isEmptyContainer(value: JsonValue | undefined): boolean {
  if (value === undefined) return true;
  if (Array.isArray(value)) return value.length === 0;
  return isJsonObject(value) && Object.keys(value).length === 0;
}

/** Whether the node at `path` is a leaf for comparison and merging (see the file comment). */
function isLeaf(
  schema: PatchSchema,
  lhs: JsonValue | undefined,
  rhs: JsonValue | undefined,
  node: SchemaNode | undefined,
): boolean {
  const left = shapeOf(lhs);
  const right = shapeOf(rhs);
  if (left === "scalar" || right === "scalar") return true;
  if (left && right && left !== right) return true;
  const shape = left ?? right;
  if (shape === "array")
    return listType(schema, node).type === "atomic" || (isEmptyContainer(lhs) && isEmptyContainer(rhs));
  return isAtomicMap(schema, node) || (isEmptyContainer(lhs) && isEmptyContainer(rhs));
}

/**
 * What changed from `lhs` to `rhs` (upstream's TypedValue.Compare). A container that appears or disappears
 * is reported itself (besides its leaves) unless Go would always serialize it (see isAlwaysPresent).
 */
export function compareValues(
  schema: PatchSchema,
  lhs: JsonValue | undefined,
  rhs: JsonValue | undefined,
  node: SchemaNode | undefined = schema.root,
): Comparison {
  const result: Comparison = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet() };
  const visit = (
    l: JsonValue | undefined,
    r: JsonValue | undefined,
    n: SchemaNode | undefined,
    path: PathElement[],
    alwaysPresent: boolean,
  ): void => {
    if (l === undefined && r === undefined) return;
    // Unchanged subtrees (most of an object on update) need no walk.
    if (l !== undefined && r !== undefined && deepEqual(l, r)) return;
    if (isLeaf(schema, l, r, n)) {
      if (l === undefined) result.added.insert(path);
      else if (r === undefined) result.removed.insert(path);
      else if (!deepEqual(l, r)) result.modified.insert(path);
      return;
    }
    if (Array.isArray(l) || Array.isArray(r)) {
      const type = listType(schema, n);
      const items = itemSchema(schema, n);
      const left = new Map(
        listElements(schema, (l as JsonValue[]) ?? [], type, n, path, false).map((e) => [e.id, e]),
      );
      const right = new Map(
        listElements(schema, (r as JsonValue[]) ?? [], type, n, path, false).map((e) => [e.id, e]),
      );
      for (const element of [...left.values(), ...[...right.values()].filter((e) => !left.has(e.id))]) {
        visit(left.get(element.id)?.item, right.get(element.id)?.item, items, [...path, element.pe], false);
      }
    } else {
      const lo = (l as JsonObject | undefined) ?? {};
      const ro = (r as JsonObject | undefined) ?? {};
      const keys = Object.keys(lo);
      for (const key of Object.keys(ro)) {
        if (!Object.hasOwn(lo, key)) keys.push(key);
      }
      for (const key of keys) {
        visit(
          lo[key],
          ro[key],
          fieldSchema(schema, n, key),
          [...path, { field: key }],
          isAlwaysPresent(schema, n, key),
        );
      }
    }
    if (path.length === 0 || alwaysPresent) return;
    if (l === undefined) result.added.insert(path);
    else if (r === undefined) result.removed.insert(path);
  };
  visit(lhs, rhs, node, [], false);
  return result;
}

/** Null members removed at any depth: in an applied configuration, null means "not set". */
export function withoutNulls(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map((item) => withoutNulls(item));
  if (!isJsonObject(value)) return value;
  const out: JsonObject = {};
  for (const [key, item] of Object.entries(value)) {
    if (item !== null) out[key] = withoutNulls(item);
  }
  return out;
}

/**
 * The applied configuration merged into the live value (upstream's TypedValue.Merge): granular objects merge
 * member by member, set and map lists element by element (the applied order wins, live-only elements keep
 * their place), everything else is replaced. Inputs are not modified.
 */
export function mergeApplied(
  schema: PatchSchema,
  live: JsonValue | undefined,
  applied: JsonValue | undefined,
  node: SchemaNode | undefined = schema.root,
  path: PathElement[] = [],
): JsonValue | undefined {
  if (applied === undefined) return live;
  if (applied === null) return undefined;
  if (live === undefined || isLeaf(schema, live, applied, node)) return withoutNulls(applied);
  if (Array.isArray(applied) && Array.isArray(live)) {
    return mergeLists(schema, live, applied, node, path);
  }
  const out: JsonObject = { ...(live as JsonObject) };
  for (const [key, value] of Object.entries(applied as JsonObject)) {
    const merged = mergeApplied(schema, out[key], value, fieldSchema(schema, node, key), [
      ...path,
      { field: key },
    ]);
    if (merged === undefined) delete out[key];
    else out[key] = merged;
  }
  return out;
}

/** Element-wise list merge in upstream's order: walk both lists, shared elements in the applied order. */
function mergeLists(
  schema: PatchSchema,
  live: JsonValue[],
  applied: JsonValue[],
  node: SchemaNode | undefined,
  path: PathElement[],
): JsonValue[] {
  const type = listType(schema, node);
  const items = itemSchema(schema, node);
  const lhs = listElements(schema, live, type, node, path, false);
  const rhs = listElements(schema, applied, type, node, path, true);
  const inLhs = new Map(lhs.map((e) => [e.id, e]));
  const inRhs = new Map(rhs.map((e) => [e.id, e]));
  const shared = rhs.filter((e) => inLhs.has(e.id)).map((e) => e.id);
  let sharedAt = 0;
  let nextShared: string | undefined = shared[sharedAt++];
  const out: JsonValue[] = [];
  const emit = (l: JsonValue | undefined, r: JsonValue | undefined, pe: PathElement) => {
    const merged = mergeApplied(schema, l, r, items, [...path, pe]);
    if (merged !== undefined) out.push(merged);
  };
  let li = 0;
  let ri = 0;
  while (li < lhs.length || ri < rhs.length) {
    const left = lhs[li];
    const right = rhs[ri];
    if (left && right) {
      if (left.id === right.id) {
        emit(left.item, right.item, left.pe);
        li++;
        ri++;
        nextShared = shared[sharedAt++];
        continue;
      }
      if (inRhs.has(left.id) && nextShared !== undefined && nextShared !== left.id) {
        li++;
        continue;
      }
    }
    if (left && !inRhs.has(left.id)) {
      emit(left.item, undefined, left.pe);
      li++;
      continue;
    }
    if (right) {
      emit(inLhs.get(right.id)?.item, right.item, right.pe);
      ri++;
      if (nextShared === right.id) nextShared = shared[sharedAt++];
      continue;
    }
    // Only a shared live element is left whose applied twin was already emitted.
    li++;
  }
  return out;
}

/** A child of a container addressed by a path element, with a way to delete it. */
interface Located {
  value: JsonValue;
  node: SchemaNode | undefined;
  remove(): void;
}

function locate(
  schema: PatchSchema,
  container: JsonValue,
  pe: PathElement,
  node: SchemaNode | undefined,
  path: FieldPath,
): Located | undefined {
  if ("field" in pe) {
    if (!isJsonObject(container) || !Object.hasOwn(container, pe.field)) return undefined;
    return {
      value: container[pe.field] as JsonValue,
      node: fieldSchema(schema, node, pe.field),
      remove: () => {
        delete container[pe.field];
      },
    };
  }
  if (!Array.isArray(container)) return undefined;
  const items = itemSchema(schema, node);
  if ("index" in pe) {
    if (pe.index < 0 || pe.index >= container.length) return undefined;
    return {
      value: container[pe.index] as JsonValue,
      node: items,
      remove: () => container.splice(pe.index, 1),
    };
  }
  const type = listType(schema, node);
  if (type.type === "atomic") return undefined;
  const id = serializePathElement(pe);
  for (let i = 0; i < container.length; i++) {
    const candidate = elementPathElement(schema, type, container[i] as JsonValue, i, items, path);
    if (serializePathElement(candidate) === id) {
      return {
        value: container[i] as JsonValue,
        node: items,
        remove: () => {
          container.splice(i, 1);
        },
      };
    }
  }
  return undefined;
}

/**
 * Removes from `value` (in place) what the applier owned before (`last`) and nobody owns now (`owned`):
 * a struct field stays while anyone owns something under it; a list element or map entry only while someone
 * owns it itself. `keep(path)` protects a path from removal (it is still descended into); `leave(path)` leaves
 * a path and everything under it alone.
 */
export function pruneUnowned(
  schema: PatchSchema,
  value: JsonObject,
  last: FieldSet,
  owned: FieldSet,
  guards: { keep(path: FieldPath): boolean; leave(path: FieldPath): boolean },
): void {
  const walk = (
    container: JsonValue,
    node: SchemaNode | undefined,
    lastLevel: FieldSet,
    ownedLevel: FieldSet | undefined,
    path: PathElement[],
  ): void => {
    for (const pe of lastLevel.elements()) {
      const childPath = [...path, pe];
      if (guards.leave(childPath)) continue;
      const found = locate(schema, container, pe, node, path);
      if (!found) continue;
      const ownedChild = ownedLevel?.child(pe);
      const ownedHere = ownedLevel?.hasMember(pe) ?? false;
      const ownedBelow = ownedChild !== undefined && !ownedChild.isEmpty();
      const named = "field" in pe && isDeclaredField(schema, node, pe.field);
      if (!(ownedHere || (named && ownedBelow) || guards.keep(childPath))) {
        found.remove();
        continue;
      }
      const lastChild = lastLevel.child(pe);
      if (lastChild && found.value !== null && typeof found.value === "object") {
        walk(found.value, found.node, lastChild, ownedChild, childPath);
      }
    }
  };
  walk(value, schema.root, last, owned, []);
}
