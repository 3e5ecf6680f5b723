// User impersonation (upstream's WithImpersonation filter; `kubectl --as/--as-group/--as-uid`): the
// Impersonate-User, -Group, -Uid and -Extra-<key> headers make the request act as another user, provided
// the requester may `impersonate` each of them (users, groups, serviceaccounts, uids and userextras/<key>).
// Without those headers the requester stays who they are.

import type { IncomingHttpHeaders } from "node:http";
import { badRequest } from "../errors.ts";
import type { UserInfo } from "../pipeline/authentication.ts";
import { type AuthorizationAttributes, type Decision, forbiddenError } from "../pipeline/authorization.ts";
import type { ResourceRequestInfo } from "../request-info.ts";
import { SERVICE_ACCOUNT_PREFIX } from "./rules.ts";

const USER = "impersonate-user";
const GROUP = "impersonate-group";
const UID = "impersonate-uid";
const EXTRA_PREFIX = "impersonate-extra-";

function values(header: string | string[] | undefined): string[] {
  if (header === undefined) return [];
  return Array.isArray(header) ? header : [header];
}

function impersonateRequest(
  resource: string,
  name: string,
  opts: { group?: string; namespace?: string; subresource?: string } = {},
): ResourceRequestInfo {
  return {
    isResourceRequest: true,
    path: "",
    verb: "impersonate" as ResourceRequestInfo["verb"],
    apiGroup: opts.group ?? "",
    apiVersion: "",
    namespace: opts.namespace ?? "",
    resource,
    subresource: opts.subresource ?? "",
    name,
    rest: [],
  };
}

/** Whether the request asks to impersonate anybody. */
export function wantsImpersonation(headers: IncomingHttpHeaders): boolean {
  return Object.keys(headers).some(
    (h) => h === USER || h === GROUP || h === UID || h.startsWith(EXTRA_PREFIX),
  );
}

/**
 * The user the request acts as. `check` is the server's authorization (system:masters included); a refused
 * impersonation is a 403 worded like any other, e.g. `users "x" is forbidden: User "bob" cannot impersonate
 * resource "users" in API group "" at the cluster scope`.
 */
export async function impersonate(
  headers: IncomingHttpHeaders,
  requester: UserInfo,
  check: (attributes: AuthorizationAttributes) => Promise<Decision>,
): Promise<UserInfo> {
  if (!wantsImpersonation(headers)) return requester;
  const name = values(headers[USER])[0] ?? "";
  const groups = values(headers[GROUP]).flatMap((g) => g.split(",").map((s) => s.trim()));
  const uid = values(headers[UID])[0];
  const extra: Record<string, string[]> = {};
  for (const [header, value] of Object.entries(headers)) {
    if (!header.startsWith(EXTRA_PREFIX)) continue;
    const key = decodeURIComponent(header.slice(EXTRA_PREFIX.length));
    extra[key] = values(value).flatMap((v) => v.split(",").map((s) => s.trim()));
  }
  if (name === "") {
    throw badRequest("requested impersonation of groups, a uid or extra fields without impersonating a user");
  }

  const requests: ResourceRequestInfo[] = [];
  let serviceAccountGroups: string[] = [];
  if (name.startsWith(SERVICE_ACCOUNT_PREFIX)) {
    const [namespace = "", saName = ""] = name.slice(SERVICE_ACCOUNT_PREFIX.length).split(":");
    requests.push(impersonateRequest("serviceaccounts", saName, { namespace }));
    serviceAccountGroups = ["system:serviceaccounts", `system:serviceaccounts:${namespace}`];
  } else {
    requests.push(impersonateRequest("users", name));
  }
  for (const g of groups) requests.push(impersonateRequest("groups", g));
  if (uid !== undefined) requests.push(impersonateRequest("uids", uid, { group: "authentication.k8s.io" }));
  for (const [key, vals] of Object.entries(extra)) {
    for (const v of vals) {
      requests.push(
        impersonateRequest("userextras", v, { group: "authentication.k8s.io", subresource: key }),
      );
    }
  }
  for (const request of requests) {
    const decision = await check({ user: requester, request });
    if (!decision.allowed) throw forbiddenError(requester, request, decision.reason);
  }

  const impersonated: UserInfo = { name, groups: groups.length > 0 ? [...groups] : serviceAccountGroups };
  if (name === "system:anonymous") {
    if (!impersonated.groups.includes("system:unauthenticated"))
      impersonated.groups.push("system:unauthenticated");
  } else if (
    !impersonated.groups.some((g) => g === "system:authenticated" || g === "system:unauthenticated")
  ) {
    impersonated.groups.push("system:authenticated");
  }
  if (uid !== undefined) impersonated.uid = uid;
  if (Object.keys(extra).length > 0) impersonated.extra = extra;
  return impersonated;
}
