import { isIP } from "node:net";
import type * as X509 from "@peculiar/x509";
import { PkiError } from "./errors.ts";
import type { X509Module } from "./x509.ts";

export interface SubjectFields {
  commonName: string;
  organizations?: readonly string[];
}

export interface AltNames {
  dnsNames?: readonly string[];
  ipAddresses?: readonly string[];
}

/** Subject RDNs in Go's crypto/x509 order (O before CN), one attribute per RDN. */
export function subjectName(subject: SubjectFields): X509.JsonName {
  if (subject.commonName === "") throw new PkiError("PKI_INVALID_REQUEST", "commonName must not be empty");
  return [...(subject.organizations ?? []).map((o) => ({ O: [o] })), { CN: [subject.commonName] }];
}

export function readSubject(name: X509.Name): { commonName: string; organizations: string[] } {
  return { commonName: name.getField("CN")[0] ?? "", organizations: name.getField("O") };
}

export function altNamesExtension(
  x509: X509Module,
  names: AltNames,
): X509.SubjectAlternativeNameExtension | undefined {
  const general: X509.JsonGeneralName[] = [];
  for (const dns of names.dnsNames ?? []) {
    if (dns === "") throw new PkiError("PKI_INVALID_REQUEST", "DNS names must not be empty");
    general.push({ type: "dns", value: dns });
  }
  for (const ip of names.ipAddresses ?? []) {
    if (isIP(ip) === 0)
      throw new PkiError("PKI_INVALID_REQUEST", `${JSON.stringify(ip)} is not an IP address`);
    general.push({ type: "ip", value: ip });
  }
  return general.length === 0 ? undefined : new x509.SubjectAlternativeNameExtension(general);
}

export interface ReadAltNames {
  dnsNames: string[];
  ipAddresses: string[];
  emailAddresses: string[];
  uris: string[];
}

export function readAltNames(x509: X509Module, extension: X509.Extension | null): ReadAltNames {
  const result: ReadAltNames = { dnsNames: [], ipAddresses: [], emailAddresses: [], uris: [] };
  if (extension === null) return result;
  const san = new x509.SubjectAlternativeNameExtension(extension.rawData);
  for (const name of san.names.toJSON()) {
    if (name.type === "dns") result.dnsNames.push(name.value);
    else if (name.type === "ip") result.ipAddresses.push(name.value);
    else if (name.type === "email") result.emailAddresses.push(name.value);
    else if (name.type === "url") result.uris.push(name.value);
  }
  return result;
}
