// Decoding a request object against its kind's JSON Schema, the way a Go round trip through the typed
// struct behaves upstream: unknown fields are dropped (and reported, for fieldValidation), values of the
// wrong JSON type are decoding errors (400), `null` means "absent", and schema `default`s are filled in.

import type { FieldError } from "../../api/resource.ts";

type Schema = Record<string, unknown>;

export interface DecodeIssues {
  /** Paths of fields the schema does not know, upstream notation ("spec.containers[0].foo"). */
  unknownFields: string[];
  /** Values whose JSON type does not match the schema. */
  typeErrors: FieldError[];
}

function typeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

function matchesType(type: string, value: unknown): boolean {
  const actual = typeOf(value);
  if (type === "number") return actual === "number" || actual === "integer";
  return actual === type;
}

function joinPath(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}

function alternatives(schema: Schema): Schema[] | undefined {
  const list = (schema.oneOf ?? schema.anyOf) as Schema[] | undefined;
  return Array.isArray(list) ? list : undefined;
}

function decodeValue(
  schema: Schema | undefined,
  value: unknown,
  path: string,
  issues: DecodeIssues,
): unknown {
  if (schema === undefined) return value;
  if (schema["x-kubernetes-preserve-unknown-fields"] === true && schema.properties === undefined)
    return value;
  const alts = alternatives(schema);
  if (alts) {
    const branch = alts.find((s) => typeof s.type !== "string" || matchesType(s.type as string, value));
    if (!branch) {
      const wanted = alts.map((s) => s.type).join(" or ");
      issues.typeErrors.push({
        reason: "FieldValueInvalid",
        field: path,
        message: `Invalid value: ${JSON.stringify(value)}: expected ${wanted}, got ${typeOf(value)}`,
      });
      return value;
    }
    return decodeValue(branch, value, path, issues);
  }
  const type = schema.type as string | undefined;
  if (type === undefined) return value;
  if (!matchesType(type, value)) {
    issues.typeErrors.push({
      reason: "FieldValueInvalid",
      field: path,
      message: `Invalid value: ${JSON.stringify(value)}: expected ${type}, got ${typeOf(value)}`,
    });
    return value;
  }
  if (type === "object") return decodeObject(schema, value as Record<string, unknown>, path, issues);
  if (type === "array") {
    const items = schema.items as Schema | undefined;
    return (value as unknown[]).map((item, i) => decodeValue(items, item, `${path}[${i}]`, issues));
  }
  return value;
}

function decodeObject(
  schema: Schema,
  value: Record<string, unknown>,
  path: string,
  issues: DecodeIssues,
): Record<string, unknown> {
  const properties = schema.properties as Record<string, Schema> | undefined;
  const additional = schema.additionalProperties as Schema | boolean | undefined;
  const preserve = schema["x-kubernetes-preserve-unknown-fields"] === true;
  const out: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(value)) {
    const childPath = properties || typeof additional !== "object" ? joinPath(path, key) : `${path}[${key}]`;
    const propSchema = properties?.[key];
    if (propSchema) {
      // Go decodes null into the zero value of a field; for our purposes that is "absent".
      if (raw === null) continue;
      out[key] = decodeValue(propSchema, raw, childPath, issues);
    } else if (typeof additional === "object") {
      if (raw === null) continue;
      out[key] = decodeValue(additional, raw, childPath, issues);
    } else if (additional === true || preserve || properties === undefined) {
      out[key] = raw;
    } else {
      issues.unknownFields.push(childPath);
    }
  }
  if (properties) {
    for (const [key, propSchema] of Object.entries(properties)) {
      if (out[key] === undefined && propSchema.default !== undefined) {
        // Decode the default too, so that a defaulted struct gets its own fields' defaults (Go zero values).
        out[key] = decodeValue(propSchema, structuredClone(propSchema.default), joinPath(path, key), issues);
      }
    }
  }
  return out;
}

/** Decodes `value` against `schema`; the result is a new object, `value` is left untouched. */
export function decodeWithSchema(
  schema: Record<string, unknown>,
  value: Record<string, unknown>,
): { object: Record<string, unknown>; issues: DecodeIssues } {
  const issues: DecodeIssues = { unknownFields: [], typeErrors: [] };
  const object = decodeObject(schema, value, "", issues);
  return { object, issues };
}
