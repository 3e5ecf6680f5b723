// Pure mapping of Docker's inspect/list answers onto the Runtime types.
import type Docker from "dockerode";
import type {
  Container,
  ContainerState,
  ContainerStatus,
  PodSandbox,
  PodSandboxMetadata,
  PodSandboxStatus,
  SandboxState,
} from "../types.ts";
import { RuntimeLabels } from "../types.ts";
import { DockerLabels, decodeLabels } from "./labels.ts";

/** Docker's RFC 3339 times → ms since the epoch; Go's zero time ("0001-01-01T00:00:00Z") → 0. */
export function dockerTimeMs(value: string | undefined): number {
  if (!value || value.startsWith("0001-01-01")) return 0;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? 0 : ms;
}

function sandboxMetadata(labels: Record<string, string>): PodSandboxMetadata {
  return {
    name: labels[RuntimeLabels.podName] ?? "",
    namespace: labels[RuntimeLabels.podNamespace] ?? "",
    uid: labels[RuntimeLabels.podUid] ?? "",
    attempt: Number(labels[DockerLabels.sandboxAttempt] ?? 0),
  };
}

function sandboxState(running: boolean): SandboxState {
  return running ? "ready" : "notready";
}

/** `docker ps` entry of a sandbox → PodSandbox. */
export function sandboxFromListEntry(info: Docker.ContainerInfo): PodSandbox {
  const { labels, annotations } = decodeLabels(info.Labels);
  return {
    id: info.Id,
    metadata: sandboxMetadata(info.Labels ?? {}),
    state: sandboxState(info.State === "running"),
    createdAt: info.Created * 1000,
    labels,
    annotations,
  };
}

function sandboxIp(inspect: Docker.ContainerInspectInfo): string {
  const settings = inspect.NetworkSettings as
    | { IPAddress?: string; Networks?: Record<string, { IPAddress?: string }> }
    | undefined;
  if (settings?.IPAddress) return settings.IPAddress;
  for (const network of Object.values(settings?.Networks ?? {})) {
    if (network.IPAddress) return network.IPAddress;
  }
  return "";
}

export function sandboxStatusFromInspect(inspect: Docker.ContainerInspectInfo): PodSandboxStatus {
  const { labels, annotations } = decodeLabels(inspect.Config.Labels);
  const hostNetwork = inspect.HostConfig.NetworkMode === "host";
  const running = inspect.State.Running;
  return {
    id: inspect.Id,
    metadata: sandboxMetadata(inspect.Config.Labels ?? {}),
    state: sandboxState(running),
    createdAt: dockerTimeMs(inspect.Created),
    labels,
    annotations,
    // Like CRI: a stopped sandbox has no network any more.
    ip: hostNetwork || !running ? "" : sandboxIp(inspect),
    additionalIps: [],
    hostNetwork,
  };
}

/** Docker's State.Status (or `docker ps` State) → CRI state. */
export function containerState(status: string): ContainerState {
  switch (status) {
    case "created":
      return "created";
    case "running":
    case "paused":
    case "restarting":
      return "running";
    case "exited":
    case "dead":
      return "exited";
    default:
      return "unknown";
  }
}

function containerMetadata(labels: Record<string, string>): { name: string; attempt: number } {
  return {
    name: labels[RuntimeLabels.containerName] ?? "",
    attempt: Number(labels[RuntimeLabels.restartCount] ?? 0),
  };
}

export function containerFromListEntry(info: Docker.ContainerInfo): Container {
  const raw = info.Labels ?? {};
  const { labels, annotations } = decodeLabels(raw);
  return {
    id: info.Id,
    podSandboxId: raw[DockerLabels.sandboxId] ?? "",
    metadata: containerMetadata(raw),
    image: raw[DockerLabels.image] ?? info.Image,
    imageRef: info.ImageID,
    state: containerState(info.State),
    createdAt: info.Created * 1000,
    labels,
    annotations,
  };
}

export function containerStatusFromInspect(inspect: Docker.ContainerInspectInfo): ContainerStatus {
  const raw = inspect.Config.Labels ?? {};
  const { labels, annotations } = decodeLabels(raw);
  const s = inspect.State;
  const createdAt = dockerTimeMs(inspect.Created);
  const startedAt = dockerTimeMs(s.StartedAt);
  let finishedAt = dockerTimeMs(s.FinishedAt);
  let state = containerState(s.Status);
  let reason = "";
  let message = "";
  if (state === "exited" || (state === "created" && s.ExitCode !== 0)) {
    if (startedAt === 0 && s.ExitCode !== 0) {
      // Start failed (bad command, missing binary…): Docker leaves it "created" with an exit code and error.
      state = "exited";
      reason = "ContainerCannotRun";
      finishedAt = finishedAt || createdAt;
    } else if (s.OOMKilled) {
      reason = "OOMKilled";
    } else if (s.ExitCode === 0) {
      reason = "Completed";
    } else {
      reason = "Error";
    }
    message = s.Error ?? "";
  }
  return {
    id: inspect.Id,
    podSandboxId: raw[DockerLabels.sandboxId] ?? "",
    metadata: containerMetadata(raw),
    image: raw[DockerLabels.image] ?? inspect.Config.Image,
    imageRef: inspect.Image,
    state,
    createdAt,
    labels,
    annotations,
    startedAt,
    // Docker stamps StartedAt after the start call returns; a process that exits at once can "finish"
    // a few ms before that. Nothing finishes before it started.
    finishedAt: state === "exited" ? Math.max(finishedAt, startedAt) : 0,
    exitCode: state === "exited" ? s.ExitCode : 0,
    reason,
    message,
    logPath: inspect.LogPath ?? "",
  };
}
