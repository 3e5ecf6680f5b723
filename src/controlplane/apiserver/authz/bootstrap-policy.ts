// The default RBAC policy every cluster starts with (upstream plugin/pkg/auth/authorizer/rbac/bootstrappolicy,
// reduced to the kinds Deckhand serves, plus kubeadm's bootstrap-token bindings). Reconciled at each start
// like upstream's: missing objects are created; an object annotated autoupdate=true (the default) gets the
// rules or subjects it lacks added back, keeping whatever an administrator added; autoupdate=false leaves it
// alone. Objects that are not part of this policy are never touched.

import type { Logger } from "pino";
import type { KubeObject } from "../../../api/resource.ts";
import type { PolicyRule, Subject } from "../../../api/schema/rbac/rbac.ts";
import { RBAC_GROUP } from "../../../api/schema/rbac/rbac.ts";
import { SYSTEM_USER } from "../bootstrap.ts";
import { isApiError } from "../errors.ts";
import type { ResourceRegistry, ServedResource } from "../resources.ts";
import type { ObjectStore } from "../store/object-store.ts";
import { NODES_GROUP } from "./node.ts";

export const AUTOUPDATE_ANNOTATION = "rbac.authorization.kubernetes.io/autoupdate";
const BOOTSTRAP_LABELS = { "kubernetes.io/bootstrapping": "rbac-defaults" };
export const BOOTSTRAPPERS_GROUP = "system:bootstrappers";

const READ = ["get", "list", "watch"];
const WRITE = ["create", "delete", "deletecollection", "patch", "update"];
const rule = (
  verbs: string[],
  apiGroups: string[],
  resources: string[],
  resourceNames?: string[],
): PolicyRule => ({
  verbs,
  apiGroups,
  resources,
  ...(resourceNames ? { resourceNames } : {}),
});
const urls = (verbs: string[], nonResourceURLs: string[]): PolicyRule => ({ verbs, nonResourceURLs });
const group = (name: string): Subject => ({ kind: "Group", apiGroup: RBAC_GROUP, name });
const user = (name: string): Subject => ({ kind: "User", apiGroup: RBAC_GROUP, name });

// What system:aggregate-to-view/-edit/-admin contribute to view, edit and admin (each level also gets the
// one below through aggregation, as upstream), for the resources Deckhand serves.
const VIEW_RULES: PolicyRule[] = [
  rule(
    READ,
    [""],
    [
      "configmaps",
      "endpoints",
      "persistentvolumeclaims",
      "persistentvolumeclaims/status",
      "pods",
      "replicationcontrollers",
      "replicationcontrollers/scale",
      "serviceaccounts",
      "services",
      "services/status",
      "bindings",
      "events",
      "limitranges",
      "namespaces/status",
      "pods/log",
      "pods/status",
      "replicationcontrollers/status",
      "resourcequotas",
      "resourcequotas/status",
      "namespaces",
    ],
  ),
  rule(
    READ,
    ["apps"],
    [
      "controllerrevisions",
      "daemonsets",
      "daemonsets/status",
      "deployments",
      "deployments/scale",
      "deployments/status",
      "replicasets",
      "replicasets/scale",
      "replicasets/status",
      "statefulsets",
      "statefulsets/scale",
      "statefulsets/status",
    ],
  ),
  rule(READ, ["autoscaling"], ["horizontalpodautoscalers", "horizontalpodautoscalers/status"]),
  rule(READ, ["batch"], ["cronjobs", "cronjobs/status", "jobs", "jobs/status"]),
  rule(READ, ["discovery.k8s.io"], ["endpointslices"]),
  rule(READ, ["coordination.k8s.io"], ["leases"]),
  rule(READ, ["events.k8s.io"], ["events"]),
];

const EDIT_RULES: PolicyRule[] = [
  rule(["create"], [""], ["pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "pods/eviction"]),
  rule(
    ["get", "list", "watch"],
    [""],
    ["pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets", "services/proxy"],
  ),
  rule(["impersonate"], [""], ["serviceaccounts"]),
  rule(["create"], [""], ["serviceaccounts/token"]),
  rule(
    WRITE,
    [""],
    [
      "pods",
      "pods/attach",
      "pods/exec",
      "pods/portforward",
      "pods/proxy",
      "configmaps",
      "events",
      "persistentvolumeclaims",
      "replicationcontrollers",
      "replicationcontrollers/scale",
      "secrets",
      "serviceaccounts",
      "services",
      "services/proxy",
    ],
  ),
  rule(
    WRITE,
    ["apps"],
    [
      "daemonsets",
      "deployments",
      "deployments/rollback",
      "deployments/scale",
      "replicasets",
      "replicasets/scale",
      "statefulsets",
      "statefulsets/scale",
    ],
  ),
  rule(WRITE, ["autoscaling"], ["horizontalpodautoscalers"]),
  rule(WRITE, ["batch"], ["cronjobs", "jobs"]),
  rule(WRITE, ["coordination.k8s.io"], ["leases"]),
  rule(WRITE, ["events.k8s.io"], ["events"]),
];

const ADMIN_RULES: PolicyRule[] = [
  rule(["create"], ["authorization.k8s.io"], ["localsubjectaccessreviews"]),
  rule([...READ, ...WRITE], [RBAC_GROUP], ["rolebindings", "roles"]),
];

const DISCOVERY_URLS = [
  "/api",
  "/api/*",
  "/apis",
  "/apis/*",
  "/healthz",
  "/livez",
  "/openapi",
  "/openapi/*",
  "/readyz",
  "/version",
  "/version/",
];
const PUBLIC_INFO_URLS = ["/healthz", "/livez", "/readyz", "/version", "/version/"];

interface PolicyObject extends KubeObject {
  rules?: PolicyRule[];
  aggregationRule?: { clusterRoleSelectors?: Array<{ matchLabels?: Record<string, string> }> };
  subjects?: Subject[];
  roleRef?: { apiGroup: string; kind: string; name: string };
}

function clusterRole(name: string, rules: PolicyRule[], labels?: Record<string, string>): PolicyObject {
  return {
    apiVersion: `${RBAC_GROUP}/v1`,
    kind: "ClusterRole",
    metadata: { name, ...(labels ? { labels } : {}) },
    rules,
  };
}

const AGGREGATE_TO = (role: string) => `rbac.authorization.k8s.io/aggregate-to-${role}`;

/** upstream's admin/edit/view: their rules are aggregated from every ClusterRole labelled aggregate-to-<role>. */
function aggregatedRole(name: string, labels?: Record<string, string>): PolicyObject {
  return {
    apiVersion: `${RBAC_GROUP}/v1`,
    kind: "ClusterRole",
    metadata: { name, ...(labels ? { labels } : {}) },
    aggregationRule: { clusterRoleSelectors: [{ matchLabels: { [AGGREGATE_TO(name)]: "true" } }] },
  };
}

function clusterRoleBinding(name: string, role: string, subjects: Subject[]): PolicyObject {
  return {
    apiVersion: `${RBAC_GROUP}/v1`,
    kind: "ClusterRoleBinding",
    metadata: { name },
    roleRef: { apiGroup: RBAC_GROUP, kind: "ClusterRole", name: role },
    subjects,
  };
}

export const CLUSTER_ROLES: PolicyObject[] = [
  clusterRole("cluster-admin", [rule(["*"], ["*"], ["*"]), urls(["*"], ["*"])]),
  aggregatedRole("admin"),
  aggregatedRole("edit", { [AGGREGATE_TO("admin")]: "true" }),
  aggregatedRole("view", { [AGGREGATE_TO("edit")]: "true" }),
  clusterRole("system:aggregate-to-admin", ADMIN_RULES, { [AGGREGATE_TO("admin")]: "true" }),
  clusterRole("system:aggregate-to-edit", EDIT_RULES, { [AGGREGATE_TO("edit")]: "true" }),
  clusterRole("system:aggregate-to-view", VIEW_RULES, { [AGGREGATE_TO("view")]: "true" }),
  clusterRole("system:basic-user", [
    rule(["create"], ["authorization.k8s.io"], ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]),
    rule(["create"], ["authentication.k8s.io"], ["selfsubjectreviews"]),
  ]),
  clusterRole("system:discovery", [urls(["get"], DISCOVERY_URLS)]),
  clusterRole("system:public-info-viewer", [urls(["get"], PUBLIC_INFO_URLS)]),
  clusterRole("system:node-bootstrapper", [
    rule(["create", "get", "list", "watch"], ["certificates.k8s.io"], ["certificatesigningrequests"]),
  ]),
  clusterRole("system:certificates.k8s.io:certificatesigningrequests:nodeclient", [
    rule(["create"], ["certificates.k8s.io"], ["certificatesigningrequests/nodeclient"]),
  ]),
  clusterRole("system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", [
    rule(["create"], ["certificates.k8s.io"], ["certificatesigningrequests/selfnodeclient"]),
  ]),
];

export const CLUSTER_ROLE_BINDINGS: PolicyObject[] = [
  clusterRoleBinding("cluster-admin", "cluster-admin", [group("system:masters")]),
  clusterRoleBinding("system:basic-user", "system:basic-user", [group("system:authenticated")]),
  clusterRoleBinding("system:discovery", "system:discovery", [group("system:authenticated")]),
  clusterRoleBinding("system:public-info-viewer", "system:public-info-viewer", [
    group("system:authenticated"),
    group("system:unauthenticated"),
  ]),
  // kubeadm's bootstrap-token bindings: joining nodes may submit a CSR, which is auto-approved for them,
  // and nodes may renew their own client certificates.
  clusterRoleBinding("kubeadm:kubelet-bootstrap", "system:node-bootstrapper", [group(BOOTSTRAPPERS_GROUP)]),
  clusterRoleBinding(
    "kubeadm:node-autoapprove-bootstrap",
    "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
    [group(BOOTSTRAPPERS_GROUP)],
  ),
  clusterRoleBinding(
    "kubeadm:node-autoapprove-certificate-rotation",
    "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
    [group(NODES_GROUP)],
  ),
];

/** kubeadm's: anybody may read the public cluster-info ConfigMap (the CA and server address for joining). */
export const CLUSTER_INFO_ROLE = "kubeadm:bootstrap-signer-clusterinfo";
export const NAMESPACED_POLICY: Array<{
  namespace: string;
  roles: PolicyObject[];
  bindings: PolicyObject[];
}> = [
  {
    namespace: "kube-public",
    roles: [
      {
        apiVersion: `${RBAC_GROUP}/v1`,
        kind: "Role",
        metadata: { name: CLUSTER_INFO_ROLE, namespace: "kube-public" },
        rules: [rule(["get"], [""], ["configmaps"], ["cluster-info"])],
      },
    ],
    bindings: [
      {
        apiVersion: `${RBAC_GROUP}/v1`,
        kind: "RoleBinding",
        metadata: { name: CLUSTER_INFO_ROLE, namespace: "kube-public" },
        roleRef: { apiGroup: RBAC_GROUP, kind: "Role", name: CLUSTER_INFO_ROLE },
        subjects: [user("system:anonymous"), group("system:unauthenticated")],
      },
    ],
  },
];

/** JSON with object keys sorted, so that stored and literal objects compare by content. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}
const same = (a: unknown, b: unknown) => canonical(a) === canonical(b);

/** What `existing` lacks of `wanted` (rules or subjects). */
function missing<T>(existing: T[] | undefined, wanted: T[]): T[] {
  return wanted.filter((w) => !(existing ?? []).some((e) => same(e, w)));
}

export interface PolicyDeps {
  registry: ResourceRegistry;
  stores: ReadonlyMap<ServedResource, ObjectStore>;
  log: Logger;
}

/**
 * `current` completed with what `desired` has and it lacks (labels, rules or subjects, aggregation
 * selectors), or undefined when nothing is missing. What an administrator added is kept.
 */
function completed(
  current: PolicyObject,
  desired: PolicyObject,
  field: "rules" | "subjects",
): PolicyObject | undefined {
  const next = structuredClone(current);
  let changed = false;
  const meta = next.metadata ?? {};
  for (const [key, value] of Object.entries(desired.metadata?.labels ?? {})) {
    if (meta.labels?.[key] !== value) {
      meta.labels = { ...meta.labels, [key]: value };
      changed = true;
    }
  }
  next.metadata = meta;
  if (desired.aggregationRule) {
    // Aggregated roles: their rules belong to the aggregation controller; only the selectors are policy.
    const have = next.aggregationRule?.clusterRoleSelectors ?? [];
    const add = missing(have, desired.aggregationRule.clusterRoleSelectors ?? []);
    if (add.length > 0 || !next.aggregationRule) {
      next.aggregationRule = { clusterRoleSelectors: [...have, ...add] };
      changed = true;
    }
  } else {
    const have = (next[field] ?? []) as unknown[];
    const add = missing(have, (desired[field] ?? []) as unknown[]);
    if (add.length > 0) {
      (next as Record<string, unknown>)[field] = [...have, ...add];
      changed = true;
    }
  }
  return changed ? next : undefined;
}

async function reconcile(deps: PolicyDeps, plural: string, desired: PolicyObject): Promise<void> {
  const served = deps.registry.lookup(RBAC_GROUP, "v1", plural);
  const store = served ? deps.stores.get(served) : undefined;
  if (!store) return;
  const namespace = desired.metadata?.namespace ?? "";
  const name = desired.metadata?.name ?? "";
  const field = plural.endsWith("bindings") ? "subjects" : "rules";
  const ctx = { user: SYSTEM_USER, dryRun: false };
  const log = deps.log.child({ resource: plural, namespace: namespace || undefined, name });
  const found = await store.tryGet(namespace, name);
  if (!found) {
    const obj: PolicyObject = structuredClone(desired);
    obj.metadata = {
      ...obj.metadata,
      labels: { ...BOOTSTRAP_LABELS, ...obj.metadata?.labels },
      annotations: { [AUTOUPDATE_ANNOTATION]: "true" },
    };
    try {
      await store.create(namespace, obj, ctx);
      log.info("created default RBAC policy object");
    } catch (error) {
      if (!isApiError(error, "AlreadyExists")) throw error;
    }
    return;
  }
  const current = found.object as PolicyObject;
  if (current.metadata?.annotations?.[AUTOUPDATE_ANNOTATION] === "false") return;
  if (desired.roleRef && !same(current.roleRef, desired.roleRef)) {
    log.warn({ roleRef: current.roleRef }, "default binding refers to another role; leaving it as is");
    return;
  }
  if (!completed(current, desired, field)) return;
  await store.update(
    namespace,
    name,
    (latest) => {
      const base = latest as PolicyObject;
      const next = completed(base, desired, field) ?? structuredClone(base);
      // Unconditional: a concurrent edit is re-read and completed, never lost.
      if (next.metadata) delete next.metadata.resourceVersion;
      return next;
    },
    ctx,
    { mode: "main" },
  );
  log.info("completed a default RBAC policy object");
}

/** Creates or completes the default policy. */
export async function reconcileBootstrapPolicy(deps: PolicyDeps): Promise<void> {
  for (const role of CLUSTER_ROLES) await reconcile(deps, "clusterroles", role);
  for (const binding of CLUSTER_ROLE_BINDINGS) await reconcile(deps, "clusterrolebindings", binding);
  for (const { roles, bindings } of NAMESPACED_POLICY) {
    for (const role of roles) await reconcile(deps, "roles", role);
    for (const binding of bindings) await reconcile(deps, "rolebindings", binding);
  }
}
