import { execFile } from "node:child_process";

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface RunOptions {
  input?: string;
  /** Resolve with the exit code instead of throwing when the command fails. */
  allowFailure?: boolean;
  timeoutMs?: number;
}

/** Runs a command without a shell; throws with its stderr when it fails unless allowFailure is set. */
export function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      command,
      args,
      { timeout: options.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        if (error && !options.allowFailure) {
          const reason = error.killed ? "timed out" : `exited with ${code}`;
          reject(new Error(`${command} ${args.join(" ")} ${reason}: ${stderr.trim() || error.message}`));
          return;
        }
        resolve({ stdout, stderr, code });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}
