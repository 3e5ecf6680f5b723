// GET /containerLogs/{namespace}/{pod}/{container}: a container's log through Runtime.containerLogs, with
// kubelet's PodLogOptions (follow, previous, timestamps, sinceSeconds, sinceTime, tailLines, limitBytes).
// The body is text/plain, written line by line as the runtime yields them, so `follow` streams.
import type { ServerResponse } from "node:http";
import type { LogLine, LogOptions } from "../../runtime/types.ts";
import { unprocessable } from "./errors.ts";

export interface ContainerLogOptions {
  follow: boolean;
  previous: boolean;
  timestamps: boolean;
  /** Only lines at or after this instant (ms since the epoch), from sinceSeconds or sinceTime. */
  sinceMs: number | undefined;
  tailLines: number | undefined;
  limitBytes: number | undefined;
}

function bool(query: URLSearchParams, name: string): boolean {
  const value = query.get(name);
  if (value === null || value === "") return false;
  if (value === "true" || value === "1") return true;
  if (value === "false" || value === "0") return false;
  throw unprocessable(`query parameter ${name}=${JSON.stringify(value)}: must be true or false`);
}

function integer(query: URLSearchParams, name: string, min: number): number | undefined {
  const value = query.get(name);
  if (value === null || value === "") return undefined;
  if (!/^-?\d+$/.test(value)) {
    throw unprocessable(`query parameter ${name}=${JSON.stringify(value)}: must be an integer`);
  }
  const n = Number(value);
  if (n < min)
    throw unprocessable(`query parameter ${name}=${value}: must be greater than or equal to ${min}`);
  return n;
}

/** Parses and validates the query as kubelet's ValidatePodLogOptions does; `now` resolves sinceSeconds. */
export function parseLogOptions(query: URLSearchParams, now: number): ContainerLogOptions {
  // kubelet still accepts the pre-PodLogOptions `tail` parameter ("all" meaning no limit).
  const legacyTail = query.get("tail");
  let tailLines = integer(query, "tailLines", 0);
  if (tailLines === undefined && legacyTail !== null && legacyTail !== "all") {
    const q = new URLSearchParams({ tail: legacyTail });
    tailLines = integer(q, "tail", 0);
  }
  const sinceSeconds = integer(query, "sinceSeconds", 1);
  const sinceTime = query.get("sinceTime");
  if (sinceSeconds !== undefined && sinceTime) {
    throw unprocessable("at most one of sinceTime or sinceSeconds may be specified");
  }
  let sinceMs: number | undefined;
  if (sinceSeconds !== undefined) sinceMs = now - sinceSeconds * 1000;
  if (sinceTime) {
    sinceMs = Date.parse(sinceTime);
    if (!Number.isFinite(sinceMs)) {
      throw unprocessable(`query parameter sinceTime=${JSON.stringify(sinceTime)}: must be an RFC 3339 time`);
    }
  }
  return {
    follow: bool(query, "follow"),
    previous: bool(query, "previous"),
    timestamps: bool(query, "timestamps"),
    sinceMs,
    tailLines,
    limitBytes: integer(query, "limitBytes", 1),
  };
}

/** The runtime's LogOptions for these container log options. */
export function runtimeLogOptions(options: ContainerLogOptions, signal: AbortSignal): LogOptions {
  return {
    follow: options.follow,
    timestamps: options.timestamps,
    signal,
    ...(options.tailLines !== undefined ? { tail: options.tailLines } : {}),
    ...(options.sinceMs !== undefined ? { sinceMs: options.sinceMs } : {}),
  };
}

/** One log line as kubelet writes it: optionally the runtime's RFC 3339 timestamp and a space first. */
export function formatLogLine(line: LogLine, timestamps: boolean): Buffer {
  const parts: Buffer[] = [];
  if (timestamps) parts.push(Buffer.from(`${line.time} `));
  parts.push(line.content);
  if (!line.partial) parts.push(Buffer.from("\n"));
  return Buffer.concat(parts);
}

/**
 * Copies log lines to the response until the runtime's iterator ends, `limitBytes` is reached, or the
 * client goes away (the caller aborts `signal` then). Honours backpressure.
 */
export async function writeLogLines(
  lines: AsyncIterable<LogLine>,
  res: ServerResponse,
  options: ContainerLogOptions,
  signal: AbortSignal,
): Promise<void> {
  let budget = options.limitBytes ?? Number.POSITIVE_INFINITY;
  for await (const line of lines) {
    if (signal.aborted || res.destroyed) break;
    let bytes = formatLogLine(line, options.timestamps);
    if (bytes.length > budget) bytes = bytes.subarray(0, budget);
    budget -= bytes.length;
    if (!res.write(bytes)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          res.off("drain", done);
          res.off("close", done);
          resolve();
        };
        res.on("drain", done);
        res.on("close", done);
      });
    }
    if (budget <= 0) break;
  }
}
