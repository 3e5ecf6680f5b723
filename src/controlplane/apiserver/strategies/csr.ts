// CertificateSigningRequests (upstream pkg/registry/certificates/certificates/strategy.go): the requester's
// identity comes from the authenticated user on create; the spec never changes afterwards; the main
// resource cannot touch the status; /status may add Failed and the certificate but not approve; /approval
// may only change the Approved/Denied conditions. Condition timestamps are filled in by the server.

import type { KubeObject } from "../../../api/resource.ts";
import type {
  CertificateSigningRequest,
  CertificateSigningRequestCondition,
} from "../../../api/schema/certificates/csr.ts";
import { formatTime } from "../metadata.ts";
import type { UserInfo } from "../pipeline/authentication.ts";
import { keepAllButStatus, keepStatus } from "./generic.ts";
import type { Strategy } from "./types.ts";

const APPROVAL_TYPES = new Set(["Approved", "Denied"]);

type Conditions = CertificateSigningRequestCondition[];

/** `next`'s conditions, except that those of `types` are exactly the ones `old` had. */
function preserveConditions(next: Conditions, old: Conditions, types: Set<string>): Conditions {
  return [...next.filter((c) => !types.has(c.type)), ...old.filter((c) => types.has(c.type))];
}

function fillConditionTimes(
  csr: CertificateSigningRequest,
  old: CertificateSigningRequest,
  now: string,
): void {
  for (const c of csr.status?.conditions ?? []) {
    if (!c.lastUpdateTime) c.lastUpdateTime = now;
    if (!c.lastTransitionTime) {
      const same = (old.status?.conditions ?? []).find(
        (o) => o.type === c.type && o.status === c.status && o.lastTransitionTime,
      );
      c.lastTransitionTime = same?.lastTransitionTime ?? now;
    }
  }
}

export function csrStrategy(now: () => Date = () => new Date()): Strategy {
  return {
    tracksGeneration: false,
    returnDeletedObject: false,
    allowCreateOnUpdate: false,
    allowUnconditionalUpdate: true,
    defaultPropagation: "Background",
    prepareForCreate(obj: KubeObject, user?: UserInfo) {
      const csr = obj as CertificateSigningRequest;
      csr.status = {};
      const spec = (csr.spec ?? {}) as NonNullable<CertificateSigningRequest["spec"]>;
      csr.spec = spec;
      delete spec.username;
      delete spec.uid;
      delete spec.groups;
      delete spec.extra;
      if (user) {
        spec.username = user.name;
        if (user.uid) spec.uid = user.uid;
        if (user.groups.length > 0) spec.groups = [...user.groups];
        if (user.extra && Object.keys(user.extra).length > 0) spec.extra = structuredClone(user.extra);
      }
    },
    prepareForUpdate(obj, old) {
      obj.spec = structuredClone(old.spec);
      keepStatus(obj, old);
    },
    prepareForStatusUpdate(obj, old) {
      keepAllButStatus(obj, old);
      const csr = obj as CertificateSigningRequest;
      const before = old as CertificateSigningRequest;
      csr.status ??= {};
      csr.status.conditions = preserveConditions(
        csr.status.conditions ?? [],
        before.status?.conditions ?? [],
        APPROVAL_TYPES,
      );
      if (csr.status.conditions.length === 0) delete csr.status.conditions;
      fillConditionTimes(csr, before, formatTime(now()));
    },
    prepareForApprovalUpdate(obj, old) {
      keepAllButStatus(obj, old);
      const csr = obj as CertificateSigningRequest;
      const before = old as CertificateSigningRequest;
      csr.status ??= {};
      if (before.status?.certificate) csr.status.certificate = before.status.certificate;
      else delete csr.status.certificate;
      const others = new Set(
        [...(csr.status.conditions ?? []), ...(before.status?.conditions ?? [])]
          .map((c) => c.type)
          .filter((t) => !APPROVAL_TYPES.has(t)),
      );
      csr.status.conditions = preserveConditions(
        csr.status.conditions ?? [],
        before.status?.conditions ?? [],
        others,
      );
      if (csr.status.conditions.length === 0) delete csr.status.conditions;
      fillConditionTimes(csr, before, formatTime(now()));
    },
  };
}
