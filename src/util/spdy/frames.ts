// SPDY/3.1 frame layout: encoding frames to bytes and cutting a byte stream into frames. Pure and
// synchronous; header blocks travel here still compressed (./headers.ts owns their compression, because it
// is stateful per session and direction).
//
//   control frame: |1| version(15) | type(16) | flags(8) | length(24) | payload
//   data frame:    |0| stream-id(31)          | flags(8) | length(24) | payload
//
// SPDY/3.1 keeps version 3 on the wire; it differs from SPDY/3 only in flow control, which this package does
// not enforce (see ./session.ts).

export const SPDY_VERSION = 3;

/** Largest payload a frame's 24-bit length field can carry. */
export const MAX_FRAME_PAYLOAD = 0xff_ffff;

export const ControlType = {
  synStream: 1,
  synReply: 2,
  rstStream: 3,
  settings: 4,
  ping: 6,
  goaway: 7,
  headers: 8,
  windowUpdate: 9,
} as const;

export const Flag = {
  /** DATA, SYN_STREAM, SYN_REPLY, HEADERS: the sender sends nothing more on this stream. */
  fin: 0x01,
  /** SYN_STREAM: the receiver must not send on this stream. */
  unidirectional: 0x02,
  /** SETTINGS: forget persisted settings. */
  clearSettings: 0x01,
} as const;

/** RST_STREAM status codes. */
export const RstStatus = {
  protocolError: 1,
  invalidStream: 2,
  refusedStream: 3,
  unsupportedVersion: 4,
  cancel: 5,
  internalError: 6,
  flowControlError: 7,
  streamInUse: 8,
  streamAlreadyClosed: 9,
  invalidCredentials: 10,
  frameTooLarge: 11,
} as const;

/** GOAWAY status codes. */
export const GoawayStatus = { ok: 0, protocolError: 1, internalError: 2 } as const;

export type SpdyFrame =
  | { type: "data"; streamId: number; fin: boolean; data: Buffer }
  | {
      type: "syn_stream";
      streamId: number;
      associatedStreamId: number;
      /** 0 (highest) to 7. */
      priority: number;
      slot: number;
      fin: boolean;
      unidirectional: boolean;
      /** zlib-compressed name/value block. */
      headerBlock: Buffer;
    }
  | { type: "syn_reply"; streamId: number; fin: boolean; headerBlock: Buffer }
  | { type: "rst_stream"; streamId: number; status: number }
  | { type: "settings"; clear: boolean; entries: SettingsEntry[] }
  | { type: "ping"; id: number }
  | { type: "goaway"; lastGoodStreamId: number; status: number }
  | { type: "headers"; streamId: number; fin: boolean; headerBlock: Buffer }
  | { type: "window_update"; streamId: number; delta: number }
  /** A control frame of a type SPDY/3.1 does not define; receivers must ignore it. */
  | { type: "unknown"; controlType: number; flags: number; payload: Buffer };

export interface SettingsEntry {
  flags: number;
  id: number;
  value: number;
}

/** A peer broke the framing rules; the session must end (GOAWAY with PROTOCOL_ERROR). */
export class SpdyProtocolError extends Error {
  override readonly name = "SpdyProtocolError";
}

const STREAM_ID_MASK = 0x7fff_ffff;

function checkStreamId(streamId: number, what: string, allowZero = false): void {
  if (!Number.isInteger(streamId) || streamId < (allowZero ? 0 : 1) || streamId > STREAM_ID_MASK) {
    throw new RangeError(`${what}: stream id ${streamId} is outside 1..2^31-1`);
  }
}

function controlFrame(type: number, flags: number, payload: Buffer): Buffer {
  if (payload.length > MAX_FRAME_PAYLOAD) {
    throw new RangeError(
      `SPDY control frame payload of ${payload.length} bytes exceeds ${MAX_FRAME_PAYLOAD}`,
    );
  }
  const head = Buffer.alloc(8);
  head.writeUInt16BE(0x8000 | SPDY_VERSION, 0);
  head.writeUInt16BE(type, 2);
  head.writeUInt32BE(((flags & 0xff) << 24) | payload.length, 4);
  return Buffer.concat([head, payload]);
}

function u32(...values: number[]): Buffer {
  const out = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => {
    out.writeUInt32BE(v >>> 0, i * 4);
  });
  return out;
}

/** Encodes one frame. Header blocks must already be compressed. */
export function encodeFrame(frame: SpdyFrame): Buffer {
  switch (frame.type) {
    case "data": {
      checkStreamId(frame.streamId, "DATA");
      if (frame.data.length > MAX_FRAME_PAYLOAD) {
        throw new RangeError(`SPDY DATA payload of ${frame.data.length} bytes exceeds ${MAX_FRAME_PAYLOAD}`);
      }
      const head = Buffer.alloc(8);
      head.writeUInt32BE(frame.streamId & STREAM_ID_MASK, 0);
      head.writeUInt32BE(((frame.fin ? Flag.fin : 0) << 24) | frame.data.length, 4);
      return Buffer.concat([head, frame.data]);
    }
    case "syn_stream": {
      checkStreamId(frame.streamId, "SYN_STREAM");
      checkStreamId(frame.associatedStreamId, "SYN_STREAM associated stream", true);
      const fixed = Buffer.alloc(10);
      fixed.writeUInt32BE(frame.streamId, 0);
      fixed.writeUInt32BE(frame.associatedStreamId, 4);
      fixed.writeUInt8((frame.priority & 0x7) << 5, 8);
      fixed.writeUInt8(frame.slot & 0xff, 9);
      const flags = (frame.fin ? Flag.fin : 0) | (frame.unidirectional ? Flag.unidirectional : 0);
      return controlFrame(ControlType.synStream, flags, Buffer.concat([fixed, frame.headerBlock]));
    }
    case "syn_reply":
      checkStreamId(frame.streamId, "SYN_REPLY");
      return controlFrame(
        ControlType.synReply,
        frame.fin ? Flag.fin : 0,
        Buffer.concat([u32(frame.streamId), frame.headerBlock]),
      );
    case "headers":
      checkStreamId(frame.streamId, "HEADERS");
      return controlFrame(
        ControlType.headers,
        frame.fin ? Flag.fin : 0,
        Buffer.concat([u32(frame.streamId), frame.headerBlock]),
      );
    case "rst_stream":
      checkStreamId(frame.streamId, "RST_STREAM");
      if (frame.status === 0) throw new RangeError("RST_STREAM status 0 is invalid");
      return controlFrame(ControlType.rstStream, 0, u32(frame.streamId, frame.status));
    case "settings": {
      const parts = [u32(frame.entries.length)];
      for (const e of frame.entries) {
        parts.push(u32(((e.flags & 0xff) << 24) | (e.id & 0xff_ffff), e.value));
      }
      return controlFrame(ControlType.settings, frame.clear ? Flag.clearSettings : 0, Buffer.concat(parts));
    }
    case "ping":
      return controlFrame(ControlType.ping, 0, u32(frame.id));
    case "goaway":
      checkStreamId(frame.lastGoodStreamId, "GOAWAY last good stream", true);
      return controlFrame(ControlType.goaway, 0, u32(frame.lastGoodStreamId, frame.status));
    case "window_update":
      checkStreamId(frame.streamId, "WINDOW_UPDATE", true);
      return controlFrame(ControlType.windowUpdate, 0, u32(frame.streamId, frame.delta & STREAM_ID_MASK));
    case "unknown":
      return controlFrame(frame.controlType, frame.flags, frame.payload);
  }
}

function need(payload: Buffer, bytes: number, what: string): void {
  if (payload.length < bytes) {
    throw new SpdyProtocolError(`${what} frame of ${payload.length} bytes is shorter than ${bytes}`);
  }
}

function decodeControl(type: number, flags: number, payload: Buffer): SpdyFrame {
  const fin = (flags & Flag.fin) !== 0;
  switch (type) {
    case ControlType.synStream:
      need(payload, 10, "SYN_STREAM");
      return {
        type: "syn_stream",
        streamId: payload.readUInt32BE(0) & STREAM_ID_MASK,
        associatedStreamId: payload.readUInt32BE(4) & STREAM_ID_MASK,
        priority: payload.readUInt8(8) >> 5,
        slot: payload.readUInt8(9),
        fin,
        unidirectional: (flags & Flag.unidirectional) !== 0,
        headerBlock: payload.subarray(10),
      };
    case ControlType.synReply:
      need(payload, 4, "SYN_REPLY");
      return {
        type: "syn_reply",
        streamId: payload.readUInt32BE(0) & STREAM_ID_MASK,
        fin,
        headerBlock: payload.subarray(4),
      };
    case ControlType.headers:
      need(payload, 4, "HEADERS");
      return {
        type: "headers",
        streamId: payload.readUInt32BE(0) & STREAM_ID_MASK,
        fin,
        headerBlock: payload.subarray(4),
      };
    case ControlType.rstStream:
      need(payload, 8, "RST_STREAM");
      return {
        type: "rst_stream",
        streamId: payload.readUInt32BE(0) & STREAM_ID_MASK,
        status: payload.readUInt32BE(4),
      };
    case ControlType.settings: {
      need(payload, 4, "SETTINGS");
      const count = payload.readUInt32BE(0);
      need(payload, 4 + count * 8, "SETTINGS");
      const entries: SettingsEntry[] = [];
      for (let i = 0; i < count; i++) {
        const flagsAndId = payload.readUInt32BE(4 + i * 8);
        entries.push({
          flags: flagsAndId >>> 24,
          id: flagsAndId & 0xff_ffff,
          value: payload.readUInt32BE(8 + i * 8),
        });
      }
      return { type: "settings", clear: (flags & Flag.clearSettings) !== 0, entries };
    }
    case ControlType.ping:
      need(payload, 4, "PING");
      return { type: "ping", id: payload.readUInt32BE(0) };
    case ControlType.goaway:
      // SPDY/2 GOAWAY had no status; accept a 4-byte payload as status OK.
      need(payload, 4, "GOAWAY");
      return {
        type: "goaway",
        lastGoodStreamId: payload.readUInt32BE(0) & STREAM_ID_MASK,
        status: payload.length >= 8 ? payload.readUInt32BE(4) : GoawayStatus.ok,
      };
    case ControlType.windowUpdate:
      need(payload, 8, "WINDOW_UPDATE");
      return {
        type: "window_update",
        streamId: payload.readUInt32BE(0) & STREAM_ID_MASK,
        delta: payload.readUInt32BE(4) & STREAM_ID_MASK,
      };
    default:
      return { type: "unknown", controlType: type, flags, payload };
  }
}

/**
 * Cuts an incoming byte stream into frames. Feed it whatever the socket delivers; it returns the frames that
 * are complete and keeps the rest.
 */
export class FrameParser {
  #pending: Buffer[] = [];
  #pendingBytes = 0;

  /** Returns every frame completed by `chunk`; throws SpdyProtocolError on a malformed frame. */
  push(chunk: Buffer): SpdyFrame[] {
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.length;
    const frames: SpdyFrame[] = [];
    if (this.#pendingBytes < 8) return frames;
    let buffer = this.#pending.length === 1 ? (this.#pending[0] as Buffer) : Buffer.concat(this.#pending);
    let offset = 0;
    while (buffer.length - offset >= 8) {
      const length = buffer.readUInt32BE(offset + 4) & 0xff_ffff;
      if (buffer.length - offset < 8 + length) break;
      const first = buffer.readUInt32BE(offset);
      const flags = buffer.readUInt8(offset + 4);
      // Copy the payload out so that a retained frame does not pin the whole read buffer.
      const payload = Buffer.from(buffer.subarray(offset + 8, offset + 8 + length));
      offset += 8 + length;
      if ((first & 0x8000_0000) !== 0) {
        const version = (first >>> 16) & 0x7fff;
        if (version !== SPDY_VERSION) {
          throw new SpdyProtocolError(`peer sent a SPDY version ${version} control frame; only 3 is spoken`);
        }
        frames.push(decodeControl(first & 0xffff, flags, payload));
      } else {
        const streamId = first & STREAM_ID_MASK;
        if (streamId === 0) throw new SpdyProtocolError("DATA frame on stream 0");
        frames.push({ type: "data", streamId, fin: (flags & Flag.fin) !== 0, data: payload });
      }
    }
    buffer = buffer.subarray(offset);
    this.#pending = buffer.length > 0 ? [buffer] : [];
    this.#pendingBytes = buffer.length;
    return frames;
  }

  /** Bytes received that do not yet form a whole frame. */
  get bufferedBytes(): number {
    return this.#pendingBytes;
  }
}
