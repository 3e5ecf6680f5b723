// Turning a request body into an object of the endpoint's kind: apiVersion/kind must match the endpoint,
// values must have the schema's JSON types (400 otherwise, worded like a Go decoding error upstream), and
// unknown fields are rejected, reported or dropped according to fieldValidation.

import type { KubeObject } from "../../../api/resource.ts";
import { decode } from "../../../api/schema/decode.ts";
import { badRequest } from "../errors.ts";
import type { ServedResource } from "../resources.ts";
import type { FieldValidation } from "./query.ts";

export interface Decoded {
  object: KubeObject;
  warnings: string[];
}

/** Checks apiVersion/kind of a body against the kind an endpoint expects (empty = filled in). */
export function checkTypeMeta(raw: Record<string, unknown>, apiVersion: string, kind: string): void {
  if (raw.apiVersion !== undefined && raw.apiVersion !== "" && raw.apiVersion !== apiVersion) {
    throw badRequest(
      `the API version in the data (${shown(raw.apiVersion)}) does not match the expected API version (${apiVersion})`,
    );
  }
  if (raw.kind !== undefined && raw.kind !== "" && raw.kind !== kind) {
    throw badRequest(
      `the kind in the data (${shown(raw.kind)}) does not match the expected kind (${kind}): the object provided is unrecognized (must be of type ${kind})`,
    );
  }
}

/** A body's value in a message: a string as it is, anything else as JSON (String() of `{"toString": {}}` throws). */
function shown(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** Decodes `raw` as an object of `served`'s kind, applying the fieldValidation directive to unknown fields. */
export function decodeObject(
  served: ServedResource,
  raw: Record<string, unknown>,
  validation: FieldValidation,
): Decoded {
  checkTypeMeta(raw, served.apiVersion, served.kind);
  const { value, unknownFields, typeError } = decode(served.def.schema, raw);
  const prefix = `${served.kind} in version "${served.version}" cannot be handled as a ${served.kind}`;
  if (typeError) throw badRequest(`${prefix}: ${typeError}`);
  const unknown = unknownFields.map((f) => `unknown field ${JSON.stringify(f)}`);
  if (unknown.length > 0 && validation === "Strict") {
    throw badRequest(`${prefix}: strict decoding error: ${unknown.join(", ")}`);
  }
  const object = value as KubeObject;
  object.apiVersion = served.apiVersion;
  object.kind = served.kind;
  return { object, warnings: validation === "Warn" ? unknown : [] };
}
