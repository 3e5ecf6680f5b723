// Merges the pod sources (the API watch, the static-pod directory) into one desired set, deduplicated by UID,
// and tells the agent what changed. Like kubelet's config.PodConfig: a source first delivers its full set,
// then incremental changes; "all sources ready" means every source has delivered its first full set, and
// only then may the agent remove runtime objects that no source claims.
import { isDeepStrictEqual } from "node:util";
import type { Pod } from "../api/schema/core/pod-types.ts";

export type PodSourceName = "api" | "file";

export type PodUpdateOp = "add" | "update" | "remove";

export interface PodUpdate {
  op: PodUpdateOp;
  source: PodSourceName;
  pod: Pod;
}

/** What makes a change worth a sync: everything but status and bookkeeping metadata. */
function desiredState(pod: Pod): unknown {
  const { resourceVersion: _rv, managedFields: _mf, ...metadata } = pod.metadata ?? {};
  return { metadata, spec: pod.spec };
}

export class PodSources {
  private readonly bySource = new Map<PodSourceName, Map<string, Pod>>();
  private readonly synced = new Set<PodSourceName>();
  private readonly sources: readonly PodSourceName[];
  private readonly listeners: Array<(update: PodUpdate) => void> = [];

  constructor(sources: readonly PodSourceName[]) {
    this.sources = sources;
    for (const source of sources) this.bySource.set(source, new Map());
  }

  onUpdate(listener: (update: PodUpdate) => void): void {
    this.listeners.push(listener);
  }

  /** A source's complete current set (after a list): emits adds, updates and removes against the last one. */
  replace(source: PodSourceName, pods: readonly Pod[]): void {
    const current = this.sourceMap(source);
    const next = new Map<string, Pod>();
    for (const pod of pods) {
      const uid = pod.metadata?.uid;
      if (uid) next.set(uid, pod);
    }
    for (const [uid, pod] of current) if (!next.has(uid)) this.remove(source, pod);
    for (const pod of next.values()) this.upsert(source, pod);
    this.synced.add(source);
  }

  /** One incremental change from a source. */
  apply(source: PodSourceName, op: "upsert" | "remove", pod: Pod): void {
    if (op === "remove") this.remove(source, pod);
    else this.upsert(source, pod);
  }

  /** Every source has delivered its first full set. */
  allSourcesReady(): boolean {
    return this.sources.every((s) => this.synced.has(s));
  }

  sourceReady(source: PodSourceName): boolean {
    return this.synced.has(source);
  }

  /** The current desired pod with this UID, from whichever source has it. */
  get(uid: string): Pod | undefined {
    for (const map of this.bySource.values()) {
      const pod = map.get(uid);
      if (pod) return pod;
    }
    return undefined;
  }

  sourceOf(uid: string): PodSourceName | undefined {
    for (const [source, map] of this.bySource) if (map.has(uid)) return source;
    return undefined;
  }

  pods(): Pod[] {
    return [...this.bySource.values()].flatMap((map) => [...map.values()]);
  }

  private upsert(source: PodSourceName, pod: Pod): void {
    const uid = pod.metadata?.uid;
    if (!uid) return;
    const map = this.sourceMap(source);
    const before = map.get(uid);
    map.set(uid, pod);
    if (!before) this.emit({ op: "add", source, pod });
    else if (!isDeepStrictEqual(desiredState(before), desiredState(pod)))
      this.emit({ op: "update", source, pod });
  }

  private remove(source: PodSourceName, pod: Pod): void {
    const uid = pod.metadata?.uid;
    if (!uid) return;
    const map = this.sourceMap(source);
    const before = map.get(uid);
    if (!before) return;
    map.delete(uid);
    this.emit({ op: "remove", source, pod: before });
  }

  private sourceMap(source: PodSourceName): Map<string, Pod> {
    const map = this.bySource.get(source);
    if (!map) throw new Error(`unknown pod source ${source}`);
    return map;
  }

  private emit(update: PodUpdate): void {
    for (const listener of this.listeners) listener(update);
  }
}
