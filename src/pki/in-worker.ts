// Building certificates and requests in a short-lived worker thread. @peculiar/x509 (and the ASN.1 and
// reflection libraries under it) is ~10 MiB a process keeps for good once loaded; a node agent builds a
// request or a self-signed certificate a few times a year, so it does that in a worker whose memory goes
// when it exits.
import { extname } from "node:path";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { createCertificateAuthority, issueCertificate } from "./certificates.ts";
import { createCsr } from "./csr.ts";
import { generateKey } from "./keys.ts";
import type { AltNames, SubjectFields } from "./names.ts";

export interface SelfSignedChainRequest extends AltNames {
  /** The CA's common name (the CA exists only to sign this one certificate). */
  caCommonName: string;
  commonName: string;
  validityDays: number;
}

/** A server certificate signed by a CA made for it: the chain (leaf, then CA) and the leaf's key. */
export async function createSelfSignedChain(
  request: SelfSignedChainRequest,
): Promise<{ certPem: string; keyPem: string }> {
  const ca = await createCertificateAuthority({ commonName: request.caCommonName });
  const key = generateKey();
  const certPem = await issueCertificate(ca, {
    publicKeyPem: key.publicKeyPem,
    commonName: request.commonName,
    dnsNames: request.dnsNames ?? [],
    ipAddresses: request.ipAddresses ?? [],
    usage: "server",
    validityDays: request.validityDays,
  });
  return { certPem: `${certPem.trimEnd()}\n${ca.certPem.trimEnd()}\n`, keyPem: key.privateKeyPem };
}

const operations = {
  createCsr: (options: SubjectFields & AltNames & { keyPem: string }) => createCsr(options),
  createSelfSignedChain,
};
type Operations = typeof operations;
type Operation = keyof Operations;

interface Job<K extends Operation = Operation> {
  deckhandPkiJob: K;
  argument: Parameters<Operations[K]>[0];
}

/** Runs one of this module's operations in a worker thread of its own, which exits when done. */
export function inWorker<K extends Operation>(
  operation: K,
  argument: Parameters<Operations[K]>[0],
): Promise<Awaited<ReturnType<Operations[K]>>> {
  // This very module, as .ts from the sources and .js once built.
  const worker = new Worker(new URL(`./in-worker${extname(import.meta.url)}`, import.meta.url), {
    workerData: { deckhandPkiJob: operation, argument } satisfies Job<K>,
  });
  return new Promise((resolve, reject) => {
    worker.once("message", (message: { ok: Awaited<ReturnType<Operations[K]>> } | { error: string }) => {
      if ("ok" in message) resolve(message.ok);
      else reject(new Error(message.error));
    });
    worker.once("error", reject);
    worker.once("exit", (code) =>
      reject(new Error(`the ${operation} worker exited (${code}) without an answer`)),
    );
  });
}

const job = workerData as Partial<Job> | undefined;
if (!isMainThread && parentPort && job?.deckhandPkiJob !== undefined) {
  const port = parentPort;
  const run = operations[job.deckhandPkiJob] as (argument: unknown) => Promise<unknown>;
  run(job.argument).then(
    (ok) => port.postMessage({ ok }),
    (error: unknown) => port.postMessage({ error: error instanceof Error ? error.message : String(error) }),
  );
}
