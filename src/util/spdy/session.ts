// A SPDY/3.1 session over one byte stream (usually a socket that an HTTP `Upgrade: SPDY/3.1` handed
// over), with its streams as Node Duplex streams. It speaks both roles: a client (odd stream ids; the CRI
// driver's exec, attach and port-forward) and a server (even ids; the agent's streaming endpoints later).
//
// Scope, matching what Kubernetes peers (moby/spdystream, used by kubelet, the API server, kubectl and
// containerd's stream server) actually do:
//   - SYN_STREAM / SYN_REPLY / HEADERS with zlib-compressed headers, DATA with FIN half-close, RST_STREAM,
//     PING (answered and originated), GOAWAY (sent on close; honoured when received).
//   - No flow control: SETTINGS and WINDOW_UPDATE are accepted and ignored, and nothing waits for window
//     space. spdystream neither sends WINDOW_UPDATE nor enforces windows, so a sender that honoured the
//     64 KiB initial window would stall against it. Backpressure comes from TCP instead: when a stream's
//     reader falls behind, the session stops reading the socket until it catches up.
//   - Data written to a stream waits for the stream's SYN_REPLY: spdystream silently drops DATA that
//     arrives before it has replied.
import { EventEmitter } from "node:events";
import { Duplex } from "node:stream";
import {
  encodeFrame,
  FrameParser,
  GoawayStatus,
  RstStatus,
  type SpdyFrame,
  SpdyProtocolError,
} from "./frames.ts";
import { HeaderCompressor, HeaderDecompressor, type SpdyHeaders, type SpdyHeadersInit } from "./headers.ts";

/** Largest DATA payload this side sends in one frame; writes are cut into frames of at most this. */
const MAX_DATA_FRAME = 32 * 1024;

const DEFAULT_REPLY_TIMEOUT_MS = 30_000;

export type SpdyRole = "client" | "server";

export interface SpdySessionOptions {
  role: SpdyRole;
  /** Bytes already read from the connection (an HTTP upgrade's `head`); processed before the socket's. */
  head?: Buffer;
  /** How long openStream waits for the peer's SYN_REPLY. Default 30 s. */
  replyTimeoutMs?: number;
}

export interface OpenStreamOptions {
  /** Send SYN_STREAM with FIN: this side will never write to the stream. */
  fin?: boolean;
  /** 0 (highest) to 7; default 0. */
  priority?: number;
}

/** A stream ended by the peer's RST_STREAM, or refused by its GOAWAY. */
export class SpdyStreamError extends Error {
  override readonly name = "SpdyStreamError";
  readonly streamId: number;
  /** The RST_STREAM status (RstStatus), when the peer reset the stream. */
  readonly status: number | undefined;

  constructor(message: string, streamId: number, status?: number) {
    super(message);
    this.streamId = streamId;
    this.status = status;
  }
}

const RST_NAMES = Object.fromEntries(Object.entries(RstStatus).map(([name, code]) => [code, name]));

export function rstStatusName(status: number): string {
  return RST_NAMES[status] ?? `status ${status}`;
}

interface SessionEvents {
  /** The peer opened a stream; accept it with stream.reply() or refuse it with stream.reset(). */
  stream: [stream: SpdyStream];
  goaway: [info: { lastGoodStreamId: number; status: number }];
  /** The session ended; `error` is set when it ended abnormally. */
  close: [error: Error | undefined];
}

export class SpdySession extends EventEmitter<SessionEvents> {
  readonly role: SpdyRole;
  readonly #socket: Duplex;
  readonly #parser = new FrameParser();
  readonly #compressor = new HeaderCompressor();
  readonly #decompressor = new HeaderDecompressor();
  readonly #streams = new Map<number, SpdyStream>();
  readonly #blocked = new Set<SpdyStream>();
  readonly #pings = new Map<
    number,
    { resolve: (ms: number) => void; reject: (e: Error) => void; at: number }
  >();
  readonly #replyTimeoutMs: number;
  #nextStreamId: number;
  #nextPingId: number;
  #lastPeerStreamId = 0;
  #out: Promise<void> = Promise.resolve();
  #in: Promise<void> = Promise.resolve();
  #goneAway = false;
  #closing = false;
  #closed = false;
  #closeError: Error | undefined;
  readonly #closedPromise: Promise<void>;

  constructor(socket: Duplex, options: SpdySessionOptions) {
    super();
    this.role = options.role;
    this.#socket = socket;
    this.#replyTimeoutMs = options.replyTimeoutMs ?? DEFAULT_REPLY_TIMEOUT_MS;
    this.#nextStreamId = options.role === "client" ? 1 : 2;
    this.#nextPingId = options.role === "client" ? 1 : 2;
    this.#closedPromise = new Promise((resolve) => this.once("close", () => resolve()));
    if (options.head && options.head.length > 0) this.#onBytes(options.head);
    socket.on("data", (chunk: Buffer) => this.#onBytes(chunk));
    // The connection ending while streams are still open is abnormal for those streams.
    socket.on("end", () => this.#enqueueIn(async () => this.#finish(undefined, true)));
    socket.on("close", () => this.#enqueueIn(async () => this.#finish(undefined, true)));
    socket.on("error", (error: Error) => this.#enqueueIn(async () => this.#finish(error, true)));
  }

  /** True once the session can no longer open streams (GOAWAY sent or received, or closed). */
  get closing(): boolean {
    return this.#closing || this.#goneAway || this.#closed;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Resolves when the session has ended. */
  get done(): Promise<void> {
    return this.#closedPromise;
  }

  /** Opens a stream and resolves once the peer's SYN_REPLY accepted it. */
  async openStream(headers: SpdyHeadersInit, options: OpenStreamOptions = {}): Promise<SpdyStream> {
    if (this.closing) {
      throw new SpdyStreamError("cannot open a SPDY stream: the session is closing", 0);
    }
    const id = this.#nextStreamId;
    this.#nextStreamId += 2;
    const stream = new SpdyStream(this, id, "outgoing", normalize(headers));
    this.#streams.set(id, stream);
    if (options.fin) stream._markLocalFin();
    void this.#sendHeaders(
      (headerBlock) => ({
        type: "syn_stream",
        streamId: id,
        associatedStreamId: 0,
        priority: options.priority ?? 0,
        slot: 0,
        fin: options.fin ?? false,
        unidirectional: false,
        headerBlock,
      }),
      headers,
    ).catch((error: Error) => stream.destroy(error));
    await stream._waitForReply(this.#replyTimeoutMs);
    return stream;
  }

  /** Sends a PING and resolves with the round-trip time in milliseconds. */
  ping(timeoutMs = 10_000): Promise<number> {
    if (this.#closed) return Promise.reject(new Error("cannot ping: the SPDY session is closed"));
    const id = this.#nextPingId;
    this.#nextPingId = (this.#nextPingId + 2) % 0x1_0000_0000 || (this.role === "client" ? 1 : 2);
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pings.delete(id);
        reject(new Error(`SPDY PING ${id} got no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pings.set(id, {
        at: performance.now(),
        resolve: (ms) => {
          clearTimeout(timer);
          resolve(ms);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      void this.#send({ type: "ping", id }).catch(() => undefined);
    });
  }

  /**
   * Closes gracefully: sends GOAWAY, lets open streams finish, then ends the connection. Resolves when the
   * session has ended.
   */
  close(): Promise<void> {
    if (!this.#closing && !this.#closed) {
      this.#closing = true;
      void this.#send({ type: "goaway", lastGoodStreamId: this.#lastPeerStreamId, status: GoawayStatus.ok })
        .catch(() => undefined)
        .then(() => this.#maybeEnd());
    }
    return this.#closedPromise;
  }

  /** Ends the session at once: the connection is destroyed and every open stream with it. */
  destroy(error?: Error): void {
    if (this.#closed) return;
    this.#socket.destroy();
    this.#finish(error, error !== undefined);
  }

  // -------------------------------------------------------------------------------------------------------
  // Used by SpdyStream (underscore: internal to this module).
  // -------------------------------------------------------------------------------------------------------

  /** Queues DATA frames; resolves when they are handed to the socket. */
  _sendData(streamId: number, data: Buffer, fin: boolean): Promise<void> {
    if (data.length <= MAX_DATA_FRAME) return this.#send({ type: "data", streamId, fin, data });
    let last: Promise<void> = Promise.resolve();
    for (let offset = 0; offset < data.length; offset += MAX_DATA_FRAME) {
      const end = Math.min(offset + MAX_DATA_FRAME, data.length);
      last = this.#send({
        type: "data",
        streamId,
        fin: fin && end === data.length,
        data: data.subarray(offset, end),
      });
    }
    return last;
  }

  _sendReply(streamId: number, headers: SpdyHeadersInit, fin: boolean): Promise<void> {
    return this.#sendHeaders((headerBlock) => ({ type: "syn_reply", streamId, fin, headerBlock }), headers);
  }

  _sendHeadersFrame(streamId: number, headers: SpdyHeadersInit, fin: boolean): Promise<void> {
    return this.#sendHeaders((headerBlock) => ({ type: "headers", streamId, fin, headerBlock }), headers);
  }

  _sendReset(streamId: number, status: number): Promise<void> {
    return this.#send({ type: "rst_stream", streamId, status });
  }

  _block(stream: SpdyStream): void {
    this.#blocked.add(stream);
    this.#socket.pause();
  }

  _unblock(stream: SpdyStream): void {
    if (this.#blocked.delete(stream) && this.#blocked.size === 0 && !this.#closed) this.#socket.resume();
  }

  _forget(stream: SpdyStream): void {
    this.#streams.delete(stream.id);
    this._unblock(stream);
    this.#maybeEnd();
  }

  // -------------------------------------------------------------------------------------------------------
  // Sending
  // -------------------------------------------------------------------------------------------------------

  #send(frame: SpdyFrame): Promise<void> {
    return this.#enqueueOut(async () => frame);
  }

  /** Header compression is stateful, so blocks are compressed in the order their frames go out. */
  #sendHeaders(build: (headerBlock: Buffer) => SpdyFrame, headers: SpdyHeadersInit): Promise<void> {
    return this.#enqueueOut(async () => build(await this.#compressor.compress(headers)));
  }

  #enqueueOut(make: () => Promise<SpdyFrame>): Promise<void> {
    const step = async () => {
      const frame = await make();
      if (this.#closed || !this.#socket.writable) throw new Error("the SPDY session is closed");
      const bytes = encodeFrame(frame);
      if (!this.#socket.write(bytes)) {
        await new Promise<void>((resolve) => {
          const done = () => {
            this.#socket.off("drain", done);
            this.#socket.off("close", done);
            resolve();
          };
          this.#socket.on("drain", done);
          this.#socket.on("close", done);
        });
      }
    };
    const result = this.#out.then(step);
    this.#out = result.catch(() => undefined);
    return result;
  }

  // -------------------------------------------------------------------------------------------------------
  // Receiving
  // -------------------------------------------------------------------------------------------------------

  #onBytes(chunk: Buffer): void {
    if (this.#closed) return;
    let frames: SpdyFrame[];
    try {
      frames = this.#parser.push(chunk);
    } catch (error) {
      this.#protocolError(error as Error);
      return;
    }
    for (const frame of frames) this.#enqueueIn(() => this.#handle(frame));
  }

  /** Frames are handled strictly in arrival order, even though header decompression is asynchronous. */
  #enqueueIn(step: () => Promise<void>): void {
    this.#in = this.#in.then(step).catch((error: Error) => this.#protocolError(error));
  }

  async #handle(frame: SpdyFrame): Promise<void> {
    if (this.#closed) return;
    switch (frame.type) {
      case "data": {
        this.#streams.get(frame.streamId)?._onData(frame.data, frame.fin);
        return;
      }
      case "syn_stream": {
        // Decompress even a stream that will be refused: the zlib context must see every block.
        const headers = await this.#decompressor.decompress(frame.headerBlock);
        this.#onSynStream(frame.streamId, headers, frame.fin, frame.unidirectional);
        return;
      }
      case "syn_reply": {
        const headers = await this.#decompressor.decompress(frame.headerBlock);
        this.#streams.get(frame.streamId)?._onReply(headers, frame.fin);
        return;
      }
      case "headers": {
        const headers = await this.#decompressor.decompress(frame.headerBlock);
        this.#streams.get(frame.streamId)?._onHeaders(headers, frame.fin);
        return;
      }
      case "rst_stream":
        this.#streams.get(frame.streamId)?._onReset(frame.status);
        return;
      case "ping":
        if ((frame.id & 1) === (this.#nextPingId & 1)) {
          const pending = this.#pings.get(frame.id);
          this.#pings.delete(frame.id);
          pending?.resolve(performance.now() - pending.at);
        } else {
          await this.#send({ type: "ping", id: frame.id }).catch(() => undefined);
        }
        return;
      case "goaway":
        this.#onGoaway(frame.lastGoodStreamId, frame.status);
        return;
      case "settings":
      case "window_update":
      case "unknown":
        // No flow control (see the header comment); unknown control frames must be ignored.
        return;
    }
  }

  #onSynStream(id: number, headers: SpdyHeaders, fin: boolean, unidirectional: boolean): void {
    const peerParity = this.role === "client" ? 0 : 1;
    if (id % 2 !== peerParity || id <= this.#lastPeerStreamId) {
      void this.#send({ type: "rst_stream", streamId: id, status: RstStatus.protocolError }).catch(
        () => undefined,
      );
      return;
    }
    this.#lastPeerStreamId = id;
    if (this.closing || this.listenerCount("stream") === 0) {
      void this.#send({ type: "rst_stream", streamId: id, status: RstStatus.refusedStream }).catch(
        () => undefined,
      );
      return;
    }
    const stream = new SpdyStream(this, id, "incoming", headers);
    this.#streams.set(id, stream);
    if (unidirectional) stream._markLocalFin();
    if (fin) stream._onRemoteFin();
    this.emit("stream", stream);
  }

  #onGoaway(lastGoodStreamId: number, status: number): void {
    this.#goneAway = true;
    const ownParity = this.role === "client" ? 1 : 0;
    for (const stream of [...this.#streams.values()]) {
      if (stream.id % 2 === ownParity && stream.id > lastGoodStreamId) {
        stream._onRefused(`the peer sent GOAWAY (last good stream ${lastGoodStreamId})`);
      }
    }
    this.emit("goaway", { lastGoodStreamId, status });
    this.#maybeEnd();
  }

  #protocolError(error: Error): void {
    if (this.#closed) return;
    const status =
      error instanceof SpdyProtocolError ? GoawayStatus.protocolError : GoawayStatus.internalError;
    // Written directly, ahead of anything still queued: the session is over. Whole frames are written at a
    // time, so this cannot land inside another frame.
    if (this.#socket.writable) {
      this.#socket.write(encodeFrame({ type: "goaway", lastGoodStreamId: this.#lastPeerStreamId, status }));
    }
    this.#finish(error, true);
  }

  /** Once closing (either side's GOAWAY) and no stream is left, the connection ends. */
  #maybeEnd(): void {
    if (this.#closed || !(this.#closing || this.#goneAway) || this.#streams.size > 0) return;
    void this.#out.then(() => this.#socket.end());
  }

  #finish(error: Error | undefined, abnormal: boolean): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeError = error;
    const reason = error ?? new Error("the SPDY connection closed before the stream ended");
    for (const stream of [...this.#streams.values()]) stream._onSessionClosed(reason, abnormal);
    this.#streams.clear();
    for (const ping of this.#pings.values()) ping.reject(reason);
    this.#pings.clear();
    this.#compressor.close();
    this.#decompressor.close();
    const socket = this.#socket;
    if (!socket.destroyed) socket.end(() => socket.destroy());
    this.emit("close", this.#closeError);
  }
}

function normalize(headers: SpdyHeadersInit): SpdyHeaders {
  const out: SpdyHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    out[name.toLowerCase()] = typeof value === "string" ? [value] : [...value];
  }
  return out;
}

/**
 * One SPDY stream. Writing sends DATA; end() sends FIN (half-close); the readable side ends at the peer's
 * FIN. A RST_STREAM from the peer ends the readable side too (data received before it is still delivered),
 * emits 'reset' and fails later writes, so that a protocol built on streams the peer resets when it is done
 * (as Kubernetes streaming servers do) reads to the end normally.
 */
export class SpdyStream extends Duplex {
  readonly id: number;
  readonly direction: "incoming" | "outgoing";
  /** Headers of the SYN_STREAM: sent ones for an outgoing stream, received ones for an incoming stream. */
  readonly headers: SpdyHeaders;
  /** The SYN_REPLY headers of an outgoing stream, once replied. */
  replyHeaders: SpdyHeaders | undefined;
  /** The peer's RST_STREAM status, once reset. */
  resetStatus: number | undefined;
  readonly #session: SpdySession;
  #replied = false;
  readonly #replyWaiters: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  #localFin = false;
  #remoteFin = false;
  #failure: Error | undefined;

  constructor(session: SpdySession, id: number, direction: "incoming" | "outgoing", headers: SpdyHeaders) {
    super({ allowHalfOpen: true });
    this.#session = session;
    this.id = id;
    this.direction = direction;
    this.headers = headers;
  }

  /** Accepts an incoming stream. */
  reply(headers: SpdyHeadersInit = {}, options: { fin?: boolean } = {}): Promise<void> {
    if (this.direction !== "incoming") throw new Error(`SPDY stream ${this.id} is outgoing; it cannot reply`);
    if (this.#replied) throw new Error(`SPDY stream ${this.id} was already replied to`);
    this.#replied = true;
    if (options.fin) this.#localFin = true;
    const sent = this.#session._sendReply(this.id, headers, options.fin ?? false);
    this.#settleReply();
    return sent;
  }

  /** Sends HEADERS on the stream. */
  sendHeaders(headers: SpdyHeadersInit): Promise<void> {
    return this.#session._sendHeadersFrame(this.id, headers, false);
  }

  /** Sends RST_STREAM (default CANCEL) and destroys the stream. */
  reset(status: number = RstStatus.cancel): void {
    if (this.destroyed) return;
    this.#failure ??= new SpdyStreamError(`SPDY stream ${this.id} was reset by this side`, this.id, status);
    void this.#session._sendReset(this.id, status).catch(() => undefined);
    this.#localFin = true;
    this.#remoteFin = true;
    this.destroy();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#whenReplied()
      .then(() => {
        if (this.#failure) throw this.#failure;
        if (this.#localFin) throw new Error(`SPDY stream ${this.id}: write after this side's FIN`);
        return this.#session._sendData(this.id, chunk, false);
      })
      .then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.#localFin || this.#failure) {
      this.#localFin = true;
      callback();
      this.#maybeForget();
      return;
    }
    this.#whenReplied()
      .then(() => {
        this.#localFin = true;
        return this.#session._sendData(this.id, Buffer.alloc(0), true);
      })
      .then(() => {
        callback();
        this.#maybeForget();
      }, callback);
  }

  override _read(): void {
    this.#session._unblock(this);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!(this.#localFin && this.#remoteFin) && this.resetStatus === undefined && !this.#session.closed) {
      // Gone before both sides finished: tell the peer to stop.
      void this.#session._sendReset(this.id, RstStatus.cancel).catch(() => undefined);
    }
    this.#failure ??= error ?? new Error(`SPDY stream ${this.id} was destroyed`);
    this.#settleReply();
    this.#session._forget(this);
    callback(error);
  }

  // Internal, called by the session.

  _markLocalFin(): void {
    this.#localFin = true;
  }

  _waitForReply(timeoutMs: number): Promise<void> {
    if (this.#replied) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        const error = new SpdyStreamError(
          `SPDY stream ${this.id} got no SYN_REPLY within ${timeoutMs} ms`,
          this.id,
        );
        reject(error);
        this.reset();
      }, timeoutMs);
      this.#replyWaiters.push({
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
  }

  _onReply(headers: SpdyHeaders, fin: boolean): void {
    if (this.direction !== "outgoing" || this.#replied) return;
    this.replyHeaders = headers;
    this.#replied = true;
    this.#settleReply();
    if (fin) this._onRemoteFin();
  }

  _onHeaders(headers: SpdyHeaders, fin: boolean): void {
    this.emit("headers", headers);
    if (fin) this._onRemoteFin();
  }

  _onData(data: Buffer, fin: boolean): void {
    if (this.#remoteFin) {
      // DATA after the peer's FIN breaks the protocol; drop it and tell the peer.
      void this.#session._sendReset(this.id, RstStatus.streamAlreadyClosed).catch(() => undefined);
      return;
    }
    if (data.length > 0 && !this.push(data)) this.#session._block(this);
    if (fin) this._onRemoteFin();
  }

  _onRemoteFin(): void {
    if (this.#remoteFin) return;
    this.#remoteFin = true;
    this.push(null);
    this.#maybeForget();
  }

  _onReset(status: number): void {
    if (this.resetStatus !== undefined) return;
    this.resetStatus = status;
    this.#failure ??= new SpdyStreamError(
      `SPDY stream ${this.id} was reset by the peer (${rstStatusName(status)})`,
      this.id,
      status,
    );
    this.#settleReply();
    this.emit("reset", status);
    this.#localFin = true;
    if (!this.#remoteFin) {
      this.#remoteFin = true;
      this.push(null);
    }
    this.#session._forget(this);
    // Let the writable side finish too, so that the stream closes once its reader has drained it.
    if (!this.writableEnded) this.end();
  }

  _onRefused(reason: string): void {
    this.#failure ??= new SpdyStreamError(`SPDY stream ${this.id} was refused: ${reason}`, this.id);
    this.#settleReply();
    this.destroy(this.#failure);
  }

  /**
   * The session ended. A stream the peer had not finished fails with `reason` when the session ended
   * abnormally (`abnormal`); after a deliberate local destroy() it is just destroyed.
   */
  _onSessionClosed(reason: Error, abnormal: boolean): void {
    if (this.destroyed) return;
    this.#failure ??= reason;
    this.#settleReply();
    this.destroy(abnormal && !this.#remoteFin ? reason : undefined);
  }

  #whenReplied(): Promise<void> {
    if (this.#replied || this.#failure) return Promise.resolve();
    return new Promise((resolve, reject) => this.#replyWaiters.push({ resolve, reject }));
  }

  #settleReply(): void {
    const waiters = this.#replyWaiters.splice(0);
    for (const w of waiters) {
      if (this.#replied && !this.#failure) w.resolve();
      else w.reject(this.#failure ?? new Error(`SPDY stream ${this.id} ended before it was replied to`));
    }
  }

  #maybeForget(): void {
    if (this.#localFin && this.#remoteFin) this.#session._forget(this);
  }
}
