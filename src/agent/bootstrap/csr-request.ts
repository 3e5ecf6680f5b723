// Asking the cluster for a certificate, as kubelet's certificate manager does: a new private key stays on
// the node, a CertificateSigningRequest carries only the public part, and the certificate is read back from
// status.certificate once the request is approved and signed. Used by `deckhand join` (with a bootstrap
// token) and by client-certificate rotation (with the node's current certificate).

import type { ApiClient } from "../../api/client/client.ts";
import type { CertificateSigningRequest } from "../../api/schema/certificates/csr.ts";
import { csrCondition, KUBELET_CLIENT_SIGNER } from "../../api/schema/certificates/csr-helpers.ts";
import { inWorker } from "../../pki/in-worker.ts";
import { generateKey, isIssuedBy, keyMatchesCertificate } from "../../pki/index.ts";
import type { Clock } from "../../util/clock.ts";
import { systemClock } from "../../util/clock.ts";

const CSRS = { group: "certificates.k8s.io", version: "v1", resource: "certificatesigningrequests" };

export interface CertificateRequest {
  commonName: string;
  organizations: string[];
  dnsNames?: string[];
  ipAddresses?: string[];
  signerName: string;
  /** ECDSA keys sign only: "digital signature" + the extended usage, as kubelet asks for them. */
  usages: string[];
  /** metadata.generateName of the request (kubelet: "node-csr-", serving: "csr-"). */
  namePrefix: string;
}

export interface IssuedCertificate {
  certPem: string;
  keyPem: string;
  csrName: string;
}

export class CertificateRequestError extends Error {
  readonly csrName: string;
  constructor(csrName: string, message: string) {
    super(message);
    this.name = "CertificateRequestError";
    this.csrName = csrName;
  }
}

export function nodeClientRequest(nodeName: string): CertificateRequest {
  return {
    commonName: `system:node:${nodeName}`,
    organizations: ["system:nodes"],
    signerName: KUBELET_CLIENT_SIGNER,
    usages: ["digital signature", "client auth"],
    namePrefix: "node-csr-",
  };
}

/**
 * Creates the request and waits for its certificate. Rejects with CertificateRequestError when it is
 * denied or fails, or when `timeoutMs` passes; `onCreated` reports the request's name as soon as it exists.
 */
export async function requestCertificate(
  api: ApiClient,
  request: CertificateRequest,
  options: {
    timeoutMs: number;
    caPem?: string;
    signal?: AbortSignal;
    clock?: Clock;
    pollMs?: number;
    onCreated?: (name: string) => void;
  },
): Promise<IssuedCertificate> {
  const clock = options.clock ?? systemClock;
  const key = generateKey();
  // In a worker: the agent would otherwise keep the certificate-building library between rotations.
  const csrPem = await inWorker("createCsr", {
    keyPem: key.privateKeyPem,
    commonName: request.commonName,
    organizations: request.organizations,
    ...(request.dnsNames ? { dnsNames: request.dnsNames } : {}),
    ...(request.ipAddresses ? { ipAddresses: request.ipAddresses } : {}),
  });
  const created = await api.create<CertificateSigningRequest>(CSRS, {
    apiVersion: "certificates.k8s.io/v1",
    kind: "CertificateSigningRequest",
    metadata: { generateName: request.namePrefix },
    spec: {
      request: Buffer.from(csrPem).toString("base64"),
      signerName: request.signerName,
      usages: request.usages,
    },
  });
  const name = created.metadata?.name ?? "";
  options.onCreated?.(name);
  const deadline = clock.now() + options.timeoutMs;
  for (;;) {
    const csr = await api.get<CertificateSigningRequest>({ ...CSRS, name });
    for (const type of ["Denied", "Failed"] as const) {
      const condition = csrCondition(csr, type);
      if (condition) {
        throw new CertificateRequestError(
          name,
          `certificate request ${name} was ${type.toLowerCase()}: ${condition.reason ?? ""} ${condition.message ?? ""}`.trim(),
        );
      }
    }
    const certificate = csr.status?.certificate;
    if (certificate) {
      const certPem = Buffer.from(certificate, "base64").toString("utf8");
      if (!keyMatchesCertificate(key.privateKeyPem, certPem)) {
        throw new CertificateRequestError(
          name,
          `certificate request ${name}: the issued certificate is not for the key this node generated`,
        );
      }
      if (options.caPem && !isIssuedBy(certPem, options.caPem)) {
        throw new CertificateRequestError(
          name,
          `certificate request ${name}: the issued certificate is not signed by the cluster CA`,
        );
      }
      return { certPem, keyPem: key.privateKeyPem, csrName: name };
    }
    if (clock.now() >= deadline) {
      const approved = csrCondition(csr, "Approved") ? "approved but not signed" : "not approved";
      throw new CertificateRequestError(
        name,
        `certificate request ${name} is still ${approved} after ${Math.round(options.timeoutMs / 1000)}s (kubectl get csr ${name}; kubectl certificate approve ${name})`,
      );
    }
    await clock.sleep(options.pollMs ?? 500, options.signal);
  }
}
