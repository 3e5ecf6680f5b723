// Issuing the node API's self-signed serving certificate (a CA of its own, and a certificate for the node's
// name and addresses) in a worker thread. Building certificates needs @peculiar/x509, ~10 MiB the agent
// would keep for the rest of its life after doing this once a year; the worker's memory goes with it.
import { extname } from "node:path";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { createCertificateAuthority, generateKey, issueCertificate } from "../../pki/index.ts";
import type { ServingCertificate } from "./serving-cert.ts";

export interface SelfSignedRequest {
  nodeName: string;
  ipAddresses: string[];
  /** Unix seconds, in the names (as kubelet's `<node>@<time>`). */
  nowSeconds: number;
}

/** The certificate chain (leaf, then its CA) and the leaf's key. */
export async function issueSelfSigned(request: SelfSignedRequest): Promise<ServingCertificate> {
  const ca = await createCertificateAuthority({ commonName: `${request.nodeName}-ca@${request.nowSeconds}` });
  const key = generateKey();
  const certPem = await issueCertificate(ca, {
    publicKeyPem: key.publicKeyPem,
    commonName: `${request.nodeName}@${request.nowSeconds}`,
    dnsNames: [request.nodeName],
    ipAddresses: request.ipAddresses,
    usage: "server",
    validityDays: 365,
  });
  return { certPem: `${certPem.trimEnd()}\n${ca.certPem.trimEnd()}\n`, keyPem: key.privateKeyPem };
}

/** issueSelfSigned() in a worker thread of its own, which exits when done. */
export function issueSelfSignedInWorker(request: SelfSignedRequest): Promise<ServingCertificate> {
  // The same module, as .ts from the sources and .js once built.
  const worker = new Worker(new URL(`./self-signed${extname(import.meta.url)}`, import.meta.url), {
    workerData: request,
  });
  return new Promise((resolve, reject) => {
    worker.once("message", (message: { ok: ServingCertificate } | { error: string }) => {
      if ("ok" in message) resolve(message.ok);
      else reject(new Error(`issuing the self-signed serving certificate failed: ${message.error}`));
    });
    worker.once("error", reject);
    worker.once("exit", (code) =>
      reject(new Error(`the worker issuing the serving certificate exited (${code}) without an answer`)),
    );
  });
}

if (!isMainThread && parentPort && (workerData as SelfSignedRequest | undefined)?.nodeName !== undefined) {
  const port = parentPort;
  issueSelfSigned(workerData as SelfSignedRequest).then(
    (ok) => port.postMessage({ ok }),
    (error: unknown) => port.postMessage({ error: error instanceof Error ? error.message : String(error) }),
  );
}
