// Which pods the agent's housekeeping must clean up, like kubelet's HandlePodCleanups: what the runtime (or
// the pods directory) holds for pods no source wants is removed; running objects of pods a source still has
// but that were never admitted here (rejected at admission, or already terminal when the agent started) are
// stopped, since no pod worker will ever look after them. Their dead containers and sandbox stay until the
// pod leaves the API, as a terminated pod's do.

export type OrphanAction = "remove" | "kill";

export interface OrphanInput {
  /** Pod UIDs the runtime has objects for (as of the last relist). */
  runtimeUids: Iterable<string>;
  /** Pod UIDs that have a directory under the agent's root dir. */
  podDirUids: Iterable<string>;
  /** A source (API, static pods) has the pod. */
  inSources(uid: string): boolean;
  /** The pod passed admission here (a pod worker owns it). */
  admitted(uid: string): boolean;
  /** A sync of the pod is in flight (it is left alone this round). */
  syncing(uid: string): boolean;
  /** The runtime has a running or created container, or a ready sandbox, of the pod. */
  running(uid: string): boolean;
}

export function orphanedPods(input: OrphanInput): Map<string, OrphanAction> {
  const actions = new Map<string, OrphanAction>();
  for (const uid of new Set([...input.runtimeUids, ...input.podDirUids])) {
    if (input.syncing(uid)) continue;
    if (!input.inSources(uid)) actions.set(uid, "remove");
    else if (!input.admitted(uid) && input.running(uid)) actions.set(uid, "kill");
  }
  return actions;
}
