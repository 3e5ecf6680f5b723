// The etcd v3 backend, a thin mapping onto etcd's KV and Watch APIs through the `etcd3` client:
// create-if-absent, compare-and-swap and delete-with-precondition are single transactions whose failure
// branch reads the key, so a rejection carries the current value without a second round trip; list is a
// range read at a revision with limit; watch is one gRPC watch stream per call (see etcd-watch.ts).
//
// Reads and never-sent writes are retried (across hosts when several are given); a write that may have
// reached etcd is never sent twice, it fails with STORAGE_UNAVAILABLE instead.

import { ConsecutiveBreaker, circuitBreaker, handleWhen, noop } from "cockatiel";
import { Etcd3, type ICompare, type IKeyValue, type IOptions, isRecoverableError } from "etcd3";
import {
  isCompactedError,
  isFutureRevisionError,
  isTransient,
  mapEtcdError,
  wasNeverSent,
} from "./etcd-errors.ts";
import { toKeyValue, watchEtcd } from "./etcd-watch.ts";
import { checkKey, checkRevision, compareKeys, prefixEnd } from "./keys.ts";
import {
  type KeyValue,
  type ListOptions,
  type ListResult,
  type Storage,
  StorageError,
  type WatchEvent,
} from "./types.ts";

export interface EtcdStorageOptions {
  /** Deadline of each unary call. Default 10 000 ms. */
  callTimeoutMs?: number;
  /** How long a watch keeps reconnecting before it fails with STORAGE_UNAVAILABLE. Default 30 000 ms. */
  watchReconnectTimeoutMs?: number;
}

const ZERO = Buffer.from([0]);

export class EtcdStorage implements Storage {
  readonly backend = "etcd";
  /** The endpoints as given, comma-separated, for messages. */
  readonly endpoints: string;
  readonly #client: Etcd3;
  readonly #attempts: number;
  readonly #watchReconnectTimeoutMs: number;
  #closed = false;

  constructor(endpoints: readonly string[], options: EtcdStorageOptions = {}) {
    if (endpoints.length === 0) throw new TypeError("etcd storage needs at least one endpoint (host:port)");
    this.endpoints = endpoints.join(",");
    const callTimeoutMs = options.callTimeoutMs ?? 10_000;
    this.#watchReconnectTimeoutMs = options.watchReconnectTimeoutMs ?? 30_000;
    this.#attempts = endpoints.length + 1;
    const clientOptions: IOptions = {
      hosts: [...endpoints],
      // Unary calls get a deadline; the watch stream lives until cancelled.
      defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + callTimeoutMs }),
      grpcOptions: {
        "grpc.keepalive_time_ms": 15_000,
        "grpc.keepalive_timeout_ms": 5_000,
      },
      faultHandling: {
        // A host that failed three times in a row is skipped for a second, then tried again.
        host: () =>
          circuitBreaker(handleWhen(isRecoverableError), {
            halfOpenAfter: 1000,
            breaker: new ConsecutiveBreaker(3),
          }),
        // Retries are decided here (#call), per operation, not by the client library.
        global: noop,
      },
    };
    this.#client = new Etcd3(clientOptions);
  }

  /** Opens a client and checks that etcd answers; STORAGE_UNAVAILABLE names the endpoints otherwise. */
  static async open(endpoints: readonly string[], options: EtcdStorageOptions = {}): Promise<EtcdStorage> {
    const storage = new EtcdStorage(endpoints, options);
    try {
      await storage.currentRevision();
    } catch (error) {
      await storage.close();
      throw error;
    }
    return storage;
  }

  async get(key: string): Promise<KeyValue | undefined> {
    checkKey(key, "get");
    const response = await this.#call(`get ${key}`, true, () =>
      this.#client.kv.range({ key: Buffer.from(key) }),
    );
    const kv = response.kvs[0];
    return kv && toKeyValue(kv);
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    const limit = options.limit ?? 0;
    checkRevision(limit, "list limit");
    if (options.revision !== undefined) checkRevision(options.revision, "list revision");
    const end = prefixEnd(prefix);
    let start = prefix;
    if (options.startAfter !== undefined && compareKeys(options.startAfter, prefix) >= 0) {
      // The immediate successor of startAfter in byte order.
      start = `${options.startAfter}\u0000`;
    }
    const what = `list of ${prefix}${options.revision === undefined ? "" : ` at revision ${options.revision}`}`;
    let response: Awaited<ReturnType<Etcd3["kv"]["range"]>>;
    try {
      response = await this.#call(what, true, () =>
        this.#client.kv.range({
          key: start.length === 0 ? ZERO : Buffer.from(start),
          range_end: end === undefined ? ZERO : Buffer.from(end),
          limit,
          revision: options.revision ?? 0,
        }),
      );
    } catch (error) {
      if (isFutureRevisionError(error instanceof StorageError ? error.cause : error)) {
        throw new StorageError(
          "STORAGE_UNAVAILABLE",
          `${what}: etcd at ${this.endpoints} has not reached that revision yet; retry later`,
          { cause: error },
        );
      }
      throw error;
    }
    return {
      items: response.kvs.map(toKeyValue),
      revision: options.revision ?? Number(response.header.revision),
      more: response.more,
    };
  }

  async create(key: string, value: string): Promise<KeyValue> {
    checkKey(key, "create");
    const k = Buffer.from(key);
    const response = await this.#call(`create ${key}`, false, () =>
      this.#client.kv.txn({
        compare: [{ key: k, target: "Create", result: "Equal", create_revision: 0 }],
        success: [{ request_put: { key: k, value: Buffer.from(value) } }],
        failure: [{ request_range: { key: k } }],
      }),
    );
    if (!response.succeeded) {
      const current = response.responses[0]?.response_range.kvs[0];
      throw new StorageError("STORAGE_EXISTS", `key ${key} already exists`, {
        current: current && toKeyValue(current),
      });
    }
    const revision = Number(response.header.revision);
    return { key, value, createRevision: revision, modRevision: revision };
  }

  async update(key: string, value: string, expectedModRevision: number): Promise<KeyValue> {
    checkKey(key, "update");
    checkRevision(expectedModRevision, "update expectedModRevision");
    const k = Buffer.from(key);
    const response = await this.#call(`update ${key}`, false, () =>
      this.#client.kv.txn({
        compare: [
          { key: k, target: "Create", result: "Greater", create_revision: 0 },
          { key: k, target: "Mod", result: "Equal", mod_revision: expectedModRevision },
        ],
        success: [{ request_put: { key: k, value: Buffer.from(value), prev_kv: true } }],
        failure: [{ request_range: { key: k } }],
      }),
    );
    if (!response.succeeded) throw this.#preconditionFailed(key, expectedModRevision, response.responses);
    const revision = Number(response.header.revision);
    const prev = response.responses[0]?.response_put.prev_kv;
    return {
      key,
      value,
      createRevision: prev ? Number(prev.create_revision) : revision,
      modRevision: revision,
    };
  }

  async delete(key: string, expectedModRevision?: number): Promise<KeyValue> {
    checkKey(key, "delete");
    if (expectedModRevision !== undefined) checkRevision(expectedModRevision, "delete expectedModRevision");
    const k = Buffer.from(key);
    const compare: ICompare[] = [{ key: k, target: "Create", result: "Greater", create_revision: 0 }];
    if (expectedModRevision !== undefined) {
      compare.push({ key: k, target: "Mod", result: "Equal", mod_revision: expectedModRevision });
    }
    const response = await this.#call(`delete ${key}`, false, () =>
      this.#client.kv.txn({
        compare,
        success: [{ request_delete_range: { key: k, prev_kv: true } }],
        failure: [{ request_range: { key: k } }],
      }),
    );
    if (!response.succeeded) throw this.#preconditionFailed(key, expectedModRevision, response.responses);
    const prev = response.responses[0]?.response_delete_range.prev_kvs[0];
    if (!prev) throw new Error(`delete ${key}: etcd at ${this.endpoints} returned no previous value`);
    return toKeyValue(prev);
  }

  watch(prefix: string, afterRevision: number, signal: AbortSignal): AsyncIterable<WatchEvent> {
    checkRevision(afterRevision, "watch afterRevision");
    return watchEtcd(
      {
        client: this.#client,
        endpoints: this.endpoints,
        reconnectTimeoutMs: this.#watchReconnectTimeoutMs,
        closed: () => this.#closed,
      },
      prefix,
      afterRevision,
      signal,
    );
  }

  async currentRevision(): Promise<number> {
    const response = await this.#call("read the current revision", true, () =>
      this.#client.kv.range({ key: ZERO, count_only: true }),
    );
    return Number(response.header.revision);
  }

  async compact(revision: number): Promise<void> {
    checkRevision(revision, "compact revision");
    try {
      await this.#call(`compact at revision ${revision}`, true, () =>
        this.#client.kv.compact({ revision, physical: true }),
      );
    } catch (error) {
      const cause = error instanceof StorageError ? error.cause : error;
      if (isCompactedError(cause)) return;
      if (isFutureRevisionError(cause)) {
        throw new RangeError(
          `cannot compact etcd at ${this.endpoints} at revision ${revision}: it has not reached that revision`,
        );
      }
      throw error;
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#client.close();
  }

  #preconditionFailed(
    key: string,
    expected: number | undefined,
    responses: ReadonlyArray<{ response_range: { kvs: IKeyValue[] } }>,
  ): StorageError {
    const kv = responses[0]?.response_range.kvs[0];
    if (!kv) return new StorageError("STORAGE_NOT_FOUND", `key ${key} not found`);
    const current = toKeyValue(kv);
    return new StorageError(
      "STORAGE_CONFLICT",
      `key ${key} is at revision ${current.modRevision}, not ${String(expected)}`,
      { current },
    );
  }

  /** Runs one etcd call; retries transient failures if the call is idempotent or was never sent. */
  async #call<T>(what: string, idempotent: boolean, fn: () => Promise<T>): Promise<T> {
    if (this.#closed) {
      throw new StorageError(
        "STORAGE_UNAVAILABLE",
        `${what}: the etcd client for ${this.endpoints} is closed`,
      );
    }
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (error) {
        const retry =
          attempt < this.#attempts &&
          isTransient(error) &&
          (idempotent || wasNeverSent(error)) &&
          !this.#closed;
        if (!retry) throw mapEtcdError(error, what, this.endpoints);
        await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
      }
    }
  }
}
