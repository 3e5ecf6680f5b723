// The Node authorizer (upstream plugin/pkg/auth/authorizer/node): requests of `system:node:<name>` in group
// system:nodes. Secrets, ConfigMaps, PVCs and service-account tokens are readable only through a pod bound
// to that node (the NodeGraph); a node's Lease only under its own name in kube-node-lease; everything else
// by the static node rules. Like upstream it never denies outright — it has no opinion, with a reason, so a
// later authorizer (RBAC) may still allow. Which node object or pod a node may write is NodeRestriction's job.

import type { PolicyRule } from "../../../api/schema/rbac/rbac.ts";
import type { UserInfo } from "../pipeline/authentication.ts";
import type { AuthorizationAttributes, Authorizer, Decision } from "../pipeline/authorization.ts";
import type { ResourceRequestInfo } from "../request-info.ts";
import type { NodeGraph, ReferenceKind } from "./node-graph.ts";
import { rulesAllow } from "./rules.ts";

export const NODES_GROUP = "system:nodes";
export const NODE_USER_PREFIX = "system:node:";
export const NODE_LEASE_NAMESPACE = "kube-node-lease";

/** The node a user speaks for: undefined when not a node identity, "" when the name is missing. */
export function nodeIdentity(user: UserInfo): string | undefined {
  if (!user.groups.includes(NODES_GROUP) || !user.name.startsWith(NODE_USER_PREFIX)) return undefined;
  return user.name.slice(NODE_USER_PREFIX.length);
}

const READ = ["get", "list", "watch"];
const rule = (verbs: string[], apiGroups: string[], resources: string[]): PolicyRule => ({
  verbs,
  apiGroups,
  resources,
});

/**
 * Upstream's NodeRules (bootstrappolicy), what kubelet needs that no graph restricts, plus what Deckhand's
 * agent needs because it embeds the service proxy: endpoints and EndpointSlices are readable in full.
 */
export const NODE_RULES: PolicyRule[] = [
  rule(["create"], ["authentication.k8s.io"], ["tokenreviews"]),
  rule(["create"], ["authorization.k8s.io"], ["subjectaccessreviews", "localsubjectaccessreviews"]),
  rule(READ, [""], ["services"]),
  rule(["create", "get", "list", "watch"], [""], ["nodes"]),
  rule(["update", "patch"], [""], ["nodes/status"]),
  rule(["update", "patch"], [""], ["nodes"]),
  rule(["create", "update", "patch"], ["", "events.k8s.io"], ["events"]),
  rule(READ, [""], ["pods"]),
  rule(["create", "delete"], [""], ["pods"]),
  rule(["update", "patch"], [""], ["pods/status"]),
  rule(["create"], [""], ["pods/eviction"]),
  rule(READ, [""], ["endpoints"]),
  rule(READ, ["discovery.k8s.io"], ["endpointslices"]),
  rule(["create", "get", "list", "watch"], ["certificates.k8s.io"], ["certificatesigningrequests"]),
  rule(["get", "list", "watch"], ["node.k8s.io"], ["runtimeclasses"]),
];

const noOpinion = (reason: string): Decision => ({ allowed: false, reason });

export function nodeAuthorizer(graph: NodeGraph): Authorizer {
  return {
    name: "Node",
    // Nodes' permissions depend on the graph and cannot be enumerated (upstream says the same).
    rulesFor: (user) => ({
      resourceRules: [],
      nonResourceRules: [],
      incomplete: nodeIdentity(user) !== undefined,
    }),
    authorize({ user, request }: AuthorizationAttributes): Decision {
      const node = nodeIdentity(user);
      if (node === undefined) return noOpinion("");
      if (node === "") return noOpinion("unknown node");
      if (request.isResourceRequest) {
        const byGraph = graphDecision(graph, node, request);
        if (byGraph) return byGraph;
      }
      return rulesAllow(NODE_RULES, request) ? { allowed: true } : noOpinion("");
    },
  };
}

/** The decision for resources the graph partitions, undefined for the rest. */
function graphDecision(graph: NodeGraph, node: string, r: ResourceRequestInfo): Decision | undefined {
  if (r.apiGroup === "coordination.k8s.io" && r.resource === "leases") return leaseDecision(node, r);
  if (r.apiGroup !== "") return undefined;
  switch (r.resource) {
    case "secrets":
      return readDecision(graph, node, "secret", r);
    case "configmaps":
      return readDecision(graph, node, "configmap", r);
    case "persistentvolumeclaims":
      if (r.subresource === "status") {
        if (r.verb !== "update" && r.verb !== "patch")
          return noOpinion("can only get or update persistentvolumeclaim status");
        return related(graph, node, "persistentvolumeclaim", r);
      }
      if (r.verb !== "get") return noOpinion("can only get individual resources of this type");
      if (r.subresource) return noOpinion("cannot get subresource");
      return related(graph, node, "persistentvolumeclaim", r);
    case "serviceaccounts":
      if (r.verb !== "create" || r.name === "")
        return noOpinion("can only create tokens for individual service accounts");
      if (r.subresource !== "token") return noOpinion("can only create token subresource of serviceaccount");
      return related(graph, node, "serviceaccount", r);
    default:
      return undefined;
  }
}

function readDecision(graph: NodeGraph, node: string, kind: ReferenceKind, r: ResourceRequestInfo): Decision {
  if (!READ.includes(r.verb)) return noOpinion("can only read resources of this type");
  if (r.subresource) return noOpinion("cannot read subresource");
  if (r.namespace === "") return noOpinion("can only read namespaced object of this type");
  return related(graph, node, kind, r);
}

function related(graph: NodeGraph, node: string, kind: ReferenceKind, r: ResourceRequestInfo): Decision {
  if (r.name === "") return noOpinion("No Object name found");
  if (graph.references(node, kind, r.namespace, r.name)) return { allowed: true };
  return noOpinion(`no relationship found between node '${node}' and this object`);
}

function leaseDecision(node: string, r: ResourceRequestInfo): Decision {
  if (!["get", "create", "update", "patch", "delete"].includes(r.verb))
    return noOpinion("can only get, create, update, patch, or delete a node lease");
  if (r.namespace !== NODE_LEASE_NAMESPACE)
    return noOpinion(`can only access leases in the "${NODE_LEASE_NAMESPACE}" system namespace`);
  // On create the name is in the body, not the path; NodeRestriction checks it there.
  if (r.verb !== "create" && r.name !== node)
    return noOpinion("can only access node lease with the same name as the requesting node");
  return { allowed: true };
}
