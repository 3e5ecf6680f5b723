// POST (create), PUT (update), PATCH, DELETE and DELETE of a collection.

import type { KubeObject } from "../../../api/resource.ts";
import { decodeObjectBody, readBody } from "../body.ts";
import { successStatus, unsupportedMediaType } from "../errors.ts";
import { metaOf } from "../metadata.ts";
import { bodyMediaType } from "../negotiation.ts";
import { PATCH_CONTENT_TYPES } from "../patching.ts";
import { parseFieldSelector, parseLabelSelector } from "../selectors.ts";
import type { UpdateMode } from "../store/object-store.ts";
import { decodeObject } from "./decode.ts";
import {
  parseBoolean,
  parseDeleteOptions,
  parseDryRun,
  parseFieldManager,
  parseFieldValidation,
} from "./query.ts";
import { type RequestScope, respondList, respondObject } from "./scope.ts";

function writeContext(scope: RequestScope, subresource = "") {
  return { user: scope.user, dryRun: parseDryRun(scope.query), subresource };
}

async function readObjectBody(scope: RequestScope): Promise<Record<string, unknown>> {
  const text = await readBody(scope.req);
  return decodeObjectBody(text, scope.req.headers["content-type"]);
}

/** managedFields for a POST/PUT by the request's manager (fieldManager, else the user agent). */
function withManagedFields(
  scope: RequestScope,
  live: KubeObject | undefined,
  next: KubeObject,
  subresource: string,
) {
  return scope.ctx.patch.recordUpdate({
    resource: scope.served,
    live,
    next,
    subresource,
    fieldManager: parseFieldManager(scope.query),
    userAgent: scope.req.headers["user-agent"],
    now: new Date(scope.ctx.clock.now()),
  });
}

export async function createObject(scope: RequestScope): Promise<void> {
  const validation = parseFieldValidation(scope.query);
  parseFieldManager(scope.query);
  const ctx = writeContext(scope);
  const raw = await readObjectBody(scope);
  const { object, warnings } = decodeObject(scope.served, raw, validation);
  scope.warnings.push(...warnings);
  const created = await scope.store.create(
    scope.info.namespace,
    withManagedFields(scope, undefined, object, ""),
    ctx,
  );
  respondObject(scope, 201, created);
}

/** PUT of the object or of its status. */
export async function replaceObject(scope: RequestScope, mode: UpdateMode = "main"): Promise<void> {
  const validation = parseFieldValidation(scope.query);
  parseFieldManager(scope.query);
  const ctx = writeContext(scope, mode === "status" || mode === "approval" ? mode : "");
  const raw = await readObjectBody(scope);
  const { object, warnings } = decodeObject(scope.served, raw, validation);
  scope.warnings.push(...warnings);
  const result = await scope.store.update(
    scope.info.namespace,
    scope.info.name,
    () => structuredClone(object),
    ctx,
    {
      mode,
    },
  );
  respondObject(scope, result.created ? 201 : 200, result.object);
}

/** PATCH of the object or of its status, in any of the four patch types. */
export async function patchObject(scope: RequestScope, mode: UpdateMode = "main"): Promise<void> {
  const contentType = bodyMediaType(scope.req.headers["content-type"]);
  if (!(PATCH_CONTENT_TYPES as readonly string[]).includes(contentType)) {
    throw unsupportedMediaType(contentType);
  }
  const validation = parseFieldValidation(scope.query);
  const fieldManager = scope.query.get("fieldManager") || undefined;
  const force = parseBoolean(scope.query, "force");
  const isApply = contentType === "application/apply-patch+yaml";
  const subresource = mode === "status" || mode === "approval" ? mode : "";
  const ctx = writeContext(scope, subresource);
  const body = (await readBody(scope.req)).toString("utf8");
  const pinned = patchPinsResourceVersion(contentType, body);
  const warnings = new Set<string>();
  const result = await scope.store.update(
    scope.info.namespace,
    scope.info.name,
    (current) => {
      const patched = scope.ctx.patch.patch({
        contentType,
        live: current,
        body,
        resource: scope.served,
        name: scope.info.name,
        subresource,
        fieldManager,
        userAgent: scope.req.headers["user-agent"],
        force,
        now: new Date(scope.ctx.clock.now()),
      });
      const { object, warnings: found } = decodeObject(
        scope.served,
        patched as Record<string, unknown>,
        validation,
      );
      for (const w of found) warnings.add(w);
      // A resourceVersion the patch itself sets is a precondition; one merely kept from the live object is not.
      if (!pinned && current) delete metaOf(object).resourceVersion;
      return object;
    },
    ctx,
    { mode, createIfMissing: isApply },
  );
  scope.warnings.push(...warnings);
  respondObject(scope, result.created ? 201 : 200, result.object);
}

/** Whether a patch body names metadata.resourceVersion (then it must match, as upstream). */
function patchPinsResourceVersion(contentType: string, body: string): boolean {
  if (!body.includes("resourceVersion")) return false;
  if (contentType === "application/json-patch+json") return /"\/metadata\/resourceVersion"/.test(body);
  return true;
}

export async function deleteObject(scope: RequestScope): Promise<void> {
  const bytes = await readBody(scope.req);
  const body =
    bytes.length === 0
      ? undefined
      : decodeObjectBody(bytes, scope.req.headers["content-type"] ?? "application/json");
  const options = parseDeleteOptions(body, scope.query);
  const ctx = { user: scope.user, dryRun: (options.dryRun ?? []).includes("All"), subresource: "" };
  const { object, deleted } = await scope.store.delete(scope.info.namespace, scope.info.name, options, ctx);
  const status = !deleted && options.orphanDependents === false ? 202 : 200;
  if (deleted && !scope.store.strategy.returnDeletedObject) {
    const details: { name: string; group?: string; kind: string; uid?: string } = {
      name: scope.info.name,
      kind: scope.served.plural,
    };
    if (scope.served.group) details.group = scope.served.group;
    if (object.metadata?.uid) details.uid = object.metadata.uid;
    respondObject(scope, status, successStatus(details));
    return;
  }
  respondObject(scope, status, object);
}

export async function deleteCollection(scope: RequestScope): Promise<void> {
  const bytes = await readBody(scope.req);
  const body =
    bytes.length === 0
      ? undefined
      : decodeObjectBody(bytes, scope.req.headers["content-type"] ?? "application/json");
  const options = parseDeleteOptions(body, scope.query);
  const ctx = { user: scope.user, dryRun: (options.dryRun ?? []).includes("All"), subresource: "" };
  const labelSelector = parseLabelSelector(scope.query.get("labelSelector"));
  const fieldSelector = parseFieldSelector(scope.query.get("fieldSelector"));
  const list = await scope.store.list(scope.info.namespace, { labelSelector, fieldSelector });
  const deleted: KubeObject[] = [];
  for (const item of list.items) {
    try {
      const { object } = await scope.store.delete(
        item.metadata?.namespace ?? "",
        item.metadata?.name ?? "",
        options,
        ctx,
      );
      deleted.push(object);
    } catch (error) {
      // Gone in the meantime: that is what we wanted.
      if ((error as { reason?: string }).reason !== "NotFound") throw error;
    }
  }
  respondList(scope, deleted, { resourceVersion: list.resourceVersion });
}
