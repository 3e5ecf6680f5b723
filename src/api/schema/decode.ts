// Structural decoding of an incoming JSON object against its kind's schema — what upstream's typed JSON decoder
// does before any validation:
// - wrong JSON types are decode errors (HTTP 400, "json: cannot unmarshal string into Go struct field …");
// - unknown fields are dropped, and reported for fieldValidation=Strict (error) or Warn (warning) as
//   `unknown field "spec.foo"`;
// - null means "unset"; fields Go always emits get their zero value or `{}` (the schema `default`s);
// - quantities and int-or-strings are checked, times are normalized to RFC 3339 (seconds or microseconds).

import { schemaName } from "./dsl.ts";
import { child, index } from "./field-errors.ts";
import { canonicalQuantity } from "./quantity.ts";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type SchemaNode = Record<string, unknown>;

export interface DecodeResult {
  /** The decoded object (a fresh copy; the input is not modified). */
  value: Record<string, unknown>;
  /** Paths of fields the schema does not declare, e.g. "spec.containers[0].foo" (they were dropped). */
  unknownFields: string[];
  /** The first type error, in Go's wording, or undefined. */
  typeError?: string;
}

interface Context {
  unknown: string[];
  typeError?: string;
}

const MICRO_TIME = "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime";
const QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity";
const INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString";

export function decode(schema: object, input: unknown): DecodeResult {
  const ctx: Context = { unknown: [] };
  const where: Where = { struct: schemaName(schema) ?? "Object", goPath: "" };
  if (input === null || typeof input !== "object" || Array.isArray(input)) {
    return {
      value: {},
      unknownFields: [],
      typeError: `json: cannot unmarshal ${jsonType(input)} into Go value of type ${goType(schema as SchemaNode)}`,
    };
  }
  const value = decodeNode(schema as SchemaNode, input as Json, "", where, ctx) as Record<string, unknown>;
  const result: DecodeResult = { value, unknownFields: ctx.unknown };
  if (ctx.typeError !== undefined) result.typeError = ctx.typeError;
  return result;
}

/** For Go-style messages: the innermost named struct, and the dotted path (no indices) from the root. */
interface Where {
  struct: string;
  goPath: string;
}

function jsonType(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "object") return "object";
  if (typeof v === "number") return "number";
  if (typeof v === "boolean") return "bool";
  return "string";
}

const shortNames = new Map<string, string>();

function shortName(name: string): string {
  const cached = shortNames.get(name);
  if (cached !== undefined) return cached;
  const short = computeShortName(name);
  shortNames.set(name, short);
  return short;
}

function computeShortName(name: string): string {
  const parts = name.split(".");
  const type = parts[parts.length - 1] as string;
  const pkg = parts[parts.length - 2] as string;
  return `${pkg}.${type}`;
}

/** A Go-ish type name for error messages. */
function goType(node: SchemaNode): string {
  const name = schemaName(node);
  if (name) return shortName(name);
  if (node.type === "array") return `[]${goType((node.items ?? {}) as SchemaNode)}`;
  if (node.type === "object" && node.additionalProperties && typeof node.additionalProperties === "object") {
    return `map[string]${goType(node.additionalProperties as SchemaNode)}`;
  }
  if (node.type === "integer") return node.format === "int64" ? "int64" : "int32";
  if (node.type === "number") return "float64";
  if (node.type === "boolean") return "bool";
  if (node.type === "string") return node.format === "byte" ? "[]uint8" : "string";
  return "interface {}";
}

function fail(node: SchemaNode, value: unknown, where: Where, ctx: Context, detail?: string): undefined {
  if (ctx.typeError === undefined) {
    const field = where.goPath ? `Go struct field ${where.struct}.${where.goPath}` : "Go value";
    ctx.typeError =
      detail ?? `json: cannot unmarshal ${jsonType(value)} into ${field} of type ${goType(node)}`;
  }
  return undefined;
}

function zeroOf(node: SchemaNode): Json {
  // Go's zero Quantity, which is what upstream decodes a null quantity to ("cpu: null" → "0").
  if (schemaName(node) === QUANTITY) return "0";
  if (node.type === "string") return "";
  if (node.type === "integer" || node.type === "number") return 0;
  if (node.type === "boolean") return false;
  if (node.type === "object") return {};
  return null;
}

function decodeNode(
  node: SchemaNode,
  value: Json,
  path: string,
  where: Where,
  ctx: Context,
): Json | undefined {
  const name = schemaName(node);
  if (name === QUANTITY) return decodeQuantity(node, value, where, ctx);
  if (name === INT_OR_STRING || node["x-kubernetes-int-or-string"] === true) {
    if (typeof value === "string") return value;
    if (typeof value === "number" && Number.isInteger(value)) return value;
    return fail(node, value, where, ctx);
  }
  switch (node.type) {
    case "object":
      return decodeObject(node, value, path, where, ctx);
    case "array": {
      if (!Array.isArray(value)) return fail(node, value, where, ctx);
      const items = (node.items ?? {}) as SchemaNode;
      const out: Json[] = [];
      value.forEach((item, i) => {
        const decoded = item === null ? zeroOf(items) : decodeNode(items, item, index(path, i), where, ctx);
        out.push(decoded === undefined ? zeroOf(items) : decoded);
      });
      return out;
    }
    case "string": {
      if (typeof value !== "string") return fail(node, value, where, ctx);
      if (node.format === "date-time") return decodeTime(node, value, name === MICRO_TIME, where, ctx);
      if (node.format === "byte" && !isBase64(value)) {
        return fail(node, value, where, ctx, `illegal base64 data at input byte ${base64ErrorOffset(value)}`);
      }
      return value;
    }
    case "integer": {
      if (typeof value !== "number" || !Number.isInteger(value)) return fail(node, value, where, ctx);
      if (node.format === "int32" && (value > 2147483647 || value < -2147483648))
        return fail(node, value, where, ctx);
      return value;
    }
    case "number":
      return typeof value === "number" ? value : fail(node, value, where, ctx);
    case "boolean":
      return typeof value === "boolean" ? value : fail(node, value, where, ctx);
    default:
      return value;
  }
}

function decodeObject(
  node: SchemaNode,
  value: Json,
  path: string,
  where: Where,
  ctx: Context,
): Json | undefined {
  if (value === null || typeof value !== "object" || Array.isArray(value))
    return fail(node, value, where, ctx);
  const properties = node.properties as Record<string, SchemaNode> | undefined;
  const additional = node.additionalProperties as SchemaNode | boolean | undefined;
  const name = schemaName(node);
  const inner: Where = name
    ? { struct: shortName(name).split(".")[1] as string, goPath: where.goPath }
    : where;
  const out: Record<string, Json> = {};
  if (properties) {
    for (const [key, raw] of Object.entries(value)) {
      const prop = properties[key];
      if (!prop) {
        if (additional && typeof additional === "object") {
          out[key] = decodeMapValue(additional, raw, child(path, key), inner, ctx, key);
        } else {
          ctx.unknown.push(child(path, key));
        }
        continue;
      }
      if (raw === null) continue;
      const sub: Where = { struct: inner.struct, goPath: inner.goPath ? `${inner.goPath}.${key}` : key };
      const decoded = decodeNode(prop, raw, child(path, key), sub, ctx);
      if (decoded !== undefined) out[key] = decoded;
    }
    for (const [key, prop] of Object.entries(properties)) {
      if (key in out || !("default" in prop) || prop.default === undefined) continue;
      const sub: Where = { struct: inner.struct, goPath: inner.goPath ? `${inner.goPath}.${key}` : key };
      const decoded = decodeNode(prop, structuredClone(prop.default) as Json, child(path, key), sub, ctx);
      if (decoded !== undefined) out[key] = decoded;
    }
    return out;
  }
  if (additional && typeof additional === "object") {
    for (const [key, raw] of Object.entries(value)) {
      out[key] = decodeMapValue(additional, raw, `${path}[${key}]`, where, ctx, key);
    }
    return out;
  }
  // A free-form object (FieldsV1, RawExtension): kept as is.
  return value;
}

function decodeMapValue(
  node: SchemaNode,
  raw: Json,
  path: string,
  where: Where,
  ctx: Context,
  _key: string,
): Json {
  if (raw === null) return zeroOf(node);
  const decoded = decodeNode(node, raw, path, where, ctx);
  return decoded === undefined ? zeroOf(node) : decoded;
}

function decodeQuantity(node: SchemaNode, value: Json, where: Where, ctx: Context): Json | undefined {
  if (typeof value !== "string" && typeof value !== "number") return fail(node, value, where, ctx);
  const canonical = canonicalQuantity(String(value));
  if (canonical === undefined) {
    return fail(
      node,
      value,
      where,
      ctx,
      "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
    );
  }
  return canonical;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

function decodeTime(
  node: SchemaNode,
  value: string,
  micro: boolean,
  where: Where,
  ctx: Context,
): Json | undefined {
  const m = RFC3339.exec(value);
  const ms = m ? Date.parse(value) : Number.NaN;
  if (!m || Number.isNaN(ms)) {
    const layout = micro ? "2006-01-02T15:04:05.000000Z07:00" : "2006-01-02T15:04:05Z07:00";
    return fail(
      node,
      value,
      where,
      ctx,
      `parsing time ${JSON.stringify(value)} as ${JSON.stringify(layout)}: cannot parse`,
    );
  }
  const iso = new Date(ms).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  if (!micro) return `${iso.slice(0, 19)}Z`;
  const fraction = `${(m[7] ?? ".").slice(1)}000000`.slice(0, 6);
  return `${iso.slice(0, 19)}.${fraction}Z`;
}

function isBase64(s: string): boolean {
  return /^[A-Za-z0-9+/]*={0,2}$/.test(s) && s.length % 4 === 0;
}

function base64ErrorOffset(s: string): number {
  const bad = s.search(/[^A-Za-z0-9+/=]/);
  return bad >= 0 ? bad : Math.max(0, s.length - (s.length % 4));
}
