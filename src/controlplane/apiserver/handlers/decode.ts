// Turning a request body into an object of the endpoint's kind: apiVersion/kind must match the endpoint,
// values must have the schema's JSON types (400 otherwise, as a Go decoding error is upstream), and unknown
// fields are rejected, reported or dropped according to fieldValidation.

import type { KubeObject } from "../../../api/resource.ts";
import { badRequest } from "../errors.ts";
import type { ServedResource } from "../resources.ts";
import { decodeWithSchema } from "../schema-codec.ts";
import type { FieldValidation } from "./query.ts";

export interface Decoded {
  object: KubeObject;
  warnings: string[];
}

/** Checks apiVersion/kind of a body against the kind an endpoint expects (empty = filled in). */
export function checkTypeMeta(raw: Record<string, unknown>, apiVersion: string, kind: string): void {
  if (raw.apiVersion !== undefined && raw.apiVersion !== "" && raw.apiVersion !== apiVersion) {
    throw badRequest(
      `the API version in the data (${String(raw.apiVersion)}) does not match the expected API version (${apiVersion})`,
    );
  }
  if (raw.kind !== undefined && raw.kind !== "" && raw.kind !== kind) {
    throw badRequest(
      `the kind in the data (${String(raw.kind)}) does not match the expected kind (${kind}): the object provided is unrecognized (must be of type ${kind})`,
    );
  }
}

/** Applies a fieldValidation directive to the unknown fields found while decoding. */
export function unknownFieldWarnings(unknown: readonly string[], validation: FieldValidation): string[] {
  if (unknown.length === 0 || validation === "Ignore") return [];
  const messages = unknown.map((f) => `unknown field "${f}"`);
  if (validation === "Strict") throw badRequest(`strict decoding error: ${messages.join(", ")}`);
  return messages;
}

export function decodeObject(
  served: ServedResource,
  raw: Record<string, unknown>,
  validation: FieldValidation,
): Decoded {
  checkTypeMeta(raw, served.apiVersion, served.kind);
  const { object, issues } = decodeWithSchema(served.def.schema, raw);
  if (issues.typeErrors.length > 0) {
    const first = issues.typeErrors
      .slice(0, 5)
      .map((e) => `${e.field}: ${e.message}`)
      .join("; ");
    throw badRequest(
      `${served.kind} in version "${served.version}" cannot be handled as a ${served.kind}: ${first}`,
    );
  }
  const warnings = unknownFieldWarnings(issues.unknownFields, validation);
  const obj = object as KubeObject;
  obj.apiVersion = served.apiVersion;
  obj.kind = served.kind;
  return { object: obj, warnings };
}
