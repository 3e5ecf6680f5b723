// GET of one object, LIST and WATCH.

import type { KubeObject } from "../../../api/resource.ts";
import { badRequest } from "../errors.ts";
import { type FieldSelector, parseFieldSelector, parseLabelSelector } from "../selectors.ts";
import { parseResourceVersion } from "../store/object-store.ts";
import { parseIncludeObject, partialObjectMetadata, toTable } from "../table.ts";
import { serveWatch, type WatchEncoder, type WatchStart } from "../watch/stream.ts";
import { parseBoolean, parseInteger } from "./query.ts";
import { type RequestScope, respondList, respondObject } from "./scope.ts";

export async function getObject(scope: RequestScope): Promise<void> {
  const obj = await scope.store.get(scope.info.namespace, scope.info.name);
  respondObject(scope, 200, obj);
}

function selectors(scope: RequestScope) {
  const labelSelector = parseLabelSelector(scope.query.get("labelSelector"));
  let fieldSelector = parseFieldSelector(scope.query.get("fieldSelector"));
  if (scope.info.name !== "") {
    // GET .../pods/x?watch=true watches one object: the name is a field selector.
    const text = [scope.query.get("fieldSelector") ?? "", `metadata.name=${scope.info.name}`]
      .filter(Boolean)
      .join(",");
    fieldSelector = parseFieldSelector(text);
  }
  scope.store.checkFieldSelector(fieldSelector);
  return { labelSelector, fieldSelector };
}

export async function listObjects(scope: RequestScope): Promise<void> {
  const { labelSelector, fieldSelector } = selectors(scope);
  const limit = parseInteger(scope.query, "limit");
  if (limit !== undefined && limit < 0)
    throw badRequest(`limit: Invalid value: ${limit}: must be greater than or equal to 0`);
  const request: Parameters<typeof scope.store.list>[1] = { labelSelector, fieldSelector };
  if (limit !== undefined) request.limit = limit;
  const cont = scope.query.get("continue");
  if (cont) request.continue = cont;
  const rv = scope.query.get("resourceVersion");
  if (rv !== null) request.resourceVersion = rv;
  const match = scope.query.get("resourceVersionMatch");
  if (match) request.resourceVersionMatch = match;
  const result = await scope.store.list(scope.info.namespace, request);
  const listMeta: { resourceVersion: string; continue?: string } = {
    resourceVersion: result.resourceVersion,
  };
  if (result.continue) listMeta.continue = result.continue;
  respondList(scope, result.items, listMeta);
}

function watchEncoder(scope: RequestScope): WatchEncoder {
  const { format, served } = scope;
  if (format.transform === "Table") {
    const includeObject = parseIncludeObject(scope.query.get("includeObject"));
    return {
      cacheKey: (first) => `table:${format.transformVersion}:${includeObject}:${first ? "h" : "n"}`,
      encode: (obj, first) =>
        toTable(served, [obj], { includeObject, noHeaders: !first }, format.transformVersion, {
          resourceVersion: obj.metadata?.resourceVersion ?? "",
        }),
    };
  }
  if (format.transform === "PartialObjectMetadata") {
    return {
      cacheKey: () => `partial:${format.transformVersion}`,
      encode: (obj) => partialObjectMetadata(obj, format.transformVersion),
    };
  }
  if (format.transform === "PartialObjectMetadataList") {
    throw badRequest("a watch cannot be served as PartialObjectMetadataList; ask for PartialObjectMetadata");
  }
  return { cacheKey: () => "object", encode: (obj) => obj };
}

function watchTimeoutMs(scope: RequestScope): number {
  const seconds = parseInteger(scope.query, "timeoutSeconds");
  if (seconds !== undefined && seconds > 0) return seconds * 1000;
  const min = scope.ctx.watch.minRequestTimeoutSeconds;
  return Math.round((min + Math.random() * min) * 1000);
}

export async function watchObjects(scope: RequestScope): Promise<void> {
  const { store, cache, served, ctx } = scope;
  const { labelSelector, fieldSelector } = selectors(scope);
  const matches = (obj: KubeObject) => store.matches(obj, labelSelector, fieldSelector as FieldSelector);
  const encoder = watchEncoder(scope);
  const allowBookmarks = parseBoolean(scope.query, "allowWatchBookmarks") ?? false;
  const sendInitialEvents = parseBoolean(scope.query, "sendInitialEvents") ?? false;
  const rv = scope.query.get("resourceVersion") ?? "";
  await cache.ready();

  let start: WatchStart;
  let initialEventsEnd: number | undefined;
  if (sendInitialEvents) {
    // WatchList: current state as ADDED events, then a bookmark marking their end.
    if (!allowBookmarks) throw badRequest("sendInitialEvents requires allowWatchBookmarks=true");
    const list = await store.list(scope.info.namespace, { labelSelector, fieldSelector });
    start = { kind: "initial", objects: list.items, revision: Number(list.resourceVersion) };
    initialEventsEnd = Number(list.resourceVersion);
  } else if (rv === "") {
    // "Get state and start at most recent": a consistent list, then events after it.
    const list = await store.list(scope.info.namespace, { labelSelector, fieldSelector });
    start = { kind: "initial", objects: list.items, revision: Number(list.resourceVersion) };
  } else if (rv === "0") {
    start = { kind: "cache" };
  } else {
    start = { kind: "after", revision: parseResourceVersion(rv) };
  }

  serveWatch({
    req: scope.req,
    res: scope.res,
    cache,
    keyPrefix: store.listPrefix(scope.info.namespace),
    matches,
    encoder,
    start,
    allowBookmarks,
    apiVersion: served.apiVersion,
    kind: served.kind,
    timeoutMs: watchTimeoutMs(scope),
    bookmarkIntervalMs: ctx.watch.bookmarkIntervalMs,
    clock: ctx.clock,
    ...(initialEventsEnd !== undefined ? { initialEventsEnd } : {}),
  });
}
