// Writing responses: objects in the negotiated encoding, failures as Status objects, warnings as
// RFC 7234 Warning headers (upstream's "299 - \"message\"").

import type { ServerResponse } from "node:http";
import { stringify as toYaml } from "yaml";
import { ApiError, internalError, type Status } from "./errors.ts";

export interface ResponseOptions {
  encoding?: "json" | "yaml";
  warnings?: readonly string[];
}

function warningHeader(warnings: readonly string[]): string[] {
  return warnings.map((w) => `299 - ${JSON.stringify(w)}`);
}

export function writeObject(
  res: ServerResponse,
  code: number,
  body: unknown,
  options: ResponseOptions = {},
): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const yaml = options.encoding === "yaml";
  const text = yaml ? toYaml(body) : JSON.stringify(body);
  const headers: Record<string, string | string[] | number> = {
    "Content-Type": yaml ? "application/yaml" : "application/json",
    "Content-Length": Buffer.byteLength(text),
    "Cache-Control": "no-cache, private",
  };
  if (options.warnings && options.warnings.length > 0) headers.Warning = warningHeader(options.warnings);
  res.writeHead(code, headers);
  res.end(text);
}

/** Converts anything thrown into the Status the client sees. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  return internalError(error instanceof Error ? error.message : String(error));
}

export function writeStatus(res: ServerResponse, status: Status, options: ResponseOptions = {}): void {
  writeObject(res, status.code, status, options);
}

export function writeError(res: ServerResponse, error: unknown, options: ResponseOptions = {}): ApiError {
  const apiError = toApiError(error);
  const status = apiError.toStatus();
  if (res.headersSent) {
    res.end();
    return apiError;
  }
  const extra: ResponseOptions = { ...options };
  if (apiError.details?.retryAfterSeconds !== undefined) {
    res.setHeader("Retry-After", String(apiError.details.retryAfterSeconds));
  }
  writeStatus(res, status, extra);
  return apiError;
}

export function writeText(res: ServerResponse, code: number, text: string): void {
  res.writeHead(code, {
    "Content-Type": "text/plain; charset=utf-8",
    "Content-Length": Buffer.byteLength(text),
    "Cache-Control": "no-cache, private",
  });
  res.end(text);
}
