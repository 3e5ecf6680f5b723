// RFC 6902 JSON patch (`application/json-patch+json`): add, remove, replace, move, copy, test, applied in
// order to a copy of the document; the first failing operation fails the whole patch and nothing changes.
//
// Semantics and messages follow the library kube-apiserver uses (evanphx/json-patch v4, as vendored by
// Kubernetes 1.32), including its lenient corners: `replace` of a missing object member adds it, an `add`
// without `value` adds null, negative array indices count from the end. Where that library is merely broken
// (a path without a leading "/" silently addressing the root, `copy` of a missing member inserting null) we
// reject the operation instead.

import { badRequest, jsonPatchDoesNotApply, tooManyOperations } from "./errors.ts";
import { parseArrayIndex, parseJsonPointer } from "./json-pointer.ts";
import {
  cloneJson,
  deepEqual,
  goJsonTypeName,
  isJsonObject,
  type JsonObject,
  type JsonValue,
  parseJson,
} from "./json-value.ts";

/** Upstream's cap on operations in one JSON patch (kube-apiserver answers 413 beyond it). */
export const MAX_JSON_PATCH_OPERATIONS = 10_000;

/** One decoded operation; fields are unchecked until the operation runs (as upstream). */
export type JsonPatchOperation = JsonObject;

/** Decodes a JSON patch body; 400 if it is not a JSON array of objects, 413 above the operation limit. */
export function decodeJsonPatch(body: string): JsonPatchOperation[] {
  let decoded: JsonValue;
  try {
    decoded = parseJson(body);
  } catch (error) {
    throw badRequest((error as Error).message);
  }
  if (decoded === null) return [];
  if (!Array.isArray(decoded)) {
    throw badRequest(
      `json: cannot unmarshal ${goJsonTypeName(decoded)} into Go value of type jsonpatch.Patch`,
    );
  }
  const ops: JsonPatchOperation[] = [];
  for (const op of decoded) {
    if (op === null) {
      ops.push({});
      continue;
    }
    if (!isJsonObject(op)) {
      throw badRequest(
        `json: cannot unmarshal ${goJsonTypeName(op)} into Go value of type jsonpatch.Operation`,
      );
    }
    ops.push(op);
  }
  if (ops.length > MAX_JSON_PATCH_OPERATIONS) throw tooManyOperations(MAX_JSON_PATCH_OPERATIONS, ops.length);
  return ops;
}

/** Applies `ops` to a copy of `document`; throws a 422 PatchError naming the failing operation. */
export function applyJsonPatch(document: JsonValue, ops: readonly JsonPatchOperation[]): JsonValue {
  const root: { doc: JsonValue } = { doc: cloneJson(document) };
  for (const op of ops) {
    const failure = applyOperation(root, op);
    if (failure !== undefined) throw jsonPatchDoesNotApply(failure);
  }
  return root.doc;
}

type Container = JsonObject | JsonValue[];

/** Where a pointer's last token lives: the container and the (unescaped) token. */
interface Location {
  container: Container;
  token: string;
}

const MISSING = ": missing value";

/** Applies one operation in place; returns the failure message, or undefined on success. */
function applyOperation(root: { doc: JsonValue }, op: JsonPatchOperation): string | undefined {
  const kind = typeof op.op === "string" ? op.op : "unknown";
  switch (kind) {
    case "add":
      return add(root, op);
    case "remove":
      return remove(root, op);
    case "replace":
      return replace(root, op);
    case "move":
      return move(root, op);
    case "copy":
      return copy(root, op);
    case "test":
      return test(root, op);
    default:
      return `Unexpected kind: ${kind}`;
  }
}

/** Reads op[field] as a string: the value, or the Go decoding failure ("missing" when absent or null). */
function stringField(op: JsonPatchOperation, field: "path" | "from"): { value: string } | { error: string } {
  const raw = op[field];
  if (raw === undefined || raw === null) {
    return {
      error:
        field === "path"
          ? `operation missing path field${MISSING}`
          : `operation, missing from field${MISSING}`,
    };
  }
  if (typeof raw !== "string") {
    return { error: `json: cannot unmarshal ${goJsonTypeName(raw)} into Go value of type string` };
  }
  return { value: raw };
}

/** The value an operation carries: absent means null, as upstream (`add` without value adds null). */
function opValue(op: JsonPatchOperation): JsonValue {
  return op.value === undefined ? null : cloneJson(op.value);
}

function invalidPointer(opName: string, field: string, pointer: string): string {
  return `${opName} operation does not apply: ${field} ${JSON.stringify(pointer)} is not a JSON pointer (it must be empty or start with "/")`;
}

/** Walks all tokens but the last; undefined when an intermediate member or element is missing. */
function locate(doc: JsonValue, tokens: readonly string[]): Location | undefined {
  if (tokens.length === 0) return undefined;
  let current: JsonValue = doc;
  for (let i = 0; i < tokens.length - 1; i++) {
    const next = childOf(current, tokens[i] as string);
    if (next === undefined || next === null || typeof next !== "object") return undefined;
    current = next;
  }
  if (current === null || typeof current !== "object") return undefined;
  return { container: current, token: tokens[tokens.length - 1] as string };
}

/** An existing child of a container (negative array indices count from the end), else undefined. */
function childOf(value: JsonValue, token: string): JsonValue | undefined {
  if (Array.isArray(value)) {
    const index = resolveIndex(value.length, token);
    return typeof index === "number" ? value[index] : undefined;
  }
  if (isJsonObject(value)) return Object.hasOwn(value, token) ? value[token] : undefined;
  return undefined;
}

/** An index into an array of `length` for reading, or the Go error text. */
function resolveIndex(length: number, token: string): number | string {
  const index = parseArrayIndex(token);
  if (index === undefined) return `strconv.Atoi: parsing ${JSON.stringify(token)}: invalid syntax`;
  if (index >= length || index < -length)
    return `Unable to access invalid index: ${index}: invalid index referenced`;
  return index < 0 ? index + length : index;
}

/** Reads the value at a location: the value, undefined for a missing object member, or an error text. */
function getAt(loc: Location): { value: JsonValue | undefined } | { error: string } {
  if (Array.isArray(loc.container)) {
    const index = resolveIndex(loc.container.length, loc.token);
    if (typeof index === "string") return { error: index };
    return { value: loc.container[index] };
  }
  return { value: Object.hasOwn(loc.container, loc.token) ? loc.container[loc.token] : undefined };
}

/** Inserts at a location (arrays shift; "-" appends); returns an error text on a bad index. */
function addAt(loc: Location, value: JsonValue): string | undefined {
  if (!Array.isArray(loc.container)) {
    loc.container[loc.token] = value;
    return undefined;
  }
  const array = loc.container;
  if (loc.token === "-") {
    array.push(value);
    return undefined;
  }
  const index = parseArrayIndex(loc.token);
  if (index === undefined) {
    return `value was not a proper array index: '${loc.token}': strconv.Atoi: parsing ${JSON.stringify(loc.token)}: invalid syntax`;
  }
  const size = array.length + 1;
  if (index >= size || index < -size)
    return `Unable to access invalid index: ${index}: invalid index referenced`;
  array.splice(index < 0 ? index + size : index, 0, value);
  return undefined;
}

/** Removes at a location; returns an error text if there is nothing there. */
function removeAt(loc: Location): string | undefined {
  if (!Array.isArray(loc.container)) {
    if (!Object.hasOwn(loc.container, loc.token))
      return `Unable to remove nonexistent key: ${loc.token}${MISSING}`;
    delete loc.container[loc.token];
    return undefined;
  }
  const index = resolveIndex(loc.container.length, loc.token);
  if (typeof index === "string") return index;
  loc.container.splice(index, 1);
  return undefined;
}

function add(root: { doc: JsonValue }, op: JsonPatchOperation): string | undefined {
  const path = stringField(op, "path");
  if ("error" in path) return `add operation failed to decode path${MISSING}`;
  const tokens = parseJsonPointer(path.value);
  if (tokens === undefined) return invalidPointer("add", "path", path.value);
  const loc = locate(root.doc, tokens);
  if (!loc)
    return `add operation does not apply: doc is missing path: ${JSON.stringify(path.value)}${MISSING}`;
  const failure = addAt(loc, opValue(op));
  return failure === undefined ? undefined : `error in add for path: '${path.value}': ${failure}`;
}

function remove(root: { doc: JsonValue }, op: JsonPatchOperation): string | undefined {
  const path = stringField(op, "path");
  if ("error" in path) return `remove operation failed to decode path${MISSING}`;
  const tokens = parseJsonPointer(path.value);
  if (tokens === undefined) return invalidPointer("remove", "path", path.value);
  const loc = locate(root.doc, tokens);
  if (!loc)
    return `remove operation does not apply: doc is missing path: ${JSON.stringify(path.value)}${MISSING}`;
  const failure = removeAt(loc);
  return failure === undefined ? undefined : `error in remove for path: '${path.value}': ${failure}`;
}

function replace(root: { doc: JsonValue }, op: JsonPatchOperation): string | undefined {
  const path = stringField(op, "path");
  if ("error" in path) return `replace operation failed to decode path: ${path.error}`;
  const tokens = parseJsonPointer(path.value);
  if (tokens === undefined) return invalidPointer("replace", "path", path.value);
  const value = opValue(op);
  if (tokens.length === 0) {
    if (value === null || typeof value !== "object") return "replace operation value must be object or array";
    root.doc = value;
    return undefined;
  }
  const loc = locate(root.doc, tokens);
  if (!loc) return `replace operation does not apply: doc is missing path: ${path.value}${MISSING}`;
  if (!Array.isArray(loc.container)) {
    loc.container[loc.token] = value;
    return undefined;
  }
  const index = resolveIndex(loc.container.length, loc.token);
  if (typeof index === "string")
    return `replace operation does not apply: doc is missing key: ${path.value}${MISSING}`;
  loc.container[index] = value;
  return undefined;
}

function move(root: { doc: JsonValue }, op: JsonPatchOperation): string | undefined {
  const from = stringField(op, "from");
  if ("error" in from) return `move operation failed to decode from: ${from.error}`;
  const fromTokens = parseJsonPointer(from.value);
  if (fromTokens === undefined) return invalidPointer("move", "from", from.value);
  const source = locate(root.doc, fromTokens);
  if (!source) return `move operation does not apply: doc is missing from path: ${from.value}${MISSING}`;
  const got = getAt(source);
  if ("error" in got) return `error in move for path: '${source.token}': ${got.error}`;
  const removed = removeAt(source);
  if (removed !== undefined) return `error in move for path: '${source.token}': ${removed}`;
  const path = stringField(op, "path");
  if ("error" in path) return `move operation failed to decode path: ${path.error}`;
  const tokens = parseJsonPointer(path.value);
  if (tokens === undefined) return invalidPointer("move", "path", path.value);
  const target = locate(root.doc, tokens);
  if (!target)
    return `move operation does not apply: doc is missing destination path: ${path.value}${MISSING}`;
  const failure = addAt(target, got.value ?? null);
  return failure === undefined ? undefined : `error in move for path: '${path.value}': ${failure}`;
}

function copy(root: { doc: JsonValue }, op: JsonPatchOperation): string | undefined {
  const from = stringField(op, "from");
  if ("error" in from) return `copy operation failed to decode from: ${from.error}`;
  const fromTokens = parseJsonPointer(from.value);
  if (fromTokens === undefined) return invalidPointer("copy", "from", from.value);
  const source = locate(root.doc, fromTokens);
  if (!source) return `copy operation does not apply: doc is missing from path: ${from.value}${MISSING}`;
  const got = getAt(source);
  if ("error" in got) return `error in copy for from: '${from.value}': ${got.error}`;
  if (got.value === undefined) {
    return `copy operation does not apply: doc is missing from path: ${from.value}${MISSING}`;
  }
  const value = cloneJson(got.value);
  const path = stringField(op, "path");
  if ("error" in path) return `copy operation failed to decode path${MISSING}`;
  const tokens = parseJsonPointer(path.value);
  if (tokens === undefined) return invalidPointer("copy", "path", path.value);
  const target = locate(root.doc, tokens);
  if (!target)
    return `copy operation does not apply: doc is missing destination path: ${path.value}${MISSING}`;
  const failure = addAt(target, value);
  return failure === undefined ? undefined : `error while adding value during copy: ${failure}`;
}

function test(root: { doc: JsonValue }, op: JsonPatchOperation): string | undefined {
  const path = stringField(op, "path");
  if ("error" in path) return `test operation failed to decode path: ${path.error}`;
  const tokens = parseJsonPointer(path.value);
  if (tokens === undefined) return invalidPointer("test", "path", path.value);
  const failed = `testing value ${path.value} failed: test failed`;
  if (tokens.length === 0) return deepEqual(root.doc, op.value) ? undefined : failed;
  const loc = locate(root.doc, tokens);
  if (!loc) return `test operation does not apply: is missing path: ${path.value}${MISSING}`;
  const got = getAt(loc);
  if ("error" in got) return `error in test for path: '${path.value}': ${got.error}`;
  if (got.value === undefined || op.value === undefined) return failed;
  return deepEqual(got.value, op.value) ? undefined : failed;
}
