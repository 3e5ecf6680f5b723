// A minimal in-memory Storage for the API server's unit tests only (the capability tests use the real
// SQLite and etcd backends). It keeps etcd's semantics that the server relies on: one global revision,
// compare-and-swap on modRevision, reads at a past revision, watch from a revision, compaction → GONE.

import {
  type KeyValue,
  type ListOptions,
  type ListResult,
  type Storage,
  StorageError,
  type WatchEvent,
} from "../../../src/controlplane/storage/types.ts";

type Change = Exclude<WatchEvent, { type: "progress" }>;

export class MemoryStorage implements Storage {
  readonly backend = "memory";
  private readonly data = new Map<string, KeyValue>();
  private readonly log: Array<{ revision: number; event: Change }> = [];
  private revision = 1;
  private compacted = 0;
  private readonly listeners = new Set<() => void>();

  async get(key: string): Promise<KeyValue | undefined> {
    return this.data.get(key);
  }

  private stateAt(revision: number): Map<string, KeyValue> {
    if (revision >= this.revision) return this.data;
    const state = new Map(this.data);
    for (let i = this.log.length - 1; i >= 0; i--) {
      const { revision: r, event } = this.log[i] as { revision: number; event: Change };
      if (r <= revision) break;
      if (event.prevKv) state.set(event.kv.key, event.prevKv);
      else state.delete(event.kv.key);
    }
    return state;
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    const at = options.revision ?? this.revision;
    if (at < this.compacted)
      throw new StorageError("STORAGE_GONE", `revision ${at} is compacted`, {
        compactedRevision: this.compacted,
      });
    const keys = [...this.stateAt(at).keys()]
      .filter((k) => k.startsWith(prefix) && (options.startAfter === undefined || k > options.startAfter))
      .sort();
    const limit = options.limit && options.limit > 0 ? options.limit : keys.length;
    const state = this.stateAt(at);
    return {
      items: keys.slice(0, limit).map((k) => state.get(k) as KeyValue),
      revision: at,
      more: keys.length > limit,
    };
  }

  private commit(event: Change): void {
    this.log.push({ revision: this.revision, event });
    for (const l of this.listeners) l();
  }

  async create(key: string, value: string): Promise<KeyValue> {
    const existing = this.data.get(key);
    if (existing) throw new StorageError("STORAGE_EXISTS", `${key} exists`, { current: existing });
    this.revision++;
    const kv = { key, value, createRevision: this.revision, modRevision: this.revision };
    this.data.set(key, kv);
    this.commit({ type: "put", kv });
    return kv;
  }

  async update(key: string, value: string, expected: number): Promise<KeyValue> {
    const existing = this.data.get(key);
    if (!existing) throw new StorageError("STORAGE_NOT_FOUND", `${key} not found`);
    if (existing.modRevision !== expected)
      throw new StorageError("STORAGE_CONFLICT", `${key} changed`, { current: existing });
    this.revision++;
    const kv = { key, value, createRevision: existing.createRevision, modRevision: this.revision };
    this.data.set(key, kv);
    this.commit({ type: "put", kv, prevKv: existing });
    return kv;
  }

  async delete(key: string, expected?: number): Promise<KeyValue> {
    const existing = this.data.get(key);
    if (!existing) throw new StorageError("STORAGE_NOT_FOUND", `${key} not found`);
    if (expected !== undefined && existing.modRevision !== expected) {
      throw new StorageError("STORAGE_CONFLICT", `${key} changed`, { current: existing });
    }
    this.revision++;
    this.data.delete(key);
    this.commit({
      type: "delete",
      kv: { key, value: "", createRevision: 0, modRevision: this.revision },
      prevKv: existing,
    });
    return existing;
  }

  async *watch(prefix: string, afterRevision: number, signal: AbortSignal): AsyncIterable<WatchEvent> {
    if (afterRevision < this.compacted) {
      throw new StorageError("STORAGE_GONE", `revision ${afterRevision} is compacted`, {
        compactedRevision: this.compacted,
      });
    }
    let cursor = afterRevision;
    let wake: (() => void) | undefined;
    const listener = () => wake?.();
    this.listeners.add(listener);
    const onAbort = () => wake?.();
    signal.addEventListener("abort", onAbort);
    try {
      while (!signal.aborted) {
        const pending = this.log.filter((e) => e.revision > cursor && e.event.kv.key.startsWith(prefix));
        for (const e of pending) {
          cursor = e.revision;
          yield e.event;
        }
        if (pending.length === 0)
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
      }
    } finally {
      this.listeners.delete(listener);
      signal.removeEventListener("abort", onAbort);
    }
  }

  async currentRevision(): Promise<number> {
    return this.revision;
  }

  async compact(revision: number): Promise<void> {
    this.compacted = Math.max(this.compacted, revision);
  }

  async close(): Promise<void> {}
}
