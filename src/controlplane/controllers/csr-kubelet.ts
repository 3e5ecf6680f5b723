// What a node's certificate requests must look like (upstream pkg/apis/certificates/helpers.go:
// ValidateKubeletClientCSR, ValidateKubeletServingCSR), shared by the approver and the signer. Pure.

import type { ParsedCsr } from "../../pki/index.ts";

export const NODE_USER_PREFIX = "system:node:";
export const NODES_GROUP = "system:nodes";

const CLIENT_USAGES = [
  ["digital signature", "key encipherment", "client auth"],
  ["digital signature", "client auth"],
];
const SERVING_USAGES = [
  ["digital signature", "key encipherment", "server auth"],
  ["digital signature", "server auth"],
];

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const left = new Set(a);
  const right = new Set(b);
  return left.size === right.size && [...left].every((x) => right.has(x));
}

function subjectProblem(csr: ParsedCsr): string | undefined {
  if (csr.organizations.length !== 1 || csr.organizations[0] !== NODES_GROUP) {
    return `subject organization must be exactly ["${NODES_GROUP}"], not ${JSON.stringify(csr.organizations)}`;
  }
  if (!csr.commonName.startsWith(NODE_USER_PREFIX) || csr.commonName === NODE_USER_PREFIX) {
    return `subject common name must be "${NODE_USER_PREFIX}<node name>", not ${JSON.stringify(csr.commonName)}`;
  }
  return undefined;
}

/** Why a kubernetes.io/kube-apiserver-client-kubelet request is not a node client certificate, or undefined. */
export function kubeletClientProblem(csr: ParsedCsr, usages: readonly string[]): string | undefined {
  const subject = subjectProblem(csr);
  if (subject) return subject;
  if (
    csr.dnsNames.length > 0 ||
    csr.ipAddresses.length > 0 ||
    csr.emailAddresses.length > 0 ||
    csr.uris.length > 0
  ) {
    return "a node client certificate may not have subject alternative names";
  }
  if (!CLIENT_USAGES.some((allowed) => sameSet(allowed, usages))) {
    return `usages must be ${CLIENT_USAGES.map((u) => JSON.stringify(u)).join(" or ")}, not ${JSON.stringify(usages)}`;
  }
  return undefined;
}

/** Why a kubernetes.io/kubelet-serving request is not a node serving certificate, or undefined. */
export function kubeletServingProblem(csr: ParsedCsr, usages: readonly string[]): string | undefined {
  const subject = subjectProblem(csr);
  if (subject) return subject;
  if (csr.dnsNames.length === 0 && csr.ipAddresses.length === 0) {
    return "a node serving certificate needs at least one DNS or IP subject alternative name";
  }
  if (csr.emailAddresses.length > 0 || csr.uris.length > 0) {
    return "a node serving certificate may not have email or URI subject alternative names";
  }
  if (!SERVING_USAGES.some((allowed) => sameSet(allowed, usages))) {
    return `usages must be ${SERVING_USAGES.map((u) => JSON.stringify(u)).join(" or ")}, not ${JSON.stringify(usages)}`;
  }
  return undefined;
}

interface NodeAddresses {
  status?: { addresses?: Array<{ type?: string; address?: string }> };
}

/**
 * Deckhand's rule for approving serving certificates (upstream leaves them to an operator): every SAN must
 * be one of the Node's own addresses — DNS names among Hostname/InternalDNS/ExternalDNS, IPs among
 * InternalIP/ExternalIP. Returns the first name that is not, or undefined.
 */
export function sanOutsideNode(csr: ParsedCsr, node: NodeAddresses): string | undefined {
  const addresses = node.status?.addresses ?? [];
  const of = (...types: string[]) =>
    new Set(
      addresses.filter((a) => a.address && types.includes(a.type ?? "")).map((a) => a.address as string),
    );
  const names = of("Hostname", "InternalDNS", "ExternalDNS");
  const ips = of("InternalIP", "ExternalIP");
  return csr.dnsNames.find((n) => !names.has(n)) ?? csr.ipAddresses.find((ip) => !ips.has(ip));
}
