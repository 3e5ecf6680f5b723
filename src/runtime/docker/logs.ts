// Parses Docker's log stream (always requested with timestamps) into LogLines. Non-TTY containers' logs
// come multiplexed: frames of [stream type, 0, 0, 0, uint32 BE length] + payload, one log entry per frame.
// TTY containers' logs come raw, one entry per line. Each entry is "<RFC 3339 nano time> <content>".
import type { LogLine } from "../types.ts";

const HEADER = 8;

function toLine(entry: Buffer, stream: LogLine["stream"]): LogLine {
  const partial = entry.length === 0 || entry[entry.length - 1] !== 0x0a;
  const body = partial ? entry : entry.subarray(0, entry.length - 1);
  const space = body.indexOf(0x20);
  const time = (space === -1 ? body : body.subarray(0, space)).toString("latin1");
  const content = space === -1 ? Buffer.alloc(0) : body.subarray(space + 1);
  const ms = Date.parse(time);
  return { time, timestampMs: Number.isNaN(ms) ? 0 : ms, stream, content: Buffer.from(content), partial };
}

/** Splits a payload into entries at newlines; a trailing piece without a newline is a partial entry. */
function* entries(payload: Buffer): Generator<Buffer> {
  let start = 0;
  for (;;) {
    const nl = payload.indexOf(0x0a, start);
    if (nl === -1) break;
    yield payload.subarray(start, nl + 1);
    start = nl + 1;
  }
  if (start < payload.length) yield payload.subarray(start);
}

/** Multiplexed (non-TTY) log stream → lines. */
export async function* demuxLogLines(chunks: AsyncIterable<Buffer>): AsyncGenerator<LogLine> {
  let buffer: Buffer = Buffer.alloc(0);
  for await (const chunk of chunks) {
    buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
    while (buffer.length >= HEADER) {
      const length = buffer.readUInt32BE(4);
      if (buffer.length < HEADER + length) break;
      const stream = buffer[0] === 2 ? "stderr" : "stdout";
      const payload = buffer.subarray(HEADER, HEADER + length);
      buffer = buffer.subarray(HEADER + length);
      for (const entry of entries(payload)) yield toLine(entry, stream);
    }
  }
}

/** Raw (TTY) log stream → lines; everything is stdout. */
export async function* rawLogLines(chunks: AsyncIterable<Buffer>): AsyncGenerator<LogLine> {
  let pending: Buffer = Buffer.alloc(0);
  for await (const chunk of chunks) {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    const last = pending.lastIndexOf(0x0a);
    if (last === -1) continue;
    for (const entry of entries(pending.subarray(0, last + 1))) yield toLine(entry, "stdout");
    pending = pending.subarray(last + 1);
  }
  if (pending.length > 0) yield toLine(pending, "stdout");
}

/** Docker's `since` parameter: seconds with a fractional part, which dockerd accepts. */
export function dockerSince(sinceMs: number): string {
  const seconds = Math.floor(sinceMs / 1000);
  const nanos = (sinceMs % 1000) * 1_000_000;
  return `${seconds}.${String(nanos).padStart(9, "0")}`;
}
