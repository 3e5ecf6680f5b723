// The embedded backend: one SQLite file (node:sqlite, WAL) holding the current state (`kv`), the history of
// every write since the last compaction (`events`, one row per revision, with the previous value for
// watches' prevKv and for reads at a past revision) and the global revision counter (`meta`).
//
// Writes are queued and committed in groups: every write waiting when the previous commit finished goes
// into one transaction, each with its own revision. The commit itself only writes the WAL (SQLite's
// synchronous=NORMAL); making it durable is an fsync of the WAL file on libuv's thread pool, so the event
// loop keeps serving requests while the disk works. One fsync is in flight at a time and covers every group
// committed before it started (group commit across transactions); a writer resolves, and watches see its
// event, only once that fsync returned. Reads are synchronous on the same connection and never see a
// half-applied group, because a group is applied and committed within one synchronous call; they may see a
// committed group whose fsync is still running (which a crash of the process cannot lose: the WAL frames are
// in the kernel's page cache; a power loss could).
//
// The connection holds an exclusive lock for its lifetime, so a second process (or a second open in this
// one) cannot write behind this one's back; the watch notifier is in-process.

import { closeSync, fsync, fsyncSync, mkdirSync, openSync } from "node:fs";
import { dirname, join } from "node:path";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { checkKey, checkRevision, compareKeys, prefixEnd } from "./keys.ts";
import { type RevisionedEvent, watchCommitted } from "./sqlite-watch.ts";
import {
  type KeyValue,
  type ListOptions,
  type ListResult,
  type Storage,
  StorageError,
  type WatchEvent,
} from "./types.ts";

export interface SqliteStorageOptions {
  /**
   * Durability of an acknowledged write. FULL (default) fsyncs the WAL before acknowledging (off the event
   * loop, one fsync per group of commits): it survives a crash of the process and of the machine. NORMAL
   * never waits for the disk: it survives a crash of the process only.
   */
  synchronous?: "FULL" | "NORMAL";
  /** How often an idle watch reports progress (the revision it has delivered up to). Default 5000 ms. */
  progressIntervalMs?: number;
  /** At most this many writes share one transaction. Default 1000. */
  maxBatch?: number;
  /**
   * Events a watch may hold for a consumer that is not keeping up before it drops them and reads the log
   * instead (nothing is lost either way; this bounds memory). Default 10 000.
   */
  watchQueueLimit?: number;
}

/** The store's file inside the data directory. */
export const SQLITE_FILE_NAME = "store.sqlite";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
);
INSERT OR IGNORE INTO meta (name, value) VALUES ('revision', 1), ('compacted', 0), ('schema', 1);
CREATE TABLE IF NOT EXISTS kv (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  create_revision INTEGER NOT NULL,
  mod_revision INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
  revision INTEGER PRIMARY KEY,
  key TEXT NOT NULL,
  deleted INTEGER NOT NULL,
  value TEXT,
  create_revision INTEGER NOT NULL,
  prev_value TEXT,
  prev_create_revision INTEGER,
  prev_mod_revision INTEGER
);
CREATE INDEX IF NOT EXISTS events_by_key ON events (key, revision);
`;

type Settle = { resolve: (kv: KeyValue) => void; reject: (error: unknown) => void };
type WriteOp =
  | ({ kind: "create"; key: string; value: string } & Settle)
  | ({ kind: "update"; key: string; value: string; expected: number } & Settle)
  | ({ kind: "delete"; key: string; expected: number | undefined } & Settle);

interface KvRow {
  key: string;
  value: string;
  create_revision: number;
  mod_revision: number;
}

interface EventRow {
  revision: number;
  key: string;
  deleted: number;
  value: string | null;
  create_revision: number;
  prev_value: string | null;
  prev_create_revision: number | null;
  prev_mod_revision: number | null;
}

type Outcome = { ok: true; kv: KeyValue } | { ok: false; error: StorageError };

/** A committed group waiting for the fsync that makes it durable. */
interface CommittedGroup {
  batch: readonly WriteOp[];
  outcomes: Outcome[];
  events: RevisionedEvent[];
  revision: number;
}

export class SqliteStorage implements Storage {
  readonly backend = "sqlite";
  /** Path of the database file, for messages. */
  readonly path: string;

  readonly #db: DatabaseSync;
  readonly #progressIntervalMs: number;
  readonly #maxBatch: number;
  readonly #watchQueueLimit: number;
  readonly #statements = new Map<string, StatementSync>();
  readonly #listeners = new Set<(events: readonly RevisionedEvent[]) => void>();
  /** The WAL file, fsynced to make committed groups durable; undefined with synchronous NORMAL. */
  readonly #walFd: number | undefined;
  /** The last committed revision (what reads see). */
  #revision: number;
  /** The last revision acknowledged to writers and delivered to watches (durable with FULL). */
  #durable: number;
  #compacted: number;
  #queue: WriteOp[] = [];
  #flushScheduled = false;
  #awaitingSync: CommittedGroup[] = [];
  #syncing = false;
  /** An fsync failed: what was committed since the last good one may not be on disk, so writes stop. */
  #syncFailure: StorageError | undefined;
  #closed = false;
  /** close() was called: no new writes are accepted; queued ones still commit. */
  #closing = false;
  #closePromise: Promise<void> | undefined;
  #drainWaiters: Array<() => void> = [];

  private constructor(
    db: DatabaseSync,
    path: string,
    walFd: number | undefined,
    options: SqliteStorageOptions,
  ) {
    this.#db = db;
    this.path = path;
    this.#walFd = walFd;
    this.#progressIntervalMs = options.progressIntervalMs ?? 5000;
    this.#maxBatch = options.maxBatch ?? 1000;
    this.#watchQueueLimit = options.watchQueueLimit ?? 10_000;
    this.#revision = this.#meta("revision");
    this.#durable = this.#revision;
    this.#compacted = this.#meta("compacted");
  }

  /** Opens (creating if needed) the store in `dataDir`; STORAGE_UNAVAILABLE names the file and the cause. */
  static open(dataDir: string, options: SqliteStorageOptions = {}): SqliteStorage {
    const synchronous = options.synchronous ?? "FULL";
    if (synchronous !== "FULL" && synchronous !== "NORMAL") {
      throw new TypeError(`sqlite storage option synchronous must be "FULL" or "NORMAL", got ${synchronous}`);
    }
    const path = join(dataDir, SQLITE_FILE_NAME);
    let db: DatabaseSync | undefined;
    let walFd: number | undefined;
    try {
      mkdirSync(dataDir, { recursive: true });
      db = new DatabaseSync(path, { timeout: 0 });
      // Exclusive before WAL: no shared-memory index, and the lock below is held until close.
      db.exec("PRAGMA locking_mode = EXCLUSIVE");
      db.exec("PRAGMA journal_mode = WAL");
      // Commits write the WAL without syncing it; FULL durability is this class's own fsync (see top).
      // Checkpoints still sync the WAL before and the database file after copying.
      db.exec("PRAGMA synchronous = NORMAL");
      db.exec("BEGIN IMMEDIATE");
      db.exec(SCHEMA);
      db.exec("COMMIT");
      if (synchronous === "FULL") {
        // The WAL exists from the first read on; its directory entry must be durable too.
        walFd = openSync(`${path}-wal`, "r");
        fsyncSync(walFd);
        syncDirectory(dirname(path));
      }
      return new SqliteStorage(db, path, walFd, options);
    } catch (error) {
      try {
        if (walFd !== undefined) closeSync(walFd);
        db?.close();
      } catch {
        // The open failed; closing is best effort.
      }
      const detail = error instanceof Error ? error.message : String(error);
      const hint = /locked|busy/i.test(detail)
        ? "another deckhand control plane (or another open in this process) is using it"
        : `check that ${dataDir} is a writable directory`;
      throw new StorageError("STORAGE_UNAVAILABLE", `cannot open SQLite store ${path}: ${detail}; ${hint}`, {
        cause: error,
      });
    }
  }

  async get(key: string): Promise<KeyValue | undefined> {
    checkKey(key, "get");
    this.#checkOpen();
    const row = this.#stmt("SELECT * FROM kv WHERE key = ?").get(key) as KvRow | undefined;
    return row && toKeyValue(row);
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    this.#checkOpen();
    const limit = options.limit ?? 0;
    checkRevision(limit, "list limit");
    const at = options.revision ?? this.#revision;
    checkRevision(at, "list revision");
    if (at < this.#compacted) {
      throw gone(`list of ${prefix} at revision ${at}`, this.#compacted);
    }
    if (at > this.#revision) {
      throw new StorageError(
        "STORAGE_UNAVAILABLE",
        `list of ${prefix} at revision ${at}: the store ${this.path} is only at revision ${this.#revision}; retry later`,
      );
    }
    const end = prefixEnd(prefix);
    const after = options.startAfter;
    const conditions = ["key >= :prefix"];
    if (end !== undefined) conditions.push("key < :end");
    if (after !== undefined) conditions.push("key > :after");
    const params: Record<string, string | number> = { prefix };
    if (end !== undefined) params.end = end;
    if (after !== undefined) params.after = after;
    const take = limit > 0 ? limit + 1 : -1;
    params.take = take;

    let rows: KvRow[];
    if (at === this.#revision) {
      rows = this.#stmt(`SELECT * FROM kv WHERE ${conditions.join(" AND ")} ORDER BY key LIMIT :take`).all(
        params,
      ) as unknown as KvRow[];
    } else {
      // The state at `at`: keys untouched since then as they are now, plus, for keys written after `at`,
      // the value their first later write replaced (none if that write created them).
      params.at = at;
      const unchanged = this.#stmt(
        `SELECT * FROM kv WHERE ${conditions.join(" AND ")} AND mod_revision <= :at ORDER BY key LIMIT :take`,
      ).all(params) as unknown as KvRow[];
      const undone = this.#stmt(
        `SELECT key, prev_value AS value, prev_create_revision AS create_revision,
                prev_mod_revision AS mod_revision
         FROM events e
         WHERE ${conditions.join(" AND ")} AND revision > :at AND prev_mod_revision IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM events f WHERE f.key = e.key AND f.revision > :at AND f.revision < e.revision)
         ORDER BY key LIMIT :take`,
      ).all(params) as unknown as KvRow[];
      rows = [...unchanged, ...undone].sort((a, b) => compareKeys(a.key, b.key));
      if (take > 0) rows = rows.slice(0, take);
    }
    const more = limit > 0 && rows.length > limit;
    if (more) rows = rows.slice(0, limit);
    return { items: rows.map(toKeyValue), revision: at, more };
  }

  async create(key: string, value: string): Promise<KeyValue> {
    checkKey(key, "create");
    return this.#enqueue((settle) => ({ kind: "create", key, value, ...settle }));
  }

  async update(key: string, value: string, expectedModRevision: number): Promise<KeyValue> {
    checkKey(key, "update");
    checkRevision(expectedModRevision, "update expectedModRevision");
    return this.#enqueue((settle) => ({
      kind: "update",
      key,
      value,
      expected: expectedModRevision,
      ...settle,
    }));
  }

  async delete(key: string, expectedModRevision?: number): Promise<KeyValue> {
    checkKey(key, "delete");
    if (expectedModRevision !== undefined) checkRevision(expectedModRevision, "delete expectedModRevision");
    return this.#enqueue((settle) => ({ kind: "delete", key, expected: expectedModRevision, ...settle }));
  }

  watch(prefix: string, afterRevision: number, signal: AbortSignal): AsyncIterable<WatchEvent> {
    checkRevision(afterRevision, "watch afterRevision");
    return watchCommitted(
      {
        describe: () => `SQLite store ${this.path}`,
        head: () => this.#durable,
        compacted: () => this.#compacted,
        closed: () => this.#closed,
        readEvents: (p, after, limit) => this.#readEvents(p, after, limit),
        subscribe: (listener) => {
          this.#listeners.add(listener);
          return () => this.#listeners.delete(listener);
        },
      },
      prefix,
      afterRevision,
      signal,
      { progressIntervalMs: this.#progressIntervalMs, queueLimit: this.#watchQueueLimit },
    );
  }

  async currentRevision(): Promise<number> {
    this.#checkOpen();
    return this.#revision;
  }

  async compact(revision: number): Promise<void> {
    checkRevision(revision, "compact revision");
    this.#checkOpen();
    if (revision > this.#revision) {
      throw new RangeError(
        `cannot compact SQLite store ${this.path} at revision ${revision}: it is only at revision ${this.#revision}`,
      );
    }
    if (revision <= this.#compacted) return;
    // Record the new floor first (reads and watches answer Gone from now on), then drop history in chunks
    // so that a large compaction does not stall the event loop.
    this.#run(() => this.#stmt("UPDATE meta SET value = ? WHERE name = 'compacted'").run(revision));
    this.#compacted = revision;
    const chunk = 10_000;
    for (;;) {
      if (this.#closed) return;
      const oldest = (this.#stmt("SELECT min(revision) AS r FROM events").get() as { r: number | null }).r;
      if (oldest === null || oldest >= revision) return;
      this.#run(() =>
        this.#stmt("DELETE FROM events WHERE revision < ?").run(Math.min(revision, oldest + chunk)),
      );
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /**
   * Commits the writes already queued and waits until they are durable, ends every watch
   * (STORAGE_UNAVAILABLE) and closes the file.
   */
  close(): Promise<void> {
    this.#closePromise ??= (async () => {
      this.#closing = true;
      if (!this.#drained()) await new Promise<void>((resolve) => this.#drainWaiters.push(resolve));
      this.#closed = true;
      for (const listener of this.#listeners) listener([]);
      this.#listeners.clear();
      this.#statements.clear();
      this.#db.close();
      if (this.#walFd !== undefined) closeSync(this.#walFd);
    })();
    return this.#closePromise;
  }

  // --- writes -------------------------------------------------------------------------------------------

  #enqueue(make: (settle: Settle) => WriteOp): Promise<KeyValue> {
    if (this.#closing) return Promise.reject(this.#closedError());
    if (this.#syncFailure) return Promise.reject(this.#syncFailure);
    return new Promise<KeyValue>((resolve, reject) => {
      this.#queue.push(make({ resolve, reject }));
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        // setImmediate rather than a microtask: every caller that is ready in this turn joins the group.
        setImmediate(() => this.#flush());
      }
    });
  }

  #drained(): boolean {
    return (
      this.#queue.length === 0 && !this.#flushScheduled && this.#awaitingSync.length === 0 && !this.#syncing
    );
  }

  #notifyIfDrained(): void {
    if (!this.#drained()) return;
    for (const resolve of this.#drainWaiters.splice(0)) resolve();
  }

  #flush(): void {
    const batch = this.#queue.splice(0, this.#maxBatch);
    const group = this.#commit(batch);
    if (this.#queue.length > 0) {
      setImmediate(() => this.#flush());
    } else {
      this.#flushScheduled = false;
    }
    if (this.#walFd === undefined || group.revision === this.#durable) {
      // Nothing to wait for: NORMAL durability, or a group that wrote nothing (every op was refused).
      this.#awaitingSync.push(group);
      this.#deliver(this.#awaitingSync.splice(0));
    } else {
      this.#awaitingSync.push(group);
      this.#startSync();
    }
    this.#notifyIfDrained();
  }

  /** One fsync at a time; it covers every group committed before it started. */
  #startSync(): void {
    if (this.#syncing || this.#awaitingSync.length === 0 || this.#walFd === undefined) return;
    this.#syncing = true;
    const covered = this.#awaitingSync.splice(0);
    fsync(this.#walFd, (error) => {
      this.#syncing = false;
      if (error) this.#failSync(covered, error);
      else this.#deliver(covered);
      this.#startSync();
      this.#notifyIfDrained();
    });
  }

  /** Acknowledges the writers of durable groups and hands their events to the watches, in revision order. */
  #deliver(groups: readonly CommittedGroup[]): void {
    for (const group of groups) {
      if (group.revision > this.#durable) this.#durable = group.revision;
      if (group.events.length > 0) for (const listener of this.#listeners) listener(group.events);
      group.batch.forEach((op, i) => {
        const outcome = group.outcomes[i];
        if (outcome?.ok) op.resolve(outcome.kv);
        else op.reject(outcome?.error ?? new Error("internal: no outcome for a queued write"));
      });
    }
  }

  /**
   * The disk refused an fsync: the covered writes (and anything committed after them) may not be durable.
   * Their writers get STORAGE_UNAVAILABLE and the store accepts no more writes; a restart re-reads the file.
   */
  #failSync(covered: readonly CommittedGroup[], error: Error): void {
    this.#syncFailure ??= new StorageError(
      "STORAGE_UNAVAILABLE",
      `SQLite store ${this.path}: fsync of the write-ahead log failed (${error.message}); writes are refused until the control plane restarts`,
      { cause: error },
    );
    const failure = this.#syncFailure;
    for (const group of [...covered, ...this.#awaitingSync.splice(0)]) {
      for (const op of group.batch) op.reject(failure);
    }
    for (const op of this.#queue.splice(0)) op.reject(failure);
  }

  /** Applies `batch` in one transaction; its events are published once the group is durable. */
  #commit(batch: readonly WriteOp[]): CommittedGroup {
    const outcomes: Outcome[] = [];
    const events: RevisionedEvent[] = [];
    let revision = this.#revision;
    try {
      this.#db.exec("BEGIN IMMEDIATE");
      const select = this.#stmt("SELECT * FROM kv WHERE key = ?");
      for (const op of batch) {
        const row = select.get(op.key) as KvRow | undefined;
        const current = row && toKeyValue(row);
        const rejection = this.#precondition(op, current);
        if (rejection) {
          outcomes.push({ ok: false, error: rejection });
          continue;
        }
        revision++;
        if (op.kind === "delete") {
          const prevKv = current as KeyValue;
          this.#stmt("DELETE FROM kv WHERE key = ?").run(op.key);
          this.#insertEvent(revision, op.key, null, 0, prevKv);
          const kv = { key: op.key, value: "", createRevision: 0, modRevision: revision };
          events.push({ revision, event: { type: "delete", kv, prevKv } });
          outcomes.push({ ok: true, kv: prevKv });
          continue;
        }
        const createRevision = current?.createRevision ?? revision;
        const kv = { key: op.key, value: op.value, createRevision, modRevision: revision };
        this.#stmt(
          "INSERT INTO kv (key, value, create_revision, mod_revision) VALUES (?, ?, ?, ?) " +
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value, mod_revision = excluded.mod_revision",
        ).run(op.key, op.value, createRevision, revision);
        this.#insertEvent(revision, op.key, op.value, createRevision, current);
        events.push({
          revision,
          event: current ? { type: "put", kv, prevKv: current } : { type: "put", kv },
        });
        outcomes.push({ ok: true, kv });
      }
      if (revision !== this.#revision) {
        this.#stmt("UPDATE meta SET value = ? WHERE name = 'revision'").run(revision);
      }
      this.#db.exec("COMMIT");
    } catch (error) {
      try {
        if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
      } catch {
        // The rollback failed too; the next BEGIN reports the state of the file.
      }
      const failure = new StorageError(
        "STORAGE_UNAVAILABLE",
        `SQLite store ${this.path} failed to commit: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
      return {
        batch,
        outcomes: batch.map(() => ({ ok: false, error: failure })),
        events: [],
        revision: this.#revision,
      };
    }
    this.#revision = revision;
    return { batch, outcomes, events, revision };
  }

  #precondition(op: WriteOp, current: KeyValue | undefined): StorageError | undefined {
    if (op.kind === "create") {
      return current
        ? new StorageError("STORAGE_EXISTS", `key ${op.key} already exists`, { current })
        : undefined;
    }
    if (!current) return new StorageError("STORAGE_NOT_FOUND", `key ${op.key} not found`);
    if (op.expected !== undefined && current.modRevision !== op.expected) {
      return new StorageError(
        "STORAGE_CONFLICT",
        `key ${op.key} is at revision ${current.modRevision}, not ${op.expected}`,
        { current },
      );
    }
    return undefined;
  }

  #insertEvent(
    revision: number,
    key: string,
    value: string | null,
    createRevision: number,
    prev: KeyValue | undefined,
  ): void {
    this.#stmt(
      "INSERT INTO events (revision, key, deleted, value, create_revision, prev_value, prev_create_revision, prev_mod_revision) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    ).run(
      revision,
      key,
      value === null ? 1 : 0,
      value,
      createRevision,
      prev?.value ?? null,
      prev?.createRevision ?? null,
      prev?.modRevision ?? null,
    );
  }

  // --- reads ----------------------------------------------------------------------------------------------

  /** Durable events only: the rest reach watches through the listeners once their fsync returns. */
  #readEvents(prefix: string, afterRevision: number, limit: number): RevisionedEvent[] {
    const end = prefixEnd(prefix);
    // `+key` keeps the planner on the revision order (the primary key) rather than the key index.
    const rows = this.#stmt(
      `SELECT * FROM events WHERE revision > ? AND revision <= ? AND +key >= ? ${end === undefined ? "" : "AND +key < ?"} ORDER BY revision LIMIT ?`,
    ).all(
      ...(end === undefined
        ? [afterRevision, this.#durable, prefix, limit]
        : [afterRevision, this.#durable, prefix, end, limit]),
    ) as unknown as EventRow[];
    return rows.map(toEvent);
  }

  #meta(name: string): number {
    const row = this.#stmt("SELECT value FROM meta WHERE name = ?").get(name) as
      | { value: number }
      | undefined;
    if (!row) throw new Error(`SQLite store ${this.path} has no meta row ${name}`);
    return row.value;
  }

  #stmt(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  #run(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      throw new StorageError(
        "STORAGE_UNAVAILABLE",
        `SQLite store ${this.path}: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
  }

  #checkOpen(): void {
    if (this.#closing) throw this.#closedError();
  }

  #closedError(): StorageError {
    return new StorageError("STORAGE_UNAVAILABLE", `SQLite store ${this.path} is closed`);
  }
}

function toKeyValue(row: KvRow): KeyValue {
  return {
    key: row.key,
    value: row.value,
    createRevision: row.create_revision,
    modRevision: row.mod_revision,
  };
}

function toEvent(row: EventRow): RevisionedEvent {
  const prevKv: KeyValue | undefined =
    row.prev_mod_revision === null
      ? undefined
      : {
          key: row.key,
          value: row.prev_value ?? "",
          createRevision: row.prev_create_revision ?? 0,
          modRevision: row.prev_mod_revision,
        };
  if (row.deleted) {
    const kv = { key: row.key, value: "", createRevision: 0, modRevision: row.revision };
    return { revision: row.revision, event: { type: "delete", kv, prevKv: prevKv as KeyValue } };
  }
  const kv = {
    key: row.key,
    value: row.value ?? "",
    createRevision: row.create_revision,
    modRevision: row.revision,
  };
  return { revision: row.revision, event: prevKv ? { type: "put", kv, prevKv } : { type: "put", kv } };
}

function gone(what: string, compactedRevision: number): StorageError {
  return new StorageError(
    "STORAGE_GONE",
    `${what}: history before revision ${compactedRevision} has been compacted`,
    { compactedRevision },
  );
}

/** fsync of a directory, so that a file created in it survives a power loss. */
function syncDirectory(path: string): void {
  const fd = openSync(path, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
