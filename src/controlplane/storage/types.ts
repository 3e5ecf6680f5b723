// The storage contract under the API server: a revisioned key-value store with compare-and-swap and
// watch-from-revision, shaped like etcd v3 so that the etcd backend is a thin mapping and the SQLite backend
// can honour the same semantics. Values are the objects' JSON text; the API server owns their meaning.

/** One stored key. Revisions are global, strictly increasing across the whole store (etcd semantics). */
export interface KeyValue {
  key: string;
  value: string;
  /** Revision of the write that created this key (etcd create_revision). */
  createRevision: number;
  /** Revision of the last write to this key (etcd mod_revision); becomes metadata.resourceVersion. */
  modRevision: number;
}

export interface ListOptions {
  /** At most this many items; 0/undefined = all. */
  limit?: number;
  /** Exclusive lower bound: continue after this key (from a previous page's last key). */
  startAfter?: string;
  /** Read the state as of this revision (consistent paging); undefined = latest. Older than compaction → Gone. */
  revision?: number;
}

export interface ListResult {
  items: KeyValue[];
  /** The revision the list reflects (the store's current revision, or the one asked for). */
  revision: number;
  /** More keys follow under the prefix (paging). */
  more: boolean;
}

export type WatchEvent =
  | { type: "put"; kv: KeyValue; prevKv?: KeyValue }
  | { type: "delete"; kv: KeyValue; prevKv: KeyValue }
  /** Progress notification: every event up to `revision` has been delivered (for bookmarks). */
  | { type: "progress"; revision: number };

export type StorageErrorCode =
  /** create: the key exists. */
  | "STORAGE_EXISTS"
  /** get/update/delete: the key does not exist. */
  | "STORAGE_NOT_FOUND"
  /** update/delete with an expected modRevision that is not the current one. */
  | "STORAGE_CONFLICT"
  /** list/watch from a revision older than the compacted one. */
  | "STORAGE_GONE"
  /** The backend cannot be reached (etcd down, SQLite file unwritable). */
  | "STORAGE_UNAVAILABLE";

export class StorageError extends Error {
  readonly code: StorageErrorCode;
  /** For STORAGE_CONFLICT/EXISTS: the current value; for STORAGE_GONE: the compacted revision. */
  readonly current: KeyValue | undefined;
  readonly compactedRevision: number | undefined;

  constructor(
    code: StorageErrorCode,
    message: string,
    extra?: { current?: KeyValue; compactedRevision?: number; cause?: unknown },
  ) {
    super(message, extra?.cause === undefined ? undefined : { cause: extra.cause });
    this.name = "StorageError";
    this.code = code;
    this.current = extra?.current;
    this.compactedRevision = extra?.compactedRevision;
  }
}

export interface Storage {
  /** "sqlite" or "etcd", for logs and metrics. */
  readonly backend: string;

  get(key: string): Promise<KeyValue | undefined>;
  /** Keys starting with `prefix`, in key order. */
  list(prefix: string, options?: ListOptions): Promise<ListResult>;
  /** Creates the key if absent; rejects STORAGE_EXISTS otherwise. Durable when it resolves. */
  create(key: string, value: string): Promise<KeyValue>;
  /** Compare-and-swap on modRevision; rejects STORAGE_CONFLICT (with current) or STORAGE_NOT_FOUND. */
  update(key: string, value: string, expectedModRevision: number): Promise<KeyValue>;
  /** Deletes the key, optionally only at `expectedModRevision`; resolves with the deleted value. */
  delete(key: string, expectedModRevision?: number): Promise<KeyValue>;
  /**
   * Every change under `prefix` after `afterRevision` (exclusive), in revision order, then live changes
   * until `signal` aborts. Rejects/throws STORAGE_GONE if `afterRevision` is older than the compacted one.
   */
  watch(prefix: string, afterRevision: number, signal: AbortSignal): AsyncIterable<WatchEvent>;
  currentRevision(): Promise<number>;
  /** Forgets history at or below `revision`; later watches/lists from there answer STORAGE_GONE. */
  compact(revision: number): Promise<void>;
  close(): Promise<void>;
}
