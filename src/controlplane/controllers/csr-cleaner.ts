// The CSR cleaner (upstream pkg/controller/certificates/cleaner, "csrcleaner"): finished requests do not
// pile up. Deleted: an issued request 1 h after its approval, or once its certificate has expired; a denied
// or failed one 1 h after that condition; one still pending after 24 h.

import { isNotFound } from "../../api/client/errors.ts";
import type { CertificateSigningRequest } from "../../api/schema/certificates/csr.ts";
import { csrCondition } from "../../api/schema/certificates/csr-helpers.ts";
import { certificateExpiry } from "../../pki/index.ts";
import { type ControllerContext, RESOURCES } from "./machinery/context.ts";
import { ControllerLoop, type SyncResult } from "./machinery/controller.ts";
import type { Informer } from "./machinery/informer.ts";
import { keyOf } from "./machinery/keys.ts";

const COMPONENT = "csrcleaner";
const HOUR = 3600_000;
export const PENDING_EXPIRATION_MS = 24 * HOUR;
export const FINISHED_EXPIRATION_MS = HOUR;

function at(time: string | undefined): number | undefined {
  const ms = time ? Date.parse(time) : Number.NaN;
  return Number.isFinite(ms) ? ms : undefined;
}

/** When the request is to be deleted (pure); undefined when it carries no date to go by. */
export function csrDeletionTime(csr: CertificateSigningRequest): number | undefined {
  const times: number[] = [];
  const certificate = csr.status?.certificate;
  if (certificate) {
    try {
      times.push(certificateExpiry(Buffer.from(certificate, "base64").toString("utf8")).getTime());
    } catch {
      // An unreadable certificate is judged by its approval alone.
    }
  }
  for (const type of ["Denied", "Failed"] as const) {
    const condition = csrCondition(csr, type);
    const when = at(condition?.lastUpdateTime ?? condition?.lastTransitionTime);
    if (condition && when !== undefined) times.push(when + FINISHED_EXPIRATION_MS);
  }
  const approved = csrCondition(csr, "Approved");
  const approvedAt = at(approved?.lastUpdateTime ?? approved?.lastTransitionTime);
  if (certificate && approvedAt !== undefined) times.push(approvedAt + FINISHED_EXPIRATION_MS);
  const created = at(csr.metadata?.creationTimestamp);
  if (!approved && !csrCondition(csr, "Denied") && created !== undefined) {
    times.push(created + PENDING_EXPIRATION_MS);
  }
  return times.length === 0 ? undefined : Math.min(...times);
}

export class CsrCleanerController {
  readonly loop: ControllerLoop;
  private readonly ctx: ControllerContext;
  private readonly csrs: Informer<CertificateSigningRequest>;

  constructor(ctx: ControllerContext) {
    this.ctx = ctx;
    this.csrs = ctx.informers.get("certificateSigningRequests");
    this.loop = new ControllerLoop({
      name: COMPONENT,
      log: ctx.log.child({ controller: COMPONENT }),
      clock: ctx.clock,
      workers: 1,
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
    if (!csr || csr.metadata?.deletionTimestamp) return undefined;
    const deleteAt = csrDeletionTime(csr);
    if (deleteAt === undefined) return undefined;
    const now = this.ctx.clock.now();
    if (deleteAt > now) return { requeueAfterMs: deleteAt - now + 1 };
    try {
      await this.ctx.client.delete(
        { ...RESOURCES.certificateSigningRequests, name },
        { preconditions: { uid: csr.metadata?.uid } },
      );
      this.ctx.log.info(
        { controller: COMPONENT, csr: name },
        "deleted a finished certificate signing request",
      );
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    return undefined;
  }
}
