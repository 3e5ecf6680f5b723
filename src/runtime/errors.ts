// Errors every Runtime method rejects with: a stable code to branch on, a message that names the runtime
// endpoint, the object and what to do.

export type RuntimeErrorCode =
  /** The runtime's socket is missing or refuses connections. */
  | "RUNTIME_UNAVAILABLE"
  /** The sandbox, container or image does not exist. */
  | "RUNTIME_NOT_FOUND"
  /** The call did not finish within its deadline. */
  | "RUNTIME_DEADLINE"
  /** Rejected before reaching the runtime: a field of the request is invalid. */
  | "RUNTIME_INVALID"
  /** The image could not be pulled (unknown image, auth failure, registry down). */
  | "RUNTIME_IMAGE_PULL"
  /** Anything else the runtime reported. */
  | "RUNTIME_ERROR";

export class RuntimeError extends Error {
  readonly code: RuntimeErrorCode;
  /** For RUNTIME_INVALID: the request field at fault, e.g. "portMappings[0].containerPort". */
  readonly field: string | undefined;

  constructor(code: RuntimeErrorCode, message: string, options?: { cause?: unknown; field?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "RuntimeError";
    this.code = code;
    this.field = options?.field;
  }
}

export function isNotFound(error: unknown): boolean {
  return error instanceof RuntimeError && error.code === "RUNTIME_NOT_FOUND";
}

export function isUnavailable(error: unknown): boolean {
  return error instanceof RuntimeError && error.code === "RUNTIME_UNAVAILABLE";
}

export function invalid(field: string, message: string): RuntimeError {
  return new RuntimeError("RUNTIME_INVALID", `invalid ${field}: ${message}`, { field });
}
