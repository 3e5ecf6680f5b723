// Pure mappings between the Runtime interface's types (../types.ts) and CRI runtime.v1 messages. No I/O;
// every function is table-testable.
import { join } from "node:path";
import type {
  AuthConfig,
  Container,
  ContainerConfig,
  ContainerState,
  ContainerStats,
  ContainerStatus,
  Image,
  ImageFsUsage,
  MountPropagation,
  PodSandbox,
  PodSandboxConfig,
  PodSandboxMetadata,
  PodSandboxStatus,
  RuntimeCondition,
  SandboxState,
} from "../types.ts";
import { RuntimeLabels } from "../types.ts";
import type { AuthConfig as CriAuthConfig } from "./generated/runtime/v1/AuthConfig.ts";
import type { Container__Output as CriContainer } from "./generated/runtime/v1/Container.ts";
import type { ContainerConfig as CriContainerConfig } from "./generated/runtime/v1/ContainerConfig.ts";
import type { ContainerStats__Output as CriContainerStats } from "./generated/runtime/v1/ContainerStats.ts";
import type { ContainerStatus__Output as CriContainerStatus } from "./generated/runtime/v1/ContainerStatus.ts";
import type { FilesystemUsage__Output as CriFilesystemUsage } from "./generated/runtime/v1/FilesystemUsage.ts";
import type { Image__Output as CriImage } from "./generated/runtime/v1/Image.ts";
import type { NamespaceOption } from "./generated/runtime/v1/NamespaceOption.ts";
import type { PodSandbox__Output as CriPodSandbox } from "./generated/runtime/v1/PodSandbox.ts";
import type { PodSandboxConfig as CriPodSandboxConfig } from "./generated/runtime/v1/PodSandboxConfig.ts";
import type { PodSandboxMetadata__Output as CriPodSandboxMetadata } from "./generated/runtime/v1/PodSandboxMetadata.ts";
import type { PodSandboxStatus__Output as CriPodSandboxStatus } from "./generated/runtime/v1/PodSandboxStatus.ts";
import type { RuntimeCondition__Output as CriRuntimeCondition } from "./generated/runtime/v1/RuntimeCondition.ts";

/** kubelet's default root for pod log directories. */
export const DEFAULT_POD_LOG_ROOT = "/var/log/pods";

/** The value RuntimeLabels.managedBy carries on everything this driver creates. */
export const MANAGED = "true";

// The `from*` mappings take over the maps (labels, annotations) of the messages they are given instead of
// copying them: every response is decoded into objects of its own that nothing else holds, and the PLEG
// maps a hundred containers' worth of them every second.

// ---------------------------------------------------------------------------------------------------------
// Numbers on the wire: int64/uint64 arrive as decimal strings (proto-loader `longs: String`).
// ---------------------------------------------------------------------------------------------------------

/** Nanoseconds since the epoch (as the CRI sends them) to whole milliseconds; 0 stays 0. */
export function nanosToMillis(ns: string | number | undefined | null): number {
  if (ns === undefined || ns === null || ns === "" || ns === "0" || ns === 0) return 0;
  // The PLEG converts every listed object's created_at every second: a plain decimal string is cut instead
  // of going through BigInt (the same truncation toward zero).
  if (typeof ns === "string" && /^[0-9]+$/.test(ns)) return ns.length <= 6 ? 0 : Number(ns.slice(0, -6));
  return Number(BigInt(ns) / 1_000_000n);
}

export function toNumber(value: string | number | undefined | null): number {
  if (value === undefined || value === null || value === "") return 0;
  return Number(value);
}

// ---------------------------------------------------------------------------------------------------------
// Sandboxes
// ---------------------------------------------------------------------------------------------------------

/** kubelet's layout: <root>/<namespace>_<name>_<uid>. */
export function sandboxLogDirectory(config: PodSandboxConfig, podLogRoot: string): string {
  if (config.logDirectory) return config.logDirectory;
  const m = config.metadata;
  return join(podLogRoot, `${m.namespace}_${m.name}_${m.uid}`);
}

/** The identity labels every sandbox carries (they win over the caller's labels of the same key). */
export function sandboxIdentityLabels(metadata: PodSandboxMetadata): Record<string, string> {
  return {
    [RuntimeLabels.podUid]: metadata.uid,
    [RuntimeLabels.podName]: metadata.name,
    [RuntimeLabels.podNamespace]: metadata.namespace,
    [RuntimeLabels.managedBy]: MANAGED,
  };
}

function namespaceOptions(hostNetwork: boolean | undefined): NamespaceOption {
  // kubelet's defaults for a pod without shareProcessNamespace/hostPID/hostIPC.
  return { network: hostNetwork ? "NODE" : "POD", pid: "CONTAINER", ipc: "POD" };
}

export interface SandboxConversionOptions {
  podLogRoot: string;
  /** Set when a container of the pod is privileged: containerd refuses privileged containers otherwise. */
  privileged?: boolean;
}

export function toCriSandboxConfig(
  config: PodSandboxConfig,
  options: SandboxConversionOptions,
): CriPodSandboxConfig {
  const m = config.metadata;
  return {
    metadata: { name: m.name, uid: m.uid, namespace: m.namespace, attempt: m.attempt },
    // As kubelet: a host-network pod keeps the node's UTS namespace, so it gets no hostname of its own
    // (containerd cannot set one there).
    hostname: config.hostNetwork ? "" : (config.hostname ?? ""),
    log_directory: sandboxLogDirectory(config, options.podLogRoot),
    dns_config: config.dnsConfig
      ? {
          servers: config.dnsConfig.servers ?? [],
          searches: config.dnsConfig.searches ?? [],
          options: config.dnsConfig.options ?? [],
        }
      : null,
    port_mappings: (config.portMappings ?? []).map((p) => ({
      protocol: p.protocol,
      container_port: p.containerPort,
      host_port: p.hostPort ?? 0,
      host_ip: p.hostIp ?? "",
    })),
    labels: { ...config.labels, ...sandboxIdentityLabels(m) },
    annotations: { ...config.annotations },
    linux: {
      cgroup_parent: config.cgroupParent ?? "",
      sysctls: { ...config.sysctls },
      security_context: {
        namespace_options: namespaceOptions(config.hostNetwork),
        privileged: options.privileged ?? false,
      },
    },
  };
}

const SANDBOX_STATE: Record<string, SandboxState> = { SANDBOX_READY: "ready", SANDBOX_NOTREADY: "notready" };

export function toCriSandboxState(state: SandboxState): "SANDBOX_READY" | "SANDBOX_NOTREADY" {
  return state === "ready" ? "SANDBOX_READY" : "SANDBOX_NOTREADY";
}

function fromMetadata(m: CriPodSandboxMetadata | null): PodSandboxMetadata {
  return { name: m?.name ?? "", uid: m?.uid ?? "", namespace: m?.namespace ?? "", attempt: m?.attempt ?? 0 };
}

export function fromCriSandbox(s: CriPodSandbox): PodSandbox {
  return {
    id: s.id,
    metadata: fromMetadata(s.metadata),
    state: SANDBOX_STATE[s.state] ?? "notready",
    createdAt: nanosToMillis(s.created_at),
    labels: s.labels,
    annotations: s.annotations,
  };
}

export function fromCriSandboxStatus(s: CriPodSandboxStatus): PodSandboxStatus {
  return {
    id: s.id,
    metadata: fromMetadata(s.metadata),
    state: SANDBOX_STATE[s.state] ?? "notready",
    createdAt: nanosToMillis(s.created_at),
    labels: s.labels,
    annotations: s.annotations,
    ip: s.network?.ip ?? "",
    additionalIps: (s.network?.additional_ips ?? []).map((a) => a.ip),
    hostNetwork: s.linux?.namespaces?.options?.network === "NODE",
  };
}

// ---------------------------------------------------------------------------------------------------------
// Containers
// ---------------------------------------------------------------------------------------------------------

/** kubelet's layout inside the sandbox log directory: <container>/<attempt>.log. */
export function containerLogPath(config: ContainerConfig): string {
  return config.logPath || join(config.metadata.name, `${config.metadata.attempt}.log`);
}

export function containerIdentityLabels(
  config: ContainerConfig,
  sandbox: PodSandboxConfig,
): Record<string, string> {
  return {
    ...sandboxIdentityLabels(sandbox.metadata),
    [RuntimeLabels.containerName]: config.metadata.name,
    [RuntimeLabels.restartCount]: String(config.metadata.attempt),
  };
}

const PROPAGATION: Record<
  MountPropagation,
  "PROPAGATION_PRIVATE" | "PROPAGATION_HOST_TO_CONTAINER" | "PROPAGATION_BIDIRECTIONAL"
> = {
  private: "PROPAGATION_PRIVATE",
  hostToContainer: "PROPAGATION_HOST_TO_CONTAINER",
  bidirectional: "PROPAGATION_BIDIRECTIONAL",
};

/** CRI runtimes prefix capability names with CAP_ themselves; upstream passes them without. */
function capabilityName(name: string): string {
  const upper = name.toUpperCase();
  return upper.startsWith("CAP_") ? upper.slice(4) : upper;
}

/**
 * The image as the caller named it. CRI reports one of the image's references instead (containerd 1.6 picks
 * the first tag of the image ID, so another tag of the same image, pulled later, would show up); newer CRI
 * has ImageSpec.user_specified_image for this, containerd 1.6 does not.
 */
export const IMAGE_ANNOTATION = "io.deckhand.container.image";

export function toCriContainerConfig(config: ContainerConfig, sandbox: PodSandboxConfig): CriContainerConfig {
  const r = config.resources ?? {};
  const s = config.securityContext ?? {};
  return {
    metadata: { name: config.metadata.name, attempt: config.metadata.attempt },
    image: { image: config.image },
    command: config.command ?? [],
    args: config.args ?? [],
    working_dir: config.workingDir ?? "",
    envs: (config.env ?? []).map((e) => ({ key: e.key, value: e.value })),
    mounts: (config.mounts ?? []).map((m) => ({
      container_path: m.containerPath,
      host_path: m.hostPath,
      readonly: m.readonly ?? false,
      propagation: PROPAGATION[m.propagation ?? "private"],
    })),
    devices: (config.devices ?? []).map((d) => ({
      container_path: d.containerPath,
      host_path: d.hostPath,
      permissions: d.permissions,
    })),
    labels: { ...config.labels, ...containerIdentityLabels(config, sandbox) },
    annotations: { ...config.annotations, [IMAGE_ANNOTATION]: config.image },
    log_path: containerLogPath(config),
    stdin: config.stdin ?? false,
    stdin_once: config.stdinOnce ?? false,
    tty: config.tty ?? false,
    linux: {
      resources: {
        cpu_period: r.cpuPeriod ?? 0,
        cpu_quota: r.cpuQuota ?? 0,
        cpu_shares: r.cpuShares ?? 0,
        memory_limit_in_bytes: r.memoryLimitBytes ?? 0,
        oom_score_adj: r.oomScoreAdj ?? 0,
      },
      security_context: {
        capabilities: {
          add_capabilities: (s.capabilities?.add ?? []).map(capabilityName),
          drop_capabilities: (s.capabilities?.drop ?? []).map(capabilityName),
        },
        privileged: s.privileged ?? false,
        namespace_options: namespaceOptions(sandbox.hostNetwork),
        run_as_user: s.runAsUser === undefined ? null : { value: s.runAsUser },
        run_as_group: s.runAsGroup === undefined ? null : { value: s.runAsGroup },
        readonly_rootfs: s.readOnlyRootFilesystem ?? false,
        supplemental_groups: s.supplementalGroups ?? [],
        no_new_privs: s.noNewPrivileges ?? false,
      },
    },
  };
}

const CONTAINER_STATE: Record<string, ContainerState> = {
  CONTAINER_CREATED: "created",
  CONTAINER_RUNNING: "running",
  CONTAINER_EXITED: "exited",
  CONTAINER_UNKNOWN: "unknown",
};

export function toCriContainerState(
  state: ContainerState,
): "CONTAINER_CREATED" | "CONTAINER_RUNNING" | "CONTAINER_EXITED" | "CONTAINER_UNKNOWN" {
  switch (state) {
    case "created":
      return "CONTAINER_CREATED";
    case "running":
      return "CONTAINER_RUNNING";
    case "exited":
      return "CONTAINER_EXITED";
    default:
      return "CONTAINER_UNKNOWN";
  }
}

export function fromCriContainer(c: CriContainer): Container {
  return {
    id: c.id,
    podSandboxId: c.pod_sandbox_id,
    metadata: { name: c.metadata?.name ?? "", attempt: c.metadata?.attempt ?? 0 },
    image: c.annotations?.[IMAGE_ANNOTATION] ?? c.image?.image ?? "",
    imageRef: c.image_ref,
    state: CONTAINER_STATE[c.state] ?? "unknown",
    createdAt: nanosToMillis(c.created_at),
    labels: c.labels,
    annotations: c.annotations,
  };
}

/**
 * ContainerStatus does not carry the sandbox ID; the caller supplies it (from ListContainers).
 *
 * containerd stamps started_at once the task's start call has returned, but finished_at with the shim's
 * exit event; a process that exits at once can so appear to finish a few milliseconds before it started.
 * A container cannot finish before it starts: finishedAt is reported as at least startedAt.
 */
export function fromCriContainerStatus(s: CriContainerStatus, podSandboxId: string): ContainerStatus {
  const startedAt = nanosToMillis(s.started_at);
  const finishedAt = nanosToMillis(s.finished_at);
  return {
    id: s.id,
    podSandboxId,
    metadata: { name: s.metadata?.name ?? "", attempt: s.metadata?.attempt ?? 0 },
    image: s.annotations?.[IMAGE_ANNOTATION] ?? s.image?.image ?? "",
    imageRef: s.image_ref,
    state: CONTAINER_STATE[s.state] ?? "unknown",
    createdAt: nanosToMillis(s.created_at),
    startedAt,
    finishedAt: finishedAt === 0 ? 0 : Math.max(finishedAt, startedAt),
    exitCode: s.exit_code,
    reason: s.reason,
    message: s.message,
    labels: s.labels,
    annotations: s.annotations,
    logPath: s.log_path,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Images, stats, status
// ---------------------------------------------------------------------------------------------------------

export function toCriAuth(auth: AuthConfig | undefined): CriAuthConfig | null {
  if (auth === undefined) return null;
  return {
    username: auth.username ?? "",
    password: auth.password ?? "",
    auth: auth.auth ?? "",
    server_address: serverAddressUrl(auth.serverAddress),
    identity_token: auth.identityToken ?? "",
    registry_token: auth.registryToken ?? "",
  };
}

/**
 * containerd matches AuthConfig.server_address against the registry host by parsing it as a URL, so a bare
 * `host:port` (as docker config files key their entries) would not parse; give it a scheme.
 */
function serverAddressUrl(address: string | undefined): string {
  if (!address) return "";
  return address.includes("://") ? address : `https://${address}`;
}

export function fromCriImage(i: CriImage): Image {
  const image: Image = {
    id: i.id,
    repoTags: [...i.repo_tags],
    repoDigests: [...i.repo_digests],
    sizeBytes: toNumber(i.size),
  };
  if (i.uid) image.uid = toNumber(i.uid.value);
  if (i.username) image.username = i.username;
  return image;
}

export function fromCriFilesystemUsage(f: CriFilesystemUsage): ImageFsUsage {
  return {
    mountpoint: f.fs_id?.mountpoint ?? "",
    usedBytes: toNumber(f.used_bytes?.value),
    inodesUsed: toNumber(f.inodes_used?.value),
    timestampMs: nanosToMillis(f.timestamp),
  };
}

export function fromCriStats(s: CriContainerStats, podSandboxId?: string): ContainerStats {
  const stats: ContainerStats = {
    containerId: s.attributes?.id ?? "",
    name: s.attributes?.metadata?.name ?? "",
    timestampMs: nanosToMillis(s.cpu?.timestamp ?? s.memory?.timestamp),
    cpuUsageCoreNanoSeconds: toNumber(s.cpu?.usage_core_nano_seconds?.value),
    memoryWorkingSetBytes: toNumber(s.memory?.working_set_bytes?.value),
  };
  if (s.memory?.usage_bytes) stats.memoryUsageBytes = toNumber(s.memory.usage_bytes.value);
  if (podSandboxId) stats.podSandboxId = podSandboxId;
  return stats;
}

/** Only the two conditions the interface names; others are informative and dropped. */
export function fromCriConditions(conditions: CriRuntimeCondition[]): RuntimeCondition[] {
  const out: RuntimeCondition[] = [];
  for (const c of conditions) {
    if (c.type === "RuntimeReady" || c.type === "NetworkReady") {
      out.push({ type: c.type, status: c.status, reason: c.reason, message: c.message });
    }
  }
  return out;
}
