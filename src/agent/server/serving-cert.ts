// The node API's serving certificate when none is configured (tlsCertFile/tlsPrivateKeyFile), as kubelet
// does it: a self-signed CA of its own and a certificate for the node's name and addresses, kept under
// <rootDir>/pki and reused until it is about to expire. The API server does not verify it by default
// (like kube-apiserver without --kubelet-certificate-authority); clients that care pin it.

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { inWorker } from "../../pki/in-worker.ts";
import { certificateInfo, writeCertFile, writeKeyFile } from "../../pki/index.ts";

const DAY_MS = 24 * 60 * 60 * 1000;

export interface ServingCertificate {
  certPem: string;
  keyPem: string;
}

export function servingCertificatePaths(rootDir: string): { cert: string; key: string } {
  return { cert: join(rootDir, "pki", "deckhand-node.crt"), key: join(rootDir, "pki", "deckhand-node.key") };
}

/** Reads the configured certificate files, naming the setting when one cannot be read. */
export async function loadServingCertificate(certFile: string, keyFile: string): Promise<ServingCertificate> {
  const read = (path: string, setting: string) =>
    readFile(path, "utf8").catch((error: NodeJS.ErrnoException) => {
      throw new Error(`${setting} ${path} cannot be read (${error.code}); fix the agent configuration`);
    });
  return { certPem: await read(certFile, "tlsCertFile"), keyPem: await read(keyFile, "tlsPrivateKeyFile") };
}

/** The self-signed serving certificate under rootDir/pki, created (or renewed within 30 days of expiry). */
export async function ensureSelfSignedServingCertificate(options: {
  rootDir: string;
  nodeName: string;
  ipAddresses: string[];
  now?: number;
}): Promise<ServingCertificate> {
  const paths = servingCertificatePaths(options.rootDir);
  const now = options.now ?? Date.now();
  try {
    const existing = {
      certPem: await readFile(paths.cert, "utf8"),
      keyPem: await readFile(paths.key, "utf8"),
    };
    const info = certificateInfo(existing.certPem);
    const names = new Set([...info.dnsNames, ...info.ipAddresses]);
    const covers = [options.nodeName, ...options.ipAddresses].every((n) => names.has(n));
    if (covers && info.notAfter.getTime() - now > 30 * DAY_MS) return existing;
  } catch {
    // Missing or unreadable: make a new one.
  }
  const seconds = Math.floor(now / 1000);
  // In a worker: the agent would otherwise keep the certificate-building library for a yearly renewal.
  const issued = await inWorker("createSelfSignedChain", {
    caCommonName: `${options.nodeName}-ca@${seconds}`,
    commonName: `${options.nodeName}@${seconds}`,
    dnsNames: [options.nodeName],
    ipAddresses: options.ipAddresses,
    validityDays: 365,
  });
  try {
    await writeKeyFile(paths.key, issued.keyPem);
    await writeCertFile(paths.cert, issued.certPem);
  } catch (error) {
    // A full or read-only disk must not keep the node from starting (it reports DiskPressure instead): serve
    // with the certificate in memory; the next start writes one.
    if (!DISK_ERRORS.has((error as NodeJS.ErrnoException).code ?? "")) throw error;
  }
  return issued;
}

const DISK_ERRORS = new Set(["ENOSPC", "EDQUOT", "EROFS"]);

/**
 * TLS settings of the node API: the configured or self-signed serving certificate, and the CA that client
 * certificates must chain to (clientCAFile, else the cluster CA from the kubeconfig; none: every request
 * but a local /healthz is refused).
 */
export async function nodeApiTls(options: {
  rootDir: string;
  nodeName: string;
  ipAddresses: string[];
  tlsCertFile: string;
  tlsPrivateKeyFile: string;
  clientCAFile: string;
  clusterCa: Buffer | undefined;
}): Promise<ServingCertificate & { clientCaPem?: string }> {
  const serving = options.tlsCertFile
    ? await loadServingCertificate(options.tlsCertFile, options.tlsPrivateKeyFile)
    : await ensureSelfSignedServingCertificate(options);
  let clientCaPem = options.clusterCa?.toString("utf8");
  if (options.clientCAFile) {
    clientCaPem = await readFile(options.clientCAFile, "utf8").catch((error: NodeJS.ErrnoException) => {
      throw new Error(
        `authentication.x509.clientCAFile ${options.clientCAFile} cannot be read (${error.code})`,
      );
    });
  }
  return { ...serving, ...(clientCaPem ? { clientCaPem } : {}) };
}
