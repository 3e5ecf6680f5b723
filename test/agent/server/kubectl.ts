// Real kubectl against a test control plane, with what the node API tests need beyond test/support's
// runner: an environment (KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false …), another client binary
// (kubectl.1.27), a pseudo-terminal (`script` from util-linux, for `exec -it`), and long-running commands
// (`logs -f`, `port-forward`) read while they run.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { requireKubectl } from "../../support/controlplane.ts";
import { requirePrerequisite } from "../../support/env.ts";

export interface KubectlResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface KubectlCall {
  /** "kubectl" (the dispatcher, which picks the server's minor) or e.g. "kubectl.1.27". */
  binary?: string;
  env?: Record<string, string>;
  input?: string | Buffer;
  timeoutMs?: number;
}

/** Forces kubectl's SPDY/3.1 transports instead of WebSocket (upstream's opt-outs). */
export const SPDY_ENV = {
  KUBECTL_REMOTE_COMMAND_WEBSOCKETS: "false",
  KUBECTL_PORT_FORWARD_WEBSOCKETS: "false",
};

export class Kubectl {
  readonly #kubeconfig: string;
  readonly #cacheDir = mkdtempSync(join(tmpdir(), "deckhand-kubectl-cache-"));
  readonly #children = new Set<ChildProcess>();

  constructor(kubeconfig: string) {
    this.#kubeconfig = kubeconfig;
  }

  #argv(binary: string | undefined, args: readonly string[]): { path: string; argv: string[] } {
    return {
      path: requireKubectl(binary ?? "kubectl"),
      argv: ["--kubeconfig", this.#kubeconfig, "--cache-dir", this.#cacheDir, ...args],
    };
  }

  /** Runs kubectl to completion; never throws for a non-zero exit (the test asserts the code). */
  run(args: readonly string[], call: KubectlCall = {}): Promise<KubectlResult> {
    const { path, argv } = this.#argv(call.binary, args);
    return this.#collect(path, argv, call);
  }

  /** Runs kubectl under a pseudo-terminal (`script -qec … /dev/null`), e.g. for `exec -it`. */
  runInTerminal(args: readonly string[], call: KubectlCall = {}): Promise<KubectlResult> {
    requirePrerequisite(
      spawnSyncExists("script"),
      "`script` (util-linux) is missing",
      "install bsdutils (Debian ships it in every system)",
    );
    const { path, argv } = this.#argv(call.binary, args);
    const command = [path, ...argv].map(shellQuote).join(" ");
    return this.#collect("script", ["-qec", command, "/dev/null"], call);
  }

  /** Starts a long-running kubectl; read its output with `output()`, stop it with `stop()`. */
  start(args: readonly string[], call: KubectlCall = {}): RunningKubectl {
    const { path, argv } = this.#argv(call.binary, args);
    const child = spawn(path, argv, {
      env: { ...process.env, ...call.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.#children.add(child);
    child.once("exit", () => this.#children.delete(child));
    return new RunningKubectl(child, `kubectl ${args.join(" ")}`);
  }

  #collect(command: string, argv: string[], call: KubectlCall): Promise<KubectlResult> {
    return new Promise((resolve, reject) => {
      const child = spawn(command, argv, {
        env: { ...process.env, ...call.env },
        stdio: ["pipe", "pipe", "pipe"],
      });
      this.#children.add(child);
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on("data", (c: Buffer) => out.push(c));
      child.stderr.on("data", (c: Buffer) => err.push(c));
      const timeoutMs = call.timeoutMs ?? 90_000;
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(
          new Error(
            `${command} ${argv.join(" ")} did not finish within ${timeoutMs} ms; stdout: ${Buffer.concat(out).toString()} stderr: ${Buffer.concat(err).toString()}`,
          ),
        );
      }, timeoutMs);
      child.once("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
      child.once("close", (code, signal) => {
        clearTimeout(timer);
        this.#children.delete(child);
        resolve({
          stdout: Buffer.concat(out).toString("utf8"),
          stderr: Buffer.concat(err).toString("utf8"),
          code: code ?? (signal ? 128 : 1),
        });
      });
      child.stdin.on("error", () => undefined);
      if (call.input !== undefined) child.stdin.end(call.input);
      else child.stdin.end();
    });
  }

  /** Kills whatever is still running and removes the cache directory. */
  dispose(): void {
    for (const child of this.#children) child.kill("SIGKILL");
    rmSync(this.#cacheDir, { recursive: true, force: true });
  }
}

export class RunningKubectl {
  readonly #child: ChildProcess;
  readonly #what: string;
  #stdout = "";
  #stderr = "";
  readonly exited: Promise<number>;

  constructor(child: ChildProcess, what: string) {
    this.#child = child;
    this.#what = what;
    child.stdout?.on("data", (c: Buffer) => {
      this.#stdout += c.toString("utf8");
    });
    child.stderr?.on("data", (c: Buffer) => {
      this.#stderr += c.toString("utf8");
    });
    this.exited = new Promise((resolve) => child.once("close", (code) => resolve(code ?? 128)));
  }

  get stdout(): string {
    return this.#stdout;
  }

  get stderr(): string {
    return this.#stderr;
  }

  /** Waits until stdout satisfies `predicate`; fails with what was printed when it exits or times out. */
  async waitForOutput<T>(
    predicate: (stdout: string) => T | undefined | false,
    what: string,
    timeoutMs = 90_000,
  ): Promise<T> {
    let exited: number | undefined;
    void this.exited.then((code) => {
      exited = code;
    });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = predicate(this.#stdout);
      if (found !== undefined && found !== false) return found;
      const problem =
        exited !== undefined
          ? `exited (code ${exited}) before ${what}`
          : Date.now() > deadline
            ? `did not print ${what} within ${timeoutMs} ms`
            : undefined;
      if (problem)
        throw new Error(`${this.#what} ${problem}\nstdout: ${this.#stdout}\nstderr: ${this.#stderr}`);
      await sleep(100);
    }
  }

  async stop(): Promise<number> {
    this.#child.kill("SIGTERM");
    const timer = setTimeout(() => this.#child.kill("SIGKILL"), 10_000);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}

function shellQuote(value: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(value) ? value : `'${value.replaceAll("'", `'"'"'`)}'`;
}

function spawnSyncExists(command: string): boolean {
  return ["/usr/bin", "/bin", "/usr/local/bin"].some((dir) => existsSync(join(dir, command)));
}
