// Certificate rotation (kubelet's certificate manager, pkg/kubelet/certificate): a certificate is renewed
// when 70–90% (jittered) of its lifetime has passed, with a new key and a new CertificateSigningRequest.
// The client certificate is renewed with the current one (the approver's "selfnodeclient" case) and
// swapped into the API client; the serving certificate (serverTLSBootstrap) comes from the kubelet-serving
// signer and is swapped into the node API. The pem file (certificate + key, 0600) is replaced atomically;
// nothing restarts; a failed attempt is retried with backoff.

import { readFile } from "node:fs/promises";
import type { Logger } from "pino";
import type { ApiClient } from "../../api/client/client.ts";
import { KUBELET_SERVING_SIGNER } from "../../api/schema/certificates/csr-helpers.ts";
import { certificateInfo } from "../../pki/index.ts";
import type { Clock } from "../../util/clock.ts";
import { systemClock } from "../../util/clock.ts";
import { type CertificateRequest, nodeClientRequest, requestCertificate } from "./csr-request.ts";
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
  /** "client" or "serving", for logs. */
  kind: string;
  /** The request to make for a new certificate (asked anew each time: SANs may have changed). */
  request(): Promise<CertificateRequest> | CertificateRequest;
  /** The combined certificate + key file (0600). Missing: a certificate is requested at once. */
  pemPath: string;
  /** Puts a new certificate to use (the API client's credentials, the node API's serving context). */
  apply(certPem: string, keyPem: string): void;
  caPem?: string;
  log: Logger;
  clock?: Clock;
  random?: () => number;
  /** How long one request waits for approval and signing. */
  requestTimeoutMs?: number;
}

export class CertificateManager {
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

  /** The stored certificate and key, or undefined when there are none yet. */
  async current(): Promise<{ certPem: string; keyPem: string } | undefined> {
    try {
      return splitClientPem(await readFile(this.#options.pemPath, "utf8"));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
  }

  async run(signal: AbortSignal): Promise<void> {
    const { log, kind } = this.#options;
    let backoffMs = 2_000;
    while (!signal.aborted) {
      let deadline = this.#clock.now();
      let expiresAt: number | undefined;
      try {
        const stored = await this.current();
        if (stored) {
          const info = certificateInfo(stored.certPem);
          expiresAt = info.notAfter.getTime();
          deadline = rotationDeadline(
            info.notBefore.getTime(),
            info.notAfter.getTime(),
            (this.#options.random ?? Math.random)(),
          );
          log.info(
            {
              certificate: kind,
              notAfter: info.notAfter.toISOString(),
              renewAt: new Date(deadline).toISOString(),
            },
            "certificate rotation scheduled",
          );
        }
      } catch (error) {
        log.error(
          { err: error, file: this.#options.pemPath },
          `cannot read the ${kind} certificate; rotation stopped`,
        );
        return;
      }
      const waitMs = deadline - this.#clock.now();
      if (waitMs > 0) {
        try {
          await this.#clock.sleep(waitMs, signal);
        } catch {
          return;
        }
      }
      try {
        const issued = await requestCertificate(this.#options.api, await this.#options.request(), {
          timeoutMs: this.#options.requestTimeoutMs ?? 5 * 60_000,
          signal,
          clock: this.#clock,
          ...(this.#options.caPem ? { caPem: this.#options.caPem } : {}),
        });
        await writeClientPem(this.#options.pemPath, issued.certPem, issued.keyPem);
        this.#options.apply(issued.certPem, issued.keyPem);
        this.#rotations++;
        backoffMs = 2_000;
        log.info(
          {
            certificate: kind,
            csr: issued.csrName,
            notAfter: certificateInfo(issued.certPem).notAfter.toISOString(),
          },
          `${kind} certificate rotated`,
        );
      } catch (error) {
        if (signal.aborted) return;
        const expired = expiresAt !== undefined && expiresAt <= this.#clock.now();
        log[expired ? "error" : "warn"](
          { certificate: kind, err: (error as Error).message, retryInMs: backoffMs },
          expired && kind === "client"
            ? "client certificate request failed and the current certificate has expired, so the API server refuses it: join the node again with a new token (deckhand token create; deckhand join)"
            : `${kind} certificate request failed; retrying`,
        );
        try {
          await this.#clock.sleep(backoffMs, signal);
        } catch {
          return;
        }
        backoffMs = Math.min(backoffMs * 2, 5 * 60_000);
        // The loop re-reads the file: still the old certificate (or none), so the deadline has passed.
      }
    }
  }
}

/** The node's client certificate: renewed with the current one (selfnodeclient), swapped into the API client. */
export function clientCertificateManager(options: {
  api: ApiClient;
  nodeName: string;
  pemPath: string;
  caPem?: string;
  log: Logger;
  clock?: Clock;
}): CertificateManager {
  return new CertificateManager({
    ...options,
    kind: "client",
    request: () => nodeClientRequest(options.nodeName),
    apply: (certPem, keyPem) => options.api.setClientCertificate(Buffer.from(certPem), Buffer.from(keyPem)),
  });
}

/**
 * The node API's serving certificate from the kubernetes.io/kubelet-serving signer (serverTLSBootstrap):
 * CN system:node:<name>, SANs = the Node's reported addresses, so that the approver can approve it.
 */
export function servingCertificateRequest(
  nodeName: string,
  addresses: ReadonlyArray<{ type?: string; address?: string }>,
): CertificateRequest {
  const of = (...types: string[]) => [
    ...new Set(
      addresses.filter((a) => a.address && types.includes(a.type ?? "")).map((a) => a.address as string),
    ),
  ];
  return {
    commonName: `system:node:${nodeName}`,
    organizations: ["system:nodes"],
    dnsNames: of("Hostname", "InternalDNS", "ExternalDNS"),
    ipAddresses: of("InternalIP", "ExternalIP"),
    signerName: KUBELET_SERVING_SIGNER,
    usages: ["digital signature", "server auth"],
    namePrefix: "csr-",
  };
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
