// The server side of an `Upgrade: SPDY/3.1` handshake on a raw socket (Node hands upgrade requests over
// before any response is written): negotiate the sub-protocol from X-Stream-Protocol-Version like
// k8s.io/apimachinery's httpstream.Handshake, answer 101, and start a SPDY session as the server.
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { SpdySession } from "../../../util/spdy/session.ts";
import { writeRawResponse } from "./raw-response.ts";

export const STREAM_PROTOCOL_HEADER = "x-stream-protocol-version";

/** The sub-protocols a request offers, in its order (repeated headers and comma lists both count). */
export function offeredProtocols(req: IncomingMessage): string[] {
  const raw = req.headers[STREAM_PROTOCOL_HEADER];
  const values = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  return values
    .flatMap((v) => v.split(","))
    .map((v) => v.trim())
    .filter((v) => v !== "");
}

/**
 * Picks the protocol: "" when the client offered none (it gets the oldest behaviour), else the first one it
 * offered that the server supports, else undefined (no agreement).
 */
export function negotiate(offered: readonly string[], supported: readonly string[]): string | undefined {
  if (offered.length === 0) return "";
  return offered.find((p) => supported.includes(p));
}

export function isSpdyUpgrade(req: IncomingMessage): boolean {
  return (req.headers.upgrade ?? "").toLowerCase() === "spdy/3.1";
}

/**
 * Completes the handshake and returns the session (server role), or answers 403 naming both sides'
 * protocols and returns undefined.
 */
export function acceptSpdy(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  supported: readonly string[],
): { session: SpdySession; protocol: string } | undefined {
  const offered = offeredProtocols(req);
  const protocol = negotiate(offered, supported);
  if (protocol === undefined) {
    writeRawResponse(
      socket,
      403,
      `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(" ")}], server accepts [${supported.join(" ")}]`,
      { "X-Accepted-Stream-Protocol-Versions": supported.join(", ") },
    );
    return undefined;
  }
  const lines = ["HTTP/1.1 101 Switching Protocols", "Connection: Upgrade", "Upgrade: SPDY/3.1"];
  if (protocol !== "") lines.push(`X-Stream-Protocol-Version: ${protocol}`);
  socket.write(`${lines.join("\r\n")}\r\n\r\n`);
  if ("setNoDelay" in socket && typeof socket.setNoDelay === "function") socket.setNoDelay(true);
  return { session: new SpdySession(socket, { role: "server", head }), protocol };
}
