// What requesters, approvers and signers of certificates.k8s.io/v1 CertificateSigningRequests share: the
// well-known signer names and the condition helpers. Apart from ./csr.ts (schema, strategy, validation), so
// that the node agent asking for a certificate does not load TypeBox and the schema DSL.
import type { CertificateSigningRequest, CertificateSigningRequestCondition } from "./csr.ts";

/** The well-known signers (upstream k8s.io/api/certificates/v1). */
export const KUBE_APISERVER_CLIENT_SIGNER = "kubernetes.io/kube-apiserver-client";
export const KUBELET_CLIENT_SIGNER = "kubernetes.io/kube-apiserver-client-kubelet";
export const KUBELET_SERVING_SIGNER = "kubernetes.io/kubelet-serving";
export const LEGACY_UNKNOWN_SIGNER = "kubernetes.io/legacy-unknown";

export type CsrConditionType = "Approved" | "Denied" | "Failed";

export function csrCondition(
  csr: CertificateSigningRequest,
  type: CsrConditionType,
): CertificateSigningRequestCondition | undefined {
  return (csr.status?.conditions ?? []).find((c) => c.type === type);
}

export function isApproved(csr: CertificateSigningRequest): boolean {
  return csrCondition(csr, "Approved")?.status === "True";
}

export function isDenied(csr: CertificateSigningRequest): boolean {
  return csrCondition(csr, "Denied")?.status === "True";
}

export function isFailed(csr: CertificateSigningRequest): boolean {
  return csrCondition(csr, "Failed")?.status === "True";
}

/** The PEM request text of spec.request (base64 in JSON). */
export function requestPem(csr: CertificateSigningRequest): string {
  return Buffer.from(csr.spec?.request ?? "", "base64").toString("utf8");
}
