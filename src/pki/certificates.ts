import { createHash, randomBytes, X509Certificate } from "node:crypto";
import type * as X509 from "@peculiar/x509";
import { parseCsrUnverified, verifyCsrSignature } from "./csr.ts";
import { PkiError } from "./errors.ts";
import {
  generateKey,
  loadPrivateKey,
  loadPublicKey,
  publicKeyOf,
  signingAlgorithm,
  signingKeyPair,
  webPublicKey,
} from "./keys.ts";
import { type AltNames, altNamesExtension, type SubjectFields, subjectName } from "./names.ts";
import { loadX509, type X509Module } from "./x509.ts";

/** A CA as PEM: its self-signed certificate and its private key. */
export interface CertificateAuthority {
  certPem: string;
  keyPem: string;
}

export type CertificateUsage = "server" | "client" | "both";

export interface IssueRequest extends Partial<SubjectFields>, AltNames {
  /** The subject's public key (SPKI PEM) … */
  publicKeyPem?: string;
  /** … or a PKCS#10 request whose signature is checked and whose subject and SANs are the defaults. */
  csrPem?: string;
  usage: CertificateUsage;
  validityDays?: number;
  /** How far notBefore lies before now (default 5 minutes, as upstream's signer). */
  backdateMs?: number;
}

/** Certificates start this far in the past so that peers whose clocks lag a little accept them (as upstream's signer). */
const BACKDATE_MS = 5 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

/** A self-signed CA certificate with a new ECDSA P-256 key (or the given key), valid for ten years by default. */
export async function createCertificateAuthority(options: {
  commonName: string;
  validityDays?: number;
  keyPem?: string;
  now?: Date;
}): Promise<CertificateAuthority> {
  const x509 = await loadX509();
  const keyPem = options.keyPem ?? generateKey().privateKeyPem;
  const keys = await signingKeyPair(keyPem);
  const { notBefore, notAfter } = validity(options.validityDays ?? 3650, options.now);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: subjectName({ commonName: options.commonName }),
    issuer: subjectName({ commonName: options.commonName }),
    notBefore,
    notAfter,
    publicKey: keys.publicKey,
    signingKey: keys.privateKey,
    signingAlgorithm: signingAlgorithm(loadPrivateKey(keyPem)),
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString("pem"), keyPem };
}

/** A leaf certificate signed by `ca`; with a CSR, the CSR's signature must verify. */
export async function issueCertificate(
  ca: CertificateAuthority,
  request: IssueRequest & { now?: Date },
): Promise<string> {
  const x509 = await loadX509();
  let publicKeyPem = request.publicKeyPem;
  let subject: SubjectFields | undefined =
    request.commonName === undefined
      ? undefined
      : { commonName: request.commonName, organizations: request.organizations ?? [] };
  let altNames: AltNames = { dnsNames: request.dnsNames, ipAddresses: request.ipAddresses };
  if (request.csrPem !== undefined) {
    if (!(await verifyCsrSignature(request.csrPem))) {
      throw new PkiError("PKI_CSR_SIGNATURE_INVALID", "the certificate request's signature does not verify");
    }
    const csr = await parseCsrUnverified(request.csrPem);
    publicKeyPem = csr.publicKeyPem;
    subject ??= { commonName: csr.commonName, organizations: csr.organizations };
    if (request.dnsNames === undefined && request.ipAddresses === undefined) {
      altNames = { dnsNames: csr.dnsNames, ipAddresses: csr.ipAddresses };
    }
  }
  if (publicKeyPem === undefined) {
    throw new PkiError("PKI_INVALID_REQUEST", "issueCertificate needs publicKeyPem or csrPem");
  }
  if (subject === undefined) throw new PkiError("PKI_INVALID_REQUEST", "issueCertificate needs a commonName");

  const caCert = new x509.X509Certificate(ca.certPem);
  const caKeys = await signingKeyPair(ca.keyPem);
  const publicKey = await webPublicKey(publicKeyPem);
  const { notBefore, notAfter } = validity(request.validityDays ?? 365, request.now, request.backdateMs);
  const extensions: X509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(keyUsages(x509, publicKeyPem), true),
    new x509.ExtendedKeyUsageExtension(extendedKeyUsages(x509, request.usage)),
    await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
  ];
  const san = altNamesExtension(x509, altNames);
  if (san !== undefined) extensions.push(san);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: subjectName(subject),
    issuer: caCert.subjectName,
    notBefore,
    notAfter,
    publicKey,
    signingKey: caKeys.privateKey,
    signingAlgorithm: signingAlgorithm(loadPrivateKey(ca.keyPem)),
    extensions,
  });
  return cert.toString("pem");
}

/** A new key and a certificate for it: what a component needs to serve or to authenticate. */
export async function issueKeyAndCertificate(
  ca: CertificateAuthority,
  request: Omit<IssueRequest, "publicKeyPem" | "csrPem"> & SubjectFields,
): Promise<{ certPem: string; keyPem: string }> {
  const key = generateKey();
  const certPem = await issueCertificate(ca, { ...request, publicKeyPem: key.publicKeyPem });
  return { certPem, keyPem: key.privateKeyPem };
}

export interface CertificateInfo {
  commonName: string;
  organizations: string[];
  dnsNames: string[];
  ipAddresses: string[];
  notBefore: Date;
  notAfter: Date;
  isCa: boolean;
  serialNumber: string;
}

/** What the (first) certificate in `certPem` says: subject, SANs, validity, basic constraints, serial (lowercase hex). */
export function certificateInfo(certPem: string): CertificateInfo {
  const cert = nodeCertificate(certPem);
  // The legacy object's subject holds each attribute's value unescaped (an array when it repeats), unlike
  // `subject`, which escapes as RFC 2253 does.
  const subject = cert.toLegacyObject().subject as Record<string, string | string[] | undefined>;
  return {
    commonName: values(subject.CN)[0] ?? "",
    organizations: values(subject.O),
    ...subjectAltNames(cert.subjectAltName),
    notBefore: cert.validFromDate,
    notAfter: cert.validToDate,
    isCa: cert.ca,
    serialNumber: cert.serialNumber.toLowerCase(),
  };
}

/** When the (first) certificate in `pem` stops being valid. */
export function certificateExpiry(certPem: string): Date {
  return new Date(nodeCertificate(certPem).validTo);
}

/** `sha256:<hex>` of the certificate's SubjectPublicKeyInfo: kubeadm's --discovery-token-ca-cert-hash. */
export function caCertHash(certPem: string): string {
  const spki = nodeCertificate(certPem).publicKey.export({ type: "spki", format: "der" });
  return `sha256:${createHash("sha256").update(spki).digest("hex")}`;
}

/** Whether `certPem` was issued and signed by the CA certificate `caPem` (validity dates not checked). */
export function isIssuedBy(certPem: string, caPem: string): boolean {
  const cert = nodeCertificate(certPem);
  const ca = nodeCertificate(caPem);
  return cert.checkIssued(ca) && cert.verify(ca.publicKey);
}

/** The public key (SPKI PEM) in a certificate. */
export function certificatePublicKey(certPem: string): string {
  return nodeCertificate(certPem).publicKey.export({ type: "spki", format: "pem" }).toString();
}

/** Whether a private key belongs to a certificate (a cert/key pair read from disk matches). */
export function keyMatchesCertificate(keyPem: string, certPem: string): boolean {
  return publicKeyOf(keyPem) === certificatePublicKey(certPem);
}

function nodeCertificate(pem: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (error) {
    throw new PkiError("PKI_INVALID_PEM", "not a PEM certificate", { cause: error });
  }
}

function values(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return typeof value === "string" ? [value] : value;
}

/**
 * The DNS names and IP addresses in node:crypto's `subjectAltName` text: `DNS:a, IP Address:10.0.0.1`, where
 * a value that could be misread (one holding `, ` or a quote) is a JSON string literal.
 */
function subjectAltNames(text: string | undefined): { dnsNames: string[]; ipAddresses: string[] } {
  const dnsNames: string[] = [];
  const ipAddresses: string[] = [];
  let at = 0;
  while (text !== undefined && at < text.length) {
    const colon = text.indexOf(":", at);
    if (colon < 0) break;
    const type = text.slice(at, colon);
    let end: number;
    let value: string;
    if (text[colon + 1] === '"') {
      end = colon + 2;
      while (end < text.length && text[end] !== '"') end += text[end] === "\\" ? 2 : 1;
      end += 1;
      value = JSON.parse(text.slice(colon + 1, end)) as string;
    } else {
      end = text.indexOf(", ", colon);
      if (end < 0) end = text.length;
      value = text.slice(colon + 1, end);
    }
    if (type === "DNS") dnsNames.push(value);
    else if (type === "IP Address") ipAddresses.push(value.includes(":") ? compressIpv6(value) : value);
    at = end + ", ".length;
  }
  return { dnsNames, ipAddresses };
}

/** node:crypto writes IPv6 SANs as eight uppercase groups; this is RFC 5952's form (`fd00:10:96::1`). */
function compressIpv6(address: string): string {
  const groups = address.toLowerCase().split(":");
  let start = -1;
  let length = 0;
  for (let i = 0; i < groups.length; ) {
    let j = i;
    while (j < groups.length && groups[j] === "0") j++;
    if (j - i > length) {
      start = i;
      length = j - i;
    }
    i = j === i ? i + 1 : j;
  }
  if (length < 2) return groups.join(":");
  return `${groups.slice(0, start).join(":")}::${groups.slice(start + length).join(":")}`;
}

function keyUsages(x509: X509Module, publicKeyPem: string): X509.KeyUsageFlags {
  // RSA keys encrypt the TLS 1.2 premaster secret; ECDSA keys only sign.
  const rsa = signingAlgorithm(loadPublicKey(publicKeyPem)).name !== "ECDSA";
  return x509.KeyUsageFlags.digitalSignature | (rsa ? x509.KeyUsageFlags.keyEncipherment : 0);
}

function extendedKeyUsages(x509: X509Module, usage: CertificateUsage): string[] {
  if (usage === "server") return [x509.ExtendedKeyUsage.serverAuth];
  if (usage === "client") return [x509.ExtendedKeyUsage.clientAuth];
  return [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth];
}

function validity(
  days: number,
  now = new Date(),
  backdateMs = BACKDATE_MS,
): { notBefore: Date; notAfter: Date } {
  if (!Number.isFinite(days) || days <= 0) {
    throw new PkiError("PKI_INVALID_REQUEST", `validityDays must be a positive number, got ${days}`);
  }
  if (!Number.isFinite(backdateMs) || backdateMs < 0) {
    throw new PkiError("PKI_INVALID_REQUEST", `backdateMs must be zero or positive, got ${backdateMs}`);
  }
  return {
    notBefore: new Date(now.getTime() - backdateMs),
    notAfter: new Date(now.getTime() + days * DAY_MS),
  };
}

/** 128 random bits with the top bit clear: a positive DER INTEGER, as RFC 5280 asks. */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString("hex");
}
