// Reading and decoding request bodies: a hard size limit (upstream's 3 MiB for JSON/YAML, answered with
// 413), JSON or YAML by Content-Type, and 400 with the parser's message for malformed input.

import type { IncomingMessage } from "node:http";
import { parseYamlStrict } from "../../util/yaml.ts";
import { badRequest, tooLarge, unsupportedMediaType } from "./errors.ts";
import { bodyMediaType } from "./negotiation.ts";
import { decodeProtobufBody, PROTOBUF_MEDIA_TYPE } from "./protobuf/decode.ts";

/** Upstream's limit on request bodies (apiserver maxRequestBodyBytes). */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

/** How much of an oversized body is read and discarded so the client gets its 413 on a clean connection. */
const MAX_DRAIN_BYTES = 16 * 1024 * 1024;

/**
 * Reads the whole body, or throws 413 when it exceeds `limit` bytes. An oversized body is drained (up to
 * 16 MiB, not kept) before the answer, so the client reads a 413 Status rather than a reset connection.
 */
export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > MAX_DRAIN_BYTES) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_DRAIN_BYTES) throw tooLarge(limit);
    if (size <= limit) chunks.push(buf);
  }
  if (size > limit) throw tooLarge(limit);
  return Buffer.concat(chunks);
}

/**
 * Discards what is left of a request body (at most 16 MiB) so an error answered before the body was read
 * reaches the client on a connection it can keep using. Resolves false when the body was too large to drain.
 */
export async function drainBody(req: IncomingMessage): Promise<boolean> {
  if (req.readableEnded || req.complete) return true;
  let size = 0;
  try {
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_DRAIN_BYTES) return false;
    }
  } catch {
    return false;
  }
  return true;
}

const JSON_TYPES = new Set([
  "application/json",
  "application/json-patch+json",
  "application/merge-patch+json",
  "application/strategic-merge-patch+json",
]);
const YAML_TYPES = new Set(["application/yaml", "application/apply-patch+yaml", "text/yaml"]);

/** Every body media type a write endpoint accepts. */
export function isSupportedBodyType(mediaType: string): boolean {
  return (
    JSON_TYPES.has(mediaType) ||
    YAML_TYPES.has(mediaType) ||
    mediaType === PROTOBUF_MEDIA_TYPE ||
    mediaType === ""
  );
}

/** Parses the body as JSON, YAML or Kubernetes protobuf per Content-Type; the result is a plain JSON value. */
export function decodeBody(body: Buffer, contentType: string | undefined): unknown {
  const mediaType = bodyMediaType(contentType);
  if (mediaType === PROTOBUF_MEDIA_TYPE) return decodeProtobufBody(body).object;
  const text = body.toString("utf8");
  if (text.trim() === "") throw badRequest("the request body is empty: a JSON or YAML object is required");
  if (JSON_TYPES.has(mediaType) || mediaType === "") {
    try {
      return JSON.parse(text);
    } catch (error) {
      throw badRequest(`the request body is not valid JSON: ${(error as Error).message}`);
    }
  }
  if (YAML_TYPES.has(mediaType)) {
    try {
      // JSON is YAML, so apply-patch bodies sent as JSON parse here too.
      const docs = parseYamlStrict(text) as unknown;
      return docs;
    } catch (error) {
      throw badRequest(`the request body is not valid YAML: ${(error as Error).message.split("\n")[0]}`);
    }
  }
  throw unsupportedMediaType(mediaType);
}

/** Decodes a body that must be a JSON object (every object write). */
export function decodeObjectBody(body: Buffer, contentType: string | undefined): Record<string, unknown> {
  const value = decodeBody(body, contentType);
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw badRequest(
      `the request body must be a JSON or YAML object, not ${Array.isArray(value) ? "an array" : typeof value}`,
    );
  }
  return value as Record<string, unknown>;
}
