// The transport-independent half of exec and attach: which streams a request asks for, running the command
// through the Runtime with the streams a transport (WebSocket or SPDY) provides, and the status the error
// channel carries at the end — upstream's metav1.Status with reason NonZeroExitCode and an ExitCode cause
// for v4+, the bare message (failures only) before v4.
import type { Readable, Writable } from "node:stream";
import type { Runtime, TerminalSize } from "../../../runtime/types.ts";
import { badRequest } from "../errors.ts";

/** Remote command protocol versions, newest first (k8s.io/apimachinery/pkg/util/remotecommand). */
export const REMOTE_COMMAND_V5 = "v5.channel.k8s.io";
export const REMOTE_COMMAND_V4 = "v4.channel.k8s.io";
export const REMOTE_COMMAND_V3 = "v3.channel.k8s.io";
export const REMOTE_COMMAND_V2 = "v2.channel.k8s.io";
export const REMOTE_COMMAND_V1 = "channel.k8s.io";

export type RemoteCommandVersion = 1 | 2 | 3 | 4 | 5;

export interface RemoteCommandOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
  /** exec only. */
  command: string[];
}

function flag(query: URLSearchParams, kubelet: string, api: string): boolean {
  // The API server sends kubelet's names (input/output/error/tty = "1"); direct callers may use the API's
  // names (stdin/stdout/stderr/tty = "true").
  for (const name of [kubelet, api]) {
    const value = query.get(name);
    if (value === "1" || value === "true") return true;
  }
  return false;
}

/** Parses the streams and command of an exec/attach request, as kubelet's NewOptions does. */
export function parseRemoteCommandOptions(
  query: URLSearchParams,
  kind: "exec" | "attach",
): RemoteCommandOptions {
  const tty = flag(query, "tty", "tty");
  const stdin = flag(query, "input", "stdin");
  const stdout = flag(query, "output", "stdout");
  // A tty merges stderr into stdout; kubelet drops the stderr stream then.
  const stderr = flag(query, "error", "stderr") && !tty;
  if (!stdin && !stdout && !stderr) throw badRequest("you must specify at least 1 of stdin, stdout, stderr");
  const command = query.getAll("command");
  if (kind === "exec" && command.length === 0) {
    throw badRequest("you must specify at least one command for the container (query parameter command)");
  }
  return { stdin, stdout, stderr, tty, command };
}

/** What the session's streams are, whatever carries them. */
export interface CommandStreams {
  stdin?: Readable;
  stdout?: Writable;
  stderr?: Writable;
  resize?: AsyncIterable<TerminalSize>;
}

export type CommandOutcome =
  | { kind: "success" }
  | { kind: "exit"; code: number }
  | { kind: "error"; message: string };

/** The metav1.Status (v4+) for an outcome, as kubelet's ServeExec writes it. */
export function outcomeStatus(outcome: CommandOutcome): Record<string, unknown> {
  switch (outcome.kind) {
    case "success":
      return { metadata: {}, status: "Success" };
    case "exit":
      return {
        metadata: {},
        status: "Failure",
        message: `command terminated with non-zero exit code: command terminated with exit code ${outcome.code}`,
        reason: "NonZeroExitCode",
        details: { causes: [{ reason: "ExitCode", message: String(outcome.code) }] },
      };
    case "error":
      return {
        metadata: {},
        status: "Failure",
        message: `Internal error occurred: ${outcome.message}`,
        reason: "InternalError",
        details: { causes: [{ message: outcome.message }] },
        code: 500,
      };
  }
}

/** The bytes the error stream carries for an outcome in protocol `version` (empty: write nothing). */
export function encodeOutcome(outcome: CommandOutcome, version: RemoteCommandVersion): Buffer {
  if (version >= 4) return Buffer.from(JSON.stringify(outcomeStatus(outcome)));
  if (outcome.kind === "success") return Buffer.alloc(0);
  return Buffer.from(String(outcomeStatus(outcome).message));
}

export interface RunCommandInput {
  runtime: Runtime;
  kind: "exec" | "attach";
  containerId: string;
  options: RemoteCommandOptions;
  streams: CommandStreams;
  signal: AbortSignal;
}

/** Runs the exec or attach session to its end and says how it ended. Never throws. */
export async function runCommand(input: RunCommandInput): Promise<CommandOutcome> {
  const { runtime, options, streams, signal } = input;
  const common = {
    tty: options.tty,
    signal,
    ...(streams.stdin ? { stdin: streams.stdin } : {}),
    ...(streams.stdout ? { stdout: streams.stdout } : {}),
    ...(streams.stderr ? { stderr: streams.stderr } : {}),
    ...(streams.resize ? { resize: streams.resize } : {}),
  };
  try {
    const result =
      input.kind === "exec"
        ? await runtime.exec(input.containerId, { ...common, command: options.command })
        : await runtime.attach(input.containerId, common);
    if (result.exitCode === undefined || result.exitCode === 0) return { kind: "success" };
    return { kind: "exit", code: result.exitCode };
  } catch (error) {
    const what = input.kind === "exec" ? "executing command in container" : "attaching to container";
    return { kind: "error", message: `error ${what}: ${(error as Error).message}` };
  }
}

/**
 * Ends a writable and resolves once everything written to it has gone out (or it failed). The runtime's
 * copies into the output streams may still be buffered when the command has ended; the status must follow
 * them, never overtake them.
 */
export function finish(stream: Writable | undefined): Promise<void> {
  if (!stream || stream.writableFinished || stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => resolve();
    stream.once("error", done);
    stream.once("close", done);
    if (stream.writableEnded) stream.once("finish", done);
    else stream.end(done);
  });
}
