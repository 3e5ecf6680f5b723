// The PATCH entry point: picks the engine from the Content-Type and returns the patched object (with its
// managedFields brought up to date) or a PatchError that maps onto a Kubernetes Status. Pure: no I/O, no
// clock (the caller passes `now`), no storage; the caller still runs admission, defaulting, validation,
// the name/namespace/resourceVersion checks and the optimistic-concurrency write.

import type { KubeObject } from "../../../api/resource.ts";
import {
  invalidPatchedObject,
  invalidPatchOptions,
  PatchError,
  patchTargetNotFound,
  unsupportedPatchType,
} from "./errors.ts";
import { applyJsonPatch, decodeJsonPatch } from "./json-patch.ts";
import { isJsonObject, type JsonObject, type JsonValue } from "./json-value.ts";
import { FIELD_MANAGER_MAX_LENGTH, managerFromRequest, recordUpdate } from "./managed-fields.ts";
import { applyMergePatch, decodeMergePatch } from "./merge-patch.ts";
import type { PatchSchema } from "./schema.ts";
import {
  decodeApplyPatch,
  type GroupVersionKind,
  groupVersion,
  serverSideApply,
} from "./server-side-apply.ts";
import { applyStrategicMergePatch, decodeStrategicMergePatch } from "./strategic-merge-patch.ts";

export {
  isPatchError,
  PatchError,
} from "./errors.ts";
export { applyJsonPatch, decodeJsonPatch, MAX_JSON_PATCH_OPERATIONS } from "./json-patch.ts";
export {
  LAST_APPLIED_ANNOTATION,
  managerFromRequest,
  recordUpdate,
  type UpdateOwnershipOptions,
} from "./managed-fields.ts";
export { applyMergePatch, decodeMergePatch } from "./merge-patch.ts";
export { inlineSchema, NO_SCHEMA, type PatchSchema, type SchemaNode, schemaFromDocument } from "./schema.ts";
export {
  type ApplyOptions,
  decodeApplyPatch,
  type GroupVersionKind,
  serverSideApply,
} from "./server-side-apply.ts";
export { applyStrategicMergePatch, decodeStrategicMergePatch } from "./strategic-merge-patch.ts";

/** The patch content types kube-apiserver accepts for built-in resources, in its order. */
export const PATCH_CONTENT_TYPES = [
  "application/json-patch+json",
  "application/merge-patch+json",
  "application/strategic-merge-patch+json",
  "application/apply-patch+yaml",
] as const;

export type PatchContentType = (typeof PATCH_CONTENT_TYPES)[number];
export type PatchType = "json" | "merge" | "strategic" | "apply";

const PATCH_TYPE: Record<PatchContentType, PatchType> = {
  "application/json-patch+json": "json",
  "application/merge-patch+json": "merge",
  "application/strategic-merge-patch+json": "strategic",
  "application/apply-patch+yaml": "apply",
};

/** The patch type of a Content-Type header (parameters such as charset ignored), or undefined. */
export function patchTypeOf(contentType: string | undefined): PatchType | undefined {
  const base = (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  return (PATCH_TYPE as Record<string, PatchType | undefined>)[base];
}

export interface PatchContext {
  /** The kind's schema (strategic merge metadata, list types); NO_SCHEMA for generic rules. */
  schema: PatchSchema;
  /** The kind the endpoint serves, e.g. {group: "apps", version: "v1", kind: "Deployment"}. */
  gvk: GroupVersionKind;
  /** The `fieldManager` query parameter. Required for apply; otherwise derived from the user agent. */
  fieldManager?: string;
  /** The request's User-Agent (names the manager of a patch without fieldManager, as upstream). */
  userAgent?: string;
  /** The `force` query parameter; only allowed for apply (undefined = not given). */
  force?: boolean;
  /** The request time, for managedFields timestamps. */
  now: Date;
  /** "status", "scale" … when patching a subresource. */
  subresource?: string;
  /** Fields the endpoint's strategy resets, e.g. [["status"]] for a main resource with a status subresource. */
  resetFields?: readonly (readonly string[])[];
  /** Keep metadata.managedFields up to date (default true). */
  trackManagedFields?: boolean;
  /** For the 404 message when a non-apply patch has no live object: {resource: "deployments.apps", name}. */
  target?: { resource: string; name: string };
}

export interface PatchResult {
  patchType: PatchType;
  /** The patched object, not yet defaulted or validated; for apply without a live object, the one to create. */
  object: KubeObject;
}

/**
 * Applies a PATCH body to `live` (undefined when the object does not exist: only apply can create).
 * Never throws for bad input: returns a PatchError instead (400 undecodable body, 404 nothing to patch,
 * 409 apply conflict, 413 too many operations, 415 unknown content type, 422 invalid patch or options).
 */
export function applyPatch(
  contentType: string | undefined,
  live: KubeObject | undefined,
  body: Buffer | string,
  ctx: PatchContext,
): PatchResult | PatchError {
  const patchType = patchTypeOf(contentType);
  if (!patchType) return unsupportedPatchType(PATCH_CONTENT_TYPES);
  try {
    validatePatchOptions(patchType, ctx);
    const text = typeof body === "string" ? body : body.toString("utf8");
    const liveObject = live as JsonObject | undefined;
    if (patchType === "apply") {
      const config = decodeApplyPatch(text);
      const object = serverSideApply(liveObject, config, {
        schema: ctx.schema,
        gvk: ctx.gvk,
        manager: ctx.fieldManager as string,
        force: ctx.force ?? false,
        now: ctx.now,
        ...(ctx.subresource ? { subresource: ctx.subresource } : {}),
        ...(ctx.resetFields ? { resetFields: ctx.resetFields } : {}),
      });
      return { patchType, object: object as KubeObject };
    }

    let patched: JsonValue;
    if (patchType === "json") {
      const ops = decodeJsonPatch(text);
      if (!liveObject) throw patchTargetNotFound(ctx.target?.resource, ctx.target?.name);
      patched = applyJsonPatch(liveObject, ops);
    } else if (patchType === "merge") {
      const patch = decodeMergePatch(text);
      if (!liveObject) throw patchTargetNotFound(ctx.target?.resource, ctx.target?.name);
      patched = applyMergePatch(liveObject, patch);
    } else {
      const patch = decodeStrategicMergePatch(text);
      if (!liveObject) throw patchTargetNotFound(ctx.target?.resource, ctx.target?.name);
      patched = applyStrategicMergePatch(liveObject, patch, ctx.schema);
    }
    if (!isJsonObject(patched)) {
      throw invalidPatchedObject(
        text,
        `the patched document is a JSON ${Array.isArray(patched) ? "array" : typeof patched}, not a ${ctx.gvk.kind} object`,
      );
    }
    if (ctx.trackManagedFields === false) return { patchType, object: patched as KubeObject };
    const object = recordUpdate(liveObject, patched, {
      schema: ctx.schema,
      manager: managerFromRequest(ctx.fieldManager, ctx.userAgent),
      apiVersion: groupVersion(ctx.gvk),
      now: ctx.now,
      ...(ctx.subresource ? { subresource: ctx.subresource } : {}),
      ...(ctx.resetFields ? { resetFields: ctx.resetFields } : {}),
    });
    return { patchType, object: object as KubeObject };
  } catch (error) {
    if (error instanceof PatchError) return error;
    throw error;
  }
}

/** Upstream's ValidatePatchOptions for the parts that depend on the patch type. */
function validatePatchOptions(patchType: PatchType, ctx: PatchContext): void {
  const causes: { reason: string; field: string; detail: string }[] = [];
  if (patchType !== "apply") {
    if (ctx.force !== undefined) {
      causes.push({
        reason: "FieldValueForbidden",
        field: "force",
        detail: "Forbidden: may not be specified for non-apply patch",
      });
    }
  } else if (!ctx.fieldManager) {
    causes.push({
      reason: "FieldValueRequired",
      field: "fieldManager",
      detail: "Required value: is required for apply patch",
    });
  }
  const manager = ctx.fieldManager ?? "";
  if (Buffer.byteLength(manager) > FIELD_MANAGER_MAX_LENGTH) {
    causes.push({
      reason: "FieldValueTooLong",
      field: "fieldManager",
      detail: `Too long: may not be more than ${FIELD_MANAGER_MAX_LENGTH} bytes`,
    });
  }
  if (/\p{C}/u.test(manager)) {
    causes.push({
      reason: "FieldValueInvalid",
      field: "fieldManager",
      detail: `Invalid value: ${JSON.stringify(manager)}: must only contain printable characters`,
    });
  }
  if (causes.length > 0) throw invalidPatchOptions(causes);
}
