// Watch for the etcd backend: one gRPC watch stream per call, with prevKv and progress notifications.
//
// The resume point is tracked here rather than left to the client library: `next` is one past the revision
// of the last event yielded (or of the last progress notification, which promises that every earlier event
// was sent). When the stream breaks, the watch reconnects from `next`, so nothing is lost or repeated; if
// etcd compacted past `next` meanwhile, the re-created watch is cancelled and this throws STORAGE_GONE.
// etcd 3.4 cancels a watch on a compacted revision with compact_revision set and an empty reason; any other
// cancellation we did not ask for is treated as Gone too, so the caller relists.

import type { Etcd3, IEvent, IKeyValue, IWatchResponse } from "etcd3";
import { mapEtcdError } from "./etcd-errors.ts";
import { prefixEnd } from "./keys.ts";
import { type KeyValue, StorageError, type WatchEvent } from "./types.ts";
import { Fifo, Wakeup } from "./wakeup.ts";

export interface EtcdWatchContext {
  client: Etcd3;
  endpoints: string;
  reconnectTimeoutMs: number;
  closed(): boolean;
}

type Incoming =
  | { kind: "data"; response: IWatchResponse }
  | { kind: "error"; error: unknown }
  | { kind: "end" };

const ZERO = Buffer.from([0]);
/** Responses buffered before the stream is paused, and the level at which it resumes. */
const INBOX_HIGH = 256;
const INBOX_LOW = 64;

export async function* watchEtcd(
  context: EtcdWatchContext,
  prefix: string,
  afterRevision: number,
  signal: AbortSignal,
): AsyncGenerator<WatchEvent> {
  const what = `watch of ${prefix}`;
  const end = prefixEnd(prefix);
  const key = prefix.length === 0 ? ZERO : Buffer.from(prefix);
  const rangeEnd = end === undefined ? ZERO : Buffer.from(end);
  let next = afterRevision + 1;
  let disconnectedSince: number | undefined;
  let backoffMs = 100;
  let lastFailure: unknown;

  while (!signal.aborted) {
    if (context.closed()) {
      throw new StorageError(
        "STORAGE_UNAVAILABLE",
        `${what}: the etcd client for ${context.endpoints} is closed`,
      );
    }
    const inbox = new Fifo<Incoming>();
    const wakeup = new Wakeup();
    let stream: Awaited<ReturnType<Etcd3["watchClient"]["watch"]>> | undefined;
    try {
      stream = await context.client.watchClient.watch();
    } catch (error) {
      lastFailure = error;
    }
    if (stream) {
      // The gRPC call is a Node duplex stream: pausing it lets HTTP/2 flow control hold etcd back while the
      // consumer is behind, instead of buffering without bound here.
      const flow = stream as unknown as { pause(): void; resume(): void };
      let paused = false;
      stream.on("data", (response) => {
        inbox.push({ kind: "data", response });
        wakeup.notify();
        if (!paused && inbox.length >= INBOX_HIGH) {
          paused = true;
          flow.pause();
        }
      });
      stream.on("error", (error) => {
        inbox.push({ kind: "error", error });
        wakeup.notify();
      });
      stream.on("end", () => {
        inbox.push({ kind: "end" });
        wakeup.notify();
      });
      stream.write({
        create_request: {
          key,
          range_end: rangeEnd,
          start_revision: next,
          prev_kv: true,
          progress_notify: true,
        },
      });
      try {
        while (!signal.aborted) {
          const item = inbox.shift();
          if (paused && inbox.length <= INBOX_LOW) {
            paused = false;
            flow.resume();
          }
          if (!item) {
            await wakeup.wait(signal);
            continue;
          }
          if (item.kind !== "data") {
            lastFailure = item.kind === "error" ? item.error : new Error("the watch stream ended");
            break;
          }
          const response = item.response;
          if (response.canceled) throw cancelled(response, what, next, context.endpoints);
          if (response.created) {
            disconnectedSince = undefined;
            backoffMs = 100;
            continue;
          }
          if (response.events.length === 0) {
            // A progress notification: every event up to header.revision has been sent.
            const revision = Number(response.header.revision);
            if (revision >= next - 1) {
              next = revision + 1;
              yield { type: "progress", revision };
            }
            continue;
          }
          for (const event of response.events) {
            const mapped = toWatchEvent(event, what, context.endpoints);
            next = mapped.kv.modRevision + 1;
            yield mapped;
          }
        }
      } finally {
        // Half-close first so the client library does not count our own cancellation as a host failure.
        stream.end();
        stream.cancel();
      }
    }
    if (signal.aborted) return;
    // The stream broke (etcd restarted, connection lost): reconnect from `next` until the deadline.
    disconnectedSince ??= performance.now();
    if (performance.now() - disconnectedSince > context.reconnectTimeoutMs) {
      throw mapEtcdError(lastFailure ?? new Error("UNAVAILABLE: watch stream lost"), what, context.endpoints);
    }
    await new Wakeup().wait(signal, backoffMs);
    backoffMs = Math.min(backoffMs * 2, 2000);
  }
}

function cancelled(response: IWatchResponse, what: string, next: number, endpoints: string): StorageError {
  const compactedRevision = Number(response.compact_revision);
  if (compactedRevision > 0) {
    return new StorageError(
      "STORAGE_GONE",
      `${what} from revision ${next - 1}: etcd at ${endpoints} has compacted history before revision ${compactedRevision}`,
      { compactedRevision },
    );
  }
  return new StorageError(
    "STORAGE_GONE",
    `${what}: etcd at ${endpoints} cancelled the watch (${response.cancel_reason || "no reason given"}); relist and watch again`,
  );
}

function toWatchEvent(
  event: IEvent,
  what: string,
  endpoints: string,
): Exclude<WatchEvent, { type: "progress" }> {
  const kv = toKeyValue(event.kv);
  const prevKv = event.prev_kv ? toKeyValue(event.prev_kv) : undefined;
  if (event.type === "Delete") {
    if (!prevKv) {
      // etcd reads prevKv when it sends the event; compaction in between loses it.
      throw new StorageError(
        "STORAGE_GONE",
        `${what}: etcd at ${endpoints} sent the deletion of ${kv.key} at revision ${kv.modRevision} without its previous value (compacted)`,
      );
    }
    return { type: "delete", kv, prevKv };
  }
  return prevKv ? { type: "put", kv, prevKv } : { type: "put", kv };
}

export function toKeyValue(kv: IKeyValue): KeyValue {
  return {
    key: kv.key.toString("utf8"),
    value: kv.value.toString("utf8"),
    createRevision: Number(kv.create_revision),
    modRevision: Number(kv.mod_revision),
  };
}
