// The control plane's certificates under DATA_DIR/pki, created on first start and reused afterwards (as
// kubeadm's `init phase certs`): the cluster CA, the API server's serving certificate, client certificates
// for the control plane's own clients, and the service-account token signing key. A serving certificate
// that no longer covers the server's names (a new --tls-san, another listen address) or is close to its
// end is issued again from the same CA; the CA itself is never replaced.

import { readFile } from "node:fs/promises";
import { isIP } from "node:net";
import { hostname, networkInterfaces } from "node:os";
import { join } from "node:path";
import type { Logger } from "pino";
import {
  type CertificateAuthority,
  certificateInfo,
  createCertificateAuthority,
  generateKey,
  isIssuedBy,
  issueKeyAndCertificate,
  keyMatchesCertificate,
  publicKeyOf,
  writeCertFile,
  writeKeyFile,
} from "../pki/index.ts";
import { formatIpv4, parseIpv4Cidr } from "./apiserver/allocators/ip.ts";

export interface KeyAndCert {
  certPem: string;
  keyPem: string;
}

export interface ControlPlanePki {
  dir: string;
  ca: CertificateAuthority;
  caCertPath: string;
  serving: KeyAndCert;
  /** Signs and verifies service-account tokens (sa.key / sa.pub). */
  serviceAccountKey: { privateKeyPem: string; publicKeyPem: string };
}

/** A client certificate the control plane issues to itself, stored as <name>.crt/<name>.key. */
export interface ClientIdentity {
  name: string;
  commonName: string;
  organizations: string[];
}

/** The API server's own client certificate towards node agents (kubeadm's apiserver-kubelet-client). */
export const KUBELET_CLIENT: ClientIdentity = {
  name: "apiserver-kubelet-client",
  commonName: "kube-apiserver-kubelet-client",
  organizations: ["system:masters"],
};

export const ADMIN_CLIENT: ClientIdentity = {
  name: "admin",
  commonName: "kubernetes-admin",
  organizations: ["system:masters"],
};

/** The in-process scheduler and controllers; in system:masters until they get RBAC roles of their own. */
export const CONTROLLER_MANAGER_CLIENT: ClientIdentity = {
  name: "controller-manager",
  commonName: "system:kube-controller-manager",
  organizations: ["system:masters"],
};

const CA_DAYS = 3650;
const LEAF_DAYS = 365;
/** Leaf certificates are issued again when less than this is left. */
const RENEW_BEFORE_MS = 30 * 24 * 3600 * 1000;

export interface PkiOptions {
  dataDir: string;
  /** The listen host; a wildcard adds every address of this machine. */
  listenHost: string;
  serviceCidr: string;
  /** --tls-san: extra DNS names and IP addresses for the serving certificate. */
  extraSans?: readonly string[];
  log: Logger;
}

export async function ensureControlPlanePki(options: PkiOptions): Promise<ControlPlanePki> {
  const dir = join(options.dataDir, "pki");
  const log = options.log.child({ pki: dir });
  const caCertPath = join(dir, "ca.crt");
  let ca = await readPair(join(dir, "ca"));
  if (!ca) {
    ca = await createCertificateAuthority({ commonName: "kubernetes", validityDays: CA_DAYS });
    await writeKeyFile(join(dir, "ca.key"), ca.keyPem);
    await writeCertFile(caCertPath, ca.certPem);
    log.info("created the cluster CA");
  } else if (!keyMatchesCertificate(ca.keyPem, ca.certPem)) {
    throw new Error(
      `${join(dir, "ca.key")} does not belong to ${caCertPath}; restore the pair or remove both`,
    );
  }

  const sans = servingNames(options);
  let serving = await readPair(join(dir, "apiserver"));
  if (!serving || !usable(serving, ca, (info) => covers(info, sans))) {
    serving = await issueKeyAndCertificate(ca, {
      commonName: "kube-apiserver",
      dnsNames: sans.dnsNames,
      ipAddresses: sans.ipAddresses,
      usage: "server",
      validityDays: LEAF_DAYS,
    });
    await writeKeyFile(join(dir, "apiserver.key"), serving.keyPem);
    await writeCertFile(join(dir, "apiserver.crt"), serving.certPem);
    log.info(
      { dnsNames: sans.dnsNames, ipAddresses: sans.ipAddresses },
      "issued the API server's serving certificate",
    );
  }

  let saPrivate = await readOptional(join(dir, "sa.key"));
  if (saPrivate === undefined) {
    saPrivate = generateKey().privateKeyPem;
    await writeKeyFile(join(dir, "sa.key"), saPrivate);
    log.info("created the service-account signing key");
  }
  const saPublic = publicKeyOf(saPrivate);
  if ((await readOptional(join(dir, "sa.pub"))) !== saPublic)
    await writeCertFile(join(dir, "sa.pub"), saPublic);

  return {
    dir,
    ca,
    caCertPath,
    serving,
    serviceAccountKey: { privateKeyPem: saPrivate, publicKeyPem: saPublic },
  };
}

/** The stored client certificate for `identity`, issued (again) when missing, foreign or close to expiry. */
export async function ensureClientCertificate(
  pki: ControlPlanePki,
  identity: ClientIdentity,
): Promise<KeyAndCert> {
  const base = join(pki.dir, identity.name);
  const existing = await readPair(base);
  const wanted = (info: ReturnType<typeof certificateInfo>) =>
    info.commonName === identity.commonName &&
    info.organizations.join(",") === identity.organizations.join(",");
  if (existing && usable(existing, pki.ca, wanted)) return existing;
  const issued = await issueKeyAndCertificate(pki.ca, {
    commonName: identity.commonName,
    organizations: identity.organizations,
    usage: "client",
    validityDays: LEAF_DAYS,
  });
  await writeKeyFile(`${base}.key`, issued.keyPem);
  await writeCertFile(`${base}.crt`, issued.certPem);
  return issued;
}

export interface ServingNames {
  dnsNames: string[];
  ipAddresses: string[];
}

/** The names kube-apiserver's certificate carries (kubeadm's apiserver cert) plus this server's addresses. */
export function servingNames(
  options: Pick<PkiOptions, "listenHost" | "serviceCidr" | "extraSans">,
): ServingNames {
  const dns = new Set([
    "localhost",
    hostname(),
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
  ]);
  const ips = new Set(["127.0.0.1", "::1"]);
  const cidr = parseIpv4Cidr(options.serviceCidr);
  ips.add(formatIpv4(cidr.base + 1));
  const host = options.listenHost;
  if (host === "0.0.0.0" || host === "::" || host === "") {
    for (const list of Object.values(networkInterfaces())) {
      for (const address of list ?? []) {
        if (!address.address.startsWith("fe80:")) ips.add(address.address);
      }
    }
  } else if (isIP(host) !== 0) {
    ips.add(host);
  } else {
    dns.add(host);
  }
  for (const san of options.extraSans ?? []) {
    if (isIP(san) !== 0) ips.add(san);
    else dns.add(san);
  }
  return { dnsNames: [...dns], ipAddresses: [...ips] };
}

function covers(info: ReturnType<typeof certificateInfo>, names: ServingNames): boolean {
  const ips = new Set(info.ipAddresses.map(canonicalIp));
  return (
    names.dnsNames.every((n) => info.dnsNames.includes(n)) &&
    names.ipAddresses.every((ip) => ips.has(canonicalIp(ip)))
  );
}

function canonicalIp(ip: string): string {
  return ip === "::1" || ip === "0:0:0:0:0:0:0:1" ? "::1" : ip.toLowerCase();
}

function usable(
  pair: KeyAndCert,
  ca: CertificateAuthority,
  wanted: (info: ReturnType<typeof certificateInfo>) => boolean,
): boolean {
  try {
    const info = certificateInfo(pair.certPem);
    return (
      isIssuedBy(pair.certPem, ca.certPem) &&
      keyMatchesCertificate(pair.keyPem, pair.certPem) &&
      info.notAfter.getTime() - Date.now() > RENEW_BEFORE_MS &&
      wanted(info)
    );
  } catch {
    return false;
  }
}

async function readPair(base: string): Promise<KeyAndCert | undefined> {
  const [certPem, keyPem] = await Promise.all([readOptional(`${base}.crt`), readOptional(`${base}.key`)]);
  return certPem !== undefined && keyPem !== undefined ? { certPem, keyPem } : undefined;
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}
