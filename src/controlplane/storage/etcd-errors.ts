// Turning etcd3/gRPC failures into StorageErrors, and deciding which calls may be retried.

import { isRecoverableError } from "etcd3";
import { StorageError } from "./types.ts";

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function isCompactedError(error: unknown): boolean {
  return /required revision has been compacted/.test(message(error));
}

export function isFutureRevisionError(error: unknown): boolean {
  return /required revision is a future revision/.test(message(error));
}

/** etcd cannot serve the call right now (down, unreachable, no leader, overloaded, timed out). */
export function isTransient(error: unknown): boolean {
  if (error instanceof Error && (isRecoverableError(error) || error.name === "BrokenCircuitError"))
    return true;
  return /UNAVAILABLE|DEADLINE_EXCEEDED|ECONNREFUSED|ECONNRESET|circuit breaker|no leader|leader changed|request timed out|too many requests|client is closed|Client closed/i.test(
    message(error),
  );
}

/**
 * The request certainly never reached etcd, so even a non-idempotent write may be sent again: the breaker
 * refused it, or there was no connection to send it on.
 */
export function wasNeverSent(error: unknown): boolean {
  if (error instanceof Error && error.name === "BrokenCircuitError") return true;
  return /No connection established|ECONNREFUSED|circuit breaker is open/i.test(message(error));
}

/** Maps an etcd failure of `what` to a StorageError (or an Error with context when it is not transient). */
export function mapEtcdError(error: unknown, what: string, endpoints: string): Error {
  if (error instanceof StorageError) return error;
  if (isCompactedError(error)) {
    return new StorageError("STORAGE_GONE", `${what}: etcd at ${endpoints} has compacted that revision`, {
      cause: error,
    });
  }
  if (isTransient(error)) {
    return new StorageError(
      "STORAGE_UNAVAILABLE",
      `${what}: etcd at ${endpoints} is unavailable (${message(error)}); check that etcd is running and reachable there`,
      { cause: error },
    );
  }
  return new Error(`${what}: etcd at ${endpoints} failed: ${message(error)}`, { cause: error });
}
