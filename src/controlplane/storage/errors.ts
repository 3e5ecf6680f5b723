// Classifying storage errors by behaviour, so callers branch on what happened rather than on messages.

import { StorageError, type StorageErrorCode } from "./types.ts";

export function isStorageError(error: unknown, code?: StorageErrorCode): error is StorageError {
  return error instanceof StorageError && (code === undefined || error.code === code);
}

export const isExists = (error: unknown): error is StorageError => isStorageError(error, "STORAGE_EXISTS");
export const isNotFound = (error: unknown): error is StorageError =>
  isStorageError(error, "STORAGE_NOT_FOUND");
export const isConflict = (error: unknown): error is StorageError =>
  isStorageError(error, "STORAGE_CONFLICT");
export const isGone = (error: unknown): error is StorageError => isStorageError(error, "STORAGE_GONE");
export const isUnavailable = (error: unknown): error is StorageError =>
  isStorageError(error, "STORAGE_UNAVAILABLE");
