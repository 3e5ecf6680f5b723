// JSON values as the patch engines see them, plus the few helpers every engine needs: type tests, deep
// equality, copying, and Go-style formatting for error messages that must read like upstream's.

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The JSON type of a value, as JSON names it. */
export type JsonKind = "object" | "array" | "string" | "number" | "boolean" | "null";

export function jsonKind(value: JsonValue): JsonKind {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value as "object" | "string" | "number" | "boolean";
}

/** Structural equality; numbers compare numerically, object key order does not matter. */
export function deepEqual(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) {
      if (!deepEqual(a[i], b[i])) return false;
    }
    return true;
  }
  if (Array.isArray(b) || typeof a !== "object" || typeof b !== "object") return false;
  const aKeys = Object.keys(a);
  if (aKeys.length !== Object.keys(b).length) return false;
  for (const key of aKeys) {
    if (!Object.hasOwn(b, key) || !deepEqual(a[key], b[key])) return false;
  }
  return true;
}

/** A deep copy of a JSON value (the engines never mutate their inputs). */
export function cloneJson<T extends JsonValue>(value: T): T {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((item) => cloneJson(item)) as T;
  const copy: JsonObject = {};
  for (const [key, item] of Object.entries(value)) copy[key] = cloneJson(item);
  return copy as T;
}

/**
 * Formats a value the way Go's `fmt` prints a decoded `interface{}` with `%v`: `map[a:1 b:x]` (keys sorted),
 * `[a b]`, `<nil>`. Upstream's strategic-merge-patch errors embed values this way.
 */
export function goFormat(value: JsonValue | undefined): string {
  if (value === undefined || value === null) return "<nil>";
  if (Array.isArray(value)) return `[${value.map((item) => goFormat(item)).join(" ")}]`;
  if (typeof value === "object") {
    const keys = Object.keys(value).sort(compareStrings);
    return `map[${keys.map((key) => `${key}:${goFormat(value[key])}`).join(" ")}]`;
  }
  return String(value);
}

/** The Go type name `encoding/json` gives a decoded value, for "cannot unmarshal X into …" messages. */
export function goJsonTypeName(value: JsonValue): string {
  switch (jsonKind(value)) {
    case "object":
      return "object";
    case "array":
      return "array";
    case "boolean":
      return "bool";
    default:
      return jsonKind(value);
  }
}

/** The Go type `reflect.TypeOf` reports for a decoded JSON value (used in "expected a X, but received a Y"). */
export function goReflectTypeName(value: JsonValue | undefined): string {
  if (value === undefined || value === null) return "<nil>";
  if (Array.isArray(value)) return "[]interface {}";
  switch (typeof value) {
    case "object":
      return "map[string]interface {}";
    case "string":
      return "string";
    case "number":
      return "float64";
    default:
      return "bool";
  }
}

/** Byte-wise string order (Go's `strings.Compare` / `sort.Strings`). */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * JSON text as Go's `encoding/json` Encoder writes it for a decoded map: keys sorted, `<`, `>`, `&`, U+2028 and
 * U+2029 escaped, and a trailing newline. kubectl's last-applied-configuration annotation is written this way.
 */
export function goJsonEncode(value: JsonValue): string {
  return `${stableStringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)}\n`;
}

function stableStringify(value: JsonValue): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((item) => stableStringify(item)).join(",")}]`;
  const keys = Object.keys(value).sort(compareStrings);
  return `{${keys.map((key) => `${JSON.stringify(key)}:${stableStringify(value[key] as JsonValue)}`).join(",")}}`;
}

/** Parses JSON text; throws the parser's SyntaxError on malformed input. */
export function parseJson(text: string): JsonValue {
  return JSON.parse(text) as JsonValue;
}
