// A throwaway control plane per test file: `deckhand control-plane` as a child process on a free loopback
// port with a temporary data directory (and, for store "etcd", a private etcd), its admin kubeconfig, and
// a kubectl runner with a fresh --cache-dir. The server speaks HTTPS only and wants credentials: fetch()
// presents the admin client certificate and trusts the cluster CA, fetchAs() other credentials, client()
// builds an ApiClient. restart() keeps the data directory (so the CA), port and kubeconfig, so clients can
// resume; kill() is a SIGKILL for durability tests.

import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiClient, type ApiClientOptions } from "../../src/api/client/client.ts";
import { type ClusterConnection, loadKubeconfig } from "../../src/api/client/kubeconfig.ts";
import { requirePrerequisite } from "./env.ts";
import { type EtcdServer, freePort, startEtcd } from "./etcd.ts";
import { type RunOptions, type RunResult, run } from "./run.ts";
import { type TlsCredentials, tlsFetch } from "./tls-fetch.ts";
import { waitFor } from "./wait.ts";

export const KUBECTL = "/usr/bin/kubectl";
export const KUBECTL_VERSIONS_DIR = "/usr/lib/google-cloud-sdk/bin";

const REPO_ROOT = join(import.meta.dirname, "..", "..");
const CLI = join(REPO_ROOT, "src", "cli", "main.ts");

export interface StartOptions {
  store?: "sqlite" | "etcd";
  /**
   * Which controllers run next to the API server (`--controllers`): default all (scheduler, replica
   * controllers …); false for the API server alone, when a test wants objects left exactly as it wrote them.
   */
  controllers?: boolean | string[];
  /** Extra `deckhand control-plane` flags (e.g. ["--service-cidr", "10.100.0.0/24"]). */
  args?: string[];
  /** Environment for the control plane process (e.g. to lower watch bookmark intervals). */
  env?: Record<string, string>;
  /**
   * The address to listen on and reach the server at (default 127.0.0.1), e.g. a test-created address that
   * agents in other network namespaces can reach; the serving certificate carries it.
   */
  listenHost?: string;
}

export interface KubectlOptions extends RunOptions {
  /** Another kubectl binary, e.g. "kubectl.1.27" from /usr/lib/google-cloud-sdk/bin. */
  binary?: string;
}

/** Whom fetchAs() speaks as: a client certificate, a bearer token, or nobody. */
export type Credentials = { certPem: string; keyPem: string } | { token: string } | "anonymous";

export interface TestControlPlane {
  /** https://127.0.0.1:<port> (or the listenHost asked for) */
  readonly url: string;
  readonly kubeconfigPath: string;
  /** The cluster CA (DATA_DIR/pki/ca.crt), PEM. */
  readonly caPem: string;
  /** The admin kubeconfig's connection (CA, client certificate), for ApiClients. */
  readonly connection: ClusterConnection;
  readonly dataDir: string;
  readonly store: "sqlite" | "etcd";
  /** Runs kubectl with this control plane's kubeconfig and a cache directory of its own. */
  kubectl(args: readonly string[], options?: KubectlOptions): Promise<RunResult>;
  /** fetch() against the API server as the admin, `path` relative to its URL. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** fetch() with other credentials (still trusting the cluster CA). */
  fetchAs(credentials: Credentials, path: string, init?: RequestInit): Promise<Response>;
  /** An ApiClient for the admin (close() it when done). */
  client(options?: ApiClientOptions): ApiClient;
  /** The control plane's log so far (JSON lines). */
  logs(): string;
  /** PID of the running control plane process, undefined while it is down. */
  pid(): number | undefined;
  /** SIGTERM the control plane and start it again on the same data directory and port. */
  restart(): Promise<void>;
  /** SIGKILL the control plane (no clean shutdown). */
  kill(): Promise<void>;
  /** Start again after kill(). */
  start(): Promise<void>;
  /** Stop everything and remove the temporary directories. */
  stop(): Promise<void>;
}

export function requireKubectl(binary = KUBECTL): string {
  const path = binary.startsWith("/")
    ? binary
    : binary === "kubectl"
      ? KUBECTL
      : join(KUBECTL_VERSIONS_DIR, binary);
  requirePrerequisite(
    existsSync(path),
    `kubectl binary ${path} is missing`,
    "install the Google Cloud SDK kubectl component (it provides /usr/bin/kubectl and the versioned kubectl.1.27 … kubectl.1.33)",
  );
  return path;
}

export async function startControlPlane(options: StartOptions = {}): Promise<TestControlPlane> {
  const kubectlPath = requireKubectl();
  const store = options.store ?? "sqlite";
  const root = mkdtempSync(join(tmpdir(), "deckhand-cp-"));
  const dataDir = join(root, "data");
  const cacheDir = join(root, "kubectl-cache");
  const logPath = join(root, "control-plane.log");
  let etcd: EtcdServer | undefined;
  if (store === "etcd") etcd = await startEtcd();
  const port = await freePort();
  const listenHost = options.listenHost ?? "127.0.0.1";
  const url = `https://${listenHost}:${port}`;
  const kubeconfigPath = join(dataDir, "admin.kubeconfig");
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const logs = () => (existsSync(logPath) ? readFileSync(logPath, "utf8") : "");

  const launch = async () => {
    const fd = openSync(logPath, "a");
    const args = [
      CLI,
      "control-plane",
      "--data-dir",
      dataDir,
      "--listen",
      `${listenHost}:${port}`,
      "--store",
      etcd ? etcd.storeSpec : "sqlite",
      "--log-level",
      "debug",
      "--controllers",
      options.controllers === false
        ? "none"
        : Array.isArray(options.controllers)
          ? options.controllers.join(",")
          : "*",
      ...(options.args ?? []),
    ];
    const proc = spawn(process.execPath, args, {
      stdio: ["ignore", fd, fd],
      env: { ...process.env, ...options.env },
    });
    closeSync(fd);
    child = proc;
    exited = new Promise((resolve) => proc.once("exit", () => resolve()));
    let failed: string | undefined;
    proc.once("exit", (code, signal) => {
      failed = `exited with ${signal ?? code}`;
    });
    await waitFor(
      async () => {
        if (failed) throw new Error(`deckhand control-plane ${failed}; log:\n${logs().slice(-3000)}`);
        const caPath = join(dataDir, "pki", "ca.crt");
        if (!existsSync(caPath)) return false;
        const res = await tlsFetch(`${url}/readyz`, {}, { ca: readFileSync(caPath, "utf8") }).catch(
          () => undefined,
        );
        await res?.body?.cancel();
        return res?.status === 200 && existsSync(kubeconfigPath);
      },
      {
        what: `the control plane on ${url} to be ready (log: ${logPath})`,
        timeoutMs: 60_000,
        intervalMs: 50,
      },
    ).catch((error: Error) => {
      throw new Error(`${error.message}\nlast log lines:\n${logs().slice(-3000)}`);
    });
  };

  const signal = async (sig: NodeJS.Signals) => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill(sig);
    const timer = setTimeout(() => proc.kill("SIGKILL"), 15_000);
    await exited;
    clearTimeout(timer);
  };

  await launch().catch(async (error) => {
    await signal("SIGKILL");
    await etcd?.stop();
    rmSync(root, { recursive: true, force: true });
    throw error;
  });

  const connection = await loadKubeconfig(kubeconfigPath);
  const caPem = readFileSync(join(dataDir, "pki", "ca.crt"), "utf8");
  const admin: TlsCredentials = {
    ca: caPem,
    cert: connection.clientCertificate?.toString(),
    key: connection.clientKey?.toString(),
  };
  const tlsFor = (credentials: Credentials): TlsCredentials => {
    if (credentials === "anonymous") return { ca: caPem };
    if ("token" in credentials) return { ca: caPem, token: credentials.token };
    return { ca: caPem, cert: credentials.certPem, key: credentials.keyPem };
  };

  return {
    url,
    kubeconfigPath,
    caPem,
    connection,
    dataDir,
    store,
    kubectl(args, kubectlOptions = {}) {
      const binary = kubectlOptions.binary ? requireKubectl(kubectlOptions.binary) : kubectlPath;
      return run(binary, ["--kubeconfig", kubeconfigPath, "--cache-dir", cacheDir, ...args], kubectlOptions);
    },
    fetch(path, init) {
      return tlsFetch(`${url}${path}`, init, admin);
    },
    fetchAs(credentials, path, init) {
      return tlsFetch(`${url}${path}`, init, tlsFor(credentials));
    },
    client(options) {
      return new ApiClient(connection, options);
    },
    logs,
    pid: () => (child && child.exitCode === null && child.signalCode === null ? child.pid : undefined),
    async restart() {
      await signal("SIGTERM");
      await launch();
    },
    async kill() {
      await signal("SIGKILL");
    },
    async start() {
      await launch();
    },
    async stop() {
      await signal("SIGTERM");
      await etcd?.stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
