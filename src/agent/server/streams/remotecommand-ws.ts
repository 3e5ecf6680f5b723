// exec and attach over a WebSocket: channels 0 stdin, 1 stdout, 2 stderr, 3 error (the final status),
// 4 resize. v5.channel.k8s.io (what kubectl speaks) half-closes stdin with the CLOSE signal; v4 and older
// keep stdin open until the connection closes, as kubelet's legacy WebSocket server does.
import type { WebSocket } from "ws";
import {
  type CommandStreams,
  encodeOutcome,
  finish,
  REMOTE_COMMAND_V1,
  REMOTE_COMMAND_V4,
  REMOTE_COMMAND_V5,
  type RemoteCommandOptions,
  type RemoteCommandVersion,
  type RunCommandInput,
  runCommand,
} from "./remotecommand.ts";
import { resizeEvents } from "./resize.ts";
import { ChannelConnection, type ChannelFraming } from "./ws-channels.ts";

const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const ERROR = 3;
const RESIZE = 4;

interface WsProtocol {
  version: RemoteCommandVersion;
  framing: ChannelFraming;
}

/** The WebSocket sub-protocols served for exec/attach ("" when the client names none). */
export const WS_REMOTE_COMMAND_PROTOCOLS: Record<string, WsProtocol> = {
  [REMOTE_COMMAND_V5]: { version: 5, framing: { base64: false, closeSignal: true } },
  [REMOTE_COMMAND_V4]: { version: 4, framing: { base64: false, closeSignal: false } },
  "v4.base64.channel.k8s.io": { version: 4, framing: { base64: true, closeSignal: false } },
  [REMOTE_COMMAND_V1]: { version: 1, framing: { base64: false, closeSignal: false } },
  "base64.channel.k8s.io": { version: 1, framing: { base64: true, closeSignal: false } },
  "": { version: 1, framing: { base64: false, closeSignal: false } },
};

export interface WsCommandSession extends Omit<RunCommandInput, "streams" | "signal"> {
  options: RemoteCommandOptions;
}

/** Runs one exec/attach session on an accepted WebSocket and closes it at the end. */
export async function serveRemoteCommandWs(
  ws: WebSocket,
  negotiated: string,
  session: WsCommandSession,
): Promise<void> {
  const protocol = WS_REMOTE_COMMAND_PROTOCOLS[negotiated] ?? (WS_REMOTE_COMMAND_PROTOCOLS[""] as WsProtocol);
  const conn = new ChannelConnection(ws, protocol.framing);
  const abort = new AbortController();
  void conn.closed.then(() => abort.abort(new Error("the client closed the WebSocket")));
  const { options } = session;
  // kubelet tells the client the connection is up with an empty message on the lowest writable channel.
  await conn
    .send(options.stdout ? STDOUT : options.stderr ? STDERR : ERROR, Buffer.alloc(0))
    .catch(() => undefined);
  const streams: CommandStreams = {
    ...(options.stdin ? { stdin: conn.incoming(STDIN) } : {}),
    ...(options.stdout ? { stdout: conn.outgoing(STDOUT) } : {}),
    ...(options.stderr ? { stderr: conn.outgoing(STDERR) } : {}),
    ...(options.tty ? { resize: resizeEvents(conn.incoming(RESIZE)) } : {}),
  };
  const outcome = await runCommand({ ...session, streams, signal: abort.signal });
  // Whatever output is still queued goes out before the status.
  await Promise.all([finish(streams.stdout), finish(streams.stderr)]);
  if (conn.open) {
    const status = encodeOutcome(outcome, protocol.version);
    if (status.length > 0) await conn.send(ERROR, status).catch(() => undefined);
    conn.close();
  }
}
