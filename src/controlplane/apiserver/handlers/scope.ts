// What every resource handler gets: the parsed request, the caller, the resource and its store and
// watch cache, and the server-wide context.

import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import type { KubeObject } from "../../../api/resource.ts";
import type { Clock } from "../../../util/clock.ts";
import type { ServiceAccountTokens } from "../authn/serviceaccount.ts";
import { notAcceptable } from "../errors.ts";
import type { OutputFormat } from "../negotiation.ts";
import type { PatchEngine } from "../patching.ts";
import type { UserInfo } from "../pipeline/authentication.ts";
import type { Authorizer } from "../pipeline/authorization.ts";
import type { ResourceRequestInfo } from "../request-info.ts";
import type { ResourceRegistry, ServedResource } from "../resources.ts";
import { writeObject } from "../response.ts";
import type { ObjectStore } from "../store/object-store.ts";
import type { StreamingBackend } from "../streaming.ts";
import { type ListMeta, parseIncludeObject, partialObjectMetadata, toTable } from "../table.ts";
import type { WatchCache } from "../watch/cache.ts";

export interface WatchSettings {
  /** Interval of BOOKMARK events for watches that allow them. */
  bookmarkIntervalMs: number;
  /** Watches without timeoutSeconds end after a random time in [min, 2·min] seconds (upstream 1800). */
  minRequestTimeoutSeconds: number;
}

export interface ServerContext {
  registry: ResourceRegistry;
  stores: ReadonlyMap<ServedResource, ObjectStore>;
  caches: ReadonlyMap<ServedResource, WatchCache>;
  clock: Clock;
  log: Logger;
  watch: WatchSettings;
  streaming: StreamingBackend;
  patch: PatchEngine;
  /** The server's authorizer (without the system:masters shortcut), for access reviews. */
  authorizer: Authorizer;
  /** Signs serviceaccounts/<name>/token; without it the subresource answers 404. */
  serviceAccountTokens?: ServiceAccountTokens;
}

export interface RequestScope {
  ctx: ServerContext;
  req: IncomingMessage;
  res: ServerResponse;
  info: ResourceRequestInfo;
  query: URLSearchParams;
  user: UserInfo;
  served: ServedResource;
  store: ObjectStore;
  cache: WatchCache;
  format: OutputFormat;
  log: Logger;
  /** Warnings for the response's Warning headers. */
  warnings: string[];
}

/** Strips apiVersion/kind from list items, as typed lists upstream serialize them. */
function listItem(obj: KubeObject): KubeObject {
  const { apiVersion: _a, kind: _k, ...rest } = obj;
  return rest as KubeObject;
}

/** Writes one object in the representation the client negotiated. */
export function respondObject(scope: RequestScope, code: number, obj: unknown): void {
  const { format } = scope;
  let body = obj;
  const isObject = typeof obj === "object" && obj !== null && (obj as { kind?: string }).kind !== "Status";
  if (isObject && format.transform === "Table") {
    const o = obj as KubeObject;
    body = toTable(
      scope.served,
      [o],
      { includeObject: parseIncludeObject(scope.query.get("includeObject")), noHeaders: false },
      format.transformVersion,
      { resourceVersion: o.metadata?.resourceVersion ?? "" },
    );
  } else if (isObject && format.transform === "PartialObjectMetadata") {
    body = partialObjectMetadata(obj as KubeObject, format.transformVersion);
  } else if (isObject && format.transform === "PartialObjectMetadataList") {
    throw notAcceptable("you requested PartialObjectMetadataList, but the requested object is not a list");
  }
  writeObject(scope.res, code, body, { encoding: format.encoding, warnings: scope.warnings });
}

/** Writes a list in the representation the client negotiated. */
export function respondList(scope: RequestScope, items: KubeObject[], listMeta: ListMeta): void {
  const { format, served } = scope;
  let body: unknown;
  if (format.transform === "Table") {
    body = toTable(
      served,
      items,
      { includeObject: parseIncludeObject(scope.query.get("includeObject")), noHeaders: false },
      format.transformVersion,
      listMeta,
    );
  } else if (format.transform === "PartialObjectMetadataList") {
    body = {
      kind: "PartialObjectMetadataList",
      apiVersion: `meta.k8s.io/${format.transformVersion}`,
      metadata: listMeta,
      items: items.map((o) => partialObjectMetadata(o, format.transformVersion)),
    };
  } else if (format.transform === "PartialObjectMetadata") {
    throw notAcceptable("you requested PartialObjectMetadata, but the requested object is a list");
  } else {
    body = {
      kind: served.listKind,
      apiVersion: served.apiVersion,
      metadata: listMeta,
      items: items.map(listItem),
    };
  }
  writeObject(scope.res, 200, body, { encoding: format.encoding, warnings: scope.warnings });
}
