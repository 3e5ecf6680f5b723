// Admission plugin NodeRestriction (upstream plugin/pkg/admission/noderestriction): what the Node
// authorizer lets every node do, narrowed to the node's own objects. A node may create only mirror pods bound
// to itself and owned by its Node, delete and update the status of pods bound to itself, write only its own
// Node (never its taints or the labels reserved for the cluster's administrators) and only its own Lease.

import type { KubeObject } from "../../../api/resource.ts";
import type { Node as NodeObject } from "../../../api/schema/core/node-types.ts";
import type { Pod } from "../../../api/schema/core/pod-types.ts";
import { nodeIdentity } from "../authz/node.ts";
import { podReferences } from "../authz/node-graph.ts";
import { forbidden } from "../errors.ts";
import type { AdmissionAttributes, AdmissionPlugin } from "./admission.ts";

const MIRROR_POD_ANNOTATION = "kubernetes.io/config.mirror";
const NODE_RESTRICTION_LABEL_DOMAIN = "node-restriction.kubernetes.io";

/** Labels kubelets set themselves (upstream kubeletapis.IsKubeletLabel). */
const KUBELET_LABELS = new Set([
  "kubernetes.io/hostname",
  "kubernetes.io/arch",
  "kubernetes.io/os",
  "beta.kubernetes.io/arch",
  "beta.kubernetes.io/os",
  "beta.kubernetes.io/instance-type",
  "node.kubernetes.io/instance-type",
  "topology.kubernetes.io/region",
  "topology.kubernetes.io/zone",
  "failure-domain.beta.kubernetes.io/region",
  "failure-domain.beta.kubernetes.io/zone",
]);
const KUBELET_LABEL_DOMAINS = ["kubelet.kubernetes.io", "node.kubernetes.io"];

function labelDomain(label: string): string {
  const slash = label.indexOf("/");
  return slash < 0 ? "" : label.slice(0, slash);
}

function inDomain(domain: string, parent: string): boolean {
  return domain === parent || domain.endsWith(`.${parent}`);
}

/** Labels a node may not set on itself: node-restriction ones, and kubernetes.io/k8s.io ones kubelets do not own. */
export function isForbiddenNodeLabel(label: string): boolean {
  const domain = labelDomain(label);
  if (inDomain(domain, NODE_RESTRICTION_LABEL_DOMAIN)) return true;
  const kubernetes = inDomain(domain, "kubernetes.io") || inDomain(domain, "k8s.io");
  if (!kubernetes) return false;
  if (KUBELET_LABELS.has(label)) return false;
  return !KUBELET_LABEL_DOMAINS.some((d) => inDomain(domain, d));
}

function labelsOf(obj: KubeObject | undefined): Record<string, string> {
  return obj?.metadata?.labels ?? {};
}

/** Labels added, removed or changed between `old` and `next`. */
function modifiedLabels(next: Record<string, string>, old: Record<string, string>): string[] {
  const keys = new Set([...Object.keys(next), ...Object.keys(old)]);
  return [...keys].filter((k) => next[k] !== old[k]);
}

export function nodeRestriction(
  getNode: (name: string) => Promise<KubeObject | undefined> | KubeObject | undefined,
): AdmissionPlugin {
  const deny = (a: AdmissionAttributes, message: string) => forbidden(a.resource.qualified, a.name, message);

  async function admitPodCreate(a: AdmissionAttributes, node: string): Promise<void> {
    const pod = a.object as Pod;
    const meta = pod.metadata ?? {};
    if (meta.annotations?.[MIRROR_POD_ANNOTATION] === undefined)
      throw deny(
        a,
        `pod does not have "${MIRROR_POD_ANNOTATION}" annotation, node "${node}" can only create mirror pods`,
      );
    if (pod.spec?.nodeName !== node)
      throw deny(a, `node "${node}" can only create pods with spec.nodeName set to itself`);
    const owners = meta.ownerReferences ?? [];
    if (owners.length > 1)
      throw deny(a, `node "${node}" can only create pods with a single owner reference set to itself`);
    const owner = owners[0];
    if (owner?.apiVersion !== "v1" || owner.kind !== "Node" || owner.name !== node)
      throw deny(a, `node "${node}" can only create pods with an owner reference set to itself`);
    if (owner.controller !== true)
      throw deny(a, `node "${node}" can only create pods with a controller owner reference set to itself`);
    if (owner.blockOwnerDeletion === true)
      throw deny(a, `node "${node}" must not set blockOwnerDeletion on an owner reference`);
    const nodeObject = await getNode(node);
    if (!nodeObject) throw deny(a, `node "${node}" not found`);
    if (nodeObject.metadata?.uid !== owner.uid)
      throw deny(a, "the UID in the owner reference does not match the current object");
    const spec = pod.spec ?? {};
    if (spec.serviceAccountName || spec.serviceAccount)
      throw deny(a, `node "${node}" can not create pods that reference a service account`);
    const refs = podReferences(a.namespace, a.name, { ...spec, serviceAccountName: "" } as typeof spec);
    for (const [kind, what] of [
      ["secret", "secrets"],
      ["configmap", "configmaps"],
      ["persistentvolumeclaim", "persistentvolumeclaims"],
    ] as const) {
      if (refs.some((r) => r.startsWith(`${kind}\u0000`)))
        throw deny(a, `node "${node}" can not create pods that reference ${what}`);
    }
  }

  async function checkPod(a: AdmissionAttributes, node: string): Promise<void> {
    const boundTo = (a.oldObject as Pod | undefined)?.spec?.nodeName ?? "";
    if (a.subresource === "") {
      if (a.operation === "CREATE") {
        await admitPodCreate(a, node);
        return;
      }
      if (a.operation === "DELETE") {
        if (boundTo !== node)
          throw deny(a, `node "${node}" can only delete pods with spec.nodeName set to itself`);
        return;
      }
      throw deny(
        a,
        `unexpected operation ${a.operation}, node "${node}" can only create and delete mirror pods`,
      );
    }
    if (a.subresource === "status") {
      if (a.operation !== "UPDATE") throw deny(a, `unexpected operation ${a.operation}`);
      if (boundTo !== node)
        throw deny(a, `node "${node}" can only update pod status for pods with spec.nodeName set to itself`);
      return;
    }
    if (a.subresource === "eviction") {
      if (boundTo !== node)
        throw deny(a, `node "${node}" can only evict pods with spec.nodeName set to itself`);
      return;
    }
    throw deny(a, `unexpected pod subresource "${a.subresource}", node "${node}" can only update pod status`);
  }

  function checkNode(a: AdmissionAttributes, node: string): void {
    const requested = a.name || (a.object?.metadata?.name ?? "");
    if (requested !== node) throw deny(a, `node "${node}" is not allowed to modify node "${requested}"`);
    if (a.operation === "CREATE") {
      const forbiddenLabels = Object.keys(labelsOf(a.object)).filter(isForbiddenNodeLabel).sort();
      if (forbiddenLabels.length > 0)
        throw deny(
          a,
          `node "${node}" is not allowed to set the following labels: ${forbiddenLabels.join(", ")}`,
        );
      return;
    }
    if (a.operation !== "UPDATE" || !a.object || !a.oldObject) return;
    const next = a.object as NodeObject;
    const old = a.oldObject as NodeObject;
    if (
      a.subresource === "" &&
      JSON.stringify(next.spec?.taints ?? []) !== JSON.stringify(old.spec?.taints ?? [])
    )
      throw deny(a, `node "${node}" is not allowed to modify taints`);
    const changed = modifiedLabels(labelsOf(next), labelsOf(old)).filter(isForbiddenNodeLabel).sort();
    if (changed.length > 0)
      throw deny(a, `node "${node}" is not allowed to modify labels: ${changed.join(", ")}`);
  }

  function checkLease(a: AdmissionAttributes, node: string): void {
    if (a.operation === "CREATE" && (a.object?.metadata?.name ?? a.name) !== node)
      throw deny(a, "can only access node lease with the same name as the requesting node");
  }

  async function check(a: AdmissionAttributes): Promise<void> {
    const node = nodeIdentity(a.user);
    if (node === undefined) return;
    if (node === "") throw deny(a, "could not determine node from user");
    const { group, plural } = a.resource;
    if (group === "" && plural === "pods") await checkPod(a, node);
    else if (group === "" && plural === "nodes") checkNode(a, node);
    else if (group === "coordination.k8s.io" && plural === "leases") checkLease(a, node);
  }

  return {
    name: "NodeRestriction",
    // Pod creation is judged on what the node sent, before defaults (upstream runs first in the chain).
    async admit(a) {
      if (a.operation === "CREATE" && a.resource.group === "" && a.resource.plural === "pods") await check(a);
    },
    async validate(a) {
      if (a.operation === "CREATE" && a.resource.group === "" && a.resource.plural === "pods") return;
      await check(a);
    },
  };
}
