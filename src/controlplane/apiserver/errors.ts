// Errors the API server answers with. Every failure leaves the server as a Kubernetes `Status` object with
// upstream's reason, code and message shape (k8s.io/apimachinery/pkg/api/errors), so clients that branch on
// `reason` (kubectl, client-go, our own client) behave as they do against kube-apiserver.

import type { FieldError } from "../../api/resource.ts";

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: "Status";
  apiVersion: "v1";
  metadata: Record<string, never>;
  status: "Success" | "Failure";
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

/** Upstream's StatusReason values used here. */
export type StatusReason =
  | "BadRequest"
  | "Unauthorized"
  | "Forbidden"
  | "NotFound"
  | "AlreadyExists"
  | "Conflict"
  | "Gone"
  | "Expired"
  | "Invalid"
  | "MethodNotAllowed"
  | "NotAcceptable"
  | "UnsupportedMediaType"
  | "RequestEntityTooLarge"
  | "TooManyRequests"
  | "InternalError"
  | "ServiceUnavailable"
  | "Timeout"
  | "NotImplemented";

/** An error that is answered to the client as a Status; anything else becomes a 500 InternalError. */
export class ApiError extends Error {
  readonly code: number;
  readonly reason: StatusReason;
  readonly details: StatusDetails | undefined;

  constructor(code: number, reason: StatusReason, message: string, details?: StatusDetails) {
    super(message);
    this.name = "ApiError";
    this.code = code;
    this.reason = reason;
    this.details = details;
  }

  toStatus(): Status {
    const status: Status = {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: this.message,
      reason: this.reason,
      code: this.code,
    };
    if (this.details) status.details = this.details;
    return status;
  }
}

export function isApiError(error: unknown, reason?: StatusReason): error is ApiError {
  return error instanceof ApiError && (reason === undefined || error.reason === reason);
}

/** A resource as upstream names it in messages: "pods", "deployments.apps". */
export interface QualifiedResource {
  group: string;
  resource: string;
}

export function qualifiedName(r: QualifiedResource): string {
  return r.group ? `${r.resource}.${r.group}` : r.resource;
}

function resourceDetails(r: QualifiedResource, name: string): StatusDetails {
  const details: StatusDetails = { name, kind: r.resource };
  if (r.group) details.group = r.group;
  return details;
}

export function notFound(r: QualifiedResource, name: string): ApiError {
  return new ApiError(404, "NotFound", `${qualifiedName(r)} "${name}" not found`, resourceDetails(r, name));
}

export function alreadyExists(r: QualifiedResource, name: string): ApiError {
  return new ApiError(
    409,
    "AlreadyExists",
    `${qualifiedName(r)} "${name}" already exists`,
    resourceDetails(r, name),
  );
}

/** The optimistic-concurrency failure, worded exactly as upstream so clients recognise it. */
export function conflict(r: QualifiedResource, name: string, why?: string): ApiError {
  const reason =
    why ?? "the object has been modified; please apply your changes to the latest version and try again";
  return new ApiError(
    409,
    "Conflict",
    `Operation cannot be fulfilled on ${qualifiedName(r)} "${name}": ${reason}`,
    resourceDetails(r, name),
  );
}

/** 422 with one cause per invalid field; `kind` is the object's Kind ("Pod"), as upstream reports it. */
export function invalid(group: string, kind: string, name: string, errors: FieldError[]): ApiError {
  const rendered = errors.map((e) => (e.field ? `${e.field}: ${e.message}` : e.message));
  const summary = rendered.length === 1 ? rendered[0] : `[${rendered.join(", ")}]`;
  const qualifiedKind = group ? `${kind}.${group}` : kind;
  const details: StatusDetails = {
    name,
    kind,
    causes: errors.map((e) => ({ reason: e.reason, message: e.message, field: e.field })),
  };
  if (group) details.group = group;
  return new ApiError(422, "Invalid", `${qualifiedKind} "${name}" is invalid: ${summary}`, details);
}

export function badRequest(message: string): ApiError {
  return new ApiError(400, "BadRequest", message);
}

export function forbidden(r: QualifiedResource, name: string, why: string): ApiError {
  const target = name ? `${qualifiedName(r)} "${name}"` : qualifiedName(r);
  return new ApiError(403, "Forbidden", `${target} is forbidden: ${why}`, resourceDetails(r, name));
}

export function methodNotAllowed(): ApiError {
  return new ApiError(
    405,
    "MethodNotAllowed",
    "the server does not allow this method on the requested resource",
  );
}

/** The watch/list answer when the requested resourceVersion has been compacted away. */
export function expired(message: string): ApiError {
  return new ApiError(410, "Expired", message);
}

export function gone(message: string): ApiError {
  return new ApiError(410, "Gone", message);
}

export function tooLarge(limit: number): ApiError {
  return new ApiError(413, "RequestEntityTooLarge", `Request entity too large: limit is ${limit}`);
}

export function unsupportedMediaType(contentType: string): ApiError {
  return new ApiError(
    415,
    "UnsupportedMediaType",
    `the body of the request was in an unknown format (${contentType || "no Content-Type"}) - accepted media types include: application/json, application/yaml, application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml`,
  );
}

export function notAcceptable(message: string): ApiError {
  return new ApiError(406, "NotAcceptable", message);
}

export function serviceUnavailable(message: string): ApiError {
  return new ApiError(503, "ServiceUnavailable", message);
}

export function timeout(message: string): ApiError {
  return new ApiError(504, "Timeout", message);
}

export function internalError(message: string): ApiError {
  return new ApiError(500, "InternalError", `Internal error occurred: ${message}`);
}

export function successStatus(details?: StatusDetails): Status {
  const status: Status = { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code: 200 };
  if (details) status.details = details;
  return status;
}
