// Kubernetes' channel multiplexing over one WebSocket (k8s.io/apimachinery wsstream): every message starts
// with a channel number — a byte in the binary protocols, an ASCII digit followed by base64 data in the
// base64 ones. v5.channel.k8s.io adds the CLOSE signal: a message on channel 255 whose one byte names a
// channel the peer will not write to again (the half-close of stdin that v4 cannot express).
import { PassThrough, Writable } from "node:stream";
import type { WebSocket } from "ws";

/** Channel 255 carries v5's CLOSE signal. */
export const CLOSE_SIGNAL_CHANNEL = 255;

export interface ChannelFraming {
  /** base64.channel.k8s.io style: text messages, channel as an ASCII digit, payload base64. */
  base64: boolean;
  /** v5: the peer half-closes channels with the CLOSE signal. */
  closeSignal: boolean;
}

/** Encodes one message for `channel`. */
export function encodeChannelMessage(
  channel: number,
  data: Buffer,
  framing: ChannelFraming,
): Buffer | string {
  if (framing.base64) return `${String.fromCharCode(48 + channel)}${data.toString("base64")}`;
  const frame = Buffer.allocUnsafe(data.length + 1);
  frame[0] = channel;
  data.copy(frame, 1);
  return frame;
}

export type DecodedMessage =
  | { type: "data"; channel: number; data: Buffer }
  | { type: "close"; channel: number }
  | { type: "ignore" };

/** Decodes one received message. */
export function decodeChannelMessage(
  message: Buffer,
  isBinary: boolean,
  framing: ChannelFraming,
): DecodedMessage {
  if (message.length === 0) return { type: "ignore" };
  if (framing.base64 || !isBinary) {
    const text = message.toString("utf8");
    const channel = text.charCodeAt(0) - 48;
    if (channel < 0 || channel > 9) return { type: "ignore" };
    return { type: "data", channel, data: Buffer.from(text.slice(1), "base64") };
  }
  const channel = message[0] as number;
  if (channel === CLOSE_SIGNAL_CHANNEL && framing.closeSignal) {
    return message.length >= 2 ? { type: "close", channel: message[1] as number } : { type: "ignore" };
  }
  return { type: "data", channel, data: message.subarray(1) };
}

/**
 * The channels of one WebSocket: a readable per channel for what the peer sends, a writable per channel
 * for what this side sends. The readables end when the peer half-closes the channel (v5) or the connection
 * closes; `closed` resolves then.
 */
export class ChannelConnection {
  readonly #ws: WebSocket;
  readonly #framing: ChannelFraming;
  readonly #incoming = new Map<number, PassThrough>();
  readonly closed: Promise<void>;

  constructor(ws: WebSocket, framing: ChannelFraming) {
    this.#ws = ws;
    this.#framing = framing;
    ws.on("message", (raw: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
      const message = Buffer.isBuffer(raw) ? raw : Array.isArray(raw) ? Buffer.concat(raw) : Buffer.from(raw);
      const decoded = decodeChannelMessage(message, isBinary, this.#framing);
      if (decoded.type === "data") {
        const stream = this.#incoming.get(decoded.channel);
        if (stream && !stream.writableEnded && decoded.data.length > 0 && !stream.write(decoded.data)) {
          // The reader (the process's stdin) is behind: stop reading the socket until it catches up.
          ws.pause();
          stream.once("drain", () => ws.resume());
        }
      } else if (decoded.type === "close") {
        this.#incoming.get(decoded.channel)?.end();
      }
    });
    this.closed = new Promise((resolve) => {
      ws.once("close", () => {
        for (const stream of this.#incoming.values()) stream.end();
        resolve();
      });
    });
  }

  get open(): boolean {
    return this.#ws.readyState === this.#ws.OPEN;
  }

  /** What the peer sends on `channel` (data on channels nobody asked for is dropped). */
  incoming(channel: number): PassThrough {
    let stream = this.#incoming.get(channel);
    if (!stream) {
      stream = new PassThrough();
      this.#incoming.set(channel, stream);
      if (!this.open) stream.end();
    }
    return stream;
  }

  /** Sends one message on `channel`; resolves once it is handed to the socket. */
  send(channel: number, data: Buffer): Promise<void> {
    if (!this.open) return Promise.reject(new Error("the WebSocket is closed"));
    return new Promise((resolve, reject) =>
      this.#ws.send(encodeChannelMessage(channel, data, this.#framing), (error) =>
        error ? reject(error) : resolve(),
      ),
    );
  }

  /** A writable whose writes become messages on `channel`; ending it sends nothing (v4 has no half-close). */
  outgoing(channel: number): Writable {
    return new Writable({
      write: (chunk: Buffer, _encoding, callback) => {
        // After the connection closed there is nobody to tell; the session is being torn down anyway.
        if (!this.open) {
          callback();
          return;
        }
        this.send(channel, chunk).then(
          () => callback(),
          () => callback(),
        );
      },
    });
  }

  /** Closes the WebSocket normally (1000) once everything queued is sent. */
  close(): void {
    if (this.#ws.readyState === this.#ws.OPEN || this.#ws.readyState === this.#ws.CONNECTING)
      this.#ws.close(1000);
  }

  /** Drops the connection without the closing handshake. */
  terminate(): void {
    this.#ws.terminate();
  }
}
