// Turns a request path into what upstream calls RequestInfo (k8s.io/apiserver/pkg/endpoints/request): the
// API group/version, namespace, resource, name, subresource and the verb. Pure; used by authorization,
// admission and routing alike.

export type Verb =
  | "get"
  | "list"
  | "watch"
  | "create"
  | "update"
  | "patch"
  | "delete"
  | "deletecollection"
  | "connect";

export interface ResourceRequestInfo {
  isResourceRequest: true;
  path: string;
  verb: Verb;
  /** "" for the core group (/api). */
  apiGroup: string;
  apiVersion: string;
  /** "" when the request is not namespaced (cluster-scoped or across all namespaces). */
  namespace: string;
  resource: string;
  subresource: string;
  name: string;
  /** Path segments after the subresource (e.g. pods/x/proxy/some/path). */
  rest: string[];
}

export interface NonResourceRequestInfo {
  isResourceRequest: false;
  path: string;
  verb: string;
  /** For /api, /apis, /api/v1, /apis/g, /apis/g/v (discovery): the group and version asked for. */
  apiPrefix?: "api" | "apis";
  apiGroup?: string;
  apiVersion?: string;
}

export type RequestInfo = ResourceRequestInfo | NonResourceRequestInfo;

/** Subresources of namespaces that sit directly after the namespace name (namespaces/x/status). */
const NAMESPACE_SUBRESOURCES = new Set(["status", "finalize"]);

function isTrue(value: string | null): boolean {
  return value === "true" || value === "1";
}

/**
 * Parses `pathname` (already without the query) for an HTTP `method`. Resource paths are
 * /api/v1/... and /apis/<group>/<version>/...; everything else is a non-resource request.
 */
export function parseRequestInfo(method: string, pathname: string, query: URLSearchParams): RequestInfo {
  const path = pathname;
  const httpVerb = method.toLowerCase();
  const segments = pathname.split("/").filter((s) => s.length > 0);
  const prefix = segments[0];
  if (prefix !== "api" && prefix !== "apis") return { isResourceRequest: false, path, verb: httpVerb };

  let rest = segments.slice(1);
  let apiGroup = "";
  if (prefix === "apis") {
    if (rest.length === 0) return { isResourceRequest: false, path, verb: httpVerb, apiPrefix: "apis" };
    apiGroup = rest[0] as string;
    rest = rest.slice(1);
    if (rest.length === 0)
      return { isResourceRequest: false, path, verb: httpVerb, apiPrefix: "apis", apiGroup };
  }
  if (rest.length === 0)
    return { isResourceRequest: false, path, verb: httpVerb, apiPrefix: prefix, apiGroup };
  const apiVersion = rest[0] as string;
  rest = rest.slice(1);
  if (rest.length === 0) {
    return { isResourceRequest: false, path, verb: httpVerb, apiPrefix: prefix, apiGroup, apiVersion };
  }

  let watchPrefix = false;
  if (rest[0] === "watch") {
    // Deprecated /watch/ prefix: GET /api/v1/watch/pods == GET /api/v1/pods?watch=true.
    watchPrefix = true;
    rest = rest.slice(1);
  }

  let namespace = "";
  if (rest[0] === "namespaces" && rest.length > 1) {
    namespace = rest[1] as string;
    if (rest.length > 2 && !NAMESPACE_SUBRESOURCES.has(rest[2] as string)) rest = rest.slice(2);
  }

  const resource = rest[0] ?? "";
  const name = rest[1] ?? "";
  const subresource = rest[2] ?? "";
  const tail = rest.slice(3);
  // For the namespaces resource itself the "namespace" is the object's name; it is cluster-scoped.
  if (resource === "namespaces") namespace = "";

  let verb: Verb;
  // pods/log is read with "get" (that is what RBAC rules name); exec/attach/portforward/proxy "connect".
  const isConnect = subresource !== "" && subresource !== "log" && CONNECT_SUBRESOURCES.has(subresource);
  switch (httpVerb) {
    case "post":
      verb = isConnect ? "connect" : "create";
      break;
    case "get":
    case "head":
      if (isConnect) verb = "connect";
      else if (name === "") verb = watchPrefix || isTrue(query.get("watch")) ? "watch" : "list";
      else verb = watchPrefix || isTrue(query.get("watch")) ? "watch" : "get";
      break;
    case "put":
      verb = isConnect ? "connect" : "update";
      break;
    case "patch":
      verb = "patch";
      break;
    case "delete":
      verb = isConnect ? "connect" : name === "" ? "deletecollection" : "delete";
      break;
    default:
      verb = "connect";
  }
  return {
    isResourceRequest: true,
    path,
    verb,
    apiGroup,
    apiVersion,
    namespace,
    resource,
    subresource,
    name,
    rest: tail,
  };
}

/** Subresources that stream or proxy rather than read or write an object. */
export const CONNECT_SUBRESOURCES = new Set(["log", "exec", "attach", "portforward", "proxy"]);
