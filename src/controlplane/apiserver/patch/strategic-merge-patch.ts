// Kubernetes strategic merge patch (`application/strategic-merge-patch+json`), server side: the patch kubectl
// computes (`kubectl apply`, `edit`, `label`, `patch`) merged into the live object the way kube-apiserver's
// strategicpatch.StrategicMergeMapPatch does (apimachinery/pkg/util/strategicpatch/patch.go, with
// MergeParallelList and IgnoreUnmatchedNulls), driven by the kind's schema instead of Go struct tags:
//
// - objects merge member by member; null deletes a member; `x-kubernetes-patch-strategy: replace` replaces;
// - lists with patch strategy "merge" merge elements by `x-kubernetes-patch-merge-key` (objects) or as a set
//   (primitives); every other list is replaced;
// - directives: `$patch: replace|delete` on an object, `{"$patch": "delete", <key>: v}` and
//   `{"$patch": "replace"}` elements in a merging list, `$setElementOrder/<list>` (final order, the live-only
//   elements interleaved as upstream does), `$deleteFromPrimitiveList/<list>` and `$retainKeys`.
//
// Values the patch inserts are cleaned of directives and nulls, which is what decoding the merged map into
// the Go type does upstream. Errors use upstream's messages; format errors are 400 as upstream, the rest
// (upstream answers them as 500 "Unknown") are 422.

import { badRequest, type PatchError, unprocessable } from "./errors.ts";
import {
  cloneJson,
  goFormat,
  goReflectTypeName,
  isJsonObject,
  type JsonObject,
  type JsonValue,
  jsonKind,
  parseJson,
} from "./json-value.ts";
import { fieldSchema, itemSchema, type PatchSchema, patchMeta, type SchemaNode } from "./schema.ts";

const DIRECTIVE = "$patch";
const RETAIN_KEYS = "$retainKeys";
const DELETE_FROM_PRIMITIVE_LIST = "$deleteFromPrimitiveList";
const SET_ELEMENT_ORDER = "$setElementOrder";

/** Decodes a strategic merge patch body: it must be a JSON object (400 otherwise, as upstream). */
export function decodeStrategicMergePatch(body: string): JsonObject {
  let decoded: JsonValue;
  try {
    decoded = parseJson(body);
  } catch (error) {
    throw badRequest((error as Error).message);
  }
  if (decoded === null) return {};
  if (!isJsonObject(decoded)) {
    throw badRequest(
      `json: cannot unmarshal ${jsonKind(decoded) === "boolean" ? "bool" : jsonKind(decoded)} into Go value of type map[string]interface {}`,
    );
  }
  return decoded;
}

/** Merges `patch` into a copy of `original` (neither is modified); throws a PatchError (400/422). */
export function applyStrategicMergePatch(
  original: JsonObject,
  patch: JsonObject,
  schema: PatchSchema,
): JsonObject {
  return new Merger(schema).mergeMap(cloneJson(original), cloneJson(patch), schema.root);
}

// Upstream's error texts (k8s.io/apimachinery/pkg/util/mergepatch and strategicpatch).
const errBadPatchFormatForPrimitiveList = () => badRequest("invalid patch format of primitive list");
const errBadPatchFormatForRetainKeys = () => badRequest("invalid patch format of retainKeys");
const errBadPatchFormatForSetElementOrderList = () =>
  badRequest("invalid patch format of setElementOrder list");
const errNoListOfLists = () => unprocessable("lists of lists are not supported");
const errNoMergeKey = (m: JsonValue, key: string) =>
  unprocessable(`map: ${goFormat(m)} does not contain declared merge key: ${key}`);
const errBadArgType = (expected: string, actual: JsonValue | undefined) =>
  unprocessable(`expected a ${expected}, but received a ${goReflectTypeName(actual)}`);
const errBadPatchType = (directive: JsonValue | undefined, m: JsonObject) =>
  unprocessable(`unknown patch type: ${goFormat(directive)} in map: ${goFormat(m)}`);

type ElementKind = "map" | "scalar";

class Merger {
  readonly schema: PatchSchema;

  constructor(schema: PatchSchema) {
    this.schema = schema;
  }

  /** Merges `patch` into `original` (both owned by the merger and mutated). */
  mergeMap(original: JsonObject, patch: JsonObject, node: SchemaNode | undefined): JsonObject {
    if (Object.hasOwn(patch, DIRECTIVE)) {
      const directive = patch[DIRECTIVE];
      if (directive === "replace") {
        delete patch[DIRECTIVE];
        return this.fresh(patch, node) as JsonObject;
      }
      if (directive === "delete") return {};
      throw errBadPatchType(directive, patch);
    }
    this.applyRetainKeys(original, patch);
    this.mergeOrderedLists(original, patch, node);

    // Deletion lists go last, so additions to the same list are merged first whatever the key order (with
    // `$setElementOrder`, as kubectl sends it, upstream does the same).
    const keys = Object.keys(patch);
    const ordered = [
      ...keys.filter((k) => !k.startsWith(DELETE_FROM_PRIMITIVE_LIST)),
      ...keys.filter((k) => k.startsWith(DELETE_FROM_PRIMITIVE_LIST)),
    ];
    for (const patchKey of ordered) {
      const patchValue = patch[patchKey] as JsonValue;
      let key = patchKey;
      let isDeleteList = false;
      if (patchKey.startsWith(DELETE_FROM_PRIMITIVE_LIST)) {
        key = extractKey(patchKey, DELETE_FROM_PRIMITIVE_LIST, errBadPatchFormatForPrimitiveList);
        isDeleteList = true;
        if (!Object.hasOwn(original, key)) continue;
      }
      if (patchValue === null) {
        delete original[key];
        continue;
      }
      const childNode = fieldSchema(this.schema, node, key);
      if (!Object.hasOwn(original, key)) {
        original[key] = this.fresh(patchValue, childNode);
        continue;
      }
      const originalValue = original[key] as JsonValue;
      const originalKind = jsonKind(originalValue);
      if (originalKind !== jsonKind(patchValue)) {
        original[key] = this.fresh(patchValue, childNode);
        continue;
      }
      const meta = patchMeta(this.schema, childNode);
      if (originalKind === "object") {
        original[key] = meta.replace
          ? this.fresh(patchValue, childNode)
          : this.mergeMap(originalValue as JsonObject, patchValue as JsonObject, childNode);
      } else if (originalKind === "array") {
        original[key] = this.mergeListField(
          originalValue as JsonValue[],
          patchValue as JsonValue[],
          childNode,
          isDeleteList,
        );
      } else {
        original[key] = patchValue;
      }
    }
    return original;
  }

  /** A list field: merged when its strategy is merge, else replaced (a deletion list only ever deletes). */
  private mergeListField(
    original: JsonValue[],
    patch: JsonValue[],
    node: SchemaNode | undefined,
    isDeleteList: boolean,
  ): JsonValue[] {
    const meta = patchMeta(this.schema, node);
    if (meta.merge) return this.mergeSlice(original, patch, node, meta.mergeKey, isDeleteList);
    if (isDeleteList) return deleteFromSlice(original, patch);
    return this.fresh(patch, node) as JsonValue[];
  }

  /** A patch value placed where the original has nothing comparable: its directives applied to "nothing". */
  fresh(value: JsonValue, node: SchemaNode | undefined): JsonValue {
    if (Array.isArray(value)) {
      const meta = patchMeta(this.schema, node);
      if (meta.merge) return this.mergeSlice([], value, node, meta.mergeKey, false);
      const items = itemSchema(this.schema, node);
      return value.map((item) => (isJsonObject(item) ? this.mergeMap({}, item, items) : item));
    }
    if (isJsonObject(value)) return this.mergeMap({}, value, node);
    return value;
  }

  /** `$retainKeys`: every key the patch sets must be listed; original keys not listed are cleared. */
  private applyRetainKeys(original: JsonObject, patch: JsonObject): void {
    if (!Object.hasOwn(patch, RETAIN_KEYS)) return;
    const retain = patch[RETAIN_KEYS];
    delete patch[RETAIN_KEYS];
    if (!Array.isArray(retain)) throw errBadPatchFormatForRetainKeys();
    const keep = new Set<JsonValue>(retain);
    for (const [key, value] of Object.entries(patch)) {
      if (value === null || key.startsWith(DELETE_FROM_PRIMITIVE_LIST) || key.startsWith(SET_ELEMENT_ORDER))
        continue;
      if (!keep.has(key)) throw errBadPatchFormatForRetainKeys();
    }
    for (const key of Object.keys(original)) {
      if (!keep.has(key)) delete original[key];
    }
  }

  /**
   * `$setElementOrder/<list>`: merges the list it names (if the patch carries one) and orders the result:
   * the elements named by the directive in its order, the live-only elements interleaved where they were.
   * The merged list is removed from the patch so the main loop does not merge it again.
   */
  private mergeOrderedLists(original: JsonObject, patch: JsonObject, node: SchemaNode | undefined): void {
    for (const patchKey of Object.keys(patch)) {
      if (!patchKey.startsWith(SET_ELEMENT_ORDER)) continue;
      const order = patch[patchKey];
      delete patch[patchKey];
      if (!Array.isArray(order)) throw errBadArgType("[]interface {}", order);
      const key = extractKey(patchKey, SET_ELEMENT_ORDER, errBadPatchFormatForSetElementOrderList);

      const foundOriginal = Object.hasOwn(original, key);
      const foundPatch = Object.hasOwn(patch, key);
      let originalList: JsonValue[] = [];
      let patchList: JsonValue[] = [];
      if (foundOriginal) {
        const value = original[key];
        if (!Array.isArray(value)) throw errBadArgType("[]interface {}", value);
        originalList = value;
      }
      if (foundPatch) {
        const value = patch[key];
        if (!Array.isArray(value)) throw errBadArgType("[]interface {}", value);
        patchList = value;
      }
      const childNode = fieldSchema(this.schema, node, key);
      const meta = patchMeta(this.schema, childNode);
      validatePatchWithSetOrderList(patchList, order, meta.mergeKey);

      let merged: JsonValue[];
      if (foundOriginal && !foundPatch) merged = originalList;
      else if (!foundOriginal && foundPatch) merged = this.fresh(patchList, childNode) as JsonValue[];
      else if (foundOriginal && foundPatch)
        merged = this.mergeListField(originalList, patchList, childNode, false);
      else continue;

      const kind = elementKind(originalList, patchList);
      if (kind !== undefined && (kind === "scalar" || meta.mergeKey)) {
        const [patchItems, serverOnly] = partition(merged, order, meta.mergeKey);
        merged = normalizeElementOrder(patchItems, serverOnly, order, originalList, meta.mergeKey, kind);
      }
      original[key] = merged;
      delete patch[key];
    }
  }

  /** Upstream's mergeSlice: set-merge or delete for primitives, merge-by-key for objects, then ordering. */
  mergeSlice(
    original: JsonValue[],
    patch: JsonValue[],
    node: SchemaNode | undefined,
    mergeKey: string,
    isDeleteList: boolean,
  ): JsonValue[] {
    if (original.length === 0 && patch.length === 0) return original;
    const kind = elementKind(original, patch) ?? "scalar";
    let serverOrder = original;
    let merged: JsonValue[];
    let patchItemsSource = patch;
    if (kind === "scalar") {
      if (isDeleteList) return deleteFromSlice(original, patch);
      merged = deduplicate([...original, ...patch]);
    } else {
      if (!mergeKey) throw unprocessable("cannot merge lists without merge key for type struct");
      const items = itemSchema(this.schema, node);
      const special = mergeSliceWithSpecialElements(original, patch, mergeKey);
      if (special.replace) {
        serverOrder = special.original.map((item) => this.fresh(item, items));
        patchItemsSource = [];
        merged = serverOrder;
      } else {
        serverOrder = special.original;
        patchItemsSource = special.patch;
        merged = [...special.original];
        for (const item of special.patch) {
          const element = item as JsonObject;
          if (!Object.hasOwn(element, mergeKey)) throw errNoMergeKey(element, mergeKey);
          const index = findByMergeKey(merged, mergeKey, element[mergeKey] as JsonValue);
          if (index >= 0) {
            merged[index] = this.mergeMap(merged[index] as JsonObject, element, items);
          } else {
            merged.push(this.fresh(element, items));
          }
        }
        serverOrder = serverOrder.map((item) => {
          const index = findByMergeKey(merged, mergeKey, (item as JsonObject)[mergeKey] as JsonValue);
          return index >= 0 ? (merged[index] as JsonValue) : item;
        });
      }
    }
    const [patchItems, serverOnly] = partition(merged, patchItemsSource, kind === "map" ? mergeKey : "");
    return normalizeElementOrder(
      patchItems,
      serverOnly,
      patchItemsSource,
      serverOrder,
      kind === "map" ? mergeKey : "",
      kind,
    );
  }
}

/** `$prefix/key` → `key`; anything else is a malformed directive. */
function extractKey(patchKey: string, prefix: string, error: () => PatchError): string {
  const slash = patchKey.indexOf("/");
  if (slash < 0 || patchKey.slice(0, slash) !== prefix) throw error();
  return patchKey.slice(slash + 1);
}

/** The element kind shared by both lists (undefined when both are empty); mixed kinds are an error. */
function elementKind(...lists: JsonValue[][]): ElementKind | undefined {
  let first: ReturnType<typeof jsonKind> | undefined;
  for (const list of lists) {
    for (const item of list) {
      const kind = jsonKind(item);
      if (first === undefined) {
        if (kind === "array") throw errNoListOfLists();
        first = kind;
      } else if (kind !== first) {
        throw unprocessable(`list element types are not identical: ${goFormat(lists)}`);
      }
    }
  }
  if (first === undefined) return undefined;
  return first === "object" ? "map" : "scalar";
}

/** Removes every element of `original` equal to one in `toDelete` (primitives). */
function deleteFromSlice(original: JsonValue[], toDelete: JsonValue[]): JsonValue[] {
  const gone = new Set(toDelete);
  return original.filter((item) => !gone.has(item));
}

function deduplicate(items: JsonValue[]): JsonValue[] {
  const seen = new Set<JsonValue>();
  const out: JsonValue[] = [];
  for (const item of items) {
    if (seen.has(item)) continue;
    seen.add(item);
    out.push(item);
  }
  return out;
}

function findByMergeKey(list: readonly JsonValue[], mergeKey: string, value: JsonValue): number {
  for (let i = 0; i < list.length; i++) {
    const item = list[i] as JsonValue;
    if (!isJsonObject(item)) throw unprocessable(`value for key ${i} is not a map.`);
    if (Object.hasOwn(item, mergeKey) && item[mergeKey] === value) return i;
  }
  return -1;
}

/**
 * Element directives in a merging list: `{"$patch":"delete", key: v}` removes the matching live elements,
 * `{"$patch":"replace"}` makes the remaining patch elements the whole list.
 */
function mergeSliceWithSpecialElements(
  original: JsonValue[],
  patch: JsonValue[],
  mergeKey: string,
): { original: JsonValue[]; patch: JsonValue[]; replace: boolean } {
  const plain: JsonValue[] = [];
  let replace = false;
  let remaining = original;
  for (const item of patch) {
    const element = item as JsonObject;
    if (!Object.hasOwn(element, DIRECTIVE)) {
      plain.push(item);
      continue;
    }
    const directive = element[DIRECTIVE];
    if (directive === "delete") {
      if (!Object.hasOwn(element, mergeKey)) throw errNoMergeKey(element, mergeKey);
      const value = element[mergeKey];
      remaining = remaining.filter((candidate, i) => {
        if (!isJsonObject(candidate)) throw unprocessable(`value for key ${i} is not a map.`);
        return !(Object.hasOwn(candidate, mergeKey) && candidate[mergeKey] === value);
      });
    } else if (directive === "replace") {
      replace = true;
    } else if (directive === "merge") {
      throw unprocessable("merging lists cannot yet be specified in the patch");
    } else {
      throw errBadPatchType(directive, element);
    }
  }
  if (replace) return { original: plain, patch: [], replace: true };
  return { original: remaining, patch: plain, replace: false };
}

/** Checks that the patch list's elements appear in `$setElementOrder` in the same relative order. */
function validatePatchWithSetOrderList(patchList: JsonValue[], order: JsonValue[], mergeKey: string): void {
  if (order.length === 0 || patchList.length === 0) return;
  let nonDelete = patchList;
  if (mergeKey) {
    nonDelete = patchList.filter((item) => {
      if (!isJsonObject(item)) throw errBadArgType("map[string]interface {}", item);
      return item[DIRECTIVE] !== "delete";
    });
  }
  let patchIndex = 0;
  let orderIndex = 0;
  while (patchIndex < nonDelete.length && orderIndex < order.length) {
    const item = nonDelete[patchIndex] as JsonValue;
    if (isJsonObject(item) && Object.hasOwn(item, DIRECTIVE)) {
      patchIndex++;
      continue;
    }
    if (mergeKeyValueEqual(item, order[orderIndex] as JsonValue, mergeKey)) patchIndex++;
    orderIndex++;
  }
  if (patchIndex < nonDelete.length && orderIndex >= order.length) {
    throw unprocessable(
      `The order in patch list:\n${goFormat(patchList)}\n doesn't match ${SET_ELEMENT_ORDER} list:\n${goFormat(order)}\n`,
    );
  }
}

function mergeKeyValueEqual(left: JsonValue, right: JsonValue, mergeKey: string): boolean {
  if (!mergeKey) return left === right;
  if (!isJsonObject(left)) throw errBadArgType("map[string]interface {}", left);
  if (!isJsonObject(right)) throw errBadArgType("map[string]interface {}", right);
  if (!Object.hasOwn(left, mergeKey)) throw errNoMergeKey(left, mergeKey);
  if (!Object.hasOwn(right, mergeKey)) throw errNoMergeKey(right, mergeKey);
  return left[mergeKey] === right[mergeKey];
}

/** The identity an element is ordered by: its merge key value (objects) or itself (primitives). */
function identity(item: JsonValue, mergeKey: string): JsonValue | undefined {
  if (!mergeKey) return item;
  return isJsonObject(item) ? item[mergeKey] : undefined;
}

function indexIn(list: readonly JsonValue[], item: JsonValue, mergeKey: string): number {
  const id = identity(item, mergeKey);
  for (let i = 0; i < list.length; i++) {
    if (identity(list[i] as JsonValue, mergeKey) === id) return i;
  }
  return -1;
}

/** Splits `merged` into the elements named in `by` and the rest (both keep `merged`'s order). */
function partition(merged: JsonValue[], by: JsonValue[], mergeKey: string): [JsonValue[], JsonValue[]] {
  const named: JsonValue[] = [];
  const rest: JsonValue[] = [];
  for (const item of merged) {
    if (mergeKey) {
      if (!isJsonObject(item)) throw errBadArgType("map[string]interface {}", item);
      if (!Object.hasOwn(item, mergeKey)) throw errNoMergeKey(item, mergeKey);
    }
    const found = by.some((candidate) => {
      if (!mergeKey) return candidate === item;
      return isJsonObject(candidate) && candidate[mergeKey] === (item as JsonObject)[mergeKey];
    });
    (found ? named : rest).push(item);
  }
  return [named, rest];
}

/**
 * Upstream's normalizeElementOrder: patch elements sorted by the patch (or $setElementOrder) order, live-only
 * elements by their live order, then interleaved: a live-only element goes first only when both are live
 * elements and it came first in the live list.
 */
function normalizeElementOrder(
  patchItems: JsonValue[],
  serverOnly: JsonValue[],
  patchOrder: JsonValue[],
  serverOrder: JsonValue[],
  mergeKey: string,
  kind: ElementKind,
): JsonValue[] {
  const sortedPatch = normalizeSliceOrder(patchItems, patchOrder, mergeKey, kind);
  const sortedServer = normalizeSliceOrder(serverOnly, serverOrder, mergeKey, kind);
  const out: JsonValue[] = [];
  let i = 0;
  let j = 0;
  while (i < sortedServer.length || j < sortedPatch.length) {
    if (i >= sortedServer.length) {
      out.push(sortedPatch[j++] as JsonValue);
    } else if (j >= sortedPatch.length) {
      out.push(sortedServer[i++] as JsonValue);
    } else {
      const li = indexIn(serverOrder, sortedServer[i] as JsonValue, mergeKey);
      const ri = indexIn(serverOrder, sortedPatch[j] as JsonValue, mergeKey);
      if (li >= 0 && ri >= 0 && li < ri) out.push(sortedServer[i++] as JsonValue);
      else out.push(sortedPatch[j++] as JsonValue);
    }
  }
  return out;
}

/** Stable sort by position in `order`; elements carrying `$patch: delete` go last. */
function normalizeSliceOrder(
  toSort: JsonValue[],
  order: JsonValue[],
  mergeKey: string,
  kind: ElementKind,
): JsonValue[] {
  let items = toSort;
  let deletes: JsonValue[] = [];
  if (kind === "map") {
    for (const list of [toSort, order]) {
      for (const item of list) {
        if (!isJsonObject(item)) throw errBadArgType("map[string]interface {}", item);
        if (!Object.hasOwn(item, mergeKey)) throw errNoMergeKey(item, mergeKey);
      }
    }
    items = toSort.filter((item) => (item as JsonObject)[DIRECTIVE] !== "delete");
    deletes = toSort.filter((item) => (item as JsonObject)[DIRECTIVE] === "delete");
  }
  const positioned = items.map((item, at) => ({ item, at, rank: indexIn(order, item, mergeKey) }));
  positioned.sort((a, b) => {
    if (a.rank >= 0 && b.rank >= 0 && a.rank !== b.rank) return a.rank - b.rank;
    if (a.rank < 0 && b.rank >= 0) return 1;
    if (b.rank < 0 && a.rank >= 0) return -1;
    return a.at - b.at;
  });
  return [...positioned.map((p) => p.item), ...deletes];
}
