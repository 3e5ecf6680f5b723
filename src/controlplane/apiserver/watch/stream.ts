// Serving one watch over HTTP: a chunked stream of newline-delimited JSON WatchEvents fed by the watch
// cache. Encodings are computed once per event and format and shared by every watcher; a client that
// stops reading is cut off rather than buffered without bound.

import type { IncomingMessage, ServerResponse } from "node:http";
import type { KubeObject } from "../../../api/resource.ts";
import type { Clock } from "../../../util/clock.ts";
import { expired } from "../errors.ts";
import type { CachedEvent, CacheWatcher, EventType, WatchCache } from "./cache.ts";
import { TooOldError } from "./cache.ts";

/** Turns an object into the representation the client asked for (plain, Table row, metadata). */
export interface WatchEncoder {
  /** Identifies the output format, for sharing encodings between watchers; undefined = never share. */
  cacheKey(first: boolean): string | undefined;
  encode(object: KubeObject, first: boolean): unknown;
}

export type WatchStart =
  /** Events after this revision. */
  | { kind: "after"; revision: number }
  /** ADDED for every current object (`objects` at `revision`), then events after `revision`. */
  | { kind: "initial"; objects: KubeObject[]; revision: number }
  /** ADDED for the cache's current state, then live (resourceVersion "0"). */
  | { kind: "cache" };

export interface WatchStreamOptions {
  req: IncomingMessage;
  res: ServerResponse;
  cache: WatchCache;
  keyPrefix: string;
  matches(obj: KubeObject): boolean;
  encoder: WatchEncoder;
  start: WatchStart;
  allowBookmarks: boolean;
  /** apiVersion and kind for BOOKMARK objects. */
  apiVersion: string;
  kind: string;
  timeoutMs: number;
  bookmarkIntervalMs: number;
  clock: Clock;
  /** WatchList (sendInitialEvents): after the initial events, a BOOKMARK at this revision marks their end. */
  initialEventsEnd?: number;
  /** Called once when the stream ends, for bookkeeping. */
  onEnd?(): void;
}

/** A client this far behind (bytes queued in the socket) is disconnected; it will re-watch. */
const MAX_BUFFERED_BYTES = 32 * 1024 * 1024;

/**
 * One watch event as a complete HTTP/1.1 chunk ("<size>\r\n<json>\n\r\n"). Framed once, the same bytes go
 * to every watcher's socket in a single write, instead of three writes per watcher through the response.
 */
/**
 * One event as an HTTP chunk. The buffer is allocated on its own, not from Node's shared pool: the watch
 * cache keeps it with the event for other watchers, and a small slice of the pool would keep its whole
 * 8 KiB slab alive for as long.
 */
function line(type: string, object: unknown): Buffer {
  const payload = `${JSON.stringify({ type, object })}\n`;
  const length = Buffer.byteLength(payload, "utf8");
  const head = `${length.toString(16)}\r\n`;
  const chunk = Buffer.allocUnsafeSlow(head.length + length + 2);
  chunk.write(head, 0, "latin1");
  chunk.write(payload, head.length, "utf8");
  chunk.write("\r\n", head.length + length, "latin1");
  return chunk;
}

export function serveWatch(options: WatchStreamOptions): void {
  const { req, res, cache, encoder, clock } = options;
  res.writeHead(200, {
    "Content-Type": "application/json",
    "Transfer-Encoding": "chunked",
    "Cache-Control": "no-cache, private",
  });
  res.flushHeaders();
  // Chunks are framed by line() and written straight to the socket; res.end() adds the last chunk.
  const socket = res.socket ?? req.socket;
  socket.setNoDelay(true);

  let ended = false;
  let first = true;
  let lastBookmark = 0;
  let unregister: (() => void) | undefined;
  const cancels: Array<() => void> = [];

  const end = () => {
    if (ended) return;
    ended = true;
    unregister?.();
    for (const cancel of cancels) cancel();
    if (!res.writableEnded) res.end();
    options.onEnd?.();
  };

  const write = (chunk: Buffer) => {
    if (ended || socket.destroyed) return;
    socket.write(chunk);
    if (socket.writableLength > MAX_BUFFERED_BYTES) {
      // Too far behind to catch up: drop the connection; the client re-watches from its last event.
      ended = true;
      unregister?.();
      for (const cancel of cancels) cancel();
      socket.destroy();
      options.onEnd?.();
    }
  };

  const send = (type: EventType, object: KubeObject, event: CachedEvent | undefined) => {
    const key = encoder.cacheKey(first);
    let chunk: Buffer | undefined;
    if (event && key !== undefined && object === event.object) {
      const cacheKey = `${type}:${key}`;
      event.encodings ??= new Map();
      chunk = event.encodings.get(cacheKey);
      if (!chunk) {
        chunk = line(type, encoder.encode(object, first));
        event.encodings.set(cacheKey, chunk);
      }
    } else {
      chunk = line(type, encoder.encode(object, first));
    }
    first = false;
    write(chunk);
  };

  const watcher: CacheWatcher = {
    afterRevision: 0,
    keyPrefix: options.keyPrefix,
    matches: options.matches,
    deliver: (type, object, event) => send(type, object, event),
    progress: () => {},
    terminate: () => end(),
  };

  const sendBookmark = () => {
    const revision = Math.max(cache.revision, watcher.afterRevision);
    if (revision <= lastBookmark) return;
    lastBookmark = revision;
    write(
      line("BOOKMARK", {
        kind: options.kind,
        apiVersion: options.apiVersion,
        metadata: { resourceVersion: String(revision), creationTimestamp: null },
      }),
    );
  };

  req.on("close", end);
  res.on("close", end);

  try {
    const start = options.start;
    if (start.kind === "cache") {
      unregister = cache.addWatcherFromNow(watcher, (objects) => {
        for (const o of objects) send("ADDED", o, undefined);
      });
    } else if (start.kind === "initial") {
      for (const o of start.objects) send("ADDED", o, undefined);
      if (options.initialEventsEnd !== undefined) {
        lastBookmark = options.initialEventsEnd;
        write(
          line("BOOKMARK", {
            kind: options.kind,
            apiVersion: options.apiVersion,
            metadata: {
              resourceVersion: String(options.initialEventsEnd),
              creationTimestamp: null,
              annotations: { "k8s.io/initial-events-end": "true" },
            },
          }),
        );
      }
      watcher.afterRevision = start.revision;
      unregister = cache.addWatcher(watcher);
    } else {
      watcher.afterRevision = start.revision;
      unregister = cache.addWatcher(watcher);
    }
  } catch (error) {
    if (error instanceof TooOldError) {
      write(line("ERROR", expired(error.message).toStatus()));
      end();
      return;
    }
    throw error;
  }

  cancels.push(clock.setTimer(options.timeoutMs, end));
  if (options.allowBookmarks) {
    let cancelTick = () => {};
    const tick = () => {
      if (ended) return;
      sendBookmark();
      cancelTick = clock.setTimer(options.bookmarkIntervalMs, tick);
    };
    cancelTick = clock.setTimer(options.bookmarkIntervalMs, tick);
    cancels.push(() => cancelTick());
  }
}
