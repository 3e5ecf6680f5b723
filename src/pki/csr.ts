import type * as X509 from "@peculiar/x509";
import { PkiError } from "./errors.ts";
import { loadPrivateKey, signingAlgorithm, signingKeyPair } from "./keys.ts";
import {
  type AltNames,
  altNamesExtension,
  readAltNames,
  readSubject,
  type SubjectFields,
  subjectName,
} from "./names.ts";
import { loadX509, type X509Module } from "./x509.ts";

/** A PKCS#10 `CERTIFICATE REQUEST` PEM for the key, subject and (optional) SANs. */
export async function createCsr(options: SubjectFields & AltNames & { keyPem: string }): Promise<string> {
  const x509 = await loadX509();
  const keys = await signingKeyPair(options.keyPem);
  const san = altNamesExtension(x509, options);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: subjectName(options),
    keys,
    signingAlgorithm: signingAlgorithm(loadPrivateKey(options.keyPem)),
    extensions: san === undefined ? [] : [san],
  });
  return csr.toString("pem");
}

/** What an approver looks at in a certificate request. */
export interface ParsedCsr {
  commonName: string;
  organizations: string[];
  dnsNames: string[];
  ipAddresses: string[];
  emailAddresses: string[];
  uris: string[];
  /** SPKI PEM */
  publicKeyPem: string;
  /** "ECDSA" or "RSASSA-PKCS1-v1_5" … as WebCrypto names the key's algorithm */
  publicKeyAlgorithm: string;
}

/** Parses a CSR and checks its signature (proof that the requester holds the private key). */
export async function parseCsr(pem: string): Promise<ParsedCsr> {
  const parsed = await parseCsrUnverified(pem);
  if (!(await verifyCsrSignature(pem))) {
    throw new PkiError("PKI_CSR_SIGNATURE_INVALID", "the certificate request's signature does not verify");
  }
  return parsed;
}

export async function parseCsrUnverified(pem: string): Promise<ParsedCsr> {
  const x509 = await loadX509();
  const csr = load(x509, pem);
  return {
    ...readSubject(csr.subjectName),
    ...readAltNames(x509, csr.getExtension("2.5.29.17")),
    publicKeyPem: csr.publicKey.toString("pem"),
    publicKeyAlgorithm: csr.publicKey.algorithm.name,
  };
}

export async function verifyCsrSignature(pem: string): Promise<boolean> {
  const x509 = await loadX509();
  try {
    return await load(x509, pem).verify();
  } catch {
    return false;
  }
}

function load(x509: X509Module, pem: string): X509.Pkcs10CertificateRequest {
  if (!pem.includes("-----BEGIN CERTIFICATE REQUEST-----")) {
    throw new PkiError("PKI_INVALID_PEM", "not a PEM CERTIFICATE REQUEST");
  }
  try {
    return new x509.Pkcs10CertificateRequest(pem);
  } catch (error) {
    throw new PkiError("PKI_INVALID_PEM", "the CERTIFICATE REQUEST does not parse", { cause: error });
  }
}
