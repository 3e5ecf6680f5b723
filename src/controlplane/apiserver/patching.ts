// The seam between the PATCH handler and the patch engines (./patch/): given the live object and the
// request body, produce the patched object. The engines own the patch semantics; the handler owns the
// read-modify-write loop, admission and storage.

import type { KubeObject } from "../../api/resource.ts";
import type { ServedResource } from "./resources.ts";

export const PATCH_CONTENT_TYPES = [
  "application/json-patch+json",
  "application/merge-patch+json",
  "application/strategic-merge-patch+json",
  "application/apply-patch+yaml",
] as const;

export interface PatchRequest {
  /** Media type of the body, without parameters. */
  contentType: string;
  /** The stored object, or undefined when it does not exist (only apply patches create). */
  live: KubeObject | undefined;
  body: string;
  resource: ServedResource;
  /** Subresource patched ("" or "status"): managed fields are tracked per subresource. */
  subresource: string;
  fieldManager: string | undefined;
  /** Server-side apply: take ownership of conflicting fields. */
  force: boolean;
  now: Date;
}

export interface PatchEngine {
  patch(request: PatchRequest): KubeObject;
}
