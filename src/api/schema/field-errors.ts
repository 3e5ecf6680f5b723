// Field errors in upstream's shape (k8s.io/apimachinery/pkg/util/validation/field): a reason, a path such as
// "spec.containers[0].image" and a message body such as `Invalid value: "x": must be …`.

import type { FieldError } from "../resource.ts";

export type { FieldError };

/** Field paths in upstream notation. */
export function child(path: string, name: string): string {
  return path === "" ? name : `${path}.${name}`;
}

export function index(path: string, i: number): string {
  return `${path}[${i}]`;
}

export function key(path: string, k: string): string {
  return `${path}[${k}]`;
}

/** Renders a value the way upstream's field errors do: strings quoted, numbers and booleans bare. */
export function formatValue(value: unknown): string {
  if (value === undefined || value === null) return "null";
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}

export function required(field: string, detail = ""): FieldError {
  return {
    reason: "FieldValueRequired",
    field,
    message: detail ? `Required value: ${detail}` : "Required value",
  };
}

export function invalid(field: string, value: unknown, detail: string): FieldError {
  const body = `Invalid value: ${formatValue(value)}`;
  return { reason: "FieldValueInvalid", field, message: detail ? `${body}: ${detail}` : body };
}

export function notSupported(field: string, value: unknown, supported: readonly string[]): FieldError {
  const list = supported.map((s) => JSON.stringify(s)).join(", ");
  return {
    reason: "FieldValueNotSupported",
    field,
    message: `Unsupported value: ${formatValue(value)}${list ? `: supported values: ${list}` : ""}`,
  };
}

export function duplicate(field: string, value: unknown): FieldError {
  return { reason: "FieldValueDuplicate", field, message: `Duplicate value: ${formatValue(value)}` };
}

export function forbidden(field: string, detail: string): FieldError {
  return { reason: "FieldValueForbidden", field, message: `Forbidden: ${detail}` };
}

export function tooLong(field: string, maxBytes: number): FieldError {
  return { reason: "FieldValueTooLong", field, message: `Too long: may not be more than ${maxBytes} bytes` };
}

export function tooMany(field: string, actual: number, max: number): FieldError {
  return {
    reason: "FieldValueTooMany",
    field,
    message: `Too many: ${actual}: must have at most ${max} items`,
  };
}

/** The text upstream puts in a 422 Status message: `field: body`. */
export function errorText(e: FieldError): string {
  return e.field ? `${e.field}: ${e.message}` : e.message;
}

/** Upstream's aggregate message for an Invalid status: `Kind "name" is invalid: [a, b]` (no brackets for one). */
export function invalidMessage(kind: string, name: string, errors: FieldError[]): string {
  const parts = errors.map(errorText);
  const list = parts.length === 1 ? (parts[0] as string) : `[${parts.join(", ")}]`;
  return `${kind} ${JSON.stringify(name)} is invalid: ${list}`;
}

/** The immutability error upstream reports for a changed field. */
export function immutable(field: string, value: unknown): FieldError {
  return invalid(field, value, "field is immutable");
}
