// Streaming plumbing shared by exec and attach: a hijacked Docker connection wired to the caller's Node
// streams. Non-TTY output is multiplexed and split with docker-modem's demuxStream; TTY output is raw.
import { readFileSync } from "node:fs";
import type { Duplex, Writable } from "node:stream";
import { PassThrough } from "node:stream";
import type Docker from "dockerode";
import type { StreamOptions, TerminalSize } from "../types.ts";

export interface WireOptions extends StreamOptions {
  tty: boolean;
  /** Applies a terminal size (exec.resize / container.resize); errors are ignored. */
  applyResize?: (size: TerminalSize) => Promise<unknown>;
}

/**
 * Connects `socket` to the caller's streams and resolves when the session is over (the engine closed the
 * connection, or `signal` aborted it). The caller's stdout/stderr are ended afterwards.
 */
export function wireSession(
  modem: Docker["modem"],
  socket: Duplex,
  options: WireOptions,
): Promise<"ended" | "aborted"> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (how: "ended" | "aborted") => {
      if (done) return;
      done = true;
      options.signal?.removeEventListener("abort", onAbort);
      if (options.stdin) options.stdin.unpipe(socket);
      options.stdout?.end();
      if (options.stderr !== options.stdout) options.stderr?.end();
      resolve(how);
    };
    const onAbort = () => {
      socket.destroy();
      finish("aborted");
    };
    if (options.signal?.aborted) {
      onAbort();
      return;
    }
    options.signal?.addEventListener("abort", onAbort, { once: true });

    const sink = (w: Writable | undefined): NodeJS.WritableStream => {
      if (w) return w;
      const drain = new PassThrough();
      drain.resume();
      return drain;
    };
    if (options.tty) socket.on("data", (chunk: Buffer) => sink(options.stdout).write(chunk));
    else modem.demuxStream(socket, sink(options.stdout), sink(options.stderr));

    socket.on("end", () => finish("ended"));
    socket.on("close", () => finish("ended"));
    socket.on("error", () => finish("ended"));

    if (options.stdin) {
      // End of the caller's stdin half-closes the connection, which Docker turns into EOF on the process's stdin.
      options.stdin.pipe(socket, { end: true });
    }
    if (options.resize && options.applyResize) {
      const apply = options.applyResize;
      const sizes = options.resize;
      void (async () => {
        for await (const size of sizes) {
          if (done) break;
          await apply(size).catch(() => undefined);
        }
      })().catch(() => undefined);
    }
  });
}

/** Output collected into buffers, for execSync. */
export class Collector extends PassThrough {
  private readonly chunks: Buffer[] = [];
  constructor() {
    super();
    this.on("data", (chunk: Buffer) => this.chunks.push(chunk));
  }
  get buffer(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/** A process and all its descendants (via /proc/<pid>/task/<tid>/children), deepest first. */
export function processTree(pid: number): number[] {
  const out: number[] = [];
  const visit = (p: number, depth: number) => {
    if (depth > 32) return;
    let children: number[] = [];
    try {
      children = readFileSync(`/proc/${p}/task/${p}/children`, "utf8")
        .split(/\s+/)
        .filter(Boolean)
        .map(Number);
    } catch {
      // Gone already, or the kernel lacks CONFIG_PROC_CHILDREN: kill what we know.
    }
    for (const child of children) visit(child, depth + 1);
    out.push(p);
  };
  visit(pid, 0);
  return out;
}

/** SIGKILLs a host PID and its descendants; best effort (the process may be gone or not ours). */
export function killTree(pid: number): void {
  if (!Number.isInteger(pid) || pid <= 0) return;
  for (const p of processTree(pid)) {
    try {
      process.kill(p, "SIGKILL");
    } catch {
      // ESRCH (already exited) or EPERM: nothing more to do.
    }
  }
}
