// The CRI implementation of Runtime: a thin, validated mapping onto CRI runtime.v1 over gRPC (containerd's
// CRI plugin), plus the parts CRI leaves to the kubelet: streaming through the runtime's stream server
// (SPDY/3.1, ./streaming/), reading the CRI log files (./logs.ts) and cleaning up after failed steps.
//
// Every call has a deadline; every failure leaves as a RuntimeError naming the operation, the object and
// the endpoint (./errors.ts). Identity lives in labels (RuntimeLabels), so listing the runtime rebuilds
// all state; lists only ever return objects labelled RuntimeLabels.managedBy.
import { mkdir, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Duplex } from "node:stream";
import { RuntimeError } from "../errors.ts";
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
import {
  validateContainerConfig,
  validateId,
  validatePort,
  validateSandboxConfig,
  validateSeconds,
} from "../validate.ts";
import {
  type CallOptions,
  type CriClients,
  callUnary,
  createCriClients,
  isCriError,
  type RequestOf,
  type ResponseOf,
  type UnaryMethodName,
} from "./client.ts";
import {
  containerLogPath,
  fromCriConditions,
  fromCriContainer,
  fromCriContainerStatus,
  fromCriFilesystemUsage,
  fromCriImage,
  fromCriSandbox,
  fromCriSandboxStatus,
  fromCriStats,
  MANAGED,
  sandboxLogDirectory,
  toCriAuth,
  toCriContainerConfig,
  toCriContainerState,
  toCriSandboxConfig,
  toCriSandboxState,
} from "./convert.ts";
import { toPullError, toRuntimeError } from "./errors.ts";
import type { ImageServiceClient } from "./generated/runtime/v1/ImageService.ts";
import type { PodSandboxConfig as CriPodSandboxConfig } from "./generated/runtime/v1/PodSandboxConfig.ts";
import type { RuntimeServiceClient } from "./generated/runtime/v1/RuntimeService.ts";
import { readCriLog } from "./logs.ts";
import { type CriRuntimeOptions, type ResolvedCriOptions, resolveCriOptions } from "./options.ts";
import { openPortForward } from "./streaming/portforward.ts";
import { runRemoteCommand } from "./streaming/remotecommand.ts";

/** How long a failed RunPodSandbox's half-made sandbox is looked for before giving up on cleaning it. */
const SANDBOX_CLEANUP_WINDOW_MS = 10_000;
const SANDBOX_CLEANUP_INTERVAL_MS = 500;

export class CriRuntime implements Runtime {
  readonly name = "cri" as const;
  readonly endpoint: string;
  readonly #options: ResolvedCriOptions;
  readonly #cri: CriClients;
  /** Aborted by close(): ends followed logs and streaming sessions. */
  readonly #closing = new AbortController();
  /** Open port-forward connections, destroyed by close(). */
  readonly #forwards = new Set<Duplex>();

  constructor(options: CriRuntimeOptions = {}) {
    this.#options = resolveCriOptions(options);
    this.endpoint = this.#options.endpoint;
    this.#cri = createCriClients(this.endpoint, this.#options.client);
  }

  // -------------------------------------------------------------------------------------------------------
  // Calls
  // -------------------------------------------------------------------------------------------------------

  #runtimeCall<M extends UnaryMethodName<RuntimeServiceClient>>(
    what: string,
    method: M,
    request: RequestOf<RuntimeServiceClient, M>,
    options: CallOptions = {},
  ): Promise<ResponseOf<RuntimeServiceClient, M>> {
    return callUnary(this.#cri.runtime, method, request, {
      timeoutMs: this.#options.requestTimeoutMs,
      ...options,
    }).catch((error: unknown) => {
      throw toRuntimeError(error, what, this.endpoint);
    });
  }

  #imageCall<M extends UnaryMethodName<ImageServiceClient>>(
    what: string,
    method: M,
    request: RequestOf<ImageServiceClient, M>,
    options: CallOptions = {},
  ): Promise<ResponseOf<ImageServiceClient, M>> {
    return callUnary(this.#cri.image, method, request, {
      timeoutMs: this.#options.requestTimeoutMs,
      ...options,
    }).catch((error: unknown) => {
      throw toRuntimeError(error, what, this.endpoint);
    });
  }

  /** Runs `call`; a RUNTIME_NOT_FOUND answer counts as success (idempotent stop/remove). */
  async #ignoreNotFound(call: Promise<unknown>): Promise<void> {
    try {
      await call;
    } catch (error) {
      if (error instanceof RuntimeError && error.code === "RUNTIME_NOT_FOUND") return;
      throw error;
    }
  }

  #sandboxConfig(config: PodSandboxConfig, privileged = false): CriPodSandboxConfig {
    return toCriSandboxConfig(config, { podLogRoot: this.#options.podLogRoot, privileged });
  }

  // -------------------------------------------------------------------------------------------------------
  // Version and status
  // -------------------------------------------------------------------------------------------------------

  async version(): Promise<RuntimeVersion> {
    const v = await this.#runtimeCall("query the runtime version", "Version", { version: "v1" });
    return {
      runtimeName: v.runtime_name,
      runtimeVersion: v.runtime_version,
      runtimeApiVersion: v.runtime_api_version,
    };
  }

  async status(): Promise<RuntimeStatus> {
    const s = await this.#runtimeCall("query the runtime status", "Status", { verbose: false });
    return { conditions: fromCriConditions(s.status?.conditions ?? []) };
  }

  // -------------------------------------------------------------------------------------------------------
  // Pod sandboxes
  // -------------------------------------------------------------------------------------------------------

  async runPodSandbox(config: PodSandboxConfig): Promise<string> {
    validateSandboxConfig(config);
    const cri = this.#sandboxConfig(config);
    const what = `run pod sandbox ${describePod(config)}`;
    // kubelet creates the pod's log directory before asking the runtime for the sandbox.
    await mkdir(cri.log_directory ?? "", { recursive: true, mode: 0o755 }).catch((error: Error) => {
      throw new RuntimeError(
        "RUNTIME_ERROR",
        `${what}: cannot create the log directory ${cri.log_directory}: ${error.message}`,
        {
          cause: error,
        },
      );
    });
    try {
      const res = await this.#runtimeCall(what, "RunPodSandbox", {
        config: cri,
        runtime_handler: this.#options.runtimeHandler,
      });
      return res.pod_sandbox_id;
    } catch (error) {
      // The runtime cleans up after the failures it reports. When the answer never came (deadline,
      // cancellation, lost connection) the sandbox may still appear: find it by its identity and remove it.
      if (error instanceof RuntimeError && error.code !== "RUNTIME_INVALID" && isInFlightFailure(error)) {
        await this.#removeOrphanSandboxes(config).catch(() => undefined);
      }
      throw error;
    }
  }

  /** Removes sandboxes with exactly this metadata that show up within the cleanup window. */
  async #removeOrphanSandboxes(config: PodSandboxConfig): Promise<void> {
    const m = config.metadata;
    // Containerd reserves the sandbox name, so a sandbox with this exact metadata can only be the one the
    // failed request made. The cleanup gets a deadline of its own: the request's may have been tiny.
    const timeoutMs = Math.max(this.#options.requestTimeoutMs, 10_000);
    const deadline = Date.now() + SANDBOX_CLEANUP_WINDOW_MS;
    for (;;) {
      const listed = await this.#runtimeCall(
        `look for the sandbox of the failed run of ${describePod(config)}`,
        "ListPodSandbox",
        { filter: { label_selector: { [RuntimeLabels.podUid]: m.uid, [RuntimeLabels.managedBy]: MANAGED } } },
        { timeoutMs },
      );
      const found = listed.items.filter(
        (s) =>
          s.metadata?.name === m.name &&
          s.metadata.namespace === m.namespace &&
          s.metadata.attempt === m.attempt,
      );
      for (const s of found) {
        const what = `remove the sandbox ${s.id} left by the failed run of ${describePod(config)}`;
        await this.#ignoreNotFound(
          this.#runtimeCall(what, "StopPodSandbox", { pod_sandbox_id: s.id }, { timeoutMs }),
        );
        await this.#ignoreNotFound(
          this.#runtimeCall(what, "RemovePodSandbox", { pod_sandbox_id: s.id }, { timeoutMs }),
        );
      }
      if (found.length > 0 || Date.now() >= deadline) return;
      await new Promise((resolve) => setTimeout(resolve, SANDBOX_CLEANUP_INTERVAL_MS));
    }
  }

  async stopPodSandbox(id: string): Promise<void> {
    validateId("podSandboxId", id);
    await this.#ignoreNotFound(
      this.#runtimeCall(`stop pod sandbox ${id}`, "StopPodSandbox", { pod_sandbox_id: id }),
    );
  }

  async removePodSandbox(id: string): Promise<void> {
    validateId("podSandboxId", id);
    // containerd removes only stopped sandboxes; stopping first makes removal unconditional, as the
    // interface promises (stop is idempotent and cheap on a stopped sandbox).
    await this.stopPodSandbox(id);
    await this.#ignoreNotFound(
      this.#runtimeCall(`remove pod sandbox ${id}`, "RemovePodSandbox", { pod_sandbox_id: id }),
    );
  }

  async podSandboxStatus(id: string): Promise<PodSandboxStatus> {
    validateId("podSandboxId", id);
    const res = await this.#runtimeCall(`get the status of pod sandbox ${id}`, "PodSandboxStatus", {
      pod_sandbox_id: id,
      verbose: false,
    });
    if (!res.status)
      throw new RuntimeError("RUNTIME_NOT_FOUND", `pod sandbox ${id} not found at ${this.endpoint}`);
    return fromCriSandboxStatus(res.status);
  }

  async listPodSandboxes(filter: PodSandboxFilter = {}): Promise<PodSandbox[]> {
    const res = await this.#runtimeCall("list pod sandboxes", "ListPodSandbox", {
      filter: {
        id: filter.id ?? "",
        state: filter.state ? { state: toCriSandboxState(filter.state) } : null,
        label_selector: { ...filter.labelSelector, [RuntimeLabels.managedBy]: MANAGED },
      },
    });
    return res.items.map(fromCriSandbox);
  }

  // -------------------------------------------------------------------------------------------------------
  // Containers
  // -------------------------------------------------------------------------------------------------------

  async createContainer(
    podSandboxId: string,
    config: ContainerConfig,
    sandboxConfig: PodSandboxConfig,
  ): Promise<string> {
    validateId("podSandboxId", podSandboxId);
    validateContainerConfig(config);
    validateSandboxConfig(sandboxConfig);
    const cri = toCriContainerConfig(config, sandboxConfig);
    const sandbox = this.#sandboxConfig(sandboxConfig, config.securityContext?.privileged ?? false);
    const what = `create container "${config.metadata.name}" from image "${config.image}" in pod sandbox ${podSandboxId}`;
    const logFile = join(
      sandboxLogDirectory(sandboxConfig, this.#options.podLogRoot),
      containerLogPath(config),
    );
    await mkdir(dirname(logFile), { recursive: true, mode: 0o755 }).catch((error: Error) => {
      throw new RuntimeError(
        "RUNTIME_ERROR",
        `${what}: cannot create the log directory ${dirname(logFile)}: ${error.message}`,
        {
          cause: error,
        },
      );
    });
    const res = await this.#runtimeCall(what, "CreateContainer", {
      pod_sandbox_id: podSandboxId,
      config: cri,
      sandbox_config: sandbox,
    });
    return res.container_id;
  }

  async startContainer(id: string): Promise<void> {
    validateId("containerId", id);
    await this.#runtimeCall(`start container ${id}`, "StartContainer", { container_id: id });
  }

  async stopContainer(id: string, timeoutSeconds: number): Promise<void> {
    validateId("containerId", id);
    validateSeconds("timeoutSeconds", timeoutSeconds);
    // The runtime may take the whole grace period; the call's deadline must outlast it (as kubelet does).
    await this.#ignoreNotFound(
      this.#runtimeCall(
        `stop container ${id}`,
        "StopContainer",
        { container_id: id, timeout: timeoutSeconds },
        { timeoutMs: timeoutSeconds * 1000 + this.#options.requestTimeoutMs },
      ),
    );
  }

  async removeContainer(id: string): Promise<void> {
    validateId("containerId", id);
    // CRI leaves the log file behind; kubelet deletes it with the container, so do we.
    const logPath = await this.#runtimeCall(`get the status of container ${id}`, "ContainerStatus", {
      container_id: id,
      verbose: false,
    }).then(
      (res) => res.status?.log_path ?? "",
      (error: unknown) => {
        if (error instanceof RuntimeError && error.code === "RUNTIME_NOT_FOUND") return "";
        throw error;
      },
    );
    await this.#ignoreNotFound(
      this.#runtimeCall(`remove container ${id}`, "RemoveContainer", { container_id: id }),
    );
    if (logPath) await unlink(logPath).catch(() => undefined);
  }

  async containerStatus(id: string): Promise<ContainerStatus> {
    validateId("containerId", id);
    const what = `get the status of container ${id}`;
    // ContainerStatus does not say which sandbox the container is in; ListContainers does.
    const [status, listed] = await Promise.all([
      this.#runtimeCall(what, "ContainerStatus", { container_id: id, verbose: false }),
      this.#runtimeCall(what, "ListContainers", { filter: { id } }),
    ]);
    if (!status.status)
      throw new RuntimeError("RUNTIME_NOT_FOUND", `container ${id} not found at ${this.endpoint}`);
    return fromCriContainerStatus(status.status, listed.containers[0]?.pod_sandbox_id ?? "");
  }

  async listContainers(filter: ContainerFilter = {}): Promise<Container[]> {
    const res = await this.#runtimeCall("list containers", "ListContainers", {
      filter: {
        id: filter.id ?? "",
        pod_sandbox_id: filter.podSandboxId ?? "",
        state: filter.state ? { state: toCriContainerState(filter.state) } : null,
        label_selector: { ...filter.labelSelector, [RuntimeLabels.managedBy]: MANAGED },
      },
    });
    return res.containers.map(fromCriContainer);
  }

  // -------------------------------------------------------------------------------------------------------
  // Exec, attach, port-forward
  // -------------------------------------------------------------------------------------------------------

  async execSync(containerId: string, command: string[], timeoutSeconds: number): Promise<ExecSyncResult> {
    validateId("containerId", containerId);
    validateCommand(command);
    validateSeconds("timeoutSeconds", timeoutSeconds);
    const what = `exec ${JSON.stringify(command)} in container ${containerId}`;
    // timeout 0 means no limit for the command; the call then lives as long as the command does.
    const res = await this.#runtimeCall(
      what,
      "ExecSync",
      { container_id: containerId, cmd: command, timeout: timeoutSeconds },
      {
        timeoutMs: timeoutSeconds > 0 ? timeoutSeconds * 1000 + this.#options.requestTimeoutMs : 2 ** 31 - 1,
      },
    );
    return { stdout: Buffer.from(res.stdout), stderr: Buffer.from(res.stderr), exitCode: res.exit_code };
  }

  async exec(containerId: string, options: ExecOptions): Promise<StreamResult> {
    validateId("containerId", containerId);
    validateCommand(options.command);
    validateStreams(options);
    const tty = options.tty ?? false;
    const what = `exec ${JSON.stringify(options.command)} in container ${containerId}`;
    const { url } = await this.#runtimeCall(what, "Exec", {
      container_id: containerId,
      cmd: options.command,
      tty,
      stdin: options.stdin !== undefined,
      stdout: options.stdout !== undefined,
      stderr: options.stderr !== undefined && !tty,
    });
    try {
      const result = await runRemoteCommand(url, this.#streamOptions(options));
      return { exitCode: result.exitCode };
    } catch (error) {
      throw toRuntimeError(error, what, this.endpoint);
    }
  }

  async attach(containerId: string, options: StreamOptions): Promise<StreamResult> {
    validateId("containerId", containerId);
    validateStreams(options);
    const tty = options.tty ?? false;
    const what = `attach to container ${containerId}`;
    const { url } = await this.#runtimeCall(what, "Attach", {
      container_id: containerId,
      tty,
      stdin: options.stdin !== undefined,
      stdout: options.stdout !== undefined,
      stderr: options.stderr !== undefined && !tty,
    });
    try {
      await runRemoteCommand(url, this.#streamOptions(options));
    } catch (error) {
      throw toRuntimeError(error, what, this.endpoint);
    }
    // The attach protocol reports the session, not the process: ask the runtime how the container ended.
    const status = await this.containerStatus(containerId).catch(() => undefined);
    return { exitCode: status?.state === "exited" ? status.exitCode : undefined };
  }

  #streamOptions(options: StreamOptions): Parameters<typeof runRemoteCommand>[1] {
    const signal = options.signal
      ? AbortSignal.any([options.signal, this.#closing.signal])
      : this.#closing.signal;
    return {
      connectTimeoutMs: this.#options.streamConnectTimeoutMs,
      signal,
      ...(options.stdin ? { stdin: options.stdin } : {}),
      ...(options.stdout ? { stdout: options.stdout } : {}),
      ...(options.stderr ? { stderr: options.stderr } : {}),
      ...(options.tty !== undefined ? { tty: options.tty } : {}),
      ...(options.resize ? { resize: options.resize } : {}),
    };
  }

  async portForward(podSandboxId: string, port: number): Promise<Duplex> {
    validateId("podSandboxId", podSandboxId);
    validatePort("port", port);
    const what = `port-forward to port ${port} of pod sandbox ${podSandboxId}`;
    const { url } = await this.#runtimeCall(what, "PortForward", {
      pod_sandbox_id: podSandboxId,
      port: [port],
    });
    try {
      const stream = await openPortForward(url, port, {
        connectTimeoutMs: this.#options.streamConnectTimeoutMs,
        signal: this.#closing.signal,
        description: `port ${port} of pod sandbox ${podSandboxId}`,
      });
      this.#forwards.add(stream);
      stream.once("close", () => this.#forwards.delete(stream));
      return stream;
    } catch (error) {
      throw toRuntimeError(error, what, this.endpoint);
    }
  }

  // -------------------------------------------------------------------------------------------------------
  // Logs
  // -------------------------------------------------------------------------------------------------------

  containerLogs(containerId: string, options: LogOptions = {}): AsyncIterable<LogLine> {
    validateId("containerId", containerId);
    if (options.tail !== undefined && (!Number.isInteger(options.tail) || options.tail < 0)) {
      throw new RuntimeError(
        "RUNTIME_INVALID",
        `invalid tail: ${options.tail} is not a non-negative integer`,
        {
          field: "tail",
        },
      );
    }
    return this.#logs(containerId, options);
  }

  async *#logs(containerId: string, options: LogOptions): AsyncGenerator<LogLine, void, undefined> {
    const status = await this.containerStatus(containerId);
    if (!status.logPath) return;
    const signal = options.signal
      ? AbortSignal.any([options.signal, this.#closing.signal])
      : this.#closing.signal;
    const isRunning = async () => {
      try {
        const res = await this.#runtimeCall(`get the status of container ${containerId}`, "ContainerStatus", {
          container_id: containerId,
          verbose: false,
        });
        const state = res.status?.state;
        return state === "CONTAINER_RUNNING" || state === "CONTAINER_CREATED";
      } catch (error) {
        if (error instanceof RuntimeError && error.code === "RUNTIME_NOT_FOUND") return false;
        throw error;
      }
    };
    try {
      yield* readCriLog(
        status.logPath,
        { ...options, signal },
        { isRunning, checkIntervalMs: this.#options.logCheckIntervalMs },
      );
    } catch (error) {
      throw toRuntimeError(
        error,
        `read the log of container ${containerId} (${status.logPath})`,
        this.endpoint,
      );
    }
  }

  /** Asks the runtime to reopen a container's log file, after the caller rotated it (kubelet's log manager). */
  async reopenContainerLog(containerId: string): Promise<void> {
    validateId("containerId", containerId);
    await this.#runtimeCall(`reopen the log of container ${containerId}`, "ReopenContainerLog", {
      container_id: containerId,
    });
  }

  // -------------------------------------------------------------------------------------------------------
  // Images
  // -------------------------------------------------------------------------------------------------------

  async pullImage(image: string, auth?: AuthConfig, sandboxConfig?: PodSandboxConfig): Promise<string> {
    validateImage(image);
    if (sandboxConfig) validateSandboxConfig(sandboxConfig);
    try {
      const res = await callUnary(
        this.#cri.image,
        "PullImage",
        {
          image: { image },
          auth: toCriAuth(auth),
          sandbox_config: sandboxConfig ? this.#sandboxConfig(sandboxConfig) : null,
        },
        { timeoutMs: this.#options.pullTimeoutMs },
      );
      return res.image_ref;
    } catch (error) {
      throw toPullError(error, image, this.endpoint);
    }
  }

  async imageStatus(image: string): Promise<Image | undefined> {
    validateImage(image);
    const res = await this.#imageCall(`get the status of image "${image}"`, "ImageStatus", {
      image: { image },
      verbose: false,
    }).catch((error: unknown) => {
      if (error instanceof RuntimeError && error.code === "RUNTIME_NOT_FOUND") return { image: null };
      throw error;
    });
    return res.image ? fromCriImage(res.image) : undefined;
  }

  async listImages(): Promise<Image[]> {
    const res = await this.#imageCall("list images", "ListImages", { filter: null });
    return res.images.map(fromCriImage);
  }

  /**
   * Removes the image `image` names. CRI removes by image ID: every tag and digest of that image goes,
   * not only the reference given (unlike `docker rmi <tag>` on an image with several tags).
   */
  async removeImage(image: string): Promise<void> {
    validateImage(image);
    const present = await this.imageStatus(image);
    if (!present) return;
    await this.#ignoreNotFound(
      this.#imageCall(`remove image "${image}" (${present.id})`, "RemoveImage", {
        image: { image: present.id },
      }),
    );
  }

  async imageFsInfo(): Promise<ImageFsUsage[]> {
    const res = await this.#imageCall("query image filesystem usage", "ImageFsInfo", {});
    return res.image_filesystems.map(fromCriFilesystemUsage);
  }

  // -------------------------------------------------------------------------------------------------------
  // Stats
  // -------------------------------------------------------------------------------------------------------

  async containerStats(id: string): Promise<ContainerStats> {
    validateId("containerId", id);
    const res = await this.#runtimeCall(`get the stats of container ${id}`, "ContainerStats", {
      container_id: id,
    });
    if (!res.stats)
      throw new RuntimeError("RUNTIME_NOT_FOUND", `no stats for container ${id} at ${this.endpoint}`);
    return fromCriStats(res.stats);
  }

  async listContainerStats(filter: ContainerFilter = {}): Promise<ContainerStats[]> {
    const res = await this.#runtimeCall("list container stats", "ListContainerStats", {
      filter: {
        id: filter.id ?? "",
        pod_sandbox_id: filter.podSandboxId ?? "",
        label_selector: { ...filter.labelSelector, [RuntimeLabels.managedBy]: MANAGED },
      },
    });
    let stats = res.stats;
    // CRI's stats filter has no state: intersect with a container list when one is asked for.
    if (filter.state) {
      const ids = new Set((await this.listContainers(filter)).map((c) => c.id));
      stats = stats.filter((s) => ids.has(s.attributes?.id ?? ""));
    }
    return stats.map((s) => fromCriStats(s, filter.podSandboxId));
  }

  /** Ends followed logs, streaming sessions and forwarded connections, and closes the gRPC connection. */
  async close(): Promise<void> {
    const closed = new RuntimeError(
      "RUNTIME_ERROR",
      `the CRI runtime client for ${this.endpoint} was closed`,
    );
    this.#closing.abort(closed);
    for (const stream of this.#forwards) stream.destroy(closed);
    this.#cri.close();
  }
}

export function createCriRuntime(options: CriRuntimeOptions = {}): CriRuntime {
  return new CriRuntime(options);
}

function describePod(config: PodSandboxConfig): string {
  const m = config.metadata;
  return `${m.namespace}/${m.name} (uid ${m.uid}, attempt ${m.attempt})`;
}

/** Failures after which the runtime may have carried the request out without answering. */
function isInFlightFailure(error: RuntimeError): boolean {
  if (error.code === "RUNTIME_DEADLINE") return true;
  const cause = error.cause;
  return isCriError(cause) && (cause.code === "CRI_CANCELLED" || cause.code === "CRI_UNAVAILABLE");
}

function validateCommand(command: unknown): void {
  if (!Array.isArray(command) || command.length === 0 || command.some((c) => typeof c !== "string")) {
    throw new RuntimeError("RUNTIME_INVALID", "invalid command: must be a non-empty list of strings", {
      field: "command",
    });
  }
}

function validateStreams(options: StreamOptions): void {
  if (!options.stdin && !options.stdout && !options.stderr) {
    throw new RuntimeError(
      "RUNTIME_INVALID",
      "invalid streams: at least one of stdin, stdout and stderr is required",
      {
        field: "stdout",
      },
    );
  }
}

function validateImage(image: unknown): void {
  if (typeof image !== "string" || image === "" || /\s/.test(image)) {
    throw new RuntimeError(
      "RUNTIME_INVALID",
      `invalid image: ${JSON.stringify(image)} is not an image reference`,
      {
        field: "image",
      },
    );
  }
}
