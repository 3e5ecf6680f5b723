// The boundary to the kernel's packet filter: iptables-restore, iptables-save and iptables, run as child
// processes (optionally inside a network namespace through `ip netns exec`, for tests and benchmarks).
// The backend (nf_tables or legacy) is the host's: Docker and CNI programs use it too, never mix the two.
import { spawn } from "node:child_process";
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
  /** `iptables-save -t table`, streamed line by line. */
  save(table: Table, onLine: (line: string) => void): Promise<void>;
  /** `iptables -w … args`; resolves with the exit code instead of throwing. */
  run(args: readonly string[]): Promise<CommandResult>;
  /** MASQUERADE --random-fully is available (iptables ≥ 1.6.2). */
  hasRandomFully(): Promise<boolean>;
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

interface Spawned {
  code: number;
  stdout: string;
  stderr: string;
}

function exec(
  argv: readonly string[],
  options: { input?: string; onStdoutLine?: (line: string) => void } = {},
): Promise<Spawned> {
  return new Promise((resolve, reject) => {
    const [command, ...args] = argv as [string, ...string[]];
    const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let partial = "";
    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      if (!options.onStdoutLine) {
        stdout += chunk;
        return;
      }
      partial += chunk;
      let start = 0;
      for (;;) {
        const end = partial.indexOf("\n", start);
        if (end < 0) break;
        options.onStdoutLine(partial.slice(start, end));
        start = end + 1;
      }
      partial = partial.slice(start);
    });
    child.stderr.on("data", (chunk: string) => {
      stderr += chunk;
    });
    child.on("error", (error) =>
      reject(
        new IptablesError("IPTABLES_COMMAND", `cannot run ${command}: ${error.message}`, { cause: error }),
      ),
    );
    child.on("close", (code) => {
      if (options.onStdoutLine && partial) options.onStdoutLine(partial);
      resolve({ code: code ?? 1, stdout, stderr });
    });
    child.stdin.on("error", () => undefined); // the child may exit before reading all input; its exit code says why
    child.stdin.end(options.input ?? "");
  });
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

  async save(table: Table, onLine: (line: string) => void): Promise<void> {
    const result = await exec([...this.prefix, this.command("save"), "-t", table], { onStdoutLine: onLine });
    if (result.code !== 0) {
      throw new IptablesError(
        "IPTABLES_SAVE",
        `${this.command("save")} -t ${table} failed: ${result.stderr.trim()}`,
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

/** Collects `iptables-save -t table` into one string (tests, cleanup). */
export async function saveText(iptables: Iptables, table: Table): Promise<string> {
  const lines: string[] = [];
  await iptables.save(table, (line) => lines.push(line));
  return lines.join("\n");
}
