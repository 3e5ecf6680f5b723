// The client side of the Kubernetes remote command protocol (exec and attach), version
// v4.channel.k8s.io, over SPDY/3.1 — what kubectl and the API server speak to a kubelet, and what
// containerd's CRI stream server serves.
//
// After the upgrade the client opens one SPDY stream per channel, each named by a `streamType` header:
//   error  — the server writes one JSON metav1.Status when the command ends (Success, or Failure with
//            reason NonZeroExitCode and the exit code as the cause of type ExitCode);
//   stdin  — client to server; the client's FIN closes the process's stdin;
//   stdout, stderr — server to client (no stderr with a tty);
//   resize — client to server, a sequence of JSON {"Width":w,"Height":h} objects (tty only).
// The server waits until exactly the streams the request asked for exist, runs the command, writes the
// status and then resets the streams and closes the connection.
//
// Why SPDY and not WebSocket: containerd 1.6's stream server accepts both (a WebSocket upgrade with
// subprotocol v4.channel.k8s.io works there too), but v4 over WebSocket has no way to close stdin on its
// own — the half-close that `echo data | exec cat` needs arrived only with v5.channel.k8s.io, which
// containerd 1.6 does not serve. SPDY streams half-close with FIN.
import type { Readable, Writable } from "node:stream";
import type { SpdySession, SpdyStream } from "../../../util/spdy/session.ts";
import { upgradeToSpdy } from "./upgrade.ts";

export const REMOTE_COMMAND_PROTOCOL_V4 = "v4.channel.k8s.io";

export interface TerminalSize {
  width: number;
  height: number;
}

export interface RemoteCommandOptions {
  stdin?: Readable;
  stdout?: Writable;
  stderr?: Writable;
  tty?: boolean;
  resize?: AsyncIterable<TerminalSize>;
  signal?: AbortSignal;
  /** Deadline for connecting and creating the streams (not for the command itself). */
  connectTimeoutMs: number;
}

/** metav1.Status as the error stream carries it (the fields the protocol uses). */
export interface KubeStatus {
  status?: "Success" | "Failure";
  message?: string;
  reason?: string;
  code?: number;
  details?: { causes?: Array<{ reason?: string; message?: string; field?: string }> };
}

export interface RemoteCommandResult {
  /** The exit code: 0 on Success, the ExitCode cause on NonZeroExitCode; undefined without a status. */
  exitCode: number | undefined;
  status: KubeStatus | undefined;
}

/** The server reported a failure that is not a process exit code (e.g. the executable was not found). */
export class RemoteCommandError extends Error {
  override readonly name = "RemoteCommandError";
  readonly status: KubeStatus;

  constructor(message: string, status: KubeStatus) {
    super(message);
    this.status = status;
  }
}

/** Interprets the error stream's content per v4: a JSON Status, or nothing. */
export function parseStatus(raw: Buffer): RemoteCommandResult {
  const text = raw.toString("utf8").trim();
  if (text === "") return { exitCode: undefined, status: undefined };
  let status: KubeStatus;
  try {
    status = JSON.parse(text) as KubeStatus;
  } catch {
    throw new RemoteCommandError(`remote command failed: ${text}`, { status: "Failure", message: text });
  }
  if (status.status === "Success") return { exitCode: 0, status };
  if (status.reason === "NonZeroExitCode") {
    const cause = status.details?.causes?.find((c) => c.reason === "ExitCode");
    const code = Number.parseInt(cause?.message ?? "", 10);
    if (Number.isInteger(code)) return { exitCode: code, status };
  }
  throw new RemoteCommandError(`remote command failed: ${status.message ?? text}`, status);
}

/** Runs one exec or attach session against `url` and resolves when the server has reported the end. */
export async function runRemoteCommand(
  url: string,
  options: RemoteCommandOptions,
): Promise<RemoteCommandResult> {
  const { session } = await upgradeToSpdy(url, {
    protocols: [REMOTE_COMMAND_PROTOCOL_V4],
    timeoutMs: options.connectTimeoutMs,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const onAbort = () => session.destroy(abortError(options.signal));
  options.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    if (options.signal?.aborted) throw abortError(options.signal);
    return await runSession(session, options);
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
    // The server closes the connection itself once it has written the status; whatever is left goes now.
    session.destroy();
  }
}

async function runSession(session: SpdySession, options: RemoteCommandOptions): Promise<RemoteCommandResult> {
  const tty = options.tty ?? false;
  const open = (type: string) => session.openStream({ streamtype: type });
  // SYN_STREAMs go out in this order; the replies are awaited together.
  const [errorStream, stdin, stdout, stderr, resize] = await Promise.all([
    open("error"),
    options.stdin ? open("stdin") : undefined,
    options.stdout ? open("stdout") : undefined,
    options.stderr && !tty ? open("stderr") : undefined,
    tty ? open("resize") : undefined,
  ]);

  // This side never writes to the error stream.
  errorStream.end();
  const status = readAll(errorStream);
  // Awaited only after the outputs; when those fail first, its own failure must not go unhandled.
  status.catch(() => undefined);
  const outputs = [copyOut(stdout, options.stdout), copyOut(stderr, options.stderr)];
  const stopStdin = stdin && options.stdin ? copyIn(options.stdin, stdin) : undefined;
  const stopResize = resize && options.resize ? sendResizes(options.resize, resize) : undefined;
  try {
    await Promise.all(outputs);
    return parseStatus(await status);
  } finally {
    stopStdin?.();
    stopResize?.();
  }
}

function readAll(stream: SpdyStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  stream.on("data", (c: Buffer) => chunks.push(c));
  return new Promise((resolve, reject) => {
    stream.on("end", () => resolve(Buffer.concat(chunks)));
    stream.on("error", reject);
  });
}

/** Copies a remote output stream into the caller's writable (which stays open) until the remote end. */
function copyOut(remote: SpdyStream | undefined, local: Writable | undefined): Promise<void> {
  if (!remote) return Promise.resolve();
  if (!local) {
    remote.resume();
    return new Promise((resolve, reject) => {
      remote.on("end", resolve);
      remote.on("error", reject);
    });
  }
  remote.pipe(local, { end: false });
  return new Promise((resolve, reject) => {
    remote.on("end", resolve);
    remote.on("error", (e) => {
      remote.unpipe(local);
      reject(e);
    });
  });
}

/** Copies the caller's stdin to the remote stdin; its end closes the remote stdin. Returns a stopper. */
function copyIn(local: Readable, remote: SpdyStream): () => void {
  // After the session ends, writes to the remote side fail; those failures are expected, not errors.
  remote.on("error", () => undefined);
  local.pipe(remote);
  return () => {
    local.unpipe(remote);
  };
}

function sendResizes(sizes: AsyncIterable<TerminalSize>, remote: SpdyStream): () => void {
  remote.on("error", () => undefined);
  let stopped = false;
  void (async () => {
    for await (const size of sizes) {
      if (stopped || remote.writableEnded || remote.destroyed) break;
      // Handed to the connection before the next size is asked for, so that sizes apply in order and a
      // caller can tell when one was sent.
      await new Promise<void>((resolve) => {
        remote.write(JSON.stringify({ Width: size.width, Height: size.height }), () => resolve());
      });
    }
  })().catch(() => undefined);
  return () => {
    stopped = true;
  };
}

function abortError(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  return reason instanceof Error ? reason : new Error("the streaming session was cancelled");
}
