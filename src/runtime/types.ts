// The container runtime contract the node agent consumes. Shaped like CRI runtime.v1 (so that the CRI
// driver is a thin mapping) but small enough to implement twice; the Docker driver maps it onto a pause
// container plus app containers joined to its namespaces, like dockershim.
import type { Duplex, Readable, Writable } from "node:stream";

/** Labels every runtime object carries so the agent can rebuild its state from the runtime alone. */
export const RuntimeLabels = {
  podUid: "io.kubernetes.pod.uid",
  podName: "io.kubernetes.pod.name",
  podNamespace: "io.kubernetes.pod.namespace",
  containerName: "io.kubernetes.container.name",
  /** Annotations, not labels, upstream; kept as labels here so list filters can use them. */
  restartCount: "io.kubernetes.container.restartCount",
  specHash: "io.kubernetes.container.hash",
  /** Marks objects created by Deckhand, so that list/cleanup never touches anybody else's. */
  managedBy: "io.deckhand.managed",
  /** The node (agent) that owns the object: agents sharing one runtime never adopt or clean up each other's. */
  nodeName: "io.deckhand.node",
} as const;

export interface RuntimeVersion {
  /** e.g. "containerd" or "docker". */
  runtimeName: string;
  /** e.g. "1.6.20" or "20.10.24". */
  runtimeVersion: string;
  /** CRI API version the runtime speaks ("v1"); the Docker driver reports "v1" too (it emulates it). */
  runtimeApiVersion: string;
}

export interface RuntimeCondition {
  type: "RuntimeReady" | "NetworkReady";
  status: boolean;
  reason: string;
  message: string;
}

export interface RuntimeStatus {
  conditions: RuntimeCondition[];
}

export interface PodSandboxMetadata {
  name: string;
  uid: string;
  namespace: string;
  attempt: number;
}

export interface DnsConfig {
  servers: string[];
  searches: string[];
  options: string[];
}

export type Protocol = "TCP" | "UDP" | "SCTP";

export interface PortMapping {
  protocol: Protocol;
  containerPort: number;
  /** 0 or absent: not published on the host. */
  hostPort?: number;
  hostIp?: string;
}

export interface PodSandboxConfig {
  metadata: PodSandboxMetadata;
  hostname?: string;
  logDirectory?: string;
  dnsConfig?: DnsConfig;
  portMappings?: PortMapping[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  cgroupParent?: string;
  /** Host network namespace (pod.spec.hostNetwork). */
  hostNetwork?: boolean;
  /** Sysctls applied to the sandbox. */
  sysctls?: Record<string, string>;
}

export type SandboxState = "ready" | "notready";

export interface PodSandbox {
  id: string;
  metadata: PodSandboxMetadata;
  state: SandboxState;
  /** Milliseconds since the epoch. */
  createdAt: number;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface PodSandboxStatus extends PodSandbox {
  /** Primary pod IP; empty for host-network pods or when the network is not set up. */
  ip: string;
  additionalIps: string[];
  hostNetwork: boolean;
}

export interface PodSandboxFilter {
  id?: string;
  state?: SandboxState;
  labelSelector?: Record<string, string>;
}

export interface ContainerMetadata {
  name: string;
  attempt: number;
}

export interface KeyValue {
  key: string;
  value: string;
}

export type MountPropagation = "private" | "hostToContainer" | "bidirectional";

export interface Mount {
  containerPath: string;
  hostPath: string;
  readonly?: boolean;
  propagation?: MountPropagation;
}

export interface Device {
  containerPath: string;
  hostPath: string;
  /** cgroup permissions: any of "rwm". */
  permissions: string;
}

export interface ContainerResources {
  /** Relative CPU weight (cgroup cpu.shares); 2 is the minimum upstream uses. */
  cpuShares?: number;
  /** CFS period in microseconds (default 100000). */
  cpuPeriod?: number;
  /** CFS quota in microseconds; 0 = unlimited. */
  cpuQuota?: number;
  /** Memory limit in bytes; 0 = unlimited. */
  memoryLimitBytes?: number;
  /** OOM score adjustment; negative values need CAP_SYS_RESOURCE (see host notes). */
  oomScoreAdj?: number;
}

export interface Capabilities {
  add: string[];
  drop: string[];
}

export interface ContainerSecurityContext {
  runAsUser?: number;
  runAsGroup?: number;
  supplementalGroups?: number[];
  privileged?: boolean;
  readOnlyRootFilesystem?: boolean;
  capabilities?: Capabilities;
  noNewPrivileges?: boolean;
}

export interface ContainerConfig {
  metadata: ContainerMetadata;
  image: string;
  /** Overrides the image's ENTRYPOINT (pod.spec.containers[].command). */
  command?: string[];
  /** Overrides the image's CMD (pod.spec.containers[].args). */
  args?: string[];
  workingDir?: string;
  env?: KeyValue[];
  mounts?: Mount[];
  devices?: Device[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Relative to the sandbox's logDirectory (CRI); the Docker driver keeps Docker's own log. */
  logPath?: string;
  stdin?: boolean;
  stdinOnce?: boolean;
  tty?: boolean;
  resources?: ContainerResources;
  securityContext?: ContainerSecurityContext;
}

export type ContainerState = "created" | "running" | "exited" | "unknown";

export interface Container {
  id: string;
  podSandboxId: string;
  metadata: ContainerMetadata;
  image: string;
  /** Image ID the container actually runs (digest or image ID). */
  imageRef: string;
  state: ContainerState;
  /** Milliseconds since the epoch. */
  createdAt: number;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface ContainerStatus extends Container {
  /** Milliseconds since the epoch; 0 when not started / not finished. */
  startedAt: number;
  finishedAt: number;
  exitCode: number;
  /** Upstream reasons: "Completed" (exit 0), "Error", "OOMKilled", "ContainerCannotRun"… */
  reason: string;
  message: string;
  logPath: string;
}

export interface ContainerFilter {
  id?: string;
  state?: ContainerState;
  podSandboxId?: string;
  labelSelector?: Record<string, string>;
}

export interface ExecSyncResult {
  stdout: Buffer;
  stderr: Buffer;
  exitCode: number;
}

export interface TerminalSize {
  width: number;
  height: number;
}

export interface StreamOptions {
  stdin?: Readable;
  stdout?: Writable;
  stderr?: Writable;
  tty?: boolean;
  /** Terminal resizes for tty sessions. */
  resize?: AsyncIterable<TerminalSize>;
  signal?: AbortSignal;
}

export interface ExecOptions extends StreamOptions {
  command: string[];
}

export interface StreamResult {
  /** Exit code of the exec'd process; for attach, undefined when the session ended before the container. */
  exitCode: number | undefined;
}

export interface LogOptions {
  follow?: boolean;
  /** Last N lines; undefined = all. */
  tail?: number;
  /** Only lines at or after this time (milliseconds since the epoch). */
  sinceMs?: number;
  timestamps?: boolean;
  /** Which streams; default both. */
  stdout?: boolean;
  stderr?: boolean;
  signal?: AbortSignal;
}

export interface LogLine {
  /** Milliseconds since the epoch, with the runtime's precision in `time`. */
  timestampMs: number;
  /** RFC 3339 timestamp as recorded by the runtime (nanosecond precision where available). */
  time: string;
  stream: "stdout" | "stderr";
  /** The line without its trailing newline; `partial` lines had no newline (CRI "P" tag). */
  content: Buffer;
  partial: boolean;
}

export interface AuthConfig {
  username?: string;
  password?: string;
  /** base64("user:password"), as in a docker config.json. */
  auth?: string;
  serverAddress?: string;
  identityToken?: string;
  registryToken?: string;
}

export interface Image {
  id: string;
  repoTags: string[];
  repoDigests: string[];
  sizeBytes: number;
  /** UID the image runs as, when numeric. */
  uid?: number;
  username?: string;
}

export interface ImageFsUsage {
  mountpoint: string;
  usedBytes: number;
  inodesUsed: number;
  timestampMs: number;
}

export interface ContainerStats {
  containerId: string;
  name: string;
  podSandboxId?: string;
  timestampMs: number;
  /** Cumulative CPU time in nanoseconds. */
  cpuUsageCoreNanoSeconds: number;
  memoryWorkingSetBytes: number;
  memoryUsageBytes?: number;
}

/**
 * A container runtime as the agent sees it. Both drivers implement all of it; one conformance suite
 * (test/runtime/) runs against both real runtimes. Methods reject with RuntimeError (./errors.ts).
 */
export interface Runtime {
  readonly name: "cri" | "docker";
  /** Where it talks to, for messages (e.g. "unix:///run/containerd/containerd.sock"). */
  readonly endpoint: string;

  version(): Promise<RuntimeVersion>;
  status(): Promise<RuntimeStatus>;

  runPodSandbox(config: PodSandboxConfig): Promise<string>;
  /** Stops every container of the sandbox and tears down its network; idempotent. */
  stopPodSandbox(id: string): Promise<void>;
  /** Removes the sandbox and its containers; idempotent (a missing sandbox is not an error). */
  removePodSandbox(id: string): Promise<void>;
  podSandboxStatus(id: string): Promise<PodSandboxStatus>;
  listPodSandboxes(filter?: PodSandboxFilter): Promise<PodSandbox[]>;

  createContainer(
    podSandboxId: string,
    config: ContainerConfig,
    sandboxConfig: PodSandboxConfig,
  ): Promise<string>;
  startContainer(id: string): Promise<void>;
  /** SIGTERM (or the image's stop signal), then SIGKILL after `timeoutSeconds`; idempotent. */
  stopContainer(id: string, timeoutSeconds: number): Promise<void>;
  /** Idempotent: a missing container is not an error. */
  removeContainer(id: string): Promise<void>;
  containerStatus(id: string): Promise<ContainerStatus>;
  listContainers(filter?: ContainerFilter): Promise<Container[]>;

  execSync(containerId: string, command: string[], timeoutSeconds: number): Promise<ExecSyncResult>;
  exec(containerId: string, options: ExecOptions): Promise<StreamResult>;
  attach(containerId: string, options: StreamOptions): Promise<StreamResult>;
  /** A duplex byte stream to `port` inside the sandbox's network namespace. */
  portForward(podSandboxId: string, port: number): Promise<Duplex>;
  /** Log lines of a container; with `follow`, the iterator ends when the container exits or on abort. */
  containerLogs(containerId: string, options?: LogOptions): AsyncIterable<LogLine>;

  pullImage(image: string, auth?: AuthConfig, sandboxConfig?: PodSandboxConfig): Promise<string>;
  /** undefined when the image is not present. */
  imageStatus(image: string): Promise<Image | undefined>;
  listImages(): Promise<Image[]>;
  /** Idempotent: a missing image is not an error. */
  removeImage(image: string): Promise<void>;
  imageFsInfo(): Promise<ImageFsUsage[]>;

  containerStats(id: string): Promise<ContainerStats>;
  listContainerStats(filter?: ContainerFilter): Promise<ContainerStats[]>;

  close(): Promise<void>;
}
