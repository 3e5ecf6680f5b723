// RBAC's rule and subject matching, and the RBAC authorizer over an in-memory source (table tests).

import { describe, expect, it } from "vitest";
import type { PolicyRule, Subject } from "../../../src/api/schema/rbac/rbac.ts";
import { uncovered } from "../../../src/controlplane/apiserver/authz/escalation.ts";
import { rbacAuthorizer } from "../../../src/controlplane/apiserver/authz/rbac.ts";
import { RbacIndex } from "../../../src/controlplane/apiserver/authz/rbac-index.ts";
import {
  nonResourceURLMatches,
  ruleAllows,
  subjectMatches,
} from "../../../src/controlplane/apiserver/authz/rules.ts";
import type { UserInfo } from "../../../src/controlplane/apiserver/pipeline/authentication.ts";
import type { RequestInfo, Verb } from "../../../src/controlplane/apiserver/request-info.ts";

function resource(
  verb: string,
  group: string,
  res: string,
  opts: { ns?: string; name?: string; sub?: string } = {},
): RequestInfo {
  return {
    isResourceRequest: true,
    path: "",
    verb: verb as Verb,
    apiGroup: group,
    apiVersion: "v1",
    namespace: opts.ns ?? "",
    resource: res,
    subresource: opts.sub ?? "",
    name: opts.name ?? "",
    rest: [],
  };
}
const path = (verb: string, p: string): RequestInfo => ({ isResourceRequest: false, verb, path: p });

describe("ruleAllows", () => {
  const cases: Array<[string, PolicyRule, RequestInfo, boolean]> = [
    [
      "exact verb, group, resource",
      { verbs: ["get"], apiGroups: [""], resources: ["pods"] },
      resource("get", "", "pods"),
      true,
    ],
    [
      "other verb",
      { verbs: ["get"], apiGroups: [""], resources: ["pods"] },
      resource("list", "", "pods"),
      false,
    ],
    [
      "verb wildcard",
      { verbs: ["*"], apiGroups: [""], resources: ["pods"] },
      resource("deletecollection", "", "pods"),
      true,
    ],
    [
      "other group",
      { verbs: ["get"], apiGroups: [""], resources: ["deployments"] },
      resource("get", "apps", "deployments"),
      false,
    ],
    [
      "group wildcard",
      { verbs: ["get"], apiGroups: ["*"], resources: ["deployments"] },
      resource("get", "apps", "deployments"),
      true,
    ],
    [
      "resource wildcard",
      { verbs: ["get"], apiGroups: ["apps"], resources: ["*"] },
      resource("get", "apps", "deployments", { sub: "scale" }),
      true,
    ],
    [
      "resource without its subresource",
      { verbs: ["get"], apiGroups: [""], resources: ["pods"] },
      resource("get", "", "pods", { sub: "log" }),
      false,
    ],
    [
      "resource/subresource",
      { verbs: ["get"], apiGroups: [""], resources: ["pods/log"] },
      resource("get", "", "pods", { sub: "log" }),
      true,
    ],
    [
      "subresource rule does not grant the resource",
      { verbs: ["get"], apiGroups: [""], resources: ["pods/log"] },
      resource("get", "", "pods"),
      false,
    ],
    [
      "*/subresource",
      { verbs: ["get"], apiGroups: ["*"], resources: ["*/status"] },
      resource("get", "apps", "deployments", { sub: "status" }),
      true,
    ],
    [
      "*/subresource needs that subresource",
      { verbs: ["get"], apiGroups: ["*"], resources: ["*/status"] },
      resource("get", "apps", "deployments"),
      false,
    ],
    [
      "resourceNames match",
      { verbs: ["get"], apiGroups: [""], resources: ["configmaps"], resourceNames: ["a", "b"] },
      resource("get", "", "configmaps", { name: "b" }),
      true,
    ],
    [
      "resourceNames miss",
      { verbs: ["get"], apiGroups: [""], resources: ["configmaps"], resourceNames: ["a"] },
      resource("get", "", "configmaps", { name: "c" }),
      false,
    ],
    [
      "resourceNames never match a list",
      { verbs: ["list"], apiGroups: [""], resources: ["configmaps"], resourceNames: ["a"] },
      resource("list", "", "configmaps"),
      false,
    ],
    [
      "resource rule never grants a path",
      { verbs: ["get"], apiGroups: ["*"], resources: ["*"] },
      path("get", "/healthz"),
      false,
    ],
    ["exact path", { verbs: ["get"], nonResourceURLs: ["/healthz"] }, path("get", "/healthz"), true],
    [
      "path is not a prefix",
      { verbs: ["get"], nonResourceURLs: ["/healthz"] },
      path("get", "/healthz/ping"),
      false,
    ],
    [
      "path with trailing *",
      { verbs: ["get"], nonResourceURLs: ["/healthz/*"] },
      path("get", "/healthz/ping"),
      true,
    ],
    ["path wildcard", { verbs: ["*"], nonResourceURLs: ["*"] }, path("post", "/anything"), true],
    [
      "path rule never grants a resource",
      { verbs: ["*"], nonResourceURLs: ["*"] },
      resource("get", "", "pods"),
      false,
    ],
  ];
  it.each(cases)("%s", (_name, rule, request, expected) => {
    expect(ruleAllows(rule, request)).toBe(expected);
  });

  it("matches non-resource URL patterns like upstream", () => {
    expect(nonResourceURLMatches("/api/*", "/api/v1")).toBe(true);
    expect(nonResourceURLMatches("/api/*", "/api")).toBe(false);
    expect(nonResourceURLMatches("/api*", "/apis")).toBe(true);
  });
});

describe("subjectMatches", () => {
  const alice: UserInfo = { name: "alice", groups: ["devs", "system:authenticated"] };
  const sa: UserInfo = { name: "system:serviceaccount:team:robot", groups: ["system:serviceaccounts"] };
  const cases: Array<[string, Subject, UserInfo, string, boolean]> = [
    ["user by name", { kind: "User", name: "alice" }, alice, "", true],
    ["other user", { kind: "User", name: "bob" }, alice, "", false],
    ["group", { kind: "Group", name: "devs" }, alice, "", true],
    ["a user name is not a group", { kind: "Group", name: "alice" }, alice, "", false],
    [
      "service account with namespace",
      { kind: "ServiceAccount", name: "robot", namespace: "team" },
      sa,
      "",
      true,
    ],
    [
      "service account defaults to the binding's namespace",
      { kind: "ServiceAccount", name: "robot" },
      sa,
      "team",
      true,
    ],
    ["service account in another namespace", { kind: "ServiceAccount", name: "robot" }, sa, "other", false],
    ["service account without any namespace", { kind: "ServiceAccount", name: "robot" }, sa, "", false],
    ["unknown kind", { kind: "Robot", name: "alice" }, alice, "", false],
  ];
  it.each(cases)("%s", (_name, subject, user, namespace, expected) => {
    expect(subjectMatches(subject, user, namespace)).toBe(expected);
  });
});

describe("rbacAuthorizer", () => {
  const index = new RbacIndex();
  const meta = (name: string, namespace?: string) => ({ name, ...(namespace ? { namespace } : {}) });
  index.clusterRoles.apply("ADDED", {
    metadata: meta("reader"),
    rules: [{ verbs: ["get"], apiGroups: [""], resources: ["pods"] }],
  } as never);
  index.roles.apply("ADDED", {
    metadata: meta("writer", "team"),
    rules: [{ verbs: ["create"], apiGroups: [""], resources: ["pods"] }],
  } as never);
  index.clusterRoleBindingIndex.apply("ADDED", {
    metadata: meta("readers"),
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "reader" },
    subjects: [{ kind: "Group", name: "readers" }],
  } as never);
  index.roleBindingIndex.apply("ADDED", {
    metadata: meta("writers", "team"),
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "writer" },
    subjects: [{ kind: "User", name: "wendy" }],
  } as never);
  index.roleBindingIndex.apply("ADDED", {
    metadata: meta("dangling", "team"),
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "gone" },
    subjects: [{ kind: "User", name: "wendy" }],
  } as never);
  const rbac = rbacAuthorizer(index);
  const wendy: UserInfo = { name: "wendy", groups: ["readers"] };

  it("allows through a ClusterRoleBinding anywhere, naming the binding", async () => {
    expect(
      rbac.authorize({ user: wendy, request: resource("get", "", "pods", { ns: "x", name: "p" }) }),
    ).toEqual({
      allowed: true,
      reason: 'RBAC: allowed by ClusterRoleBinding "readers" of ClusterRole "reader" to Group "readers"',
    });
  });

  it("allows through a RoleBinding only in its namespace", async () => {
    expect(
      rbac.authorize({ user: wendy, request: resource("create", "", "pods", { ns: "team" }) }),
    ).toMatchObject({
      allowed: true,
      reason: 'RBAC: allowed by RoleBinding "writers/team" of Role "writer" to User "wendy"',
    });
    expect(
      await rbac.authorize({ user: wendy, request: resource("create", "", "pods", { ns: "other" }) }),
    ).toEqual({
      allowed: false,
      reason: "",
    });
  });

  it("reports bindings to roles that do not exist", async () => {
    expect(
      await rbac.authorize({ user: wendy, request: resource("delete", "", "pods", { ns: "team" }) }),
    ).toEqual({
      allowed: false,
      reason: 'RBAC: clusterrole.rbac.authorization.k8s.io "gone" not found',
    });
  });

  it("forgets deleted bindings", async () => {
    index.roleBindingIndex.apply("DELETED", { metadata: meta("writers", "team") } as never);
    expect(
      (await rbac.authorize({ user: wendy, request: resource("create", "", "pods", { ns: "team" }) }))
        .allowed,
    ).toBe(false);
  });
});

describe("escalation: uncovered", () => {
  const owner: PolicyRule[] = [
    { verbs: ["get", "list"], apiGroups: [""], resources: ["pods", "pods/log"] },
    { verbs: ["*"], apiGroups: ["apps"], resources: ["deployments/*"] },
    { verbs: ["get"], apiGroups: [""], resources: ["configmaps"], resourceNames: ["a"] },
    { verbs: ["get"], nonResourceURLs: ["/logs/*"] },
  ];
  const cases: Array<[string, PolicyRule, number]> = [
    ["a subset", { verbs: ["get"], apiGroups: [""], resources: ["pods"] }, 0],
    [
      "parts held by different rules",
      { verbs: ["get"], apiGroups: [""], resources: ["pods", "pods/log"] },
      0,
    ],
    ["one verb too many", { verbs: ["get", "delete"], apiGroups: [""], resources: ["pods"] }, 1],
    [
      "resource/* covers its subresources",
      { verbs: ["update"], apiGroups: ["apps"], resources: ["deployments/scale"] },
      0,
    ],
    [
      "resource/* does not cover the resource",
      { verbs: ["update"], apiGroups: ["apps"], resources: ["deployments"] },
      1,
    ],
    [
      "named resource held",
      { verbs: ["get"], apiGroups: [""], resources: ["configmaps"], resourceNames: ["a"] },
      0,
    ],
    ["all names are more than one name", { verbs: ["get"], apiGroups: [""], resources: ["configmaps"] }, 1],
    ["wildcards are more than anything listed", { verbs: ["*"], apiGroups: ["*"], resources: ["*"] }, 1],
    ["URL under a held prefix", { verbs: ["get"], nonResourceURLs: ["/logs/kube"] }, 0],
    ["URL outside", { verbs: ["get"], nonResourceURLs: ["/metrics"] }, 1],
  ];
  it.each(cases)("%s", (_name, servant, count) => {
    expect(uncovered(owner, [servant])).toHaveLength(count);
  });

  it("cluster-admin covers everything", () => {
    const admin: PolicyRule[] = [
      { verbs: ["*"], apiGroups: ["*"], resources: ["*"] },
      { verbs: ["*"], nonResourceURLs: ["*"] },
    ];
    expect(
      uncovered(admin, [...owner, { verbs: ["escalate"], apiGroups: ["x"], resources: ["y/z"] }]),
    ).toEqual([]);
  });
});
