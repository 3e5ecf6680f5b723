// Terminal resizes as the remote command protocols carry them: a byte stream of JSON objects
// {"Width":w,"Height":h} (v3+ over SPDY, channel 4 over WebSocket), turned into an async iterable of sizes
// for Runtime.exec/attach.
import type { Readable } from "node:stream";
import type { TerminalSize } from "../../../runtime/types.ts";

/** A push-driven async iterable: push() values, end() it; a consumer iterates at its own pace. */
export class AsyncQueue<T> implements AsyncIterable<T> {
  readonly #items: T[] = [];
  readonly #waiters: Array<(result: IteratorResult<T>) => void> = [];
  #ended = false;

  push(item: T): void {
    if (this.#ended) return;
    const waiter = this.#waiters.shift();
    if (waiter) waiter({ value: item, done: false });
    else this.#items.push(item);
  }

  end(): void {
    this.#ended = true;
    for (const waiter of this.#waiters.splice(0)) waiter({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        const item = this.#items.shift();
        if (item !== undefined) return Promise.resolve({ value: item, done: false });
        if (this.#ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => this.#waiters.push(resolve));
      },
      return: () => {
        this.end();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}

/**
 * Splits a stream of concatenated JSON objects into the objects, whatever the chunking: tracks brace depth
 * outside strings and parses each complete top-level object.
 */
export class JsonObjectSplitter {
  #buffer = "";
  #depth = 0;
  #inString = false;
  #escaped = false;
  #start = -1;

  push(text: string): unknown[] {
    const out: unknown[] = [];
    const base = this.#buffer.length;
    this.#buffer += text;
    for (let i = base; i < this.#buffer.length; i++) {
      const ch = this.#buffer[i];
      if (this.#inString) {
        if (this.#escaped) this.#escaped = false;
        else if (ch === "\\") this.#escaped = true;
        else if (ch === '"') this.#inString = false;
        continue;
      }
      if (ch === '"') this.#inString = true;
      else if (ch === "{") {
        if (this.#depth === 0) this.#start = i;
        this.#depth++;
      } else if (ch === "}" && this.#depth > 0) {
        this.#depth--;
        if (this.#depth === 0) {
          try {
            out.push(JSON.parse(this.#buffer.slice(this.#start, i + 1)));
          } catch {
            // A malformed object is skipped, as kubelet's decoder stops on it; later ones still count.
          }
          this.#start = -1;
        }
      }
    }
    if (this.#depth === 0) this.#buffer = "";
    else if (this.#start > 0) {
      this.#buffer = this.#buffer.slice(this.#start);
      this.#start = 0;
    }
    return out;
  }
}

/** A terminal size from a decoded resize object, or undefined when it is not one. */
export function terminalSize(value: unknown): TerminalSize | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const { Width, Height } = value as { Width?: unknown; Height?: unknown };
  if (typeof Width !== "number" || typeof Height !== "number") return undefined;
  if (!Number.isInteger(Width) || !Number.isInteger(Height) || Width < 0 || Height < 0) return undefined;
  return { width: Width, height: Height };
}

/** The resize events a byte stream carries, ending with it. */
export function resizeEvents(stream: Readable): AsyncQueue<TerminalSize> {
  const queue = new AsyncQueue<TerminalSize>();
  const splitter = new JsonObjectSplitter();
  stream.on("data", (chunk: Buffer) => {
    for (const value of splitter.push(chunk.toString("utf8"))) {
      const size = terminalSize(value);
      if (size) queue.push(size);
    }
  });
  stream.on("end", () => queue.end());
  stream.on("close", () => queue.end());
  stream.on("error", () => queue.end());
  return queue;
}
