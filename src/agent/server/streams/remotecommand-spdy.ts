// exec and attach over SPDY/3.1, the way kubelet serves the API server (and kubectl with
// KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false): the client opens one stream per channel, named by the
// `streamtype` header (error, stdin, stdout, stderr, resize). The server accepts each at once, waits until
// every stream the request asked for exists, runs the command, writes the status on the error stream, and
// finishes its streams; the client then closes the connection.
import type { SpdySession, SpdyStream } from "../../../util/spdy/session.ts";
import {
  type CommandStreams,
  encodeOutcome,
  finish,
  REMOTE_COMMAND_V1,
  REMOTE_COMMAND_V2,
  REMOTE_COMMAND_V3,
  REMOTE_COMMAND_V4,
  REMOTE_COMMAND_V5,
  type RemoteCommandOptions,
  type RemoteCommandVersion,
  type RunCommandInput,
  runCommand,
} from "./remotecommand.ts";
import { resizeEvents } from "./resize.ts";

/** Sub-protocols served over SPDY, preferred first (v5 over SPDY is v4: the CLOSE signal is WebSocket-only). */
export const SPDY_REMOTE_COMMAND_PROTOCOLS = [
  REMOTE_COMMAND_V5,
  REMOTE_COMMAND_V4,
  REMOTE_COMMAND_V3,
  REMOTE_COMMAND_V2,
  REMOTE_COMMAND_V1,
];

export function spdyVersion(protocol: string): RemoteCommandVersion {
  switch (protocol) {
    case REMOTE_COMMAND_V5:
    case REMOTE_COMMAND_V4:
      return 4;
    case REMOTE_COMMAND_V3:
      return 3;
    case REMOTE_COMMAND_V2:
      return 2;
    default:
      return 1;
  }
}

const STREAM_TYPES = ["error", "stdin", "stdout", "stderr", "resize"] as const;
type StreamType = (typeof STREAM_TYPES)[number];

export interface SpdyCommandSession extends Omit<RunCommandInput, "streams" | "signal"> {
  options: RemoteCommandOptions;
  /** How long the client has to create its streams (kubelet: streamCreationTimeout). */
  streamCreationTimeoutMs: number;
  /** How long the client has to close the connection after the status, before it is dropped. */
  closeGraceMs?: number;
}

/** Runs one exec/attach session on an upgraded SPDY session; resolves when it is over. */
export async function serveRemoteCommandSpdy(
  session: SpdySession,
  protocol: string,
  input: SpdyCommandSession,
): Promise<void> {
  const version = spdyVersion(protocol);
  const { options } = input;
  const expected = new Set<StreamType>(["error"]);
  if (options.stdin) expected.add("stdin");
  if (options.stdout) expected.add("stdout");
  if (options.stderr) expected.add("stderr");
  if (options.tty && version >= 3) expected.add("resize");

  const streams = new Map<StreamType, SpdyStream>();
  const abort = new AbortController();
  session.once("close", () => abort.abort(new Error("the SPDY connection closed")));
  const complete = new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), input.streamCreationTimeoutMs);
    session.once("close", () => {
      clearTimeout(timer);
      resolve(false);
    });
    session.on("stream", (stream) => {
      // Writes after the connection ended fail; the session is over then and nothing needs to hear about it.
      stream.on("error", () => undefined);
      void stream.reply().catch(() => undefined);
      const type = stream.headers.streamtype?.[0] as StreamType | undefined;
      if (!type || !STREAM_TYPES.includes(type) || streams.has(type)) return;
      streams.set(type, stream);
      if ([...expected].every((t) => streams.has(t))) {
        clearTimeout(timer);
        resolve(true);
      }
    });
  });
  if (!(await complete)) {
    // kubelet gives up silently too ("timed out waiting for client to create streams").
    session.destroy();
    return;
  }

  const errorStream = streams.get("error") as SpdyStream;
  const stdout = options.stdout ? streams.get("stdout") : undefined;
  const stderr = options.stderr ? streams.get("stderr") : undefined;
  const resize = streams.get("resize");
  const commandStreams: CommandStreams = {
    ...(options.stdin ? { stdin: streams.get("stdin") } : {}),
    ...(stdout ? { stdout } : {}),
    ...(stderr ? { stderr } : {}),
    ...(resize && options.tty ? { resize: resizeEvents(resize) } : {}),
  };
  const outcome = await runCommand({ ...input, streams: commandStreams, signal: abort.signal });
  if (session.closed) return;
  const status = encodeOutcome(outcome, version);
  // Output first (FIN after the last byte), then the status.
  await Promise.all([finish(stdout), finish(stderr)]);
  await new Promise<void>((resolve) => errorStream.end(status.length > 0 ? status : undefined, resolve));
  // The client closes the connection once it has read the status; a client that lingers is dropped.
  const grace = new Promise<void>((resolve) => setTimeout(resolve, input.closeGraceMs ?? 10_000).unref());
  await Promise.race([session.done, grace]);
  session.destroy();
}
