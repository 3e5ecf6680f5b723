// coordination.k8s.io/v1 Lease: node heartbeats and leader election.

import { always, int32, named, opt, type Static, str, struct, typeMetaFields } from "../dsl.ts";
import { type FieldError, invalid } from "../field-errors.ts";
import { defineKind } from "../kind.ts";
import { MicroTime, ObjectMeta } from "../meta.ts";
import { nameIsDNSSubdomain } from "../names.ts";
import { AGE_COLUMN, column, NAME_COLUMN, since } from "../printing.ts";

const COORDINATION = "io.k8s.api.coordination.v1";

export const LeaseSpec = named(
  `${COORDINATION}.LeaseSpec`,
  struct("LeaseSpec is a specification of a Lease.", {
    holderIdentity: opt(str(), "holderIdentity contains the identity of the holder of a current lease."),
    leaseDurationSeconds: opt(
      int32(),
      "leaseDurationSeconds is a duration that candidates for a lease need to wait to force acquire it. This is measured against the time of last observed renewTime.",
    ),
    acquireTime: opt(MicroTime, "acquireTime is a time when the current lease was acquired."),
    renewTime: opt(
      MicroTime,
      "renewTime is a time when the current holder of a lease has last updated the lease.",
    ),
    leaseTransitions: opt(
      int32(),
      "leaseTransitions is the number of transitions of a lease between holders.",
    ),
    strategy: opt(
      str(),
      "Strategy indicates the strategy for picking the leader for coordinated leader election.",
    ),
    preferredHolder: opt(
      str(),
      "PreferredHolder signals to a lease holder that the lease has a more optimal holder and should be given up.",
    ),
  }),
);

export const Lease = named(
  `${COORDINATION}.Lease`,
  struct("Lease defines a lease concept.", {
    ...typeMetaFields(),
    metadata: always(ObjectMeta, "Standard object's metadata."),
    spec: always(LeaseSpec, "spec contains the specification of the Lease."),
  }),
);
export type Lease = Static<typeof Lease>;

export const leases = defineKind<Lease>({
  group: "coordination.k8s.io",
  version: "v1",
  kind: "Lease",
  plural: "leases",
  namespaced: true,
  schema: Lease,
  nameValidator: nameIsDNSSubdomain,
  validate(lease) {
    const errs: FieldError[] = [];
    const spec = lease.spec ?? {};
    if (spec.leaseDurationSeconds !== undefined && spec.leaseDurationSeconds <= 0) {
      errs.push(invalid("spec.leaseDurationSeconds", spec.leaseDurationSeconds, "must be greater than 0"));
    }
    if (spec.leaseTransitions !== undefined && spec.leaseTransitions < 0) {
      errs.push(
        invalid("spec.leaseTransitions", spec.leaseTransitions, "must be greater than or equal to 0"),
      );
    }
    return errs;
  },
  table: {
    columns: [NAME_COLUMN, column("Holder", "The holder of the lease"), AGE_COLUMN],
    row: (lease, now = new Date()) => [
      lease.metadata?.name ?? "",
      lease.spec?.holderIdentity ?? "",
      since(lease.metadata?.creationTimestamp, now),
    ],
  },
});
