// The Docker implementation of Runtime, dockershim style: a sandbox is a pause container, app containers
// join its namespaces. Identity lives in labels (./labels.ts), so listing the engine rebuilds all state.
import { connect, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import type Docker from "dockerode";
import { invalid, RuntimeError } from "../errors.ts";
import type {
  AuthConfig,
  Container,
  ContainerConfig,
  ContainerFilter,
  ContainerStats,
  ContainerStatus,
  ExecOptions,
  ExecSyncResult,
  Image,
  ImageFsUsage,
  LogLine,
  LogOptions,
  PodSandbox,
  PodSandboxConfig,
  PodSandboxFilter,
  PodSandboxStatus,
  Runtime,
  RuntimeStatus,
  RuntimeVersion,
  StreamOptions,
  StreamResult,
} from "../types.ts";
import { RuntimeLabels } from "../types.ts";
import { validateContainerConfig, validatePort, validateSandboxConfig } from "../validate.ts";
import { type CallOptions, createDockerClient, type DockerClient } from "./client.ts";
import {
  containerFromListEntry,
  containerStatusFromInspect,
  sandboxFromListEntry,
  sandboxStatusFromInspect,
} from "./convert.ts";
import { dockerMessage, isConnectionError, statusCodeOf, toRuntimeError, unavailable } from "./errors.ts";
import {
  dockerAuth,
  followPull,
  imageFromInspect,
  imageFromListEntry,
  normalizeImageRef,
  registryOf,
} from "./images.ts";
import { CONTAINER_TYPE, DockerLabels, labelFilters, MANAGED_VALUE, SANDBOX_TYPE } from "./labels.ts";
import { demuxLogLines, dockerSince, rawLogLines } from "./logs.ts";
import { type DockerRuntimeOptions, type ResolvedDockerOptions, resolveDockerOptions } from "./options.ts";
import { containerCreateOptions, sandboxCreateOptions } from "./specs.ts";
import { type DockerStatsDocument, statsFromDocument } from "./stats.ts";
import { Collector, killTree, wireSession } from "./streams.ts";

const FULL_ID = /^[0-9a-f]{64}$/;

/** How long a stopped pod's pause container gets to exit on SIGTERM (dockershim's defaultSandboxGracePeriod). */
const SANDBOX_GRACE_SECONDS = 10;

type Kind = typeof SANDBOX_TYPE | typeof CONTAINER_TYPE;

export class DockerRuntime implements Runtime {
  readonly name = "docker" as const;
  readonly endpoint: string;
  private readonly options: ResolvedDockerOptions;
  private readonly client: DockerClient;

  constructor(options: DockerRuntimeOptions = {}) {
    this.options = resolveDockerOptions(options);
    this.endpoint = this.options.endpoint;
    this.client = createDockerClient(this.options);
  }

  private get docker(): Docker {
    return this.client.docker;
  }

  private call<T>(what: string, fn: (signal: AbortSignal) => Promise<T>, options?: CallOptions): Promise<T> {
    return this.client.call(what, fn, options);
  }

  /** A call that opens a stream (hijacked exec/attach, followed logs, pull progress): never retried. */
  private stream<T>(what: string, fn: (signal: AbortSignal) => Promise<T>, timeoutMs?: number): Promise<T> {
    return this.client.call(what, fn, { retryOnReset: false, ...(timeoutMs ? { timeoutMs } : {}) });
  }

  // ---------------------------------------------------------------------------------------------------
  // Runtime
  // ---------------------------------------------------------------------------------------------------

  async version(): Promise<RuntimeVersion> {
    const v = await this.call("version", () => this.docker.version());
    return { runtimeName: "docker", runtimeVersion: v.Version, runtimeApiVersion: "v1" };
  }

  async status(): Promise<RuntimeStatus> {
    await this.call("ping", () => this.docker.ping());
    const network = await this.call("inspect network bridge", () =>
      this.docker.getNetwork("bridge").inspect(),
    ).then(
      () => ({ status: true, reason: "", message: "" }),
      (error: RuntimeError) => {
        if (error.code === "RUNTIME_UNAVAILABLE") throw error;
        return {
          status: false,
          reason: "NetworkPluginNotReady",
          message: `Docker's default bridge network is missing: ${error.message}`,
        };
      },
    );
    return {
      conditions: [
        { type: "RuntimeReady", status: true, reason: "", message: "" },
        { type: "NetworkReady", ...network },
      ],
    };
  }

  // ---------------------------------------------------------------------------------------------------
  // Sandboxes
  // ---------------------------------------------------------------------------------------------------

  async runPodSandbox(config: PodSandboxConfig): Promise<string> {
    validateSandboxConfig(config);
    const spec = sandboxCreateOptions(config, this.options);
    const what = `create sandbox ${spec.name}`;
    let container: Docker.Container;
    try {
      container = await this.call(what, (abortSignal) =>
        this.docker.createContainer({ ...spec, abortSignal }),
      );
    } catch (error) {
      if (!isMissingImage(error)) throw error;
      await this.pullImage(this.options.pauseImage);
      container = await this.call(what, (abortSignal) =>
        this.docker.createContainer({ ...spec, abortSignal }),
      );
    }
    try {
      await this.call(`start sandbox ${spec.name}`, (abortSignal) => container.start({ abortSignal }));
    } catch (error) {
      await this.removeQuietly(container.id);
      throw error;
    }
    return container.id;
  }

  async stopPodSandbox(id: string): Promise<void> {
    const sandbox = await this.findKind(id, SANDBOX_TYPE).catch(ignoreNotFound);
    if (!sandbox) return;
    const members = await this.listByLabels([`${DockerLabels.sandboxId}=${sandbox.Id}`], CONTAINER_TYPE);
    // Like containerd: whatever still runs when the pod is stopped is killed without grace (the agent
    // stops containers with their grace periods first).
    await Promise.all(
      members.filter((c) => c.State === "running").map((c) => this.stopById(c.Id, 0).catch(ignoreNotFound)),
    );
    await this.stopById(sandbox.Id, SANDBOX_GRACE_SECONDS).catch(ignoreNotFound);
  }

  async removePodSandbox(id: string): Promise<void> {
    const sandbox = await this.findKind(id, SANDBOX_TYPE).catch(ignoreNotFound);
    if (!sandbox) return;
    const members = await this.listByLabels([`${DockerLabels.sandboxId}=${sandbox.Id}`], CONTAINER_TYPE);
    await Promise.all(members.map((c) => this.removeById(c.Id)));
    await this.removeById(sandbox.Id);
  }

  async podSandboxStatus(id: string): Promise<PodSandboxStatus> {
    return sandboxStatusFromInspect(await this.inspectKind(id, SANDBOX_TYPE));
  }

  async listPodSandboxes(filter: PodSandboxFilter = {}): Promise<PodSandbox[]> {
    const entries = await this.listByLabels(
      labelFilters(filter.labelSelector ?? {}),
      SANDBOX_TYPE,
      filter.id,
    );
    return entries
      .map(sandboxFromListEntry)
      .filter((s) => (filter.id ? s.id.startsWith(filter.id) : true))
      .filter((s) => (filter.state ? s.state === filter.state : true));
  }

  // ---------------------------------------------------------------------------------------------------
  // Containers
  // ---------------------------------------------------------------------------------------------------

  async createContainer(
    podSandboxId: string,
    config: ContainerConfig,
    sandboxConfig: PodSandboxConfig,
  ): Promise<string> {
    validateContainerConfig(config);
    validateSandboxConfig(sandboxConfig);
    // No lookup on the hot path (every request costs while many pods start): Docker itself answers 404
    // for a `container:<id>` mode naming a missing container. Short IDs are resolved, so that the sandbox
    // label always holds the full ID.
    const sandboxId = FULL_ID.test(podSandboxId)
      ? podSandboxId
      : (await this.findKind(podSandboxId, SANDBOX_TYPE)).Id;
    const spec = containerCreateOptions(sandboxId, config, sandboxConfig, this.options);
    try {
      const container = await this.call(`create container ${spec.name}`, (abortSignal) =>
        this.docker.createContainer({ ...spec, abortSignal }),
      );
      return container.id;
    } catch (error) {
      if (isMissingImage(error)) {
        throw new RuntimeError(
          "RUNTIME_NOT_FOUND",
          `create container ${spec.name}: image ${config.image} is not present in Docker at ${this.endpoint}; pull it first`,
          { cause: error },
        );
      }
      if (error instanceof RuntimeError && error.code === "RUNTIME_NOT_FOUND") {
        throw new RuntimeError(
          "RUNTIME_NOT_FOUND",
          `create container ${spec.name}: sandbox ${podSandboxId} not found in Docker at ${this.endpoint}`,
          { cause: error },
        );
      }
      throw error;
    }
  }

  async startContainer(id: string): Promise<void> {
    // Straight to Docker (a missing container is its 404): see createContainer.
    await this.call(`start container ${id}`, (abortSignal) =>
      this.docker.getContainer(id).start({ abortSignal }),
    ).catch(ignoreNotModified);
  }

  async stopContainer(id: string, timeoutSeconds: number): Promise<void> {
    if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 0) {
      throw invalid("timeoutSeconds", `${timeoutSeconds} is not a non-negative integer`);
    }
    const container = await this.findKind(id, CONTAINER_TYPE);
    await this.stopById(container.Id, timeoutSeconds);
  }

  async removeContainer(id: string): Promise<void> {
    const container = await this.findKind(id, CONTAINER_TYPE).catch(ignoreNotFound);
    if (container) await this.removeById(container.Id);
  }

  /** Docker sends the stop signal, waits `t` seconds, then SIGKILLs: exactly the CRI contract. */
  private async stopById(id: string, timeoutSeconds: number): Promise<void> {
    await this.call(
      `stop container ${id}`,
      (abortSignal) => this.docker.getContainer(id).stop({ t: timeoutSeconds, abortSignal }),
      { timeoutMs: timeoutSeconds * 1000 + this.options.requestTimeoutMs },
    ).catch(ignoreNotModified);
  }

  private async removeById(id: string): Promise<void> {
    await this.call(`remove container ${id}`, (abortSignal) =>
      this.docker.getContainer(id).remove({ force: true, v: true, abortSignal }),
    ).catch((error: RuntimeError) => {
      if (error.code === "RUNTIME_NOT_FOUND") return;
      if (/already in progress/.test(error.message)) return;
      throw error;
    });
  }

  async containerStatus(id: string): Promise<ContainerStatus> {
    return containerStatusFromInspect(await this.inspectKind(id, CONTAINER_TYPE));
  }

  async listContainers(filter: ContainerFilter = {}): Promise<Container[]> {
    const labels = labelFilters(filter.labelSelector ?? {});
    if (filter.podSandboxId) labels.push(`${DockerLabels.sandboxId}=${filter.podSandboxId}`);
    const entries = await this.listByLabels(labels, CONTAINER_TYPE, filter.id);
    return entries
      .map(containerFromListEntry)
      .filter((c) => (filter.id ? c.id.startsWith(filter.id) : true))
      .filter((c) => (filter.state ? c.state === filter.state : true));
  }

  // ---------------------------------------------------------------------------------------------------
  // Exec, attach, port-forward, logs
  // ---------------------------------------------------------------------------------------------------

  async execSync(containerId: string, command: string[], timeoutSeconds: number): Promise<ExecSyncResult> {
    validateCommand(command);
    if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 0) {
      throw invalid("timeoutSeconds", `${timeoutSeconds} is not a non-negative integer (0 = no timeout)`);
    }
    await this.inspectKind(containerId, CONTAINER_TYPE);
    const what = `exec ${JSON.stringify(command)} in container ${containerId}`;
    const exec = await this.call(what, (abortSignal) =>
      this.docker
        .getContainer(containerId)
        .exec({ Cmd: command, AttachStdout: true, AttachStderr: true, Tty: false, abortSignal }),
    );
    const socket = await this.stream(
      what,
      (abortSignal) => exec.start({ hijack: true, stdin: false, abortSignal }) as Promise<Duplex>,
    );
    const stdout = new Collector();
    const stderr = new Collector();
    const session = wireSession(this.docker.modem, socket, { tty: false, stdout, stderr });
    let timer: NodeJS.Timeout | undefined;
    const timedOut =
      timeoutSeconds === 0
        ? new Promise<never>(() => undefined)
        : new Promise<"timeout">((resolve) => {
            timer = setTimeout(() => resolve("timeout"), timeoutSeconds * 1000);
          });
    const outcome = await Promise.race([session, timedOut]);
    clearTimeout(timer);
    if (outcome === "timeout") {
      // Docker has no API to kill an exec'd process: kill it (and its children) by host PID, then give up.
      const pid = await exec
        .inspect()
        .then((i) => i.Pid)
        .catch(() => 0);
      killTree(pid);
      socket.destroy();
      throw new RuntimeError(
        "RUNTIME_DEADLINE",
        `${what} did not finish within ${timeoutSeconds}s; the process was killed`,
      );
    }
    const exitCode = await this.execExitCode(exec);
    return { stdout: stdout.buffer, stderr: stderr.buffer, exitCode: exitCode ?? -1 };
  }

  async exec(containerId: string, options: ExecOptions): Promise<StreamResult> {
    validateCommand(options.command);
    await this.inspectKind(containerId, CONTAINER_TYPE);
    const tty = options.tty === true;
    const what = `exec ${JSON.stringify(options.command)} in container ${containerId}`;
    const exec = await this.call(what, (abortSignal) =>
      this.docker.getContainer(containerId).exec({
        Cmd: options.command,
        AttachStdin: options.stdin !== undefined,
        AttachStdout: options.stdout !== undefined,
        AttachStderr: options.stderr !== undefined && !tty,
        Tty: tty,
        abortSignal,
      }),
    );
    const socket = await this.stream(
      what,
      (abortSignal) =>
        exec.start({
          hijack: true,
          stdin: options.stdin !== undefined,
          Tty: tty,
          abortSignal,
        }) as Promise<Duplex>,
    );
    const how = await wireSession(this.docker.modem, socket, {
      ...options,
      tty,
      applyResize: (size) => exec.resize({ h: size.height, w: size.width }),
    });
    const exitCode = await this.execExitCode(exec, how === "aborted" ? 1 : 50);
    return { exitCode };
  }

  async attach(containerId: string, options: StreamOptions): Promise<StreamResult> {
    const info = await this.inspectKind(containerId, CONTAINER_TYPE);
    const container = this.docker.getContainer(info.Id);
    const tty = info.Config.Tty;
    const socket = await this.stream(
      `attach to container ${containerId}`,
      (abortSignal) =>
        container.attach({
          stream: true,
          stdin: options.stdin !== undefined,
          stdout: options.stdout !== undefined,
          stderr: options.stderr !== undefined,
          hijack: true,
          abortSignal,
        }) as Promise<Duplex>,
    );
    await wireSession(this.docker.modem, socket, {
      ...options,
      tty,
      applyResize: (size) => container.resize({ h: size.height, w: size.width }),
    });
    const after = await this.inspectKind(containerId, CONTAINER_TYPE).catch(() => undefined);
    return { exitCode: after && !after.State.Running ? after.State.ExitCode : undefined };
  }

  /**
   * Connects to `port` on the sandbox's IP from the host. The sandbox's network is Docker's bridge, local
   * to this host, so a plain TCP connection reaches the pod without entering its namespace (no nsenter or
   * socat). Difference from kubelet's in-namespace forwarding: a server bound only to 127.0.0.1 inside the
   * pod is not reachable this way. Host-network sandboxes are reached on 127.0.0.1.
   */
  async portForward(podSandboxId: string, port: number): Promise<Duplex> {
    validatePort("port", port);
    const status = await this.podSandboxStatus(podSandboxId);
    if (status.state !== "ready") {
      throw new RuntimeError(
        "RUNTIME_ERROR",
        `port-forward to sandbox ${podSandboxId}: the sandbox is not ready`,
      );
    }
    const host = status.hostNetwork ? "127.0.0.1" : status.ip;
    if (!host) {
      throw new RuntimeError(
        "RUNTIME_ERROR",
        `port-forward to sandbox ${podSandboxId}: the sandbox has no IP`,
      );
    }
    return await new Promise<Socket>((resolve, reject) => {
      const socket = connect({ host, port });
      socket.once("connect", () => {
        socket.removeAllListeners("error");
        resolve(socket);
      });
      socket.once("error", (error) =>
        reject(
          new RuntimeError(
            "RUNTIME_ERROR",
            `port-forward to sandbox ${podSandboxId} port ${port} (${host}:${port}) failed: ${error.message}`,
            { cause: error },
          ),
        ),
      );
    });
  }

  async *containerLogs(containerId: string, options: LogOptions = {}): AsyncIterable<LogLine> {
    const info = await this.inspectKind(containerId, CONTAINER_TYPE);
    const what = `logs of container ${containerId}`;
    const query = {
      stdout: options.stdout ?? true,
      stderr: options.stderr ?? true,
      timestamps: true,
      ...(options.tail === undefined ? {} : { tail: options.tail }),
      ...(options.sinceMs ? { since: dockerSince(options.sinceMs) } : {}),
      ...(options.signal ? { abortSignal: options.signal } : {}),
    };
    const container = this.docker.getContainer(info.Id);
    let chunks: AsyncIterable<Buffer>;
    if (options.follow) {
      const stream = await this.stream(
        what,
        () => container.logs({ ...query, follow: true }) as Promise<NodeJS.ReadableStream>,
      ).catch((error: unknown) => {
        if (options.signal?.aborted) return undefined;
        throw error;
      });
      if (!stream) return;
      chunks = stream as AsyncIterable<Buffer>;
    } else {
      const buffer = await this.call(
        what,
        () => container.logs({ ...query, follow: false }) as Promise<Buffer>,
      );
      chunks = toAsync(Buffer.isBuffer(buffer) ? buffer : Buffer.from(String(buffer)));
    }
    const lines = info.Config.Tty ? rawLogLines(chunks) : demuxLogLines(chunks);
    try {
      for await (const line of lines) {
        if (options.sinceMs && line.timestampMs < options.sinceMs) continue;
        yield line;
      }
    } catch (error) {
      if (options.signal?.aborted) return;
      throw toRuntimeError(this.endpoint, what, error);
    }
  }

  // ---------------------------------------------------------------------------------------------------
  // Images
  // ---------------------------------------------------------------------------------------------------

  async pullImage(image: string, auth?: AuthConfig): Promise<string> {
    if (typeof image !== "string" || image.trim() === "" || /\s/.test(image)) {
      throw invalid("image", `${JSON.stringify(image)} is not an image reference`);
    }
    const ref = normalizeImageRef(image);
    const registry = registryOf(ref);
    const failed = (answer: string, cause?: unknown) =>
      new RuntimeError("RUNTIME_IMAGE_PULL", `pull ${image} from ${registry} failed: ${answer}`, { cause });
    const answer = await this.stream(
      `pull ${image}`,
      async (abortSignal) => {
        let stream: NodeJS.ReadableStream;
        try {
          stream = await this.docker.pull(ref, { authconfig: dockerAuth(ref, auth), abortSignal });
        } catch (error) {
          if (isConnectionError(error)) throw unavailable(this.endpoint, error);
          throw failed(dockerMessage(error), error);
        }
        return await followPull(this.docker.modem, stream);
      },
      this.options.pullTimeoutMs,
    );
    if (answer !== undefined) throw failed(answer);
    const info = await this.call(`inspect image ${ref}`, () => this.docker.getImage(ref).inspect());
    return info.Id;
  }

  async imageStatus(image: string): Promise<Image | undefined> {
    const ref = isImageId(image) ? image : normalizeImageRef(image);
    try {
      const info = await this.call(`inspect image ${image}`, () => this.docker.getImage(ref).inspect());
      return imageFromInspect(info);
    } catch (error) {
      if ((error as RuntimeError).code === "RUNTIME_NOT_FOUND") return undefined;
      throw error;
    }
  }

  async listImages(): Promise<Image[]> {
    const list = await this.call("list images", (abortSignal) => this.docker.listImages({ abortSignal }));
    return list.map(imageFromListEntry);
  }

  /**
   * A tag removes that tag (Docker's semantics; the image goes with its last tag). An image ID removes the
   * image with all its tags, as kubelet's image GC expects (Docker alone refuses an ID that several
   * repositories reference).
   */
  async removeImage(image: string): Promise<void> {
    const byId = isImageId(image);
    const ref = byId ? image : normalizeImageRef(image);
    const remove = (name: string) =>
      this.call(`remove image ${name}`, (abortSignal) =>
        this.docker.getImage(name).remove({ abortSignal }),
      ).catch((error: RuntimeError) => {
        if (error.code !== "RUNTIME_NOT_FOUND") throw error;
      });
    if (byId) {
      const status = await this.imageStatus(ref);
      if (!status) return;
      for (const tag of status.repoTags) await remove(tag);
      if (status.repoTags.length === 0 || (await this.imageStatus(ref))) await remove(ref);
      return;
    }
    await remove(ref);
  }

  async imageFsInfo(): Promise<ImageFsUsage[]> {
    const [info, df] = await Promise.all([
      this.call("info", () => this.docker.info() as Promise<Record<string, unknown>>),
      this.call("system df", () => this.docker.df() as Promise<{ LayersSize?: number }>),
    ]);
    const root = String(info.DockerRootDir ?? "/var/lib/docker");
    const driver = String(info.Driver ?? "");
    return [
      {
        mountpoint: driver ? `${root}/${driver}` : root,
        usedBytes: df.LayersSize ?? 0,
        // Docker does not count inodes of image layers; 0 means unknown, as with CRI runtimes that do not report it.
        inodesUsed: 0,
        timestampMs: Date.now(),
      },
    ];
  }

  // ---------------------------------------------------------------------------------------------------
  // Stats
  // ---------------------------------------------------------------------------------------------------

  async containerStats(id: string): Promise<ContainerStats> {
    const info = await this.inspectKind(id, CONTAINER_TYPE);
    return this.statsOf(info.Id, info.Config.Labels ?? {});
  }

  async listContainerStats(filter: ContainerFilter = {}): Promise<ContainerStats[]> {
    const running = (await this.listContainers({ ...filter, state: filter.state ?? "running" })).filter(
      (c) => c.state === "running",
    );
    const stats = await Promise.all(
      running.map((c) =>
        this.statsOf(c.id, {
          [RuntimeLabels.containerName]: c.metadata.name,
          [DockerLabels.sandboxId]: c.podSandboxId,
        }).catch(ignoreNotFound),
      ),
    );
    return stats.filter((s): s is ContainerStats => s !== undefined);
  }

  private async statsOf(id: string, labels: Record<string, string>): Promise<ContainerStats> {
    // one-shot (API 1.41) skips the second sample Docker otherwise waits a second for.
    const doc = await this.call(
      `stats of container ${id}`,
      (abortSignal) =>
        this.docker.getContainer(id).stats({ stream: false, "one-shot": true, abortSignal } as {
          stream: false;
        }) as Promise<DockerStatsDocument>,
    );
    return statsFromDocument(
      doc,
      {
        containerId: id,
        name: labels[RuntimeLabels.containerName] ?? "",
        podSandboxId: labels[DockerLabels.sandboxId] ?? "",
      },
      Date.now(),
    );
  }

  async close(): Promise<void> {
    this.client.close();
  }

  // ---------------------------------------------------------------------------------------------------
  // Helpers
  // ---------------------------------------------------------------------------------------------------

  /**
   * Finds a Deckhand-managed object of the given kind by ID (or unique ID prefix) through Docker's list
   * call, which reads the daemon's in-memory view without taking container locks: an inspect here costs
   * seconds while twenty containers start. Anything else is RUNTIME_NOT_FOUND.
   */
  private async findKind(id: string, kind: Kind): Promise<Docker.ContainerInfo> {
    const noun = kind === SANDBOX_TYPE ? "sandbox" : "container";
    if (typeof id !== "string" || !/^[0-9a-f]{1,64}$/.test(id)) {
      throw new RuntimeError("RUNTIME_NOT_FOUND", `${noun} ${JSON.stringify(id)}: not a Docker container ID`);
    }
    const matches = (await this.listByLabels([], kind, id)).filter((c) => c.Id.startsWith(id));
    const found = matches.find((c) => c.Id === id) ?? (matches.length === 1 ? matches[0] : undefined);
    if (!found) {
      const why = matches.length > 1 ? `the ID prefix is ambiguous (${matches.length} matches)` : "not found";
      throw new RuntimeError(
        "RUNTIME_NOT_FOUND",
        `${noun} ${id}: ${why} among Deckhand ${noun}s in Docker at ${this.endpoint}`,
      );
    }
    return found;
  }

  /** Inspects a Deckhand-managed object of the given kind; anything else is RUNTIME_NOT_FOUND. */
  private async inspectKind(id: string, kind: Kind): Promise<Docker.ContainerInspectInfo> {
    const noun = kind === SANDBOX_TYPE ? "sandbox" : "container";
    if (typeof id !== "string" || id === "") throw invalid("id", `a ${noun} ID is required`);
    const info = await this.call(`inspect ${noun} ${id}`, (abortSignal) =>
      this.docker.getContainer(id).inspect({ abortSignal }),
    );
    const labels = info.Config.Labels ?? {};
    if (labels[DockerLabels.type] !== kind || labels[RuntimeLabels.managedBy] !== MANAGED_VALUE) {
      throw new RuntimeError(
        "RUNTIME_NOT_FOUND",
        `inspect ${noun} ${id}: Docker container ${info.Name} is not a Deckhand ${noun}`,
      );
    }
    return info;
  }

  private listByLabels(labels: string[], kind: Kind, id?: string): Promise<Docker.ContainerInfo[]> {
    const filters: Record<string, string[]> = {
      label: [`${RuntimeLabels.managedBy}=${MANAGED_VALUE}`, `${DockerLabels.type}=${kind}`, ...labels],
    };
    if (id) filters.id = [id];
    return this.call(`list ${kind}s`, (abortSignal) =>
      this.docker.listContainers({ all: true, filters, abortSignal }),
    );
  }

  private async removeQuietly(id: string): Promise<void> {
    await this.docker
      .getContainer(id)
      .remove({ force: true, v: true })
      .catch(() => undefined);
  }

  /** Docker may report the exec as running for a moment after its stream closed; poll briefly. */
  private async execExitCode(exec: Docker.Exec, attempts = 50): Promise<number | undefined> {
    for (let i = 0; i < attempts; i++) {
      const info = await this.call("inspect exec", (abortSignal) => exec.inspect({ abortSignal }));
      if (!info.Running) return info.ExitCode ?? undefined;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return undefined;
  }
}

/** "sha256:<hex>" or a bare hex ID (prefix) as `docker images -q` prints it. */
function isImageId(image: string): boolean {
  return /^sha256:[0-9a-f]{1,64}$/.test(image) || /^[0-9a-f]{12,64}$/.test(image);
}

async function* toAsync(buffer: Buffer): AsyncGenerator<Buffer> {
  yield buffer;
}

function validateCommand(command: string[]): void {
  if (!Array.isArray(command) || command.length === 0 || command.some((c) => typeof c !== "string")) {
    throw invalid("command", "must be a non-empty list of strings");
  }
}

function isMissingImage(error: unknown): boolean {
  const e = error as RuntimeError;
  return (
    (e?.code === "RUNTIME_NOT_FOUND" || statusCodeOf(e?.cause) === 404) &&
    /no such image/i.test(e?.message ?? "")
  );
}

function ignoreNotFound(error: unknown): undefined {
  if (error instanceof RuntimeError && error.code === "RUNTIME_NOT_FOUND") return undefined;
  throw error;
}

/** Docker answers 304 when starting a running or stopping a stopped container. */
function ignoreNotModified(error: unknown): void {
  if (statusCodeOf((error as RuntimeError)?.cause) === 304) return;
  throw error;
}

export function createDockerRuntime(options: DockerRuntimeOptions = {}): Runtime {
  return new DockerRuntime(options);
}
