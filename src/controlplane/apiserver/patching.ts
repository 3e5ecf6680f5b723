// The seam between the write handlers and the patch engines (./patch/): PATCH bodies in all four types and
// managedFields bookkeeping for every write. The engines own the patch semantics; the handlers own the
// read-modify-write loop, admission and storage.

import type { KubeObject } from "../../api/resource.ts";
import { Scale } from "../../api/schema/autoscaling/scale-types.ts";
import { qualifiedName } from "./errors.ts";
import {
  applyPatch,
  inlineSchema,
  managerFromRequest,
  PatchError,
  type PatchSchema,
  recordUpdate,
} from "./patch/index.ts";
import type { ServedResource } from "./resources.ts";

export { PATCH_CONTENT_TYPES } from "./patch/index.ts";

export interface PatchRequest {
  /** Content-Type of the body. */
  contentType: string;
  /** The stored object (for scale: the Scale built from it), or undefined when missing (only apply creates). */
  live: KubeObject | undefined;
  body: string;
  resource: ServedResource;
  /** The object's name from the URL (for the 404 when there is nothing to patch). */
  name: string;
  /** "" for the object, "status", or "scale" (then `live` and the result are autoscaling/v1 Scales). */
  subresource: string;
  fieldManager: string | undefined;
  userAgent: string | undefined;
  /** The `force` query parameter (undefined when absent). */
  force: boolean | undefined;
  now: Date;
}

export interface UpdateRecord {
  resource: ServedResource;
  live: KubeObject | undefined;
  next: KubeObject;
  subresource: string;
  fieldManager: string | undefined;
  userAgent: string | undefined;
  now: Date;
}

export interface PatchEngine {
  /** The patched object; throws an ApiError (400/404/409/413/415/422) for a bad patch. */
  patch(request: PatchRequest): KubeObject;
  /** `next` with metadata.managedFields updated for a POST/PUT by this manager. */
  recordUpdate(request: UpdateRecord): KubeObject;
}

/** Fields an endpoint resets: the main resource never changes status, the status endpoint nothing else. */
function resetFields(resource: ServedResource, subresource: string): string[][] | undefined {
  if (subresource === "status" || subresource === "approval") return [["spec"]];
  if (subresource === "" && resource.hasStatus) return [["status"]];
  return undefined;
}

/** The engine over ./patch/, with each kind's schema giving merge keys, list types and patch strategies. */
export function schemaPatchEngine(): PatchEngine {
  const schemas = new WeakMap<object, PatchSchema>();
  const schemaOf = (root: Record<string, unknown>): PatchSchema => {
    let schema = schemas.get(root);
    if (!schema) {
      // Kind schemas are self-contained (named definitions are inlined), so no $ref needs resolving.
      schema = inlineSchema(root);
      schemas.set(root, schema);
    }
    return schema;
  };
  return {
    patch(request) {
      const r = request.resource;
      const isScale = request.subresource === "scale";
      const reset = resetFields(r, request.subresource);
      const result = applyPatch(request.contentType, request.live, request.body, {
        schema: schemaOf(isScale ? (Scale as unknown as Record<string, unknown>) : r.def.schema),
        gvk: isScale
          ? { group: "autoscaling", version: "v1", kind: "Scale" }
          : { group: r.group, version: r.version, kind: r.kind },
        ...(request.fieldManager !== undefined ? { fieldManager: request.fieldManager } : {}),
        ...(request.userAgent !== undefined ? { userAgent: request.userAgent } : {}),
        ...(request.force !== undefined ? { force: request.force } : {}),
        now: request.now,
        ...(request.subresource ? { subresource: request.subresource } : {}),
        ...(reset ? { resetFields: reset } : {}),
        // A Scale is a view: its managed fields are not stored anywhere.
        trackManagedFields: !isScale,
        target: { resource: qualifiedName(r.qualified), name: request.name },
      });
      if (result instanceof PatchError) throw result;
      return result.object;
    },
    recordUpdate(request) {
      const r = request.resource;
      const reset = resetFields(r, request.subresource);
      return recordUpdate(request.live as never, request.next as never, {
        schema: schemaOf(r.def.schema),
        manager: managerFromRequest(request.fieldManager, request.userAgent),
        apiVersion: r.apiVersion,
        now: request.now,
        ...(request.subresource ? { subresource: request.subresource } : {}),
        ...(reset ? { resetFields: reset } : {}),
      }) as unknown as KubeObject;
    },
  };
}
