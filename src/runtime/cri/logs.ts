// Container logs in the CRI log file format, read straight from the file the runtime writes (kubelet reads
// them the same way; CRI has no log RPC).
//
//   <RFC 3339 time with nanoseconds> <stdout|stderr> <tags> <content>\n
//   2016-10-06T00:17:09.669794202Z stdout F a whole line
//   2016-10-06T00:17:09.669794203Z stderr P the first part of a long line
//
// Tags are separated by ":"; the first is "F" (full line) or "P" (partial: the line continues in the next
// record). Options follow kubelet's ReadLogs: `tail` counts records from the end of the file, `since` then
// drops older ones, the stream selection last. Following watches the file for appends (and for rotation:
// a new file at the same path) until the container is no longer running, the caller aborts or returns.
import { watch } from "node:fs";
import { type FileHandle, open, stat } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import type { LogLine, LogOptions } from "../types.ts";

const SPACE = 0x20;
const NEWLINE = 0x0a;
const READ_CHUNK = 64 * 1024;

/** Parses one record (without its newline); undefined when it is not in the CRI format. */
export function parseCriLogLine(record: Buffer): LogLine | undefined {
  const first = record.indexOf(SPACE);
  if (first <= 0) return undefined;
  const second = record.indexOf(SPACE, first + 1);
  if (second < 0) return undefined;
  let third = record.indexOf(SPACE, second + 1);
  // "<time> <stream> F" with empty content may end right after the tag.
  if (third < 0) third = record.length;
  const time = record.subarray(0, first).toString("latin1");
  const stream = record.subarray(first + 1, second).toString("latin1");
  const tags = record
    .subarray(second + 1, third)
    .toString("latin1")
    .split(":");
  const timestampMs = Date.parse(time);
  if ((stream !== "stdout" && stream !== "stderr") || Number.isNaN(timestampMs)) return undefined;
  return {
    timestampMs,
    time,
    stream,
    content: Buffer.from(record.subarray(Math.min(third + 1, record.length))),
    partial: tags[0] === "P",
  };
}

/** Byte offset at which the last `lines` records of the file start (0 when it has no more than that). */
export async function tailOffset(file: FileHandle, size: number, lines: number): Promise<number> {
  if (lines <= 0) return size;
  let position = size;
  let seen = 0;
  // A trailing newline ends the last record rather than starting an empty one.
  let skipTrailing = true;
  const buffer = Buffer.alloc(READ_CHUNK);
  while (position > 0) {
    const length = Math.min(READ_CHUNK, position);
    position -= length;
    const { bytesRead } = await file.read(buffer, 0, length, position);
    for (let i = bytesRead - 1; i >= 0; i--) {
      if (buffer[i] !== NEWLINE) {
        skipTrailing = false;
        continue;
      }
      if (skipTrailing) {
        skipTrailing = false;
        continue;
      }
      seen++;
      if (seen === lines) return position + i + 1;
    }
  }
  return 0;
}

export interface FollowControl {
  /** False once the container will not write any more (exited, gone). Errors end the iteration. */
  isRunning(): Promise<boolean>;
  /** How long to wait for an append before asking isRunning again. */
  checkIntervalMs: number;
}

function wanted(line: LogLine, options: LogOptions): boolean {
  if (options.sinceMs !== undefined && line.timestampMs < options.sinceMs) return false;
  if (line.stream === "stdout") return options.stdout !== false;
  return options.stderr !== false;
}

/**
 * Reads the log file at `path`. Without `follow` it ends at the end of the file; with it, it waits for
 * more until `control.isRunning()` says no (then drains what is left), the signal aborts or the consumer
 * stops iterating. A missing file yields nothing (the runtime creates it when the container starts).
 */
export async function* readCriLog(
  path: string,
  options: LogOptions,
  control?: FollowControl,
): AsyncGenerator<LogLine, void, undefined> {
  const signal = options.signal;
  let file: FileHandle | undefined;
  let inode = 0;
  let offset = 0;
  let pending: Buffer = Buffer.alloc(0);
  let first = true;

  const openFile = async (): Promise<boolean> => {
    try {
      file = await open(path, "r");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
      throw error;
    }
    const info = await file.stat();
    inode = info.ino;
    offset = 0;
    pending = Buffer.alloc(0);
    if (first && options.tail !== undefined) offset = await tailOffset(file, info.size, options.tail);
    first = false;
    return true;
  };

  /** Reads what was appended since the last call and yields the complete records. */
  async function* drain(): AsyncGenerator<LogLine, void, undefined> {
    if (!file) return;
    const buffer = Buffer.alloc(READ_CHUNK);
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, READ_CHUNK, offset);
      if (bytesRead === 0) return;
      offset += bytesRead;
      let data =
        pending.length > 0
          ? Buffer.concat([pending, buffer.subarray(0, bytesRead)])
          : buffer.subarray(0, bytesRead);
      let start = 0;
      for (let nl = data.indexOf(NEWLINE, start); nl >= 0; nl = data.indexOf(NEWLINE, start)) {
        const line = parseCriLogLine(data.subarray(start, nl));
        start = nl + 1;
        if (line && wanted(line, options)) yield line;
      }
      data = data.subarray(start);
      pending = Buffer.from(data);
    }
  }

  /** True when the path now names another file (rotated) or the file shrank (truncated). */
  const replaced = async (): Promise<boolean> => {
    const info = await stat(path).catch(() => undefined);
    if (!info) return false;
    return info.ino !== inode || info.size < offset;
  };

  try {
    if (options.tail === 0 && !options.follow) return;
    if (!(await openFile()) && !options.follow) return;
    for (;;) {
      if (signal?.aborted) return;
      yield* drain();
      if (!options.follow || !control) return;
      if (signal?.aborted) return;
      if (!file) {
        await openFile();
      } else if (await replaced()) {
        // Finish the old file, then continue with the new one from its start.
        yield* drain();
        await file.close();
        file = undefined;
        first = false;
        await openFile();
        continue;
      }
      const changed = await waitForChange(path, control.checkIntervalMs, signal);
      if (signal?.aborted) return;
      if (!changed && !(await control.isRunning())) {
        // The container is done: whatever it wrote is in the file now.
        if (file && (await replaced())) {
          yield* drain();
          await file.close();
          file = undefined;
          await openFile();
        }
        yield* drain();
        return;
      }
    }
  } finally {
    await file?.close();
  }
}

/** Resolves true when the file changes, false after `timeoutMs` or on abort. */
async function waitForChange(
  path: string,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<boolean> {
  const controller = new AbortController();
  const onAbort = () => controller.abort();
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    return await new Promise<boolean>((resolve) => {
      let watcher: ReturnType<typeof watch> | undefined;
      try {
        watcher = watch(path, { persistent: false, signal: controller.signal }, () => resolve(true));
        watcher.on("error", () => resolve(false));
      } catch {
        // No file yet, or no inotify: fall back to polling.
      }
      sleep(timeoutMs, undefined, { signal: controller.signal }).then(
        () => resolve(false),
        () => resolve(false),
      );
    });
  } finally {
    controller.abort();
    signal?.removeEventListener("abort", onAbort);
  }
}
