// The one error type the patch engines produce: an ApiError with upstream's code, reason and message
// wording for each way a patch can fail, answered to the client as a Kubernetes `Status` like any other.

import { ApiError, type StatusDetails, type StatusReason } from "../errors.ts";

export type PatchErrorReason = Extract<
  StatusReason,
  "BadRequest" | "Invalid" | "Conflict" | "NotFound" | "UnsupportedMediaType" | "RequestEntityTooLarge"
>;

/** An ApiError limited to the reasons a patch can fail with, so the HTTP layer answers it as it is. */
export class PatchError extends ApiError {
  /** HTTP status: 400 undecodable body, 404 nothing to patch, 409 apply conflict, 413, 415, 422 invalid patch. */
  declare readonly reason: PatchErrorReason;

  constructor(code: number, reason: PatchErrorReason, message: string, details?: StatusDetails) {
    super(code, reason, message, details);
    this.name = "PatchError";
  }
}

export function isPatchError(value: unknown): value is PatchError {
  return value instanceof PatchError;
}

/** 400: the body cannot be decoded (upstream's errors.NewBadRequest). */
export function badRequest(message: string): PatchError {
  return new PatchError(400, "BadRequest", message);
}

/**
 * 422 for a JSON patch that does not apply. Upstream answers these with NewGenericServerResponse(422), whose
 * message is the fixed sentence below and which drops the library's explanation; we keep the explanation as
 * the single cause, so `kubectl` prints it under the familiar headline.
 */
export function jsonPatchDoesNotApply(explanation: string): PatchError {
  return new PatchError(422, "Invalid", "the server rejected our request due to an error in our request", {
    causes: [{ message: explanation }],
  });
}

/** 422 with a plain message: a patch that decodes but cannot be applied (strategic merge patch, apply). */
export function unprocessable(message: string): PatchError {
  return new PatchError(422, "Invalid", message);
}

/**
 * 422 naming the `patch` field, as upstream's patcher reports a patched document that no longer decodes into
 * the kind (errors.NewInvalid with an empty GroupKind and name, hence the leading ` "" is invalid`).
 */
export function invalidPatchedObject(patchText: string, why: string): PatchError {
  const message = `Invalid value: ${JSON.stringify(patchText)}: ${why}`;
  return new PatchError(422, "Invalid", ` "" is invalid: patch: ${message}`, {
    causes: [{ reason: "FieldValueInvalid", message, field: "patch" }],
  });
}

/** 404: a patch other than apply names an object that does not exist. */
export function patchTargetNotFound(resource: string | undefined, name: string | undefined): PatchError {
  if (resource && name) {
    return new PatchError(404, "NotFound", `${resource} "${name}" not found`, { name, kind: resource });
  }
  return new PatchError(404, "NotFound", "the server could not find the requested resource");
}

/** 415: upstream's negotiation error for a patch content type the resource does not accept. */
export function unsupportedPatchType(accepted: readonly string[]): PatchError {
  return new PatchError(
    415,
    "UnsupportedMediaType",
    `the body of the request was in an unknown format - accepted media types include: ${accepted.join(", ")}`,
  );
}

/** 413: upstream's limit on the number of operations in one JSON patch. */
export function tooManyOperations(limit: number, got: number): PatchError {
  return new PatchError(
    413,
    "RequestEntityTooLarge",
    `Request entity too large: The allowed maximum operations in a JSON patch is ${limit}, got ${got}`,
  );
}

/** One field owned by another manager that an apply would change (upstream's StatusCause for conflicts). */
export interface ApplyConflict {
  /** How upstream prints the manager: `"kubectl-client-side-apply" using apps/v1`. */
  manager: string;
  /** The field in upstream's path notation: `.spec.template.spec.containers[name="web"].image`. */
  field: string;
}

/** 409 listing every conflicting field and its manager, worded like upstream's NewConflictError. */
export function applyConflicts(conflicts: readonly ApplyConflict[]): PatchError {
  const causes = conflicts.map((c) => ({
    reason: "FieldManagerConflict",
    message: `conflict with ${c.manager}`,
    field: c.field,
  }));
  let message: string;
  const first = conflicts[0];
  if (conflicts.length === 1 && first) {
    message = `Apply failed with 1 conflict: conflict with ${first.manager}: ${first.field}`;
  } else {
    const byManager = new Map<string, string[]>();
    for (const c of conflicts) byManager.set(c.manager, [...(byManager.get(c.manager) ?? []), c.field]);
    const lines: string[] = [];
    for (const manager of [...byManager.keys()].sort()) {
      lines.push(`conflicts with ${manager}:`);
      for (const field of byManager.get(manager) ?? []) lines.push(`- ${field}`);
    }
    message = `Apply failed with ${conflicts.length} conflicts: ${lines.join("\n")}`;
  }
  return new PatchError(409, "Conflict", message, { causes });
}

/** 422 for invalid PatchOptions (upstream's ValidatePatchOptions), e.g. apply without a fieldManager. */
export function invalidPatchOptions(
  causes: readonly { reason: string; field: string; detail: string }[],
): PatchError {
  const parts = causes.map((c) => `${c.field}: ${c.detail}`);
  const list = parts.length === 1 ? parts[0] : `[${parts.join(", ")}]`;
  return new PatchError(422, "Invalid", `PatchOptions.meta.k8s.io "" is invalid: ${list}`, {
    name: "",
    group: "meta.k8s.io",
    kind: "PatchOptions",
    causes: causes.map((c) => ({ reason: c.reason, message: c.detail, field: c.field })),
  });
}
