// The CSR signer (upstream pkg/controller/certificates/signer, "csrsigning") for the two node signers,
// kubernetes.io/kube-apiserver-client-kubelet and kubernetes.io/kubelet-serving, with the cluster CA the
// control plane hands over in its configuration. An approved request that is a valid node certificate
// gets status.certificate; one that is not gets a Failed condition (SignerValidationFailure) and is never
// retried. Validity: --cluster-signing-duration (1 year), shortened by spec.expirationSeconds, never past
// the CA's own expiry.

import type { CertificateSigningRequest } from "../../api/schema/certificates/csr.ts";
import {
  csrCondition,
  KUBELET_CLIENT_SIGNER,
  KUBELET_SERVING_SIGNER,
  requestPem,
} from "../../api/schema/certificates/csr-helpers.ts";
import { type CertificateAuthority, certificateExpiry, issueCertificate, parseCsr } from "../../pki/index.ts";
import { kubeletClientProblem, kubeletServingProblem } from "./csr-kubelet.ts";
import { type ControllerContext, RESOURCES } from "./machinery/context.ts";
import { ControllerLoop, type SyncResult } from "./machinery/controller.ts";
import type { Informer } from "./machinery/informer.ts";
import { keyOf } from "./machinery/keys.ts";

const COMPONENT = "csrsigning-controller";
const DAY_MS = 24 * 60 * 60 * 1000;
/** Upstream's signer backdates certificates by five minutes for clock skew. */
const BACKDATE_MS = 5 * 60 * 1000;

export const DEFAULT_SIGNING_DURATION_MS = 365 * DAY_MS;

/** The cluster's certificate settings, handed to the controllers by the control plane. */
export interface CertificatesConfig {
  /** The cluster CA (DATA_DIR/pki/ca.crt + ca.key) that signs node certificates. */
  ca: CertificateAuthority;
  /** The API server URL cluster-info advertises to joining nodes. */
  serverUrl?: string;
}

/**
 * notBefore/notAfter of a certificate issued at `now`: backdated for clock skew by 5 minutes (upstream's
 * signer), but never by more than 1% of a short lifetime, so that a renewal schedule measured over the
 * certificate's lifetime stays meaningful for short test durations.
 */
export function signingWindow(
  now: number,
  durationMs: number,
  caNotAfter: number,
): { notBefore: number; notAfter: number } {
  const backdate = Math.min(BACKDATE_MS, Math.floor(durationMs / 100));
  return { notBefore: now - backdate, notAfter: Math.min(now + durationMs, caNotAfter) };
}

export class CsrSigningController {
  readonly loop: ControllerLoop;
  private readonly ctx: ControllerContext;
  private readonly csrs: Informer<CertificateSigningRequest>;
  private readonly config: CertificatesConfig;
  private readonly caNotAfter: number;
  private readonly signingDurationMs: number;

  constructor(
    ctx: ControllerContext,
    config: CertificatesConfig,
    signingDurationMs = DEFAULT_SIGNING_DURATION_MS,
  ) {
    this.ctx = ctx;
    this.config = config;
    this.signingDurationMs = signingDurationMs;
    this.caNotAfter = certificateExpiry(config.ca.certPem).getTime();
    this.csrs = ctx.informers.get("certificateSigningRequests");
    this.loop = new ControllerLoop({
      name: COMPONENT,
      log: ctx.log.child({ controller: COMPONENT }),
      clock: ctx.clock,
      sync: (key) => this.sync(key),
    });
    this.csrs.addHandler({
      add: (csr) => this.loop.enqueue(keyOf(csr)),
      update: (_old, csr) => this.loop.enqueue(keyOf(csr)),
    });
  }

  run(signal: AbortSignal): Promise<void> {
    return this.loop.run(signal);
  }

  private async sync(name: string): Promise<SyncResult | undefined> {
    const csr = this.csrs.get(name);
    if (!csr || csr.status?.certificate) return undefined;
    if (!csrCondition(csr, "Approved") || csrCondition(csr, "Failed")) return undefined;
    const signer = csr.spec?.signerName;
    if (signer !== KUBELET_CLIENT_SIGNER && signer !== KUBELET_SERVING_SIGNER) return undefined;
    const log = this.ctx.log.child({ controller: COMPONENT, csr: name, signer });
    const pem = requestPem(csr);
    let problem: string | undefined;
    try {
      const parsed = await parseCsr(pem);
      const usages = csr.spec?.usages ?? [];
      problem =
        signer === KUBELET_CLIENT_SIGNER
          ? kubeletClientProblem(parsed, usages)
          : kubeletServingProblem(parsed, usages);
    } catch (error) {
      problem = `the request cannot be parsed: ${(error as Error).message}`;
    }
    if (problem) {
      log.info({ problem }, "approved certificate request is not valid for its signer; marked Failed");
      await this.writeStatus(csr, undefined, problem);
      return undefined;
    }
    const now = this.ctx.clock.now();
    const requested = csr.spec?.expirationSeconds;
    const configured = this.signingDurationMs;
    const duration = requested !== undefined ? Math.min(configured, requested * 1000) : configured;
    const window = signingWindow(now, duration, this.caNotAfter);
    const certPem = await issueCertificate(this.config.ca, {
      csrPem: pem,
      usage: signer === KUBELET_CLIENT_SIGNER ? "client" : "server",
      validityDays: (window.notAfter - now) / DAY_MS,
      backdateMs: now - window.notBefore,
      now: new Date(now),
    });
    await this.writeStatus(csr, certPem, undefined);
    log.info(
      { user: csr.spec?.username, notAfter: new Date(window.notAfter).toISOString() },
      "certificate issued",
    );
    return undefined;
  }

  private async writeStatus(
    csr: CertificateSigningRequest,
    certPem: string | undefined,
    failure: string | undefined,
  ): Promise<void> {
    const next = structuredClone(csr);
    next.status ??= {};
    if (certPem) next.status.certificate = Buffer.from(certPem).toString("base64");
    if (failure) {
      next.status.conditions = [
        ...(next.status.conditions ?? []),
        { type: "Failed", status: "True", reason: "SignerValidationFailure", message: failure },
      ];
    }
    await this.ctx.client.update(
      { ...RESOURCES.certificateSigningRequests, name: csr.metadata?.name, subresource: "status" },
      next,
    );
  }
}
