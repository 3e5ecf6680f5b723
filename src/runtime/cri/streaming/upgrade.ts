// Opens a SPDY/3.1 session on a Kubernetes streaming URL (the exec/attach/port-forward URLs a CRI runtime
// returns): an HTTP/1.1 request with `Upgrade: SPDY/3.1` and the sub-protocols offered in
// `X-Stream-Protocol-Version`, answered by `101 Switching Protocols` naming the one chosen.
import { type ClientRequest, request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import type { Socket } from "node:net";
import { SpdySession } from "../../../util/spdy/session.ts";

export const STREAM_PROTOCOL_HEADER = "X-Stream-Protocol-Version";

export interface UpgradeOptions {
  /** Sub-protocols in order of preference, e.g. ["v4.channel.k8s.io"]. */
  protocols: readonly string[];
  /** Deadline for the upgrade handshake. */
  timeoutMs: number;
  signal?: AbortSignal;
  /** How long each stream waits for its SYN_REPLY. Default: timeoutMs. */
  replyTimeoutMs?: number;
}

export interface UpgradedSession {
  session: SpdySession;
  /** The sub-protocol the server chose. */
  protocol: string;
}

/** The streaming server refused the upgrade or could not be reached. */
export class StreamUpgradeError extends Error {
  override readonly name = "StreamUpgradeError";
  readonly url: string;
  /** The HTTP status, when the server answered with something other than 101. */
  readonly httpStatus: number | undefined;

  constructor(message: string, url: string, httpStatus?: number, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.url = url;
    this.httpStatus = httpStatus;
  }
}

export function upgradeToSpdy(url: string, options: UpgradeOptions): Promise<UpgradedSession> {
  const target = new URL(url);
  const send = target.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise<UpgradedSession>((resolve, reject) => {
    let settled = false;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      cleanup();
      req.destroy();
      reject(error);
    };
    const onAbort = () =>
      fail(
        new StreamUpgradeError(
          `upgrading ${url} to SPDY/3.1 was cancelled`,
          url,
          undefined,
          options.signal?.reason,
        ),
      );
    const timer = setTimeout(
      () =>
        fail(
          new StreamUpgradeError(
            `the streaming server at ${url} did not upgrade within ${options.timeoutMs} ms`,
            url,
          ),
        ),
      options.timeoutMs,
    );
    const cleanup = () => {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
    };

    const req: ClientRequest = send(target, {
      method: "POST",
      agent: false,
      headers: {
        Connection: "Upgrade",
        Upgrade: "SPDY/3.1",
        [STREAM_PROTOCOL_HEADER]: [...options.protocols],
        "Content-Length": "0",
      },
    });
    if (options.signal?.aborted) {
      onAbort();
      return;
    }
    options.signal?.addEventListener("abort", onAbort, { once: true });

    req.on("upgrade", (res: IncomingMessage, socket: Socket, head: Buffer) => {
      if (settled) {
        socket.destroy();
        return;
      }
      const chosen = res.headers[STREAM_PROTOCOL_HEADER.toLowerCase()];
      const protocol = Array.isArray(chosen) ? chosen[0] : chosen;
      if (options.protocols.length > 0 && (protocol === undefined || !options.protocols.includes(protocol))) {
        socket.destroy();
        fail(
          new StreamUpgradeError(
            `the streaming server at ${url} upgraded without choosing one of ${options.protocols.join(", ")} (it said ${JSON.stringify(protocol ?? "")})`,
            url,
            res.statusCode,
          ),
        );
        return;
      }
      settled = true;
      cleanup();
      socket.setNoDelay(true);
      const session = new SpdySession(socket, {
        role: "client",
        head,
        replyTimeoutMs: options.replyTimeoutMs ?? options.timeoutMs,
      });
      resolve({ session, protocol: protocol ?? "" });
    });

    req.on("response", (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8").trim().slice(0, 500);
        const hint =
          res.statusCode === 404 ? " (streaming URLs are single-use and expire after a minute)" : "";
        fail(
          new StreamUpgradeError(
            `the streaming server at ${url} refused the SPDY/3.1 upgrade: HTTP ${res.statusCode}${body ? `: ${body}` : ""}${hint}`,
            url,
            res.statusCode,
          ),
        );
      });
      res.on("error", (e) =>
        fail(
          new StreamUpgradeError(`reading the answer of ${url} failed: ${e.message}`, url, res.statusCode, e),
        ),
      );
    });

    req.on("error", (error: Error) =>
      fail(
        new StreamUpgradeError(
          `cannot reach the streaming server at ${url}: ${error.message}`,
          url,
          undefined,
          error,
        ),
      ),
    );
    req.end();
  });
}
