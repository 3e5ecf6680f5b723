// The client side of the Kubernetes port-forward protocol (portforward.k8s.io) over SPDY/3.1, as kubectl
// speaks it to a kubelet and containerd's CRI stream server serves it.
//
// Each forwarded connection is a pair of SPDY streams carrying the headers `port` and `requestID`: an
// `error` stream (the client half-closes it at once; the server writes a plain-text message there when it
// cannot reach the port) and a `data` stream carrying the TCP bytes both ways. The server half-closes the
// data stream when the connection inside the pod ends.
import { Duplex } from "node:stream";
import type { SpdySession, SpdyStream } from "../../../util/spdy/session.ts";
import { upgradeToSpdy } from "./upgrade.ts";

export const PORT_FORWARD_PROTOCOL = "portforward.k8s.io";

export interface PortForwardOptions {
  /** Deadline for connecting and creating the streams. */
  connectTimeoutMs: number;
  signal?: AbortSignal;
  /** Names the target in error messages, e.g. `port 8080 of sandbox 3f0f…`. */
  description?: string;
}

/** Opens one forwarded connection to `port` through the streaming URL; resolves to its byte stream. */
export async function openPortForward(
  url: string,
  port: number,
  options: PortForwardOptions,
): Promise<Duplex> {
  const { session } = await upgradeToSpdy(url, {
    protocols: [PORT_FORWARD_PROTOCOL],
    timeoutMs: options.connectTimeoutMs,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  try {
    const headers = { port: String(port), requestid: "0" };
    const [errorStream, dataStream] = await Promise.all([
      session.openStream({ ...headers, streamtype: "error" }),
      session.openStream({ ...headers, streamtype: "data" }),
    ]);
    errorStream.end();
    return new ForwardedConnection(session, dataStream, errorStream, options.description ?? `port ${port}`);
  } catch (error) {
    session.destroy();
    throw error;
  }
}

/**
 * The forwarded connection as one Duplex. Its readable side ends when the pod side closes; a message on
 * the error stream turns that end into an error instead. Closing it (end both ways, or destroy) closes the
 * SPDY session.
 */
class ForwardedConnection extends Duplex {
  readonly #session: SpdySession;
  readonly #data: SpdyStream;
  readonly #errorText: Promise<string>;
  readonly #description: string;

  constructor(session: SpdySession, data: SpdyStream, error: SpdyStream, description: string) {
    super({ allowHalfOpen: true });
    this.#session = session;
    this.#data = data;
    this.#description = description;
    this.#errorText = new Promise((resolve) => {
      const chunks: Buffer[] = [];
      error.on("data", (c: Buffer) => chunks.push(c));
      const done = () => resolve(Buffer.concat(chunks).toString("utf8").trim());
      error.on("end", done);
      error.on("close", done);
      error.on("error", done);
    });
    // A message on the error stream fails the connection even while data still flows.
    void this.#errorText.then((text) => {
      if (text) this.destroy(new Error(`port-forward to ${this.#description} failed: ${text}`));
    });
    data.on("data", (chunk: Buffer) => {
      if (!this.push(chunk)) data.pause();
    });
    data.on("end", () => {
      // The server finishes the error stream before the data stream; wait for it to tell EOF from failure.
      void this.#errorText.then((text) => {
        if (!text) this.push(null);
      });
    });
    data.on("error", (e: Error) =>
      this.destroy(new Error(`port-forward to ${this.#description} broke: ${e.message}`, { cause: e })),
    );
  }

  override _read(): void {
    this.#data.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#data.write(chunk, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#data.end(() => callback());
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // Both directions finished: say goodbye properly. Otherwise the connection is abandoned: drop it.
    if (!error && this.readableEnded && this.writableFinished) void this.#session.close();
    else this.#session.destroy();
    callback(error);
  }
}
