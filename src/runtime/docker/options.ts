// Configuration of the Docker driver, validated once at construction with messages naming the field.
import { isAbsolute } from "node:path";
import { RuntimeError } from "../errors.ts";

export interface DockerRuntimeOptions {
  /** Docker engine API socket; default /var/run/docker.sock. A `unix://` prefix is accepted. */
  socketPath?: string;
  /** Image of the sandbox ("pause") container; default registry.k8s.io/pause:3.10. */
  pauseImage?: string;
  /**
   * Never send a negative OomScoreAdj to Docker (default true), like containerd's `restrict_oom_score_adj`:
   * negative requests are raised to 0. A negative value needs CAP_SYS_RESOURCE, which root lacks in many
   * containers and CI machines; runc then fails with "can't get final child's PID from pipe: EOF".
   */
  restrictOomScoreAdj?: boolean;
  /** OOM score adjustment requested for sandbox containers (upstream dockershim: -998); subject to the restriction above. */
  sandboxOomScoreAdj?: number;
  /** App containers join the sandbox's PID namespace (`PidMode: container:<sandbox>`); default true. */
  sharePidNamespace?: boolean;
  /** Deadline of every non-streaming call except pulls and stops (kubelet's runtime-request-timeout); default 2 min. */
  requestTimeoutMs?: number;
  /** Deadline of an image pull; default 10 min. */
  pullTimeoutMs?: number;
}

export interface ResolvedDockerOptions {
  socketPath: string;
  endpoint: string;
  pauseImage: string;
  restrictOomScoreAdj: boolean;
  sandboxOomScoreAdj: number;
  sharePidNamespace: boolean;
  requestTimeoutMs: number;
  pullTimeoutMs: number;
}

export const DEFAULT_DOCKER_SOCKET = "/var/run/docker.sock";
export const DEFAULT_PAUSE_IMAGE = "registry.k8s.io/pause:3.10";

function optionError(field: string, message: string): RuntimeError {
  return new RuntimeError("RUNTIME_INVALID", `invalid Docker runtime option ${field}: ${message}`, { field });
}

function positiveMs(field: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0) throw optionError(field, `${value} is not a positive integer`);
  return value;
}

export function resolveDockerOptions(options: DockerRuntimeOptions = {}): ResolvedDockerOptions {
  const raw = options.socketPath ?? DEFAULT_DOCKER_SOCKET;
  const socketPath = raw.startsWith("unix://") ? raw.slice("unix://".length) : raw;
  if (!isAbsolute(socketPath)) {
    throw optionError("socketPath", `"${raw}" must be an absolute path such as ${DEFAULT_DOCKER_SOCKET}`);
  }
  const pauseImage = options.pauseImage ?? DEFAULT_PAUSE_IMAGE;
  if (pauseImage.trim() === "") throw optionError("pauseImage", "must name an image");
  const sandboxOomScoreAdj = options.sandboxOomScoreAdj ?? -998;
  if (!Number.isInteger(sandboxOomScoreAdj) || sandboxOomScoreAdj < -1000 || sandboxOomScoreAdj > 1000) {
    throw optionError("sandboxOomScoreAdj", `${sandboxOomScoreAdj} is not an integer in [-1000, 1000]`);
  }
  return {
    socketPath,
    endpoint: `unix://${socketPath}`,
    pauseImage,
    restrictOomScoreAdj: options.restrictOomScoreAdj ?? true,
    sandboxOomScoreAdj,
    sharePidNamespace: options.sharePidNamespace ?? true,
    requestTimeoutMs: positiveMs("requestTimeoutMs", options.requestTimeoutMs, 120_000),
    pullTimeoutMs: positiveMs("pullTimeoutMs", options.pullTimeoutMs, 600_000),
  };
}

/** The OomScoreAdj actually sent to Docker, or undefined to leave Docker's default (0). */
export function effectiveOomScoreAdj(
  options: ResolvedDockerOptions,
  requested: number | undefined,
): number | undefined {
  if (requested === undefined) return undefined;
  if (options.restrictOomScoreAdj && requested < 0) return 0;
  return requested;
}
