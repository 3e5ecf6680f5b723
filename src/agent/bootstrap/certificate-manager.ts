// Client-certificate rotation (kubelet's certificate manager, pkg/kubelet/certificate): the node renews its
// client certificate when 70–90% (jittered) of its lifetime has passed, with a new key and a new
// CertificateSigningRequest made with the current certificate (the approver's "selfnodeclient" case).
// The new certificate and key replace the 0600 pem file atomically and the API client switches to them
// without a restart; a failed attempt is retried with backoff until it works or the certificate expires.

import { readFile } from "node:fs/promises";
import type { Logger } from "pino";
import type { ApiClient } from "../../api/client/client.ts";
import { certificateInfo } from "../../pki/index.ts";
import type { Clock } from "../../util/clock.ts";
import { systemClock } from "../../util/clock.ts";
import { nodeClientRequest, requestCertificate } from "./csr-request.ts";
import { writeClientPem } from "./files.ts";

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\n?/;
const KEY_BLOCK = /-----BEGIN (?:EC |RSA )?PRIVATE KEY-----[\s\S]*?-----END (?:EC |RSA )?PRIVATE KEY-----\n?/;

/** When to renew: notBefore + 70–90% of the lifetime (`random` in [0, 1)), like kubelet's jitteryDuration. */
export function rotationDeadline(notBefore: number, notAfter: number, random: number): number {
  const lifetime = notAfter - notBefore;
  return notBefore + lifetime * (0.7 + 0.2 * random);
}

/** Splits the combined pem file into its certificate and key. */
export function splitClientPem(text: string): { certPem: string; keyPem: string } {
  const certPem = CERT_BLOCK.exec(text)?.[0];
  const keyPem = KEY_BLOCK.exec(text)?.[0];
  if (!certPem || !keyPem)
    throw new Error("the client certificate file must hold a CERTIFICATE and a PRIVATE KEY block");
  return { certPem, keyPem };
}

export interface CertificateManagerOptions {
  api: ApiClient;
  nodeName: string;
  /** The combined certificate + key file the node kubeconfig points at. */
  pemPath: string;
  caPem?: string;
  log: Logger;
  clock?: Clock;
  random?: () => number;
  /** How long one renewal waits for approval and signing. */
  requestTimeoutMs?: number;
  onRotated?: (certPem: string) => void;
}

export class ClientCertificateManager {
  readonly #options: CertificateManagerOptions;
  readonly #clock: Clock;
  #rotations = 0;

  constructor(options: CertificateManagerOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
  }

  get rotations(): number {
    return this.#rotations;
  }

  async run(signal: AbortSignal): Promise<void> {
    const { log } = this.#options;
    let backoffMs = 2_000;
    while (!signal.aborted) {
      let current: { notBefore: number; notAfter: number };
      try {
        const { certPem } = splitClientPem(await readFile(this.#options.pemPath, "utf8"));
        const info = certificateInfo(certPem);
        current = { notBefore: info.notBefore.getTime(), notAfter: info.notAfter.getTime() };
      } catch (error) {
        log.error(
          { err: error, file: this.#options.pemPath },
          "cannot read the client certificate; rotation stopped",
        );
        return;
      }
      const deadline = rotationDeadline(
        current.notBefore,
        current.notAfter,
        (this.#options.random ?? Math.random)(),
      );
      const waitMs = Math.max(0, deadline - this.#clock.now());
      log.info(
        { notAfter: new Date(current.notAfter).toISOString(), renewAt: new Date(deadline).toISOString() },
        "client certificate rotation scheduled",
      );
      try {
        await this.#clock.sleep(waitMs, signal);
      } catch {
        return;
      }
      try {
        const issued = await requestCertificate(
          this.#options.api,
          nodeClientRequest(this.#options.nodeName),
          {
            timeoutMs: this.#options.requestTimeoutMs ?? 5 * 60_000,
            signal,
            clock: this.#clock,
            ...(this.#options.caPem ? { caPem: this.#options.caPem } : {}),
          },
        );
        await writeClientPem(this.#options.pemPath, issued.certPem, issued.keyPem);
        this.#options.api.setClientCertificate(Buffer.from(issued.certPem), Buffer.from(issued.keyPem));
        this.#rotations++;
        backoffMs = 2_000;
        log.info(
          { csr: issued.csrName, notAfter: certificateInfo(issued.certPem).notAfter.toISOString() },
          "client certificate rotated",
        );
        this.#options.onRotated?.(issued.certPem);
      } catch (error) {
        if (signal.aborted) return;
        log.warn(
          { err: (error as Error).message, retryInMs: backoffMs },
          "client certificate rotation failed; retrying",
        );
        try {
          await this.#clock.sleep(backoffMs, signal);
        } catch {
          return;
        }
        backoffMs = Math.min(backoffMs * 2, 5 * 60_000);
        // The loop re-reads the file: still the old certificate, so the deadline is already past.
      }
    }
  }
}

/** The client-certificate file the kubeconfig's current user points at, or undefined (inline data, tokens). */
export async function clientCertificateFile(kubeconfigPath: string): Promise<string | undefined> {
  const { parse } = await import("yaml");
  const { dirname, isAbsolute, resolve } = await import("node:path");
  const doc = parse(await readFile(kubeconfigPath, "utf8")) as {
    "current-context"?: string;
    contexts?: Array<{ name: string; context?: { user?: string } }>;
    users?: Array<{ name: string; user?: Record<string, unknown> }>;
  } | null;
  const context = doc?.contexts?.find((c) => c.name === doc["current-context"])?.context;
  const user = doc?.users?.find((u) => u.name === context?.user)?.user;
  const file = user?.["client-certificate"];
  if (typeof file !== "string" || user?.["client-key"] !== file) return undefined;
  return isAbsolute(file) ? file : resolve(dirname(kubeconfigPath), file);
}
