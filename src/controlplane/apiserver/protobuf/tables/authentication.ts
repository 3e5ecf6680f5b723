// k8s.io.api.authentication.v1 TokenRequest (`kubectl create token`), numbers as in upstream's
// generated.proto (v1.33 API).

import { int64, type MessageDef, obj, ptr, str, strs } from "../fields.ts";

export const AUTHENTICATION: Record<string, MessageDef> = {
  TokenRequest: {
    1: obj("metadata", "ObjectMeta"),
    2: obj("spec", "TokenRequestSpec"),
    3: obj("status", "TokenRequestStatus"),
  },
  TokenRequestSpec: {
    1: strs("audiences"),
    3: obj("boundObjectRef", "BoundObjectReference"),
    4: ptr(int64("expirationSeconds")),
  },
  TokenRequestStatus: { 1: str("token"), 2: obj("expirationTimestamp", "Time") },
  BoundObjectReference: { 1: str("kind"), 2: str("apiVersion"), 3: str("name"), 4: str("uid") },
};

export const AUTHENTICATION_TOP_LEVEL: Record<string, string> = {
  "authentication.k8s.io/v1/TokenRequest": "TokenRequest",
};
