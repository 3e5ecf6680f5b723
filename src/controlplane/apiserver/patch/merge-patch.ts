// RFC 7386 JSON merge patch (`application/merge-patch+json`): objects merge member by member, null removes
// a member, anything else (arrays included) replaces. Like the library kube-apiserver uses, null members
// inside a value that is inserted or replaces a non-object are dropped too, so the result never carries
// nulls the patch meant as deletions.

import { badRequest } from "./errors.ts";
import { cloneJson, isJsonObject, type JsonObject, type JsonValue, parseJson } from "./json-value.ts";

/** Decodes a merge patch body; 400 on malformed JSON or a null patch (upstream's "Invalid JSON Patch"). */
export function decodeMergePatch(body: string): JsonValue {
  let decoded: JsonValue;
  try {
    decoded = parseJson(body);
  } catch (error) {
    throw badRequest(`error decoding patch: ${(error as Error).message}`);
  }
  if (decoded === null) throw badRequest("Invalid JSON Patch");
  return decoded;
}

/** The merge of `patch` into a copy of `target` (which is left untouched). */
export function applyMergePatch(target: JsonValue | undefined, patch: JsonValue): JsonValue {
  if (!isJsonObject(patch)) return pruneNulls(cloneJson(patch));
  const result: JsonObject = isJsonObject(target) ? cloneJson(target) : {};
  for (const [name, value] of Object.entries(patch)) {
    if (value === null) {
      delete result[name];
    } else {
      result[name] = applyMergePatch(result[name], value);
    }
  }
  return result;
}

/** Drops null members of objects, at any depth (null array elements stay: they are values, not deletions). */
function pruneNulls(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map((item) => pruneNulls(item));
  if (!isJsonObject(value)) return value;
  const out: JsonObject = {};
  for (const [key, item] of Object.entries(value)) {
    if (item !== null) out[key] = pruneNulls(item);
  }
  return out;
}
