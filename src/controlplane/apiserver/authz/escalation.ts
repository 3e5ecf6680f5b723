// RBAC's escalation check (upstream pkg/registry/rbac: role and binding storage with ConfirmNoEscalation
// and the `escalate` / `bind` verbs): a user may write a Role or ClusterRole only with rules they already
// hold (or with `escalate` on it), and bind a role only when they hold its rules where the binding applies
// (or with `bind` on that role). system:masters may do both. Runs as a validating admission plugin.

import type { KubeObject } from "../../../api/resource.ts";
import type { ClusterRole, PolicyRule, Role, RoleBinding } from "../../../api/schema/rbac/rbac.ts";
import { RBAC_GROUP } from "../../../api/schema/rbac/rbac.ts";
import { forbidden } from "../errors.ts";
import type { AdmissionAttributes, AdmissionPlugin } from "../pipeline/admission.ts";
import type { UserInfo } from "../pipeline/authentication.ts";
import { type AuthorizationAttributes, type Decision, SYSTEM_MASTERS } from "../pipeline/authorization.ts";
import type { ResourceRequestInfo } from "../request-info.ts";
import { nonResourceURLMatches } from "./rules.ts";

const ALL = "*";
const FULL_AUTHORITY: PolicyRule[] = [
  { verbs: [ALL], apiGroups: [ALL], resources: [ALL] },
  { verbs: [ALL], nonResourceURLs: [ALL] },
];

function resourceCovered(owner: string[], resource: string): boolean {
  if (owner.includes(ALL) || owner.includes(resource)) return true;
  const slash = resource.indexOf("/");
  if (slash < 0) return false;
  return owner.includes(`${resource.slice(0, slash)}/*`) || owner.includes(`*${resource.slice(slash)}`);
}

/** Whether one owner rule grants everything one servant rule does (upstream's ruleCovers). */
export function ruleCovers(owner: PolicyRule, servant: PolicyRule): boolean {
  const ownerVerbs = owner.verbs ?? [];
  if (!ownerVerbs.includes(ALL) && !(servant.verbs ?? []).every((v) => ownerVerbs.includes(v))) return false;
  const servantURLs = servant.nonResourceURLs ?? [];
  if (servantURLs.length > 0) {
    const ownerURLs = owner.nonResourceURLs ?? [];
    return servantURLs.every((u) =>
      ownerURLs.some((o) => o === u || (o.endsWith(ALL) && nonResourceURLMatches(o, u.replace(/\*$/, "")))),
    );
  }
  const ownerGroups = owner.apiGroups ?? [];
  if (!ownerGroups.includes(ALL) && !(servant.apiGroups ?? []).every((g) => ownerGroups.includes(g)))
    return false;
  const ownerResources = owner.resources ?? [];
  if (!(servant.resources ?? []).every((r) => resourceCovered(ownerResources, r))) return false;
  const ownerNames = owner.resourceNames ?? [];
  if (ownerNames.length === 0) return true;
  const servantNames = servant.resourceNames ?? [];
  return servantNames.length > 0 && servantNames.every((n) => ownerNames.includes(n));
}

/** Splits a rule into one-verb, one-group, one-resource, one-name rules so that owners may cover parts. */
function breakdown(rule: PolicyRule): PolicyRule[] {
  const out: PolicyRule[] = [];
  const verbs = rule.verbs ?? [];
  if ((rule.nonResourceURLs ?? []).length > 0) {
    for (const verb of verbs)
      for (const u of rule.nonResourceURLs ?? []) out.push({ verbs: [verb], nonResourceURLs: [u] });
    return out;
  }
  const names = rule.resourceNames ?? [];
  for (const group of rule.apiGroups ?? []) {
    for (const resource of rule.resources ?? []) {
      for (const verb of verbs) {
        if (names.length === 0) out.push({ verbs: [verb], apiGroups: [group], resources: [resource] });
        for (const name of names)
          out.push({ verbs: [verb], apiGroups: [group], resources: [resource], resourceNames: [name] });
      }
    }
  }
  return out;
}

/** The servant rules' parts that no owner rule covers (empty: no escalation). */
export function uncovered(owner: readonly PolicyRule[], servant: readonly PolicyRule[]): PolicyRule[] {
  return servant.flatMap(breakdown).filter((s) => !owner.some((o) => ruleCovers(o, s)));
}

function formatRule(rule: PolicyRule): string {
  const list = (values: string[]) => `[${values.map((v) => JSON.stringify(v)).join(" ")}]`;
  const parts: string[] = [];
  if ((rule.apiGroups ?? []).length > 0) parts.push(`APIGroups:${list(rule.apiGroups ?? [])}`);
  if ((rule.resources ?? []).length > 0) parts.push(`Resources:${list(rule.resources ?? [])}`);
  if ((rule.resourceNames ?? []).length > 0) parts.push(`ResourceNames:${list(rule.resourceNames ?? [])}`);
  if ((rule.nonResourceURLs ?? []).length > 0)
    parts.push(`NonResourceURLs:${list(rule.nonResourceURLs ?? [])}`);
  parts.push(`Verbs:${list(rule.verbs ?? [])}`);
  return `{${parts.join(", ")}}`;
}

export interface EscalationDeps {
  /** The user's RBAC rules in a namespace ("" for cluster-wide only). */
  rulesFor(user: UserInfo, namespace: string): PolicyRule[];
  clusterRole(name: string): ClusterRole | undefined;
  role(namespace: string, name: string): Role | undefined;
  /** The server's authorizer, for the `escalate` and `bind` verbs. */
  authorize(attributes: AuthorizationAttributes): Promise<Decision>;
}

function verbRequest(verb: string, resource: string, namespace: string, name: string): ResourceRequestInfo {
  return {
    isResourceRequest: true,
    path: "",
    verb: verb as ResourceRequestInfo["verb"],
    apiGroup: RBAC_GROUP,
    apiVersion: "v1",
    namespace,
    resource,
    subresource: "",
    name,
    rest: [],
  };
}

export function rbacEscalation(deps: EscalationDeps): AdmissionPlugin {
  function refuse(a: AdmissionAttributes, missing: PolicyRule[], extra = ""): never {
    const groups = a.user.groups.map((g) => JSON.stringify(g)).join(" ");
    throw forbidden(
      a.resource.qualified,
      a.name,
      `user "${a.user.name}" (groups=[${groups}]) is attempting to grant RBAC permissions not currently held:\n${missing.map(formatRule).join("\n")}${extra}`,
    );
  }

  async function checkRole(a: AdmissionAttributes): Promise<void> {
    const role = a.object as Role | ClusterRole;
    const namespace = a.resource.namespaced ? a.namespace : "";
    const owned = deps.rulesFor(a.user, namespace);
    const escalate = () =>
      deps.authorize({
        user: a.user,
        request: verbRequest("escalate", a.resource.plural, namespace, a.name),
      });
    // An aggregation rule can gather anything, so it takes everything (upstream: cluster-admin).
    if ((role as ClusterRole).aggregationRule && uncovered(owned, FULL_AUTHORITY).length > 0) {
      if ((await escalate()).allowed) return;
      throw forbidden(
        a.resource.qualified,
        a.name,
        "must have cluster-admin privileges to use the aggregationRule",
      );
    }
    const missing = uncovered(owned, (role.rules ?? []) as PolicyRule[]);
    if (missing.length === 0) return;
    if (!(await escalate()).allowed) refuse(a, missing);
  }

  async function checkBinding(a: AdmissionAttributes): Promise<void> {
    const binding = a.object as RoleBinding;
    const namespace = a.resource.namespaced ? a.namespace : "";
    const ref = binding.roleRef ?? { kind: "", name: "" };
    const role = ref.kind === "Role" ? deps.role(namespace, ref.name) : deps.clusterRole(ref.name);
    // A binding to a role that does not exist grants nothing yet; upstream refuses it unless `bind` is held.
    const roleRules = (role?.rules ?? []) as PolicyRule[];
    const missing = role ? uncovered(deps.rulesFor(a.user, namespace), roleRules) : [];
    if (role && missing.length === 0) return;
    const bind = await deps.authorize({
      user: a.user,
      request: verbRequest("bind", ref.kind === "Role" ? "roles" : "clusterroles", namespace, ref.name),
    });
    if (bind.allowed) return;
    if (!role) {
      throw forbidden(
        a.resource.qualified,
        a.name,
        `${ref.kind.toLowerCase()}.rbac.authorization.k8s.io "${ref.name}" not found; only users allowed to bind it may create a binding to it`,
      );
    }
    refuse(a, missing);
  }

  return {
    name: "RBACEscalation",
    async validate(a) {
      if (a.resource.group !== RBAC_GROUP || a.subresource !== "") return;
      if (a.operation !== "CREATE" && a.operation !== "UPDATE") return;
      if (a.user.groups.includes(SYSTEM_MASTERS) || !a.object) return;
      if (a.operation === "UPDATE" && sameGrant(a.object, a.oldObject)) return;
      if (a.resource.plural === "roles" || a.resource.plural === "clusterroles") await checkRole(a);
      else if (a.resource.plural === "rolebindings" || a.resource.plural === "clusterrolebindings")
        await checkBinding(a);
    },
  };
}

/** An update that changes neither rules nor subjects (labels, annotations) grants nothing new. */
function sameGrant(next: KubeObject, old: KubeObject | undefined): boolean {
  if (!old) return false;
  const grant = (o: KubeObject) => {
    const x = o as { rules?: unknown; subjects?: unknown; roleRef?: unknown; aggregationRule?: unknown };
    return JSON.stringify([x.rules ?? [], x.subjects ?? [], x.roleRef ?? null, x.aggregationRule ?? null]);
  };
  return grant(next) === grant(old);
}
