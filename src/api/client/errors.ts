// Errors from the Kubernetes API, classified by behaviour. The server's Status object is kept whole.

export interface Status {
  kind?: "Status";
  apiVersion?: "v1";
  status?: "Success" | "Failure";
  message?: string;
  reason?: string;
  code?: number;
  details?: {
    name?: string;
    group?: string;
    kind?: string;
    causes?: Array<{ reason?: string; message?: string; field?: string }>;
    retryAfterSeconds?: number;
  };
}

export type ApiErrorCode =
  /** The server could not be reached (connection refused, reset, DNS, TLS). */
  | "API_UNREACHABLE"
  /** The request did not complete within its timeout. */
  | "API_TIMEOUT"
  /** The server answered with a failure Status. */
  | "API_STATUS"
  /** The answer could not be decoded. */
  | "API_DECODE";

export class ApiError extends Error {
  readonly code: ApiErrorCode;
  /** HTTP status code, 0 when there was no answer. */
  readonly httpStatus: number;
  readonly status: Status | undefined;

  constructor(
    code: ApiErrorCode,
    message: string,
    extra?: { httpStatus?: number; status?: Status; cause?: unknown },
  ) {
    super(message, extra?.cause === undefined ? undefined : { cause: extra.cause });
    this.name = "ApiError";
    this.code = code;
    this.httpStatus = extra?.httpStatus ?? 0;
    this.status = extra?.status;
  }

  /** Upstream's StatusReason, e.g. NotFound, Conflict, AlreadyExists, Expired, Gone. */
  get reason(): string | undefined {
    return this.status?.reason;
  }
}

const hasHttpStatus = (error: unknown, code: number) =>
  error instanceof ApiError && error.httpStatus === code;

export const isNotFound = (error: unknown) => hasHttpStatus(error, 404);
export const isConflict = (error: unknown) =>
  hasHttpStatus(error, 409) && (error as ApiError).reason !== "AlreadyExists";
export const isAlreadyExists = (error: unknown) =>
  error instanceof ApiError && error.reason === "AlreadyExists";
/** The resourceVersion asked for is too old: relist. */
export const isGone = (error: unknown) =>
  hasHttpStatus(error, 410) ||
  (error instanceof ApiError && (error.reason === "Expired" || error.reason === "Gone"));
/** Worth retrying later with backoff: no answer, timeouts, 429 and 5xx. */
export const isTransient = (error: unknown) =>
  error instanceof ApiError &&
  (error.code === "API_UNREACHABLE" ||
    error.code === "API_TIMEOUT" ||
    error.httpStatus === 429 ||
    error.httpStatus >= 500);
