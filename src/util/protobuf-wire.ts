// Protocol Buffers wire format, the reading half, for the decoders written by hand: the API server's protobuf
// request bodies and the CRI listings the agent reads every second. Varints are read as numbers (a BigInt only
// where all 64 bits are asked for), strings as UTF-8, nested messages as readers over the same bytes.

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LENGTH_DELIMITED = 2;
export const WIRE_FIXED32 = 5;

/** A malformed message. */
export class WireError extends Error {
  override readonly name = "WireError";
}

/** A cursor over one protobuf message (or a length-delimited part of one). */
export class WireReader {
  private readonly buf: Buffer;
  readonly end: number;
  pos: number;

  constructor(buf: Uint8Array, start = 0, end = buf.length) {
    this.buf = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
    this.pos = start;
    this.end = end;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** A varint of up to 32 significant bits (tags, lengths, enums, uint32). */
  uint32(): number {
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const byte = this.byte();
      value |= (byte & 0x7f) << shift;
      if (byte < 0x80) return value >>> 0;
    }
    // The remaining bytes of a 64-bit varint (a negative int32 is sent sign-extended): the low 32 bits are kept.
    for (let i = 0; i < 5; i++) if (this.byte() < 0x80) return value >>> 0;
    throw new WireError("varint longer than 10 bytes");
  }

  /** An int64 varint as proto-loader's `longs: String` shows it: decimal, with a sign when negative. */
  int64(): string {
    let lo = 0;
    let hi = 0;
    let shift = 0;
    for (let i = 0; ; i++) {
      if (i === 10) throw new WireError("varint longer than 10 bytes");
      const byte = this.byte();
      const bits = byte & 0x7f;
      if (shift < 28) lo |= bits << shift;
      else if (shift === 28) {
        lo |= (bits & 0x0f) << 28;
        hi |= bits >> 4;
      } else hi |= bits << (shift - 32);
      if (byte < 0x80) break;
      shift += 7;
    }
    lo >>>= 0;
    hi >>>= 0;
    if (hi < 0x200000) return String(hi * 0x100000000 + lo); // below 2^53: exact as a number
    return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo)).toString();
  }

  string(): string {
    const length = this.uint32();
    const start = this.pos;
    this.pos += length;
    if (this.pos > this.end) throw new WireError("string runs past the end of its message");
    return this.buf.toString("utf8", start, this.pos);
  }

  /** A reader over the next length-delimited field, which this reader skips. */
  message(): WireReader {
    const length = this.uint32();
    const start = this.pos;
    this.pos += length;
    if (this.pos > this.end) throw new WireError("message runs past the end of its parent");
    return new WireReader(this.buf, start, this.pos);
  }

  /** (field number, wire type) of the next field. */
  tag(): [number, number] {
    const tag = this.uint32();
    return [tag >>> 3, tag & 7];
  }

  /** The next length-delimited field's bytes (a view, not a copy). */
  bytes(): Uint8Array {
    const field = this.message();
    return this.buf.subarray(field.pos, field.end);
  }

  /** An unsigned varint as a BigInt (all 64 bits; see signed()). */
  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      const byte = this.byte();
      result |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return result;
      shift += 7n;
    }
    throw new WireError("varint longer than 10 bytes");
  }

  /** Reads one map<string, string> entry into `into`. */
  mapEntry(into: Record<string, string>): void {
    const entry = this.message();
    let key = "";
    let value = "";
    while (!entry.done) {
      const tag = entry.uint32();
      if (tag === 0x0a) key = entry.string();
      else if (tag === 0x12) value = entry.string();
      else entry.skipField(tag & 7);
    }
    into[key] = value;
  }

  /** Skips the value of a field this reader does not read. */
  skipField(wireType: number): void {
    switch (wireType) {
      case 0:
        while (this.byte() >= 0x80);
        return;
      case 1:
        this.pos += 8;
        break;
      case 2: {
        const length = this.uint32(); // read first: `this.pos += this.uint32()` would add to the old pos
        this.pos += length;
        break;
      }
      case 5:
        this.pos += 4;
        break;
      default:
        throw new WireError(`unsupported wire type ${wireType}`);
    }
    if (this.pos > this.end) throw new WireError("field runs past the end of its message");
  }

  private byte(): number {
    if (this.pos >= this.end) throw new WireError("message ends inside a varint");
    return this.buf[this.pos++] as number;
  }
}

/** int64/int32 from a varint (two's complement, as Go encodes negative values). */
export function signed(value: bigint, bits: 32 | 64): number {
  return Number(BigInt.asIntN(bits, value));
}
