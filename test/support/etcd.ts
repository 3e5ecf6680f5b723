// A private etcd server per test file: its own temporary data directory and free loopback ports, started
// from Debian's etcd-server package (/usr/bin/etcd, 3.4). kill() and restart() let durability tests crash it
// with SIGKILL and bring it back on the same data directory and ports.

import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { requirePrerequisite } from "./env.ts";
import { waitFor } from "./wait.ts";

export const ETCD_BINARY = "/usr/bin/etcd";

export interface EtcdOptions {
  /** Periodic watch progress notifications (etcd's default is 10 minutes). Default "500ms". */
  progressNotifyInterval?: string;
}

export interface EtcdServer {
  /** host:port of the client URL, e.g. "127.0.0.1:40123". */
  readonly endpoint: string;
  /** The `--store` value for the control plane: "etcd://127.0.0.1:40123". */
  readonly storeSpec: string;
  readonly dataDir: string;
  /** PID of the running etcd process, undefined while it is down. */
  pid(): number | undefined;
  /** SIGKILL, and wait until the process is gone. */
  kill(): Promise<void>;
  /** Start again on the same data directory and ports, and wait until it is healthy. */
  restart(): Promise<void>;
  /** SIGTERM (SIGKILL after 10 s), then remove the data directory. */
  stop(): Promise<void>;
}

/** Fails loudly (does not skip) when the etcd-server package is missing. */
export function requireEtcd(): void {
  requirePrerequisite(
    existsSync(ETCD_BINARY),
    `${ETCD_BINARY} (Debian package etcd-server) is not installed`,
    "run `sudo scripts/setup-host.sh`, which installs it (or `apt-get install etcd-server`)",
  );
}

// Ports handed to servers that bind them later (agents, control planes, etcd) come from below the kernel's
// ephemeral range (32768-60999), where no outgoing connection is ever given a source port, and each vitest
// worker draws from a block of its own. Port 0 ("any free port") raced: between the probe and the server's
// own bind, a parallel test could take the same port.
const PORT_RANGE_START = 20_000;
const PORT_BLOCK_SIZE = 1_600;
const PORT_BLOCKS = 6;
const portBlock = Number(process.env.VITEST_POOL_ID ?? 0) % PORT_BLOCKS;
let nextPortOffset = Math.floor(Math.random() * PORT_BLOCK_SIZE);

/** A loopback TCP port nothing listens on right now and no other test worker hands out. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < PORT_BLOCK_SIZE; attempt++) {
    const port = PORT_RANGE_START + portBlock * PORT_BLOCK_SIZE + nextPortOffset;
    nextPortOffset = (nextPortOffset + 1) % PORT_BLOCK_SIZE;
    if (await canListen(port)) return port;
  }
  throw new Error(
    `no free loopback port left in this worker's block (${PORT_BLOCK_SIZE} ports from block ${portBlock})`,
  );
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

export async function startEtcd(options: EtcdOptions = {}): Promise<EtcdServer> {
  requireEtcd();
  const root = mkdtempSync(join(tmpdir(), "deckhand-etcd-"));
  const dataDir = join(root, "data");
  const logPath = join(root, "etcd.log");
  // A port can be taken between probing and etcd binding it; a few attempts make that race harmless.
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const clientPort = await freePort();
    const peerPort = await freePort();
    if (clientPort === peerPort) continue;
    const server = new LocalEtcd(root, dataDir, logPath, clientPort, peerPort, options);
    try {
      await server.restart();
      return server;
    } catch (error) {
      lastError = error;
      await server.kill();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  rmSync(root, { recursive: true, force: true });
  throw lastError instanceof Error ? lastError : new Error(`etcd did not start: ${String(lastError)}`);
}

class LocalEtcd implements EtcdServer {
  readonly endpoint: string;
  readonly storeSpec: string;
  readonly dataDir: string;
  readonly #root: string;
  readonly #logPath: string;
  readonly #args: string[];
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();

  constructor(
    root: string,
    dataDir: string,
    logPath: string,
    clientPort: number,
    peerPort: number,
    options: EtcdOptions,
  ) {
    this.#root = root;
    this.dataDir = dataDir;
    this.#logPath = logPath;
    this.endpoint = `127.0.0.1:${clientPort}`;
    this.storeSpec = `etcd://${this.endpoint}`;
    const clientUrl = `http://127.0.0.1:${clientPort}`;
    const peerUrl = `http://127.0.0.1:${peerPort}`;
    const name = `deckhand-test-${clientPort}`;
    this.#args = [
      "--name",
      name,
      "--data-dir",
      dataDir,
      "--listen-client-urls",
      clientUrl,
      "--advertise-client-urls",
      clientUrl,
      "--listen-peer-urls",
      peerUrl,
      "--initial-advertise-peer-urls",
      peerUrl,
      "--initial-cluster",
      `${name}=${peerUrl}`,
      "--initial-cluster-state",
      "new",
      "--experimental-watch-progress-notify-interval",
      options.progressNotifyInterval ?? "500ms",
      "--logger",
      "zap",
      "--log-outputs",
      "stderr",
    ];
  }

  pid(): number | undefined {
    return this.#child?.exitCode === null && this.#child.signalCode === null ? this.#child.pid : undefined;
  }

  async restart(): Promise<void> {
    if (this.pid() !== undefined) throw new Error(`etcd at ${this.endpoint} is already running`);
    const log = openSync(this.#logPath, "a");
    const child = spawn(ETCD_BINARY, this.#args, { stdio: ["ignore", log, log] });
    closeSync(log);
    this.#child = child;
    this.#exited = new Promise((resolve) => child.once("exit", () => resolve()));
    const outcome = await waitFor(
      async () => {
        if (child.exitCode !== null || child.signalCode !== null) return "exited";
        const response = await fetch(`http://${this.endpoint}/health`, { signal: AbortSignal.timeout(1000) });
        const body = (await response.json()) as { health?: string };
        return body.health === "true" ? "healthy" : false;
      },
      { what: `etcd at ${this.endpoint} to report healthy`, timeoutMs: 30_000, intervalMs: 50 },
    ).catch((error: unknown) => {
      throw new Error(
        `${error instanceof Error ? error.message : String(error)}; log ${this.#logPath}:\n${this.#logTail()}`,
      );
    });
    if (outcome === "exited") {
      throw new Error(`etcd exited during start-up; its log ${this.#logPath} ends with:\n${this.#logTail()}`);
    }
  }

  async kill(): Promise<void> {
    if (this.pid() === undefined) return;
    this.#child?.kill("SIGKILL");
    await this.#exited;
  }

  async stop(): Promise<void> {
    if (this.pid() !== undefined) {
      this.#child?.kill("SIGTERM");
      const timer = setTimeout(() => this.#child?.kill("SIGKILL"), 10_000);
      await this.#exited;
      clearTimeout(timer);
    }
    rmSync(this.#root, { recursive: true, force: true });
  }

  #logTail(): string {
    try {
      return readFileSync(this.#logPath, "utf8").split("\n").slice(-15).join("\n");
    } catch {
      return "(no log)";
    }
  }
}
