// Per-kind behaviour of the generic object store, the way upstream's registry strategies split it: what
// the system resets on create, what an update of the object vs. of its status may change, how deletion
// works, and which cluster-wide resources (IPs, ports) a write reserves.

import type { FieldError, KubeObject } from "../../../api/resource.ts";
import type { UserInfo } from "../pipeline/authentication.ts";

export type PropagationPolicy = "Background" | "Foreground" | "Orphan";

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: PropagationPolicy;
  orphanDependents?: boolean;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: string[];
}

/** Resources reserved for a write: committed when the write lands, rolled back when it does not. */
export interface Reservation {
  commit(): void;
  rollback(): void;
}

export interface Strategy {
  /** metadata.generation starts at 1 and is bumped when the spec changes. */
  readonly tracksGeneration: boolean;
  /** DELETE answers with the deleted object rather than a Success Status (pods, upstream). */
  readonly returnDeletedObject: boolean;
  /** PUT of a missing object creates it. */
  readonly allowCreateOnUpdate: boolean;
  /** PUT without metadata.resourceVersion overwrites whatever is stored. */
  readonly allowUnconditionalUpdate: boolean;
  /** Propagation when the client names none. */
  readonly defaultPropagation: PropagationPolicy;
  /** Resets what clients may not set on create (status, system fields of the spec); `user` is the requester. */
  prepareForCreate(obj: KubeObject, user?: UserInfo): void;
  /** Main-resource update: keeps what only the status subresource may change. */
  prepareForUpdate(obj: KubeObject, old: KubeObject): void;
  /** Status update: keeps everything but the status (and what status writers may touch). */
  prepareForStatusUpdate(obj: KubeObject, old: KubeObject): void;
  /** Update through an approval subresource (CertificateSigningRequests): only the approval may change. */
  prepareForApprovalUpdate?(obj: KubeObject, old: KubeObject): void;
  /** Checks beyond the kind's own validation that only make sense for this store (immutability …). */
  validateUpdate?(obj: KubeObject, old: KubeObject): FieldError[];
  /**
   * Graceful deletion: the grace period this delete gets, or 0 to delete at once. Only kinds that are
   * deleted gracefully (pods) implement it.
   */
  gracePeriod?(obj: KubeObject, options: DeleteOptions): number;
  /**
   * True while the object must stay although it has no metadata.finalizers left (a namespace whose
   * spec.finalizers are not done). Such objects are marked with `markDeleting` instead of removed.
   */
  holdsDeletion?(obj: KubeObject): boolean;
  /** Records on the object that its deletion has begun (namespace phase Terminating). */
  markDeleting?(obj: KubeObject): void;
  /** Reserves cluster-wide values (ClusterIPs, NodePorts) and fills them into `obj`; throws 422 on conflict. */
  reserve?(obj: KubeObject, old: KubeObject | undefined, dryRun: boolean): Reservation | undefined;
  /** Releases what a deleted object held. */
  released?(obj: KubeObject): void;
}
