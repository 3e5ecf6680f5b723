// Content negotiation: which representation the client accepts (plain object, Table, PartialObjectMetadata;
// JSON or YAML) and what the request body is. Upstream: k8s.io/apiserver/pkg/endpoints/handlers/negotiation.

import { notAcceptable } from "./errors.ts";

export type Transform = "none" | "Table" | "PartialObjectMetadata" | "PartialObjectMetadataList";

export interface OutputFormat {
  encoding: "json" | "yaml";
  transform: Transform;
  /** meta.k8s.io version of the transformed kind (v1 or v1beta1). */
  transformVersion: "v1" | "v1beta1";
}

interface MediaRange {
  type: string;
  params: Record<string, string>;
}

export function parseMediaRanges(header: string | undefined): MediaRange[] {
  if (!header) return [];
  return header
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part.length > 0)
    .map((part) => {
      const [type, ...rawParams] = part.split(";");
      const params: Record<string, string> = {};
      for (const p of rawParams) {
        const eq = p.indexOf("=");
        if (eq < 0) continue;
        params[p.slice(0, eq).trim().toLowerCase()] = p
          .slice(eq + 1)
          .trim()
          .replace(/^"|"$/g, "");
      }
      return { type: (type ?? "").trim().toLowerCase(), params };
    });
}

function encodingOf(type: string): "json" | "yaml" | undefined {
  if (type === "application/json" || type === "application/*" || type === "*/*") return "json";
  if (type === "application/yaml") return "yaml";
  return undefined;
}

/**
 * Picks the first representation in the Accept header that this server can produce. `allowTransforms`
 * is false for endpoints that never convert (discovery, subresources other than the object).
 */
export function negotiateOutput(accept: string | undefined, allowTransforms = true): OutputFormat {
  const ranges = parseMediaRanges(accept);
  if (ranges.length === 0) return { encoding: "json", transform: "none", transformVersion: "v1" };
  for (const range of ranges) {
    const encoding = encodingOf(range.type);
    if (!encoding) continue;
    const as = range.params.as;
    if (as === undefined) return { encoding, transform: "none", transformVersion: "v1" };
    if (!allowTransforms) continue;
    if (range.params.g !== "meta.k8s.io") continue;
    const v = range.params.v;
    if (v !== "v1" && v !== "v1beta1") continue;
    if (as === "Table" || as === "PartialObjectMetadata" || as === "PartialObjectMetadataList") {
      return { encoding, transform: as, transformVersion: v };
    }
  }
  throw notAcceptable(
    `only the following media types are accepted: application/json, application/yaml, application/json;as=Table;v=v1;g=meta.k8s.io`,
  );
}

/** The media type of a request body, without parameters ("application/json"). */
export function bodyMediaType(contentType: string | undefined): string {
  return (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
}
