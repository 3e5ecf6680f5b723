// Turns what dockerode / Node report into RuntimeErrors that name the endpoint, the object and the fix.
import { RuntimeError } from "../errors.ts";

interface DockerodeError {
  code?: string;
  statusCode?: number;
  reason?: string;
  json?: { message?: string } | Buffer | string | null;
  message?: string;
}

const CONNECTION_CODES = new Set(["ENOENT", "ECONNREFUSED", "ECONNRESET", "EPIPE", "EACCES", "ENOTSOCK"]);

/** Docker's own explanation of a failed request, without dockerode's "(HTTP code …)" wrapping. */
export function dockerMessage(error: unknown): string {
  const e = error as DockerodeError;
  const json = e?.json;
  if (json && typeof json === "object" && !Buffer.isBuffer(json) && typeof json.message === "string") {
    return json.message.trim();
  }
  if (typeof json === "string" && json.trim() !== "") return json.trim();
  return (e?.message ?? String(error)).trim();
}

export function isConnectionError(error: unknown): boolean {
  const e = error as DockerodeError;
  if (e?.code && CONNECTION_CODES.has(e.code)) return true;
  return typeof e?.message === "string" && /socket hang up/.test(e.message);
}

export function statusCodeOf(error: unknown): number | undefined {
  return (error as DockerodeError)?.statusCode;
}

/** The message for a socket that is missing, refuses connections or dropped one. */
export function unavailable(endpoint: string, error: unknown): RuntimeError {
  const code = (error as DockerodeError)?.code;
  const socket = endpoint.replace(/^unix:\/\//, "");
  let what: string;
  switch (code) {
    case "ENOENT":
      what = `the socket ${socket} does not exist`;
      break;
    case "ECONNREFUSED":
      what = `nothing accepts connections on ${socket}`;
      break;
    case "EACCES":
      what = `permission denied on ${socket} (run as root or as a member of the docker group)`;
      break;
    default:
      what = `the connection to ${socket} failed (${(error as Error)?.message ?? String(error)})`;
  }
  return new RuntimeError(
    "RUNTIME_UNAVAILABLE",
    `Docker engine at ${endpoint} is unavailable: ${what}; start dockerd (for example \`dockerd\` or \`systemctl start docker\`) or point the Docker runtime's socketPath at a running engine`,
    { cause: error },
  );
}

/**
 * Maps an error from a Docker call. `what` names the call and its object, e.g. `inspect container abc`.
 * 404 becomes RUNTIME_NOT_FOUND; connection failures RUNTIME_UNAVAILABLE; anything else RUNTIME_ERROR.
 */
export function toRuntimeError(endpoint: string, what: string, error: unknown): RuntimeError {
  if (error instanceof RuntimeError) return error;
  if (isConnectionError(error)) return unavailable(endpoint, error);
  const status = statusCodeOf(error);
  const message = dockerMessage(error);
  if (status === 404) {
    return new RuntimeError("RUNTIME_NOT_FOUND", `${what}: not found in Docker at ${endpoint} (${message})`, {
      cause: error,
    });
  }
  const http = status === undefined ? "" : ` (HTTP ${status})`;
  return new RuntimeError("RUNTIME_ERROR", `${what} failed in Docker at ${endpoint}${http}: ${message}`, {
    cause: error,
  });
}
