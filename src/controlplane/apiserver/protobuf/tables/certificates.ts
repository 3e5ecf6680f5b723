// k8s.io.api.certificates.v1: CertificateSigningRequest (kubectl certificate approve/deny send it to
// …/approval). Numbers and names as in upstream's certificates/v1/generated.proto (v1.33 API).

import { bytes, int32, kind, type MessageDef, obj, objs, ptr, str, strs } from "../fields.ts";

export const CERTIFICATES: Record<string, MessageDef> = {
  CertificateSigningRequest: kind("CertificateSigningRequestSpec", "CertificateSigningRequestStatus"),
  CertificateSigningRequestSpec: {
    1: bytes("request"),
    7: str("signerName"),
    8: ptr(int32("expirationSeconds")),
    5: strs("usages"),
    2: str("username"),
    3: str("uid"),
    4: strs("groups"),
    6: { name: "extra", type: { map: { message: "ExtraValue" } } },
  },
  ExtraValue: { 1: strs("items") },
  CertificateSigningRequestStatus: {
    1: objs("conditions", "CertificateSigningRequestCondition"),
    2: bytes("certificate"),
  },
  CertificateSigningRequestCondition: {
    1: str("type"),
    6: str("status"),
    2: str("reason"),
    3: str("message"),
    4: obj("lastUpdateTime", "Time"),
    5: obj("lastTransitionTime", "Time"),
  },
};
