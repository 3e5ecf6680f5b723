// rbac.authorization.k8s.io/v1: Role, ClusterRole, RoleBinding, ClusterRoleBinding. Validation and
// defaults follow upstream pkg/apis/rbac/validation and v1 defaults; the authorizer that evaluates them
// lives in src/controlplane/apiserver/authz.

import { always, atomicList, named, opt, req, type Static, str, struct, typeMetaFields } from "../dsl.ts";
import { child, type FieldError, index, invalid, notSupported, required } from "../field-errors.ts";
import { defineKind } from "../kind.ts";
import { LabelSelector, ObjectMeta } from "../meta.ts";
import { isDNS1123Subdomain, nameIsPathSegment } from "../names.ts";
import { AGE_COLUMN, column, NAME_COLUMN, since } from "../printing.ts";

const RBAC = "io.k8s.api.rbac.v1";
export const RBAC_GROUP = "rbac.authorization.k8s.io";

export const PolicyRule = named(
  `${RBAC}.PolicyRule`,
  struct(
    "PolicyRule holds information that describes a policy rule, but does not contain information about who the rule applies to or which namespace the rule applies to.",
    {
      verbs: req(
        atomicList(str()),
        "Verbs is a list of Verbs that apply to ALL the ResourceKinds contained in this rule. '*' represents all verbs.",
      ),
      apiGroups: opt(
        atomicList(str()),
        'APIGroups is the name of the APIGroup that contains the resources.  If multiple API groups are specified, any action requested against one of the enumerated resources in any API group will be allowed. "" represents the core API group and "*" represents all API groups.',
      ),
      resources: opt(
        atomicList(str()),
        "Resources is a list of resources this rule applies to. '*' represents all resources.",
      ),
      resourceNames: opt(
        atomicList(str()),
        "ResourceNames is an optional white list of names that the rule applies to.  An empty set means that everything is allowed.",
      ),
      nonResourceURLs: opt(
        atomicList(str()),
        'NonResourceURLs is a set of partial urls that a user should have access to.  *s are allowed, but only as the full, final step in the path. Rules can either apply to API resources (such as "pods" or "secrets") or non-resource URL paths (such as "/api"),  but not both.',
      ),
    },
  ),
);
export type PolicyRule = Static<typeof PolicyRule>;

export const Subject = named(
  `${RBAC}.Subject`,
  struct(
    "Subject contains a reference to the object or user identities a role binding applies to.  This can either hold a direct API object reference, or a value for non-objects such as user and group names.",
    {
      kind: req(
        str(),
        'Kind of object being referenced. Values defined by this API group are "User", "Group", and "ServiceAccount". If the Authorizer does not recognized the kind value, the Authorizer should report an error.',
      ),
      apiGroup: opt(
        str(),
        'APIGroup holds the API group of the referenced subject. Defaults to "" for ServiceAccount subjects. Defaults to "rbac.authorization.k8s.io" for User and Group subjects.',
      ),
      name: req(str(), "Name of the object being referenced."),
      namespace: opt(
        str(),
        'Namespace of the referenced object.  If the object kind is non-namespace, such as "User" or "Group", and this value is not empty the Authorizer should report an error.',
      ),
    },
  ),
);
export type Subject = Static<typeof Subject>;

export const RoleRef = named(
  `${RBAC}.RoleRef`,
  struct("RoleRef contains information that points to the role being used", {
    apiGroup: req(str(), "APIGroup is the group for the resource being referenced"),
    kind: req(str(), "Kind is the type of resource being referenced"),
    name: req(str(), "Name is the name of resource being referenced"),
  }),
);
export type RoleRef = Static<typeof RoleRef>;

export const AggregationRule = named(
  `${RBAC}.AggregationRule`,
  struct("AggregationRule describes how to locate ClusterRoles to aggregate into the ClusterRole", {
    clusterRoleSelectors: opt(
      atomicList(LabelSelector),
      "ClusterRoleSelectors holds a list of selectors which will be used to find ClusterRoles and create the rules. If any of the selectors match, then the ClusterRole's permissions will be added",
    ),
  }),
);

export const Role = named(
  `${RBAC}.Role`,
  struct(
    "Role is a namespaced, logical grouping of PolicyRules that can be referenced as a unit by a RoleBinding.",
    {
      ...typeMetaFields(),
      metadata: always(ObjectMeta, "Standard object's metadata."),
      rules: opt(atomicList(PolicyRule), "Rules holds all the PolicyRules for this Role"),
    },
  ),
);
export type Role = Static<typeof Role>;

export const ClusterRole = named(
  `${RBAC}.ClusterRole`,
  struct(
    "ClusterRole is a cluster level, logical grouping of PolicyRules that can be referenced as a unit by a RoleBinding or ClusterRoleBinding.",
    {
      ...typeMetaFields(),
      metadata: always(ObjectMeta, "Standard object's metadata."),
      rules: opt(atomicList(PolicyRule), "Rules holds all the PolicyRules for this ClusterRole"),
      aggregationRule: opt(
        AggregationRule,
        "AggregationRule is an optional field that describes how to build the Rules for this ClusterRole. If AggregationRule is set, then the Rules are controller managed and direct changes to Rules will be stomped by the controller.",
      ),
    },
  ),
);
export type ClusterRole = Static<typeof ClusterRole>;

export const RoleBinding = named(
  `${RBAC}.RoleBinding`,
  struct(
    "RoleBinding references a role, but does not contain it.  It can reference a Role in the same namespace or a ClusterRole in the global namespace. It adds who information via Subjects and namespace information by which namespace it exists in.  RoleBindings in a given namespace only have effect in that namespace.",
    {
      ...typeMetaFields(),
      metadata: always(ObjectMeta, "Standard object's metadata."),
      subjects: opt(atomicList(Subject), "Subjects holds references to the objects the role applies to."),
      roleRef: req(
        RoleRef,
        "RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error. This field is immutable.",
        { default: {} },
      ),
    },
  ),
);
export type RoleBinding = Static<typeof RoleBinding>;

export const ClusterRoleBinding = named(
  `${RBAC}.ClusterRoleBinding`,
  struct(
    "ClusterRoleBinding references a ClusterRole, but not contain it.  It can reference a ClusterRole in the global namespace, and adds who information via Subject.",
    {
      ...typeMetaFields(),
      metadata: always(ObjectMeta, "Standard object's metadata."),
      subjects: opt(atomicList(Subject), "Subjects holds references to the objects the role applies to."),
      roleRef: req(
        RoleRef,
        "RoleRef can only reference a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error. This field is immutable.",
        { default: {} },
      ),
    },
  ),
);
export type ClusterRoleBinding = Static<typeof ClusterRoleBinding>;

// Validation -------------------------------------------------------------------------------------------------

function validateRule(rule: PolicyRule, namespaced: boolean, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if ((rule.verbs ?? []).length === 0)
    errs.push(required(child(path, "verbs"), "verbs must contain at least one value"));
  const urls = rule.nonResourceURLs ?? [];
  if (urls.length > 0) {
    if (namespaced)
      errs.push(
        invalid(child(path, "nonResourceURLs"), urls, "namespaced rules cannot apply to non-resource URLs"),
      );
    if ((rule.apiGroups ?? []).length + (rule.resources ?? []).length + (rule.resourceNames ?? []).length > 0)
      errs.push(
        invalid(
          child(path, "nonResourceURLs"),
          urls,
          "rules cannot apply to both regular resources and non-resource URLs",
        ),
      );
    return errs;
  }
  if ((rule.apiGroups ?? []).length === 0)
    errs.push(required(child(path, "apiGroups"), "resource rules must supply at least one api group"));
  if ((rule.resources ?? []).length === 0)
    errs.push(required(child(path, "resources"), "resource rules must supply at least one resource"));
  return errs;
}

function validateRules(rules: PolicyRule[] | undefined, namespaced: boolean): FieldError[] {
  return (rules ?? []).flatMap((r, i) => validateRule(r, namespaced, index("rules", i)));
}

function validateSubject(s: Subject, namespaced: boolean, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!s.name) errs.push(required(child(path, "name")));
  switch (s.kind) {
    case "ServiceAccount":
      if (s.name)
        for (const msg of isDNS1123Subdomain(s.name)) errs.push(invalid(child(path, "name"), s.name, msg));
      if (s.apiGroup) errs.push(notSupported(child(path, "apiGroup"), s.apiGroup, [""]));
      if (!namespaced && !s.namespace) errs.push(required(child(path, "namespace")));
      break;
    case "User":
    case "Group":
      if (s.apiGroup !== RBAC_GROUP)
        errs.push(notSupported(child(path, "apiGroup"), s.apiGroup ?? "", [RBAC_GROUP]));
      break;
    default:
      errs.push(notSupported(child(path, "kind"), s.kind, ["ServiceAccount", "User", "Group"]));
  }
  return errs;
}

type Binding = RoleBinding | ClusterRoleBinding;

function validateBinding(b: Binding, namespaced: boolean, old?: Binding): FieldError[] {
  const errs: FieldError[] = [];
  const ref = b.roleRef ?? ({} as RoleRef);
  if (ref.apiGroup !== RBAC_GROUP)
    errs.push(notSupported("roleRef.apiGroup", ref.apiGroup ?? "", [RBAC_GROUP]));
  const kinds = namespaced ? ["Role", "ClusterRole"] : ["ClusterRole"];
  if (!kinds.includes(ref.kind)) errs.push(notSupported("roleRef.kind", ref.kind ?? "", kinds));
  if (!ref.name) errs.push(required("roleRef.name"));
  else
    for (const msg of nameIsPathSegment(ref.name, false)) errs.push(invalid("roleRef.name", ref.name, msg));
  (b.subjects ?? []).forEach((s, i) => {
    errs.push(...validateSubject(s, namespaced, index("subjects", i)));
  });
  if (old) {
    const before = old.roleRef ?? ({} as RoleRef);
    if (before.apiGroup !== ref.apiGroup || before.kind !== ref.kind || before.name !== ref.name)
      errs.push(invalid("roleRef", ref, "cannot change roleRef"));
  }
  return errs;
}

/** Upstream v1 defaults: User/Group subjects and the roleRef belong to rbac.authorization.k8s.io. */
function defaultBinding(b: Binding): void {
  if (b.roleRef && !b.roleRef.apiGroup) b.roleRef.apiGroup = RBAC_GROUP;
  for (const s of b.subjects ?? []) {
    if (s.apiGroup === undefined || s.apiGroup === "") {
      if (s.kind === "User" || s.kind === "Group") s.apiGroup = RBAC_GROUP;
      else if (s.kind === "ServiceAccount") s.apiGroup = "";
    }
  }
}

// Printing (kubectl's rbac printers) -------------------------------------------------------------------------

const CREATED_AT = column("Created At", "The time the object was created.", 0, "date");

function createdAt(meta: { creationTimestamp?: string | null } | undefined): string {
  return meta?.creationTimestamp ?? "";
}

function subjectNames(b: Binding, kind: string): string {
  return (b.subjects ?? [])
    .filter((s) => s.kind === kind)
    .map((s) => (kind === "ServiceAccount" ? `${s.namespace ?? ""}/${s.name}` : s.name))
    .join(", ");
}

const BINDING_COLUMNS = [
  NAME_COLUMN,
  column("Role", "The role this binding grants."),
  AGE_COLUMN,
  column("Users", "Users bound to the role.", 1),
  column("Groups", "Groups bound to the role.", 1),
  column("ServiceAccounts", "Service accounts bound to the role.", 1),
];

function bindingRow(b: Binding, now: Date): unknown[] {
  return [
    b.metadata?.name ?? "",
    `${b.roleRef?.kind ?? ""}/${b.roleRef?.name ?? ""}`,
    since(b.metadata?.creationTimestamp, now),
    subjectNames(b, "User"),
    subjectNames(b, "Group"),
    subjectNames(b, "ServiceAccount"),
  ];
}

export const roles = defineKind<Role>({
  group: RBAC_GROUP,
  version: "v1",
  kind: "Role",
  plural: "roles",
  namespaced: true,
  schema: Role,
  nameValidator: nameIsPathSegment,
  validate: (role) => validateRules(role.rules, true),
  table: {
    columns: [NAME_COLUMN, CREATED_AT],
    row: (role) => [role.metadata?.name ?? "", createdAt(role.metadata)],
  },
});

export const clusterRoles = defineKind<ClusterRole>({
  group: RBAC_GROUP,
  version: "v1",
  kind: "ClusterRole",
  plural: "clusterroles",
  namespaced: false,
  schema: ClusterRole,
  nameValidator: nameIsPathSegment,
  validate(role) {
    const errs = validateRules(role.rules, false);
    if (role.aggregationRule && (role.aggregationRule.clusterRoleSelectors ?? []).length === 0) {
      errs.push(
        required(
          "aggregationRule.clusterRoleSelectors",
          "at least one clusterRoleSelector required if aggregationRule is non-nil",
        ),
      );
    }
    return errs;
  },
  table: {
    columns: [NAME_COLUMN, CREATED_AT],
    row: (role) => [role.metadata?.name ?? "", createdAt(role.metadata)],
  },
});

export const roleBindings = defineKind<RoleBinding>({
  group: RBAC_GROUP,
  version: "v1",
  kind: "RoleBinding",
  plural: "rolebindings",
  namespaced: true,
  schema: RoleBinding,
  nameValidator: nameIsPathSegment,
  applyDefaults: defaultBinding,
  validate: (b, old) => validateBinding(b, true, old),
  table: { columns: BINDING_COLUMNS, row: (b, now = new Date()) => bindingRow(b, now) },
});

export const clusterRoleBindings = defineKind<ClusterRoleBinding>({
  group: RBAC_GROUP,
  version: "v1",
  kind: "ClusterRoleBinding",
  plural: "clusterrolebindings",
  namespaced: false,
  schema: ClusterRoleBinding,
  nameValidator: nameIsPathSegment,
  applyDefaults: defaultBinding,
  validate: (b, old) => validateBinding(b, false, old),
  table: { columns: BINDING_COLUMNS, row: (b, now = new Date()) => bindingRow(b, now) },
});
