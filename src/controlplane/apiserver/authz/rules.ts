// RBAC's pure matching: does one PolicyRule cover a request, does one Subject name a user (upstream
// pkg/apis/rbac/v1 helpers and plugin/pkg/auth/authorizer/rbac). Table-tested.

import type { PolicyRule, Subject } from "../../../api/schema/rbac/rbac.ts";
import type { UserInfo } from "../pipeline/authentication.ts";
import type { RequestInfo } from "../request-info.ts";

const ALL = "*";

function verbMatches(rule: PolicyRule, verb: string): boolean {
  return (rule.verbs ?? []).some((v) => v === ALL || v === verb);
}

function apiGroupMatches(rule: PolicyRule, group: string): boolean {
  return (rule.apiGroups ?? []).some((g) => g === ALL || g === group);
}

/** `pods`, `pods/log`, `*` and `*\/log` (any resource's log subresource). */
function resourceMatches(rule: PolicyRule, resource: string, subresource: string): boolean {
  const combined = subresource ? `${resource}/${subresource}` : resource;
  return (rule.resources ?? []).some(
    (r) => r === ALL || r === combined || (subresource !== "" && r === `*/${subresource}`),
  );
}

function resourceNameMatches(rule: PolicyRule, name: string): boolean {
  const names = rule.resourceNames ?? [];
  return names.length === 0 || names.includes(name);
}

/** `*` matches everything; a trailing `*` matches by prefix; anything else exactly. */
export function nonResourceURLMatches(pattern: string, path: string): boolean {
  if (pattern === ALL || pattern === path) return true;
  return pattern.endsWith(ALL) && path.startsWith(pattern.slice(0, -1));
}

export function ruleAllows(rule: PolicyRule, request: RequestInfo): boolean {
  if (!verbMatches(rule, request.verb)) return false;
  if (request.isResourceRequest) {
    return (
      apiGroupMatches(rule, request.apiGroup) &&
      resourceMatches(rule, request.resource, request.subresource) &&
      resourceNameMatches(rule, request.name)
    );
  }
  return (rule.nonResourceURLs ?? []).some((u) => nonResourceURLMatches(u, request.path));
}

export function rulesAllow(rules: readonly PolicyRule[], request: RequestInfo): boolean {
  return rules.some((r) => ruleAllows(r, request));
}

export const SERVICE_ACCOUNT_PREFIX = "system:serviceaccount:";

/**
 * Whether `subject` of a binding in `namespace` ("" for ClusterRoleBindings) names `user`. A ServiceAccount
 * subject without a namespace means the binding's own.
 */
export function subjectMatches(subject: Subject, user: UserInfo, namespace: string): boolean {
  switch (subject.kind) {
    case "User":
      return user.name === subject.name;
    case "Group":
      return user.groups.includes(subject.name);
    case "ServiceAccount": {
      const ns = subject.namespace || namespace;
      return ns !== "" && user.name === `${SERVICE_ACCOUNT_PREFIX}${ns}:${subject.name}`;
    }
    default:
      return false;
  }
}
