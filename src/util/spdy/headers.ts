// SPDY/3 name/value header blocks: the uncompressed layout, and the per-direction zlib contexts that
// compress them.
//
//   uncompressed block: count(32) then, per pair, name-length(32) name value-length(32) value
//   (several values of one name are joined with NUL bytes; names are lowercase)
//
// Each direction of a session keeps ONE zlib stream for all of its header blocks, primed with the SPDY
// dictionary; every block ends with a sync flush so that the peer can decode it on its own. That shared
// state is why compression cannot be a pure function: a HeaderCompressor and a HeaderDecompressor belong to
// exactly one session and must see blocks in wire order.
import * as zlib from "node:zlib";
import { SPDY_HEADER_DICTIONARY } from "./dictionary.ts";
import { SpdyProtocolError } from "./frames.ts";

/** Header names (lowercase) to their values, as received. */
export type SpdyHeaders = Record<string, string[]>;

/** Headers to send: a name with one value or several. Names are lowercased on the wire. */
export type SpdyHeadersInit = Record<string, string | readonly string[]>;

/** The first value of `name` (case-insensitive), or undefined. */
export function headerValue(headers: SpdyHeaders, name: string): string | undefined {
  return headers[name.toLowerCase()]?.[0];
}

/** Encodes headers into an uncompressed SPDY/3 header block. */
export function encodeHeaderBlock(headers: SpdyHeadersInit): Buffer {
  const merged = new Map<string, string[]>();
  for (const [rawName, value] of Object.entries(headers)) {
    const name = rawName.toLowerCase();
    if (name === "") throw new RangeError("SPDY header names must not be empty");
    const values = typeof value === "string" ? [value] : [...value];
    for (const v of values) {
      if (v.includes("\0")) throw new RangeError(`SPDY header ${name} has a value containing NUL`);
    }
    merged.set(name, [...(merged.get(name) ?? []), ...values]);
  }
  const parts: Buffer[] = [u32(merged.size)];
  for (const [name, values] of merged) {
    const nameBytes = Buffer.from(name, "utf8");
    const valueBytes = Buffer.from(values.join("\0"), "utf8");
    parts.push(u32(nameBytes.length), nameBytes, u32(valueBytes.length), valueBytes);
  }
  return Buffer.concat(parts);
}

/** Decodes an uncompressed header block. Names are lowercased; repeated names are merged. */
export function decodeHeaderBlock(block: Buffer): SpdyHeaders {
  let offset = 0;
  const read32 = (what: string): number => {
    if (offset + 4 > block.length) throw new SpdyProtocolError(`header block truncated in ${what}`);
    const v = block.readUInt32BE(offset);
    offset += 4;
    return v;
  };
  const readBytes = (length: number, what: string): Buffer => {
    if (offset + length > block.length) throw new SpdyProtocolError(`header block truncated in ${what}`);
    const b = block.subarray(offset, offset + length);
    offset += length;
    return b;
  };
  const count = read32("the pair count");
  const headers: SpdyHeaders = {};
  for (let i = 0; i < count; i++) {
    const name = readBytes(read32("a name length"), "a name").toString("utf8").toLowerCase();
    if (name === "") throw new SpdyProtocolError("header block has an empty header name");
    const value = readBytes(read32("a value length"), "a value").toString("utf8");
    headers[name] = [...(headers[name] ?? []), ...value.split("\0")];
  }
  if (offset !== block.length) {
    throw new SpdyProtocolError(`header block has ${block.length - offset} bytes after its last pair`);
  }
  return headers;
}

function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v);
  return b;
}

/**
 * One direction's zlib context. Blocks are processed strictly in call order; each call's result holds
 * exactly the output produced for its input, cut at the sync flush that ends it.
 */
abstract class HeaderZlib {
  readonly #stream: zlib.Deflate | zlib.Inflate;
  #chunks: Buffer[] = [];
  #queue: Promise<unknown> = Promise.resolve();
  #failure: Error | undefined;
  /** Rejects the call in progress; zlib reports a corrupt input through 'error', not the flush callback. */
  #rejectCurrent: ((error: Error) => void) | undefined;

  protected constructor(stream: zlib.Deflate | zlib.Inflate) {
    this.#stream = stream;
    stream.on("data", (chunk: Buffer) => this.#chunks.push(chunk));
    stream.on("error", (error: Error) => {
      this.#failure ??= error;
      this.#rejectCurrent?.(error);
    });
  }

  protected process(input: Buffer): Promise<Buffer> {
    const run = () =>
      new Promise<Buffer>((resolve, reject) => {
        if (this.#failure) {
          reject(this.#failure);
          return;
        }
        const stream = this.#stream;
        this.#rejectCurrent = reject;
        stream.write(input);
        stream.flush(zlib.constants.Z_SYNC_FLUSH, () => {
          this.#rejectCurrent = undefined;
          // Output pushed while the readable side was buffering is emitted as 'data' by read().
          while (stream.readableLength > 0 && stream.read() !== null) {
            // drained into #chunks by the 'data' listener
          }
          if (this.#failure) {
            reject(this.#failure);
            return;
          }
          const out = Buffer.concat(this.#chunks);
          this.#chunks = [];
          resolve(out);
        });
      });
    const result = this.#queue.then(run, run);
    this.#queue = result.catch(() => undefined);
    return result;
  }

  close(): void {
    this.#stream.close();
  }
}

/** Compresses the header blocks one side of a session sends. */
export class HeaderCompressor extends HeaderZlib {
  constructor() {
    super(zlib.createDeflate({ dictionary: SPDY_HEADER_DICTIONARY }));
  }

  /** Encodes and compresses `headers`; the result is the header block field of the next frame sent. */
  compress(headers: SpdyHeadersInit): Promise<Buffer> {
    return this.process(encodeHeaderBlock(headers));
  }
}

/** Decompresses the header blocks one side of a session receives. */
export class HeaderDecompressor extends HeaderZlib {
  constructor() {
    super(zlib.createInflate({ dictionary: SPDY_HEADER_DICTIONARY }));
  }

  /** Decompresses and decodes the header block of the next frame received. */
  async decompress(block: Buffer): Promise<SpdyHeaders> {
    // Some peers send a reply with no header block at all; that leaves the zlib context untouched.
    if (block.length === 0) return {};
    let raw: Buffer;
    try {
      raw = await this.process(block);
    } catch (error) {
      throw new SpdyProtocolError(`cannot decompress a header block: ${(error as Error).message}`, {
        cause: error,
      });
    }
    return decodeHeaderBlock(raw);
  }
}
