// Dispatch of a resource request to its handler, by subresource and verb.

import { createReview, isReviewResource } from "./authz/reviews.ts";
import { subresourcesOf } from "./discovery.ts";
import { ApiError, methodNotAllowed } from "./errors.ts";
import { evictPod } from "./handlers/eviction.ts";
import { getObject, listObjects, watchObjects } from "./handlers/read.ts";
import type { RequestScope } from "./handlers/scope.ts";
import { bindPod, connect, finalizeNamespace, getScale, updateScale } from "./handlers/subresources.ts";
import { createToken } from "./handlers/token-request.ts";
import {
  createObject,
  deleteCollection,
  deleteObject,
  patchObject,
  replaceObject,
} from "./handlers/write.ts";
import { CONNECT_SUBRESOURCES } from "./request-info.ts";

function notServed(scope: RequestScope): ApiError {
  return new ApiError(
    404,
    "NotFound",
    `the server could not find the requested resource: ${scope.served.plural} have no subresource "${scope.info.subresource}"`,
  );
}

export async function routeResource(scope: RequestScope): Promise<void> {
  const { info, served } = scope;
  const verbs = served.def.verbs;
  const allowed = (verb: string) => {
    if (!verbs.includes(verb)) throw methodNotAllowed();
  };
  if (info.subresource === "") {
    switch (info.verb) {
      case "get":
        allowed("get");
        return getObject(scope);
      case "list":
        allowed("list");
        return listObjects(scope);
      case "watch":
        allowed("watch");
        return watchObjects(scope);
      case "create":
        if (info.name !== "") throw methodNotAllowed();
        allowed("create");
        // The legacy bindings resource binds the pod its Binding names, like pods/binding.
        if (served.group === "" && served.plural === "bindings") return bindPod(scope);
        if (isReviewResource(served)) return createReview(scope);
        return createObject(scope);
      case "update":
        if (info.name === "") throw methodNotAllowed();
        allowed("update");
        return replaceObject(scope, "main");
      case "patch":
        if (info.name === "") throw methodNotAllowed();
        allowed("patch");
        return patchObject(scope, "main");
      case "delete":
        allowed("delete");
        return deleteObject(scope);
      case "deletecollection":
        allowed("deletecollection");
        return deleteCollection(scope);
      default:
        throw methodNotAllowed();
    }
  }
  if (info.name === "") throw notServed(scope);
  const sub = info.subresource;
  if (!(subresourcesOf(served) as string[]).includes(sub)) throw notServed(scope);
  if (sub === "status" || sub === "approval") {
    if (info.verb === "get") return getObject(scope);
    if (info.verb === "update") return replaceObject(scope, sub);
    if (info.verb === "patch") return patchObject(scope, sub);
    throw methodNotAllowed();
  }
  if (sub === "scale") {
    if (info.verb === "get") return getScale(scope);
    if (info.verb === "update") return updateScale(scope, false);
    if (info.verb === "patch") return updateScale(scope, true);
    throw methodNotAllowed();
  }
  if (sub === "token") {
    if (info.verb === "create") return createToken(scope);
    throw methodNotAllowed();
  }
  if (sub === "eviction") {
    if (info.verb === "create") return evictPod(scope);
    throw methodNotAllowed();
  }
  if (sub === "binding") {
    if (info.verb === "create") return bindPod(scope);
    throw methodNotAllowed();
  }
  if (sub === "finalize") {
    if (info.verb === "update") return finalizeNamespace(scope);
    throw methodNotAllowed();
  }
  if (CONNECT_SUBRESOURCES.has(sub)) return connect(scope);
  throw notServed(scope);
}
