// The CRI driver's error boundary: every failure leaves the driver as a RuntimeError (../errors.ts) whose
// code says how to react and whose message names the operation, the object and the endpoint.
import { RuntimeError, type RuntimeErrorCode } from "../errors.ts";
import { type CriErrorCode, isCriError } from "./client.ts";
import { RemoteCommandError } from "./streaming/remotecommand.ts";
import { StreamUpgradeError } from "./streaming/upgrade.ts";

const CODE_BY_CRI: Record<CriErrorCode, RuntimeErrorCode> = {
  CRI_INVALID_ENDPOINT: "RUNTIME_INVALID",
  CRI_UNAVAILABLE: "RUNTIME_UNAVAILABLE",
  CRI_NOT_FOUND: "RUNTIME_NOT_FOUND",
  CRI_DEADLINE: "RUNTIME_DEADLINE",
  CRI_ALREADY_EXISTS: "RUNTIME_ERROR",
  CRI_INVALID_ARGUMENT: "RUNTIME_ERROR",
  CRI_UNIMPLEMENTED: "RUNTIME_ERROR",
  CRI_CANCELLED: "RUNTIME_ERROR",
  CRI_ERROR: "RUNTIME_ERROR",
};

/** What to tell an operator whose runtime socket does not answer. */
export function startHint(endpoint: string): string {
  return `start containerd (or the CRI runtime serving ${endpoint}) and check its log; for tests and development run scripts/setup-host.sh`;
}

/**
 * Turns whatever a CRI call or a streaming session threw into a RuntimeError. `what` names the operation
 * and its object, e.g. `stop container 3f0f…`; it starts the message.
 */
export function toRuntimeError(error: unknown, what: string, endpoint: string): RuntimeError {
  if (error instanceof RuntimeError) return error;
  if (isCriError(error)) {
    const code = CODE_BY_CRI[error.code];
    if (code === "RUNTIME_UNAVAILABLE" && !/start/i.test(error.message)) {
      return new RuntimeError(code, `${what}: ${error.message}; ${startHint(endpoint)}`, { cause: error });
    }
    if (code === "RUNTIME_INVALID") {
      return new RuntimeError(code, `${what}: ${error.message}`, { cause: error, field: "endpoint" });
    }
    // containerd reports an ExecSync that ran out of time as an Unknown error "timeout … exceeded".
    if (code === "RUNTIME_ERROR" && /timeout .* exceeded/i.test(error.message)) {
      return new RuntimeError("RUNTIME_DEADLINE", `${what}: ${error.message}`, { cause: error });
    }
    return new RuntimeError(code, `${what}: ${error.message}`, { cause: error });
  }
  if (error instanceof StreamUpgradeError) {
    const code = error.httpStatus === 404 ? "RUNTIME_NOT_FOUND" : "RUNTIME_ERROR";
    return new RuntimeError(code, `${what}: ${error.message}`, { cause: error });
  }
  if (error instanceof RemoteCommandError) {
    return new RuntimeError("RUNTIME_ERROR", `${what}: ${error.message}`, { cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new RuntimeError("RUNTIME_ERROR", `${what}: ${message}`, { cause: error });
}

/** For pulls: registry-side failures become RUNTIME_IMAGE_PULL; an unreachable runtime stays UNAVAILABLE. */
export function toPullError(error: unknown, image: string, endpoint: string): RuntimeError {
  const mapped = toRuntimeError(error, `pull image "${image}"`, endpoint);
  if (
    mapped.code === "RUNTIME_UNAVAILABLE" ||
    mapped.code === "RUNTIME_DEADLINE" ||
    mapped.code === "RUNTIME_INVALID"
  ) {
    return mapped;
  }
  const answer =
    isCriError(error) && error.cause instanceof Error ? grpcDetails(error.cause) : mapped.message;
  return new RuntimeError("RUNTIME_IMAGE_PULL", `pulling image "${image}" failed: ${answer}`, {
    cause: error,
  });
}

function grpcDetails(cause: Error): string {
  const details = (cause as { details?: unknown }).details;
  return typeof details === "string" && details !== "" ? details : cause.message;
}
