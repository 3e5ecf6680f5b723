// The boundary to the kernel's packet filter: iptables-restore, iptables-save and iptables, run as child
// processes (optionally inside a network namespace through `ip netns exec`, for tests and benchmarks).
// The backend (nf_tables or legacy) is the host's: Docker and CNI programs use it too, never mix the two.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { type FileHandle, open, unlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Table } from "./rule-text.ts";

export type Backend = "nft" | "legacy";

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** What the proxy needs from iptables. A fake for unit tests must enforce the same rules as the kernel. */
export interface Iptables {
  readonly backend: Backend;
  /** `iptables-restore --noflush`: applies the payload atomically per table or not at all; throws RestoreError. */
  restore(payload: string): Promise<void>;
  /**
   * One `iptables-restore --noflush` process for many payloads, written one after another: each table
   * section is still its own transaction (committed at its COMMIT line, in order), but there is one process
   * for all of them, and payloads are streamed instead of held in memory.
   */
  openRestore(): RestoreSession;
  /** `iptables-save -t table` (every table when undefined), streamed line by line. */
  save(table: Table | undefined, onLine: SaveLine): Promise<void>;
  /** `iptables -w … args`; resolves with the exit code instead of throwing. */
  run(args: readonly string[]): Promise<CommandResult>;
  /** MASQUERADE --random-fully is available (iptables ≥ 1.6.2). */
  hasRandomFully(): Promise<boolean>;
}

export interface RestoreSession {
  /** Sends one payload; rejects if iptables-restore has already failed. */
  write(payload: string): Promise<void>;
  /** Ends the input and waits for iptables-restore; throws RestoreError if any payload failed. */
  close(): Promise<void>;
  /** Stops the process (after a failure elsewhere). */
  abort(): void;
}

export type IptablesErrorCode = "IPTABLES_RESTORE" | "IPTABLES_SAVE" | "IPTABLES_COMMAND";

export class IptablesError extends Error {
  readonly code: IptablesErrorCode;
  constructor(code: IptablesErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "IptablesError";
    this.code = code;
  }
}

/** iptables-restore refused a payload; nothing of the failing table was applied. */
export class RestoreError extends IptablesError {
  /** 1-based line of the payload iptables-restore blamed, if it said. */
  readonly line: number | undefined;
  /** That line's text. */
  readonly lineText: string | undefined;
  readonly stderr: string;

  constructor(stderr: string, payload: string, exitCode: number) {
    const lines = payload.split("\n");
    const match = /line:? (\d+)/.exec(stderr);
    let line = match ? Number(match[1]) : undefined;
    // nf_tables checks jumps when the table is committed and blames the COMMIT line: point at the rule
    // that jumps to the missing chain instead.
    const missing = /Chain '([^']+)' does not exist/.exec(stderr)?.[1];
    if (missing && (line === undefined || lines[line - 1] === "COMMIT")) {
      const at = lines.findIndex((l) => l.endsWith(` -j ${missing}`) || l.includes(` -j ${missing} `));
      if (at >= 0) line = at + 1;
    }
    const lineText = line ? lines[line - 1] : undefined;
    const reason = stderr
      .split("\n")
      .filter((l) => l.trim() && !l.startsWith("Try `"))
      .join("; ");
    super(
      "IPTABLES_RESTORE",
      `iptables-restore failed (exit ${exitCode}): ${reason || "no message"}${
        lineText !== undefined ? ` (line ${line}: ${lineText})` : ""
      }`,
    );
    this.name = "RestoreError";
    this.line = line;
    this.lineText = lineText;
    this.stderr = stderr;
  }
}

export function isRestoreError(error: unknown): error is RestoreError {
  return error instanceof RestoreError;
}

export interface ExecIptablesOptions {
  /** Default: the host's `iptables` backend (see detectBackend). */
  backend?: Backend;
  /** Run every command inside this network namespace (`ip netns exec NAME …`). */
  netns?: string;
  /** Seconds to wait for the xtables lock (legacy backend); default 5. */
  waitSeconds?: number;
}

const COMMANDS: Record<Backend, { iptables: string; restore: string; save: string }> = {
  nft: { iptables: "iptables-nft", restore: "iptables-nft-restore", save: "iptables-nft-save" },
  legacy: { iptables: "iptables-legacy", restore: "iptables-legacy-restore", save: "iptables-legacy-save" },
};

/**
 * One line of iptables-save output: `bytes` from `start` to `end` (without its newline), UTF-8. The bytes
 * are a large piece of the output shared by many lines and reused after the call: a consumer decodes or
 * copies what it keeps.
 */
export type SaveLine = (bytes: Buffer, start: number, end: number) => void;

interface Spawned {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command; its stdout is collected, or goes to `stdoutFd` (a file) when given. */
function exec(
  argv: readonly string[],
  options: { input?: string; stdoutFd?: number } = {},
): Promise<Spawned> {
  return new Promise((resolve, reject) => {
    const [command, ...args] = argv as [string, ...string[]];
    const child = spawn(command, args, { stdio: ["pipe", options.stdoutFd ?? "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout?.setEncoding("utf8");
    child.stdout?.on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (chunk: string) => {
      stderr += chunk;
    });
    child.on("error", (error) =>
      reject(
        new IptablesError("IPTABLES_COMMAND", `cannot run ${command}: ${error.message}`, { cause: error }),
      ),
    );
    child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin?.on("error", () => undefined); // the child may exit before reading all input; its exit code says why
    child.stdin?.end(options.input ?? "");
  });
}

/** Bytes read per step from iptables-save's output file: a few dozen steps for a 10,000-Service table. */
const SAVE_READ_CHUNK = 1024 * 1024;
const SAVE_DIR = existsSync("/dev/shm") ? "/dev/shm" : tmpdir();
let saveFiles = 0;

/**
 * Runs iptables-save with its output going to a file, then reads that file in large steps, handing each line
 * to `onLine` in place. Through a pipe, the output of a large table (40 MB at 10,000 Services) arrived as
 * thousands of small reads, each a wake-up and a callback: about a fifth of the proxy's CPU in a resync.
 * The file is on tmpfs where there is one (memory, never the disk) and unlinked as soon as it is open, so a
 * crash leaves nothing behind.
 */
async function execSaveToFile(argv: readonly string[], onLine: SaveLine): Promise<Spawned> {
  const path = join(SAVE_DIR, `deckhand-save-${process.pid}-${++saveFiles}`);
  const file = await open(path, "w+", 0o600);
  try {
    await unlink(path);
    const result = await exec(argv, { stdoutFd: file.fd });
    if (result.code === 0) await readLines(file, onLine);
    return result;
  } finally {
    await file.close();
  }
}

/**
 * Hands every line of the file to `onLine` in place, from one buffer reused for every read (a fresh one per
 * read made ~40 MB of garbage per 10,000-Service save, and the collector's work for it cost as much CPU as
 * parsing). A line split across reads is moved to the buffer's start; a line longer than the buffer grows
 * it. The bytes are valid only during the call.
 */
export async function readLines(
  file: FileHandle,
  onLine: SaveLine,
  chunkSize = SAVE_READ_CHUNK,
): Promise<void> {
  let buffer = Buffer.allocUnsafeSlow(chunkSize);
  let position = 0;
  /** Bytes of an unfinished line at the buffer's start. */
  let kept = 0;
  for (;;) {
    if (kept === buffer.length) {
      const larger = Buffer.allocUnsafeSlow(buffer.length * 2);
      buffer.copy(larger, 0, 0, kept);
      buffer = larger;
    }
    const { bytesRead } = await file.read(buffer, kept, buffer.length - kept, position);
    if (bytesRead === 0) break;
    position += bytesRead;
    const bytes = buffer.subarray(0, kept + bytesRead);
    let start = 0;
    for (let end = bytes.indexOf(10, kept); end >= 0; end = bytes.indexOf(10, start)) {
      onLine(bytes, start, end);
      start = end + 1;
    }
    kept = bytes.length - start;
    if (kept > 0) buffer.copyWithin(0, start, bytes.length);
  }
  if (kept > 0) onLine(buffer, 0, kept);
}

/** The backend the host's `iptables` command uses ("iptables v1.8.9 (nf_tables)"). */
export async function detectBackend(netns?: string): Promise<Backend> {
  const result = await exec([...(netns ? ["ip", "netns", "exec", netns] : []), "iptables", "--version"]);
  if (result.code !== 0) {
    throw new IptablesError(
      "IPTABLES_COMMAND",
      `iptables --version failed: ${result.stderr.trim()}; install the iptables package`,
    );
  }
  return /legacy/.test(result.stdout) ? "legacy" : "nft";
}

/** The real thing: iptables commands as child processes. */
export class ExecIptables implements Iptables {
  readonly backend: Backend;
  private readonly prefix: string[];
  private readonly wait: string;
  private randomFully: boolean | undefined;

  constructor(backend: Backend, options: Omit<ExecIptablesOptions, "backend"> = {}) {
    this.backend = backend;
    this.prefix = options.netns ? ["ip", "netns", "exec", options.netns] : [];
    this.wait = String(options.waitSeconds ?? 5);
  }

  /** Detects the host's backend unless one is given. */
  static async create(options: ExecIptablesOptions = {}): Promise<ExecIptables> {
    return new ExecIptables(options.backend ?? (await detectBackend(options.netns)), options);
  }

  private command(kind: "iptables" | "restore" | "save"): string {
    return COMMANDS[this.backend][kind];
  }

  async restore(payload: string): Promise<void> {
    const result = await exec([...this.prefix, this.command("restore"), "--noflush", "-w", this.wait], {
      input: payload,
    });
    if (result.code !== 0) throw new RestoreError(result.stderr, payload, result.code);
  }

  openRestore(): RestoreSession {
    return new ProcessRestoreSession([...this.prefix, this.command("restore"), "--noflush", "-w", this.wait]);
  }

  async save(table: Table | undefined, onLine: SaveLine): Promise<void> {
    const args = table ? ["-t", table] : [];
    const result = await execSaveToFile([...this.prefix, this.command("save"), ...args], onLine);
    if (result.code !== 0) {
      throw new IptablesError(
        "IPTABLES_SAVE",
        `${[this.command("save"), ...args].join(" ")} failed: ${result.stderr.trim()}`,
      );
    }
  }

  async run(args: readonly string[]): Promise<CommandResult> {
    return exec([...this.prefix, this.command("iptables"), "-w", this.wait, ...args]);
  }

  async hasRandomFully(): Promise<boolean> {
    if (this.randomFully === undefined) {
      const result = await exec([...this.prefix, this.command("iptables"), "--version"]);
      const match = /v(\d+)\.(\d+)\.(\d+)/.exec(result.stdout);
      const [major, minor, patch] = match
        ? [Number(match[1]), Number(match[2]), Number(match[3])]
        : [0, 0, 0];
      this.randomFully = major > 1 || (major === 1 && (minor > 6 || (minor === 6 && patch >= 2)));
    }
    return this.randomFully;
  }
}

/**
 * Keeps this much of the most recent input (and always the last payload) to quote the line iptables-restore
 * blames. iptables-restore is never far behind: each write waits for the pipe to drain, and a failing table
 * section is blamed at the latest at its COMMIT, the end of its payload.
 */
const KEEP_INPUT_CHARS = 1024 * 1024;

class ProcessRestoreSession implements RestoreSession {
  private readonly child;
  private readonly exited: Promise<number>;
  private stderr = "";
  private failed = false;
  /** Recent payloads with the input line each starts at (1-based). */
  private recent: Array<{ firstLine: number; text: string }> = [];
  private keptChars = 0;
  private nextLine = 1;

  constructor(argv: string[]) {
    const [command, ...args] = argv as [string, ...string[]];
    this.child = spawn(command, args, { stdio: ["pipe", "ignore", "pipe"] });
    this.child.stderr.setEncoding("utf8");
    this.child.stderr.on("data", (chunk: string) => {
      this.stderr += chunk;
    });
    this.child.stdin.on("error", () => {
      this.failed = true;
    });
    this.exited = new Promise((resolve) => {
      this.child.on("error", (error) => {
        this.stderr += `cannot run ${command}: ${error.message}`;
        this.failed = true;
        resolve(127);
      });
      this.child.on("close", (code) => {
        if (code !== 0) this.failed = true;
        resolve(code ?? 1);
      });
    });
  }

  async write(payload: string): Promise<void> {
    if (this.failed) throw await this.error();
    this.recent.push({ firstLine: this.nextLine, text: payload });
    this.keptChars += payload.length;
    while (this.keptChars > KEEP_INPUT_CHARS && this.recent.length > 1)
      this.keptChars -= this.recent.shift()?.text.length ?? 0;
    for (let i = payload.indexOf("\n"); i >= 0; i = payload.indexOf("\n", i + 1)) this.nextLine++;
    const accepted = this.child.stdin.write(payload);
    if (!accepted) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.child.stdin.off("drain", done);
          this.child.off("close", done);
          resolve();
        };
        this.child.stdin.on("drain", done);
        this.child.on("close", done);
      });
    }
    if (this.failed) throw await this.error();
  }

  async close(): Promise<void> {
    this.child.stdin.end();
    const code = await this.exited;
    if (code !== 0) throw await this.error();
  }

  abort(): void {
    this.child.kill("SIGKILL");
  }

  private async error(): Promise<RestoreError> {
    const code = await this.exited;
    // Quote the blamed line: find the payload it falls in, and renumber it within that payload.
    const match = /line:? (\d+)/.exec(this.stderr);
    const line = match ? Number(match[1]) : undefined;
    const at = line === undefined ? undefined : [...this.recent].reverse().find((p) => p.firstLine <= line);
    if (at && line !== undefined) {
      const local = line - at.firstLine + 1;
      const stderr = this.stderr.replace(/line:? \d+/, (m) => m.replace(String(line), String(local)));
      return new RestoreError(stderr, at.text, code);
    }
    return new RestoreError(this.stderr, "", code);
  }
}

/** Reads every table with one iptables-save, handing each line to the parser of its table. */
export async function saveTables<T>(
  iptables: Iptables,
  tables: readonly Table[],
  parser: (table: Table) => { line: SaveLine; done(): T },
): Promise<Record<Table, T>> {
  const parsers = new Map(tables.map((table) => [table, parser(table)]));
  let current: { line: SaveLine } | undefined;
  await iptables.save(undefined, (bytes, start, end) => {
    if (bytes[start] === 42 /* * */) current = parsers.get(bytes.toString("utf8", start + 1, end) as Table);
    else if (end - start === 6 && bytes.toString("latin1", start, end) === "COMMIT") current = undefined;
    else current?.line(bytes, start, end);
  });
  const result = {} as Record<Table, T>;
  for (const [table, p] of parsers) result[table] = p.done();
  return result;
}

/** Collects `iptables-save -t table` into one string (tests, cleanup). */
export async function saveText(iptables: Iptables, table: Table): Promise<string> {
  const lines: string[] = [];
  await iptables.save(table, (bytes, start, end) => lines.push(bytes.toString("utf8", start, end)));
  return lines.join("\n");
}
