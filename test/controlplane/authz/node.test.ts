// The Node authorizer's graph and decisions, and NodeRestriction's label rules (table tests).

import { describe, expect, it } from "vitest";
import { nodeAuthorizer, nodeIdentity } from "../../../src/controlplane/apiserver/authz/node.ts";
import { NodeGraph, podReferences } from "../../../src/controlplane/apiserver/authz/node-graph.ts";
import { isForbiddenNodeLabel } from "../../../src/controlplane/apiserver/pipeline/node-restriction.ts";
import type { RequestInfo, Verb } from "../../../src/controlplane/apiserver/request-info.ts";

function pod(name: string, node: string, spec: Record<string, unknown> = {}) {
  return {
    metadata: { name, namespace: "ns" },
    spec: { nodeName: node, containers: [{ name: "c", image: "i" }], ...spec },
  } as never;
}

function req(verb: string, group: string, resource: string, ns: string, name: string, sub = ""): RequestInfo {
  return {
    isResourceRequest: true,
    path: "",
    verb: verb as Verb,
    apiGroup: group,
    apiVersion: "v1",
    namespace: ns,
    resource,
    subresource: sub,
    name,
    rest: [],
  };
}

describe("podReferences", () => {
  it("collects every Secret, ConfigMap, claim and the service account a pod names", () => {
    const refs = podReferences("ns", "p", {
      serviceAccountName: "sa",
      imagePullSecrets: [{ name: "pull" }],
      initContainers: [{ name: "i", envFrom: [{ secretRef: { name: "init-env" } }] }],
      containers: [
        {
          name: "c",
          envFrom: [{ configMapRef: { name: "cm-env" } }],
          env: [
            { name: "A", valueFrom: { secretKeyRef: { name: "key-secret", key: "k" } } },
            { name: "B", valueFrom: { configMapKeyRef: { name: "key-cm", key: "k" } } },
          ],
        },
      ],
      volumes: [
        { name: "s", secret: { secretName: "vol-secret" } },
        { name: "c", configMap: { name: "vol-cm" } },
        { name: "pvc", persistentVolumeClaim: { claimName: "claim" } },
        { name: "eph", ephemeral: {} },
        {
          name: "proj",
          projected: {
            sources: [{ secret: { name: "proj-secret" } }, { configMap: { name: "kube-root-ca.crt" } }],
          },
        },
        { name: "csi", csi: { driver: "d", nodePublishSecretRef: { name: "csi-secret" } } },
      ],
    } as never);
    const readable = refs
      .map((r) =>
        r
          .split("\u0000")
          .filter((_, i) => i !== 1)
          .join(":"),
      )
      .sort();
    expect(readable).toEqual(
      [
        "serviceaccount:sa",
        "secret:pull",
        "secret:init-env",
        "configmap:cm-env",
        "secret:key-secret",
        "configmap:key-cm",
        "secret:vol-secret",
        "configmap:vol-cm",
        "persistentvolumeclaim:claim",
        "persistentvolumeclaim:p-eph",
        "secret:proj-secret",
        "configmap:kube-root-ca.crt",
        "secret:csi-secret",
      ].sort(),
    );
  });
});

describe("NodeGraph", () => {
  it("counts shared references, follows rebinding and forgets deleted pods", () => {
    const graph = new NodeGraph();
    const vol = (secret: string) => ({ volumes: [{ name: "v", secret: { secretName: secret } }] });
    graph.apply("ADDED", pod("a", "n1", vol("shared")));
    graph.apply("ADDED", pod("b", "n1", vol("shared")));
    graph.apply("ADDED", pod("unbound", "", vol("lonely")));
    expect(graph.references("n1", "secret", "ns", "shared")).toBe(true);
    expect(graph.references("n2", "secret", "ns", "shared")).toBe(false);
    expect(graph.references("n1", "secret", "other", "shared")).toBe(false);
    expect(graph.references("n1", "secret", "ns", "lonely")).toBe(false);
    graph.apply("DELETED", pod("a", "n1", vol("shared")));
    expect(graph.references("n1", "secret", "ns", "shared")).toBe(true);
    graph.apply("MODIFIED", pod("b", "n1", vol("changed")));
    expect(graph.references("n1", "secret", "ns", "shared")).toBe(false);
    expect(graph.references("n1", "secret", "ns", "changed")).toBe(true);
    graph.apply("MODIFIED", pod("unbound", "n2", vol("lonely")));
    expect(graph.references("n2", "secret", "ns", "lonely")).toBe(true);
    expect(graph.nodeOf("ns", "unbound")).toBe("n2");
    graph.reset();
    expect(graph.references("n2", "secret", "ns", "lonely")).toBe(false);
  });
});

describe("nodeIdentity", () => {
  it.each([
    [{ name: "system:node:n1", groups: ["system:nodes"] }, "n1"],
    [{ name: "system:node:", groups: ["system:nodes"] }, ""],
    [{ name: "system:node:n1", groups: [] }, undefined],
    [{ name: "alice", groups: ["system:nodes"] }, undefined],
  ])("%o → %s", (user, expected) => {
    expect(nodeIdentity(user)).toBe(expected);
  });
});

describe("nodeAuthorizer", () => {
  const graph = new NodeGraph();
  graph.apply(
    "ADDED",
    pod("p", "n1", {
      serviceAccountName: "sa",
      volumes: [
        { name: "s", secret: { secretName: "s1" } },
        { name: "c", persistentVolumeClaim: { claimName: "claim" } },
      ],
    }),
  );
  const node = nodeAuthorizer(graph);
  const n1 = { name: "system:node:n1", groups: ["system:nodes", "system:authenticated"] };
  const cases: Array<[string, RequestInfo, boolean, string?]> = [
    ["get a referenced secret", req("get", "", "secrets", "ns", "s1"), true],
    ["watch a referenced secret by name", req("watch", "", "secrets", "ns", "s1"), true],
    [
      "get an unreferenced secret",
      req("get", "", "secrets", "ns", "s2"),
      false,
      "no relationship found between node 'n1' and this object",
    ],
    ["list secrets", req("list", "", "secrets", "ns", ""), false, "No Object name found"],
    [
      "update a referenced secret",
      req("update", "", "secrets", "ns", "s1"),
      false,
      "can only read resources of this type",
    ],
    ["get a referenced claim", req("get", "", "persistentvolumeclaims", "ns", "claim"), true],
    [
      "update a referenced claim's status",
      req("patch", "", "persistentvolumeclaims", "ns", "claim", "status"),
      true,
    ],
    ["token for the pod's service account", req("create", "", "serviceaccounts", "ns", "sa", "token"), true],
    [
      "token for another service account",
      req("create", "", "serviceaccounts", "ns", "other", "token"),
      false,
    ],
    ["get the service account itself", req("get", "", "serviceaccounts", "ns", "sa"), false],
    ["own lease", req("update", "coordination.k8s.io", "leases", "kube-node-lease", "n1"), true],
    [
      "create a lease (name checked by NodeRestriction)",
      req("create", "coordination.k8s.io", "leases", "kube-node-lease", ""),
      true,
    ],
    ["another node's lease", req("get", "coordination.k8s.io", "leases", "kube-node-lease", "n2"), false],
    ["lease elsewhere", req("get", "coordination.k8s.io", "leases", "default", "n1"), false],
    ["list leases", req("list", "coordination.k8s.io", "leases", "kube-node-lease", ""), false],
    ["watch all pods", req("watch", "", "pods", "", ""), true],
    ["create a pod (NodeRestriction narrows it)", req("create", "", "pods", "ns", ""), true],
    ["update a pod", req("update", "", "pods", "ns", "p"), false],
    ["patch pod status", req("patch", "", "pods", "ns", "p", "status"), true],
    ["create an eviction", req("create", "", "pods", "ns", "p", "eviction"), true],
    ["exec into a pod", req("create", "", "pods", "ns", "p", "exec"), false],
    ["patch a node", req("patch", "", "nodes", "", "n2"), true],
    ["delete a node", req("delete", "", "nodes", "", "n1"), false],
    ["create events", req("create", "", "events", "ns", ""), true],
    ["create events.k8s.io events", req("create", "events.k8s.io", "events", "ns", ""), true],
    ["delete events", req("delete", "", "events", "ns", "e"), false],
    ["list endpointslices", req("list", "discovery.k8s.io", "endpointslices", "", ""), true],
    ["create a CSR", req("create", "certificates.k8s.io", "certificatesigningrequests", "", ""), true],
    [
      "approve a CSR",
      req("update", "certificates.k8s.io", "certificatesigningrequests", "", "c", "approval"),
      false,
    ],
    ["list configmaps", req("list", "", "configmaps", "", ""), false],
    ["read deployments", req("list", "apps", "deployments", "", ""), false],
  ];
  it.each(cases)("%s", async (_name, request, allowed, reason) => {
    const decision = await node.authorize({ user: n1, request });
    expect(decision.allowed).toBe(allowed);
    if (reason !== undefined) expect(decision.reason).toBe(reason);
  });

  it("has no opinion about users that are not nodes", async () => {
    const decision = await node.authorize({
      user: { name: "alice", groups: [] },
      request: req("get", "", "nodes", "", "n1"),
    });
    expect(decision).toEqual({ allowed: false, reason: "" });
  });
});

describe("isForbiddenNodeLabel", () => {
  it.each([
    ["node-restriction.kubernetes.io/pool", true],
    ["example.node-restriction.kubernetes.io/pool", true],
    ["kubernetes.io/hostname", false],
    ["topology.kubernetes.io/zone", false],
    ["node.kubernetes.io/instance-type", false],
    ["node.kubernetes.io/anything", false],
    ["kubelet.kubernetes.io/x", false],
    ["node-role.kubernetes.io/control-plane", true],
    ["kubernetes.io/role", true],
    ["example.k8s.io/x", true],
    ["example.com/team", false],
    ["plain", false],
  ])("%s → %s", (label, forbidden) => {
    expect(isForbiddenNodeLabel(label)).toBe(forbidden);
  });
});
