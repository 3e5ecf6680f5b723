// certificates.k8s.io/v1 CertificateSigningRequest: a PKCS#10 request for a signer, approved or denied
// through the /approval subresource, issued by the signer through /status. The requester's identity
// (username, uid, groups, extra) is stamped by the API server from the authenticated user and, like the
// rest of the spec, never changes after creation.

import { X509Certificate } from "node:crypto";
import {
  always,
  atomicList,
  byteString,
  int32,
  list,
  mapList,
  mapOf,
  named,
  opt,
  req,
  type Static,
  str,
  struct,
  typeMetaFields,
} from "../dsl.ts";
import { type FieldError, forbidden, index, invalid, notSupported, required } from "../field-errors.ts";
import { defineKind } from "../kind.ts";
import { ObjectMeta, Time } from "../meta.ts";
import { nameIsDNSSubdomain } from "../names.ts";
import { AGE_COLUMN, column, humanDuration, NAME_COLUMN, since } from "../printing.ts";
import { csrCondition } from "./csr-helpers.ts";

const CERTIFICATES = "io.k8s.api.certificates.v1";

export const KEY_USAGES = [
  "signing",
  "digital signature",
  "content commitment",
  "key encipherment",
  "key agreement",
  "data encipherment",
  "cert sign",
  "crl sign",
  "encipher only",
  "decipher only",
  "any",
  "server auth",
  "client auth",
  "code signing",
  "email protection",
  "s/mime",
  "ipsec end system",
  "ipsec tunnel",
  "ipsec user",
  "timestamping",
  "ocsp signing",
  "microsoft sgc",
  "netscape sgc",
] as const;
export type KeyUsage = (typeof KEY_USAGES)[number];

export const CertificateSigningRequestSpec = named(
  `${CERTIFICATES}.CertificateSigningRequestSpec`,
  struct("CertificateSigningRequestSpec contains the certificate request.", {
    request: req(
      byteString(),
      'request contains an x509 certificate signing request encoded in a "CERTIFICATE REQUEST" PEM block. When serialized as JSON or YAML, the data is additionally base64-encoded.',
      { listType: "atomic" },
    ),
    signerName: req(str(), "signerName indicates the requested signer, and is a qualified name."),
    expirationSeconds: opt(
      int32(),
      "expirationSeconds is the requested duration of validity of the issued certificate. The minimum valid value is 600, i.e. 10 minutes.",
    ),
    usages: opt(
      atomicList(str()),
      "usages specifies a set of key usages requested in the issued certificate.",
    ),
    username: opt(
      str(),
      "username contains the name of the user that created the CertificateSigningRequest. Populated by the API server on creation and immutable.",
    ),
    uid: opt(
      str(),
      "uid contains the uid of the user that created the CertificateSigningRequest. Populated by the API server on creation and immutable.",
    ),
    groups: opt(
      atomicList(str()),
      "groups contains group membership of the user that created the CertificateSigningRequest. Populated by the API server on creation and immutable.",
    ),
    extra: opt(
      mapOf(list(str())),
      "extra contains extra attributes of the user that created the CertificateSigningRequest. Populated by the API server on creation and immutable.",
    ),
  }),
);

export const CertificateSigningRequestCondition = named(
  `${CERTIFICATES}.CertificateSigningRequestCondition`,
  struct("CertificateSigningRequestCondition describes a condition of a CertificateSigningRequest object", {
    type: req(str(), 'type of the condition. Known conditions are "Approved", "Denied", and "Failed".'),
    status: req(str(), "status of the condition, one of True, False, Unknown."),
    reason: opt(str(), "reason indicates a brief reason for the request state"),
    message: opt(str(), "message contains a human readable message with details about the request state"),
    lastUpdateTime: opt(Time, "lastUpdateTime is the time of the last update to this condition"),
    lastTransitionTime: opt(
      Time,
      "lastTransitionTime is the time the condition last transitioned from one status to another.",
    ),
  }),
);
export type CertificateSigningRequestCondition = Static<typeof CertificateSigningRequestCondition>;

export const CertificateSigningRequestStatus = named(
  `${CERTIFICATES}.CertificateSigningRequestStatus`,
  struct(
    "CertificateSigningRequestStatus contains conditions used to indicate approved/denied/failed status of the request, and the issued certificate.",
    {
      conditions: opt(
        mapList(CertificateSigningRequestCondition, ["type"]),
        "conditions applied to the request. Known conditions are Approved, Denied, and Failed.",
      ),
      certificate: opt(
        byteString(),
        "certificate is populated with an issued certificate by the signer after an Approved condition is present (PEM CERTIFICATE blocks).",
        { listType: "atomic" },
      ),
    },
  ),
);

export const CertificateSigningRequest = named(
  `${CERTIFICATES}.CertificateSigningRequest`,
  struct(
    "CertificateSigningRequest objects provide a mechanism to obtain x509 certificates by submitting a certificate signing request, and having it asynchronously approved and issued.",
    {
      ...typeMetaFields(),
      metadata: always(ObjectMeta, "Standard object's metadata."),
      spec: always(
        CertificateSigningRequestSpec,
        "spec contains the certificate request, and is immutable after creation.",
      ),
      status: always(
        CertificateSigningRequestStatus,
        "status contains information about whether the request is approved or denied, and the certificate issued by the signer.",
      ),
    },
  ),
);
export type CertificateSigningRequest = Static<typeof CertificateSigningRequest>;

/** kubectl's CONDITION column: Approved/Denied/Pending, then ",Failed" and ",Issued". */
export function csrConditionText(csr: CertificateSigningRequest): string {
  let text = csrCondition(csr, "Denied") ? "Denied" : csrCondition(csr, "Approved") ? "Approved" : "Pending";
  if (csrCondition(csr, "Failed")) text += ",Failed";
  if (csr.status?.certificate) text += ",Issued";
  return text;
}

// Validation (upstream pkg/apis/certificates/validation) -----------------------------------------------------

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)\r?\n-----END \1-----/g;

function pemBlocks(text: string): Array<{ type: string; body: string }> {
  return [...text.matchAll(PEM_BLOCK)].map((m) => ({ type: m[1] as string, body: m[2] as string }));
}

function validateRequest(csr: CertificateSigningRequest): FieldError[] {
  const raw = csr.spec?.request;
  if (!raw) return [required("spec.request")];
  const blocks = pemBlocks(Buffer.from(raw, "base64").toString("utf8"));
  if (blocks.length === 0 || blocks[0]?.type !== "CERTIFICATE REQUEST") {
    return [invalid("spec.request", "<binary>", "PEM block type must be CERTIFICATE REQUEST")];
  }
  return [];
}

const QUALIFIED_SIGNER =
  /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?(\/[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)*$/;

function validateSignerName(name: string | undefined): FieldError[] {
  if (!name) return [required("spec.signerName")];
  if (!QUALIFIED_SIGNER.test(name)) {
    return [
      invalid(
        "spec.signerName",
        name,
        "must be a fully qualified domain and path of the form 'example.com/signer-name'",
      ),
    ];
  }
  return [];
}

function validateConditions(csr: CertificateSigningRequest): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  (csr.status?.conditions ?? []).forEach((c, i) => {
    const path = `${index("status.conditions", i)}`;
    if (!c.type) errs.push(required(`${path}.type`));
    if (seen.has(c.type))
      errs.push({
        reason: "FieldValueDuplicate",
        field: `${path}.type`,
        message: `Duplicate value: "${c.type}"`,
      });
    seen.add(c.type);
    if (!["True", "False", "Unknown"].includes(c.status)) {
      errs.push(notSupported(`${path}.status`, c.status, ["False", "True", "Unknown"]));
    } else if (["Approved", "Denied", "Failed"].includes(c.type) && c.status !== "True") {
      errs.push(notSupported(`${path}.status`, c.status, ["True"]));
    }
  });
  if (seen.has("Approved") && seen.has("Denied")) {
    errs.push(
      invalid("status.conditions", "Approved", "Approved and Denied conditions are mutually exclusive"),
    );
  }
  return errs;
}

function validateCertificate(csr: CertificateSigningRequest): FieldError[] {
  const cert = csr.status?.certificate;
  if (!cert) return [];
  if (!csrCondition(csr, "Approved")) {
    return [forbidden("status.certificate", "certificate may only be set when the request is Approved")];
  }
  const blocks = pemBlocks(Buffer.from(cert, "base64").toString("utf8"));
  if (blocks.length === 0)
    return [
      invalid("status.certificate", "<certificate data>", "must contain at least one CERTIFICATE PEM block"),
    ];
  for (const block of blocks) {
    if (block.type !== "CERTIFICATE") {
      return [
        invalid(
          "status.certificate",
          "<certificate data>",
          `only CERTIFICATE PEM blocks are allowed, found "${block.type}"`,
        ),
      ];
    }
    try {
      new X509Certificate(`-----BEGIN CERTIFICATE-----\n${block.body}\n-----END CERTIFICATE-----\n`);
    } catch (error) {
      return [
        invalid(
          "status.certificate",
          "<certificate data>",
          `failure parsing certificate: ${(error as Error).message}`,
        ),
      ];
    }
  }
  return [];
}

function validateSpec(csr: CertificateSigningRequest): FieldError[] {
  const spec = csr.spec ?? ({} as NonNullable<CertificateSigningRequest["spec"]>);
  const errs = [...validateRequest(csr), ...validateSignerName(spec.signerName)];
  if (!spec.usages || spec.usages.length === 0) errs.push(required("spec.usages"));
  const seen = new Set<string>();
  (spec.usages ?? []).forEach((u, i) => {
    if (!(KEY_USAGES as readonly string[]).includes(u))
      errs.push(notSupported(index("spec.usages", i), u, KEY_USAGES));
    if (seen.has(u))
      errs.push({
        reason: "FieldValueDuplicate",
        field: index("spec.usages", i),
        message: `Duplicate value: "${u}"`,
      });
    seen.add(u);
  });
  if (spec.expirationSeconds !== undefined && spec.expirationSeconds < 600) {
    errs.push(
      invalid(
        "spec.expirationSeconds",
        spec.expirationSeconds,
        "may not specify a duration less than 600 seconds (10 minutes)",
      ),
    );
  }
  return errs;
}

/** Checks of an update of the status or the approval: approvals and certificates are never taken back. */
export function validateCsrStatusUpdate(
  csr: CertificateSigningRequest,
  old: CertificateSigningRequest,
): FieldError[] {
  const errs = [...validateConditions(csr), ...validateCertificate(csr)];
  for (const type of ["Approved", "Denied", "Failed"] as const) {
    if (csrCondition(old, type) && !csrCondition(csr, type)) {
      errs.push(forbidden("status.conditions", `updates may not remove a condition of type "${type}"`));
    }
  }
  const oldCert = old.status?.certificate;
  if (oldCert && csr.status?.certificate !== oldCert) {
    errs.push(forbidden("status.certificate", "updates may not modify existing certificate content"));
  }
  return errs;
}

export const certificateSigningRequests = defineKind<CertificateSigningRequest>({
  group: "certificates.k8s.io",
  version: "v1",
  kind: "CertificateSigningRequest",
  plural: "certificatesigningrequests",
  singular: "certificatesigningrequest",
  namespaced: false,
  shortNames: ["csr"],
  subresources: ["status", "approval"],
  schema: CertificateSigningRequest,
  nameValidator: nameIsDNSSubdomain,
  validate(csr, old) {
    if (old) return validateCsrStatusUpdate(csr, old);
    return [...validateSpec(csr), ...validateConditions(csr), ...validateCertificate(csr)];
  },
  validateStatusUpdate: validateCsrStatusUpdate,
  table: {
    columns: [
      NAME_COLUMN,
      AGE_COLUMN,
      column("SignerName", "The requested signer."),
      column("Requestor", "The user that created the request."),
      column("RequestedDuration", "The requested validity of the certificate."),
      column("Condition", "Approved, Denied or Pending; Failed and Issued when they apply."),
    ],
    row: (csr, now = new Date()) => [
      csr.metadata?.name ?? "",
      since(csr.metadata?.creationTimestamp, now),
      csr.spec?.signerName ?? "",
      csr.spec?.username ?? "",
      csr.spec?.expirationSeconds !== undefined ? humanDuration(csr.spec.expirationSeconds * 1000) : "<none>",
      csrConditionText(csr),
    ],
  },
  fieldSelectors: {
    "spec.signerName": (csr) => csr.spec?.signerName ?? "",
  },
});
