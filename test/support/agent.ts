// A `deckhand agent` child process for one test file: its own node name, its own temporary root dir, its log
// captured to a file, and the lifecycle a test needs (kill -9, SIGTERM, start again). Agents of parallel
// test files share the Docker engine and the test containerd; each one labels what it creates with
// io.deckhand.node=<its node name> and only ever adopts or cleans up its own objects, so the helpers here
// look at the runtime through that label too (`nodeObjects`, `removeNodeObjects`).
import { type ChildProcess, spawn } from "node:child_process";
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { createCriRuntime } from "../../src/runtime/cri/index.ts";
import { createDockerRuntime } from "../../src/runtime/docker/index.ts";
import { isNotFound } from "../../src/runtime/errors.ts";
import { type Container, type PodSandbox, type Runtime, RuntimeLabels } from "../../src/runtime/types.ts";
import { requireRoot, requireSocket, testEnv } from "./env.ts";
import { freePort } from "./etcd.ts";
import { uniqueName } from "./names.ts";
import { run } from "./run.ts";

export type AgentRuntimeKind = "docker" | "cri";

const REPO_ROOT = join(import.meta.dirname, "..", "..");
const CLI = join(REPO_ROOT, "src", "cli", "main.ts");
/** The built command (npm run build), for benchmarks that measure what operators run. */
export const BUILT_CLI = join(REPO_ROOT, "dist", "cli", "main.js");

/** The shared test runtime's endpoint for each kind (scripts/setup-host.sh). */
export function defaultEndpoint(kind: AgentRuntimeKind): string {
  return kind === "docker" ? `unix://${testEnv.dockerSocket}` : testEnv.criEndpoint;
}

/** Fails loudly when the shared runtime of this kind is not there. */
export function requireRuntime(kind: AgentRuntimeKind): void {
  requireRoot();
  if (kind === "docker") requireSocket(testEnv.dockerSocket, "Docker engine");
  else requireSocket(testEnv.criSocket, "test containerd (CRI)");
}

/** A runtime driver for the test itself (exec into containers, inspect what the agent left). */
export function connectRuntime(kind: AgentRuntimeKind, endpoint = defaultEndpoint(kind)): Runtime {
  return kind === "docker"
    ? createDockerRuntime({ socketPath: endpoint, pauseImage: testEnv.pauseImage })
    : createCriRuntime({ endpoint, requestTimeoutMs: 60_000 });
}

export interface NodeObjects {
  sandboxes: PodSandbox[];
  containers: Container[];
}

/** Every sandbox and container in the runtime labelled as belonging to `nodeName`. */
export async function nodeObjects(runtime: Runtime, nodeName: string): Promise<NodeObjects> {
  const labelSelector = { [RuntimeLabels.nodeName]: nodeName };
  const [sandboxes, containers] = await Promise.all([
    runtime.listPodSandboxes({ labelSelector }),
    runtime.listContainers({ labelSelector }),
  ]);
  return { sandboxes, containers };
}

export function describeObjects(objects: NodeObjects): string {
  const sandboxes = objects.sandboxes.map(
    (s) => `sandbox ${s.id.slice(0, 12)} ${s.metadata.name} ${s.state}`,
  );
  const containers = objects.containers.map(
    (c) => `container ${c.id.slice(0, 12)} ${c.labels[RuntimeLabels.podName]}/${c.metadata.name} ${c.state}`,
  );
  return [...sandboxes, ...containers].join("; ") || "nothing";
}

/**
 * Force-removes whatever is labelled with `nodeName` (the safety net after a failed test). A container the
 * runtime is still starting (a call from an agent killed mid-request completes in the runtime anyway) can
 * refuse removal with "cannot delete running task" after the stop; so it lists again and retries, a few
 * rounds, before it gives up with the last error. Answers the containers whose task containerd had left in
 * CREATED state (see deleteStuckTask).
 */
export async function removeNodeObjects(runtime: Runtime, nodeName: string): Promise<string[]> {
  const stuck: string[] = [];
  let lastError: unknown;
  for (let round = 0; round < 5; round++) {
    const { sandboxes, containers } = await nodeObjects(runtime, nodeName);
    if (sandboxes.length === 0 && containers.length === 0) return stuck;
    if (round > 0) await sleep(500 * round);
    lastError = undefined;
    const removals = [
      ...containers.map(
        (c) => () => runtime.stopContainer(c.id, 0).then(() => runtime.removeContainer(c.id)),
      ),
      ...sandboxes.map((s) => () => runtime.stopPodSandbox(s.id).then(() => runtime.removePodSandbox(s.id))),
    ];
    for (const remove of removals) {
      await remove().catch(async (error: unknown) => {
        if (isNotFound(error)) return;
        const id = await deleteStuckTask(error);
        if (id === undefined) lastError = error;
        else stuck.push(id);
      });
    }
  }
  if (lastError !== undefined) throw lastError;
  return stuck;
}

/**
 * containerd 1.6 can leave a task in CREATED state when the agent that called StartContainer was killed
 * mid-call (the chaos tests do that). CRI then neither stops it (StopContainer skips a container that is not
 * running) nor removes it ("cannot delete running task"), and kubelet would be stuck the same way; only
 * containerd's own task API removes it. Answers the container's id when the error was that and the task is
 * gone now.
 */
async function deleteStuckTask(error: unknown): Promise<string | undefined> {
  const id = /cannot delete running task ([0-9a-f]{64})/.exec(String((error as Error)?.message))?.[1];
  const endpoint = (error as { cause?: { endpoint?: unknown } }).cause?.endpoint;
  if (!id || typeof endpoint !== "string" || !endpoint.startsWith("unix://")) return undefined;
  const ctr = ["--address", endpoint.slice("unix://".length), "--namespace", "k8s.io", "task"];
  await run("ctr", [...ctr, "kill", "--signal", "SIGKILL", id], { allowFailure: true });
  const deleted = await run("ctr", [...ctr, "delete", "--force", id], { allowFailure: true });
  return deleted.code === 0 ? id : undefined;
}

export interface StartAgentOptions {
  runtime: AgentRuntimeKind;
  kubeconfigPath: string;
  /** Another runtime socket than the shared one (a socket proxy, a private containerd). */
  runtimeEndpoint?: string;
  /** KubeletConfiguration-style fields, written to the agent's --config file. */
  config?: Record<string, unknown>;
  nodeName?: string;
  logLevel?: string;
  /** The `deckhand` entry point to run (default: the TypeScript sources, src/cli/main.ts). */
  cli?: string;
  /**
   * Runs the agent inside this network namespace (`nsenter --net`, which execs: the PID stays the agent's;
   * not `ip netns exec`, whose private /sys hides the cgroup mounts).
   */
  netns?: string;
}

export interface TestAgent {
  readonly nodeName: string;
  readonly rootDir: string;
  readonly runtimeKind: AgentRuntimeKind;
  readonly runtimeEndpoint: string;
  readonly logPath: string;
  /** The unix socket `deckhand debug --socket` talks to. */
  readonly debugSocket: string;
  /** The process is alive. */
  readonly running: boolean;
  /** The agent's log so far (pino JSON lines). */
  logs(): string;
  /** The last `lines` lines of the log, for failure messages. */
  tail(lines?: number): string;
  /** Starts the process again (after kill9/stop); containers it left behind are adopted. */
  start(): Promise<void>;
  /** SIGTERM and wait for the exit: the agent stops, its containers keep running. */
  stop(): Promise<void>;
  /** SIGKILL: no clean shutdown at all. */
  kill9(): Promise<void>;
  restart(): Promise<void>;
  /** Stops the agent and removes its root dir (unmounting what is left below it). */
  dispose(): Promise<void>;
}

/** Spawns `deckhand agent` for a new node; it is running (not necessarily registered) when this resolves. */
export async function startAgent(options: StartAgentOptions): Promise<TestAgent> {
  requireRuntime(options.runtime);
  const nodeName = options.nodeName ?? uniqueName(`dh-node-${options.runtime}`);
  const dir = mkdtempSync(join(tmpdir(), "deckhand-agent-"));
  const rootDir = join(dir, "root");
  const logPath = join(dir, "agent.log");
  const configPath = join(dir, "config.yaml");
  const runtimeEndpoint = options.runtimeEndpoint ?? defaultEndpoint(options.runtime);
  // The node API (logs, exec, port-forward, metrics) listens on loopback only and on ports of its own, so
  // that agents of parallel test files never collide; the Node reports 127.0.0.1 as its InternalIP, so the
  // control plane reaches the agent there (tests talk to loopback only).
  // No service proxy: agents of parallel tests would all program the host's KUBE-* chains. The proxy's
  // own tests run it in network namespaces of their own.
  const nodeApi = {
    address: "127.0.0.1",
    port: await freePort(),
    healthzPort: await freePort(),
    nodeIP: "127.0.0.1",
    proxyMode: "none",
    // `deckhand debug`'s socket, private to this agent.
    debugSocket: join(dir, "debug.sock"),
  };
  writeFileSync(configPath, JSON.stringify({ ...nodeApi, ...options.config }, null, 2));
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const logs = () => (existsSync(logPath) ? readFileSync(logPath, "utf8") : "");
  const tail = (lines = 40) => logs().trimEnd().split("\n").slice(-lines).join("\n");

  const start = async () => {
    if (child && child.exitCode === null && child.signalCode === null)
      throw new Error(`agent for ${nodeName} is already running (pid ${child.pid})`);
    const fd = openSync(logPath, "a");
    const args = [
      options.cli ?? CLI,
      "agent",
      "--kubeconfig",
      options.kubeconfigPath,
      "--node-name",
      nodeName,
      "--runtime",
      options.runtime,
      "--runtime-endpoint",
      runtimeEndpoint,
      "--root-dir",
      rootDir,
      "--pod-infra-container-image",
      testEnv.pauseImage,
      "--config",
      configPath,
      "--log-level",
      options.logLevel ?? "debug",
    ];
    const proc = options.netns
      ? spawn("ip", ["netns", "exec", options.netns, process.execPath, ...args], {
          stdio: ["ignore", fd, fd],
        })
      : spawn(process.execPath, args, { stdio: ["ignore", fd, fd] });
    closeSync(fd);
    child = proc;
    exited = new Promise((resolve) => proc.once("exit", () => resolve()));
    // Fail fast on a start-up error (bad flags, bad config) instead of waiting for a Ready node.
    await new Promise<void>((resolve, reject) => {
      const early = (code: number | null, signal: string | null) =>
        reject(new Error(`deckhand agent exited with ${signal ?? code} at start-up; log:\n${tail()}`));
      proc.once("exit", early);
      setTimeout(() => {
        proc.off("exit", early);
        resolve();
      }, 300);
    });
  };

  const signal = async (sig: NodeJS.Signals) => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill(sig);
    const timer = setTimeout(() => proc.kill("SIGKILL"), 30_000);
    await exited;
    clearTimeout(timer);
  };

  await start();
  return {
    nodeName,
    rootDir,
    runtimeKind: options.runtime,
    runtimeEndpoint,
    logPath,
    debugSocket: nodeApi.debugSocket,
    get running() {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
    logs,
    tail,
    start,
    stop: () => signal("SIGTERM"),
    kill9: () => signal("SIGKILL"),
    async restart() {
      await signal("SIGTERM");
      await start();
    },
    async dispose() {
      await signal("SIGTERM");
      // Pods the test left behind (containers outlive the agent by design): removed from the shared runtime,
      // so that runs do not pile up containers. A private runtime is the test's own to tear down.
      if (options.runtimeEndpoint === undefined) {
        const runtime = connectRuntime(options.runtime);
        try {
          await removeNodeObjects(runtime, nodeName);
        } finally {
          await runtime.close();
        }
      }
      // Volumes (tmpfs emptyDirs, secrets) may still be mounted below the root dir if a test failed early.
      await run("sh", ["-c", `grep -o ' ${dir}/[^ ]*' /proc/mounts | sort -r | xargs -r -n1 umount -l`], {
        allowFailure: true,
      });
      // DECKHAND_TEST_KEEP_LOGS=DIR keeps every agent's log there (for debugging a failed run).
      const keep = process.env.DECKHAND_TEST_KEEP_LOGS;
      if (keep && existsSync(logPath)) {
        mkdirSync(keep, { recursive: true });
        copyFileSync(logPath, join(keep, `${nodeName}.log`));
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface NodeLike {
  metadata?: { name?: string; uid?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  status?: {
    conditions?: Array<{ type: string; status: string; reason?: string; message?: string }>;
    capacity?: Record<string, string>;
    allocatable?: Record<string, string>;
    nodeInfo?: Record<string, string>;
    addresses?: Array<{ type: string; address: string }>;
  };
}

/** Reaches the API server as a test control plane does (cp.fetch: HTTPS with the admin's certificate). */
export interface ApiFetch {
  fetch(path: string, init?: RequestInit): Promise<Response>;
}

/** GETs the Node from the API (undefined while it does not exist). */
export async function getNode(api: ApiFetch, nodeName: string): Promise<NodeLike | undefined> {
  const res = await api.fetch(`/api/v1/nodes/${nodeName}`);
  if (res.status === 404) return undefined;
  if (!res.ok) throw new Error(`GET node ${nodeName}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as NodeLike;
}

export function nodeCondition(node: NodeLike | undefined, type: string) {
  return node?.status?.conditions?.find((c) => c.type === type);
}

/** Waits until the agent's Node exists with Ready=True; returns it. Fails at once if the agent exits. */
export async function waitForNodeReady(
  api: ApiFetch,
  agent: Pick<TestAgent, "nodeName" | "tail" | "running">,
  timeoutMs = 90_000,
): Promise<NodeLike> {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer yet";
  for (;;) {
    if (!agent.running)
      throw new Error(
        `the agent for ${agent.nodeName} exited before its node was Ready; log:\n${agent.tail()}`,
      );
    try {
      const node = await getNode(api, agent.nodeName);
      const ready = nodeCondition(node, "Ready");
      if (ready?.status === "True") return node as NodeLike;
      last = node ? `Ready=${ready?.status} ${ready?.reason}: ${ready?.message}` : "node not registered";
    } catch (error) {
      last = (error as Error).message;
    }
    if (Date.now() >= deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for node ${agent.nodeName} to be Ready (${last}); agent log:\n${agent.tail()}`,
      );
    await sleep(250);
  }
}
