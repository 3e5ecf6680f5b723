// Watch for the SQLite backend: replay the event log after the requested revision, then follow the
// in-process commit notifier.
//
// One cursor makes the hand-over exact: every event under the prefix with a revision at or below `cursor`
// has been yielded or is queued. Replay reads the log page by page after the cursor; when a page comes back
// short, the log is exhausted up to the committed head, and — in the same synchronous step, so no commit can
// slip in between — the watch switches to live mode, where the notifier appends each committed group and
// moves the cursor to its last revision. A consumer that falls too far behind drops its live queue and goes
// back to reading the log from the last event it received, so memory stays bounded and nothing is lost or
// repeated.

import { StorageError, type WatchEvent } from "./types.ts";
import { Fifo, Wakeup } from "./wakeup.ts";

export interface RevisionedEvent {
  revision: number;
  event: Exclude<WatchEvent, { type: "progress" }>;
}

/** What the watch needs from the store; every call is synchronous and sees committed state only. */
export interface CommittedLog {
  describe(): string;
  head(): number;
  /** History before this revision is gone. */
  compacted(): number;
  closed(): boolean;
  /** Events under `prefix` with revision > `afterRevision`, ascending, at most `limit`. */
  readEvents(prefix: string, afterRevision: number, limit: number): RevisionedEvent[];
  /** Called with each committed group in revision order (and with [] when the store closes). */
  subscribe(listener: (events: readonly RevisionedEvent[]) => void): () => void;
}

const PAGE = 1000;

export interface CommittedWatchOptions {
  /** Report progress after this long without sending anything. */
  progressIntervalMs: number;
  /** A live queue longer than this is dropped; the watch goes back to reading the log. */
  queueLimit: number;
}

export async function* watchCommitted(
  log: CommittedLog,
  prefix: string,
  afterRevision: number,
  signal: AbortSignal,
  options: CommittedWatchOptions,
): AsyncGenerator<WatchEvent> {
  const { progressIntervalMs, queueLimit } = options;
  let cursor = afterRevision;
  let lastYielded = afterRevision;
  let live = false;
  let lastSent = performance.now();
  const queue = new Fifo<RevisionedEvent>();
  const wakeup = new Wakeup();
  const unsubscribe = log.subscribe((events) => {
    // [] means the store closed. A group with nothing under this prefix only moves the cursor: waking the
    // consumer for it would cost every watch of every resource a turn per commit (progress has its own timer).
    let wake = events.length === 0;
    if (live) {
      const before = queue.length;
      for (const e of events) {
        if (e.revision > cursor && e.event.kv.key.startsWith(prefix)) queue.push(e);
      }
      wake ||= queue.length > before;
      const last = events.at(-1);
      if (last && last.revision > cursor) cursor = last.revision;
      if (queue.length > queueLimit) {
        live = false;
        queue.clear();
        cursor = lastYielded;
        wake = true;
      }
    }
    if (wake) wakeup.notify();
  });
  try {
    while (!signal.aborted) {
      if (log.closed()) {
        throw new StorageError("STORAGE_UNAVAILABLE", `watch of ${prefix}: ${log.describe()} is closed`);
      }
      if (!live && queue.length === 0) {
        const compacted = log.compacted();
        if (cursor + 1 < compacted) {
          throw new StorageError(
            "STORAGE_GONE",
            `watch of ${prefix} from revision ${cursor}: history before revision ${compacted} has been compacted`,
            { compactedRevision: compacted },
          );
        }
        const page = log.readEvents(prefix, cursor, PAGE);
        for (const e of page) queue.push(e);
        if (page.length < PAGE) {
          cursor = Math.max(cursor, log.head());
          live = true;
        } else {
          cursor = page.at(-1)?.revision ?? cursor;
        }
      }
      const next = queue.shift();
      if (next) {
        lastYielded = next.revision;
        lastSent = performance.now();
        yield next.event;
        continue;
      }
      if (!live) continue;
      // Caught up: report progress when nothing was sent for a whole interval (events under other prefixes
      // keep waking this loop, so the interval is measured from the last thing sent, not the last wake-up).
      const remaining = progressIntervalMs - (performance.now() - lastSent);
      if (remaining <= 0) {
        lastSent = performance.now();
        yield { type: "progress", revision: log.head() };
        continue;
      }
      await wakeup.wait(signal, remaining);
    }
  } finally {
    unsubscribe();
  }
}
