// What the pod configuration layer needs from the rest of the agent, and the one error it throws.
import { availableParallelism, totalmem } from "node:os";
import type { ConfigMap, Secret } from "../../api/schema/core/config-types.ts";
import type { Pod } from "../../api/schema/core/pod-types.ts";
import type { Service } from "../../api/schema/core/service-types.ts";
import type { Mounter } from "./mounter.ts";
import type { ServiceAccountTokenSource } from "./service-account-token.ts";

/** map[ResourceName]Quantity, as in Node.status.capacity / allocatable. */
export type ResourceList = Record<string, string>;

/** Reads through the public API; the caller caches or watches. Rejections are ApiErrors (src/api/client/errors.ts). */
export interface PodConfigApi {
  /** undefined = not found. */
  getConfigMap(namespace: string, name: string): Promise<ConfigMap | undefined>;
  /** undefined = not found. */
  getSecret(namespace: string, name: string): Promise<Secret | undefined>;
  /** Services of one namespace (service environment variables; "default" for the master service). */
  listServices(namespace: string): Promise<Service[]>;
}

export interface PodConfigContext {
  nodeName: string;
  hostIPs: string[];
  /** Pods live under <rootDir>/pods/<uid>/ (volumes, containers, logs, etc-hosts). */
  rootDir: string;
  clusterDNS: string[];
  clusterDomain: string;
  runtimeName: "docker" | "cri";
  /** Upstream gives guaranteed pods -997; without CAP_SYS_RESOURCE that fails, so 0 is used instead. */
  allowNegativeOomScoreAdj: boolean;
  api: PodConfigApi;
  /**
   * Node.status.capacity: memory is the base of the burstable oom_score_adj formula. Default: this machine's
   * cpu count and total memory.
   */
  nodeCapacity?: ResourceList;
  /**
   * Node.status.allocatable: the value of unset limits seen through the downward API, and the tmpfs size cap.
   * Default: nodeCapacity.
   */
  nodeAllocatable?: ResourceList;
  /** The host resolver file used as the DNS base (kubelet's --resolv-conf); "" = none. Default /etc/resolv.conf. */
  resolvConf?: string;
  /** Back secret, downwardAPI and projected volumes with tmpfs like upstream (needs root). Default true. */
  memoryBackedSecretVolumes?: boolean;
  /** tmpfs mount/unmount; default: the mount(8)/umount(8) binaries and /proc/self/mountinfo. */
  mounter?: Mounter;
  /** Issues service account tokens for projected serviceAccountToken sources; without it they fail to mount. */
  serviceAccountTokens?: ServiceAccountTokenSource;
  /** Milliseconds since the epoch (names of atomic-writer data directories). Default Date.now. */
  now?: () => number;
  /** Warning events about a pod (MissingClusterDNS, DNSConfigForming, InvalidEnvironmentVariableNames). */
  warn?(pod: Pod, reason: string, message: string): void;
}

/** Upstream's waiting reasons / event reasons for a pod the runtime cannot be asked to run. */
export type PodConfigErrorReason =
  | "CreateContainerConfigError"
  | "FailedMount"
  | "RunContainerError"
  | "InvalidImageName"
  | "CreatePodSandboxError";

export class PodConfigError extends Error {
  readonly reason: PodConfigErrorReason;
  constructor(reason: PodConfigErrorReason, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "PodConfigError";
    this.reason = reason;
  }
}

export const isPodConfigError = (error: unknown): error is PodConfigError => error instanceof PodConfigError;

/** This machine's cpu and memory, for contexts that do not say. */
export function machineCapacity(): ResourceList {
  return { cpu: String(availableParallelism()), memory: String(totalmem()) };
}

export function capacityOf(ctx: Pick<PodConfigContext, "nodeCapacity">): ResourceList {
  return ctx.nodeCapacity ?? machineCapacity();
}

export function allocatableOf(ctx: Pick<PodConfigContext, "nodeCapacity" | "nodeAllocatable">): ResourceList {
  return ctx.nodeAllocatable ?? capacityOf(ctx);
}

/** kubelet's format.Pod: "name_namespace(uid)". */
export function formatPod(pod: Pod): string {
  const m = pod.metadata ?? {};
  return `${m.name ?? ""}_${m.namespace ?? ""}(${m.uid ?? ""})`;
}

export interface PodIdentity {
  name: string;
  namespace: string;
  uid: string;
}

/** The pod's name, namespace and uid, or a PodConfigError naming the missing field. */
export function podIdentity(pod: Pod, reason: PodConfigErrorReason): PodIdentity {
  const m = pod.metadata ?? {};
  for (const field of ["name", "namespace", "uid"] as const) {
    if (!m[field]) throw new PodConfigError(reason, `pod ${formatPod(pod)}: metadata.${field} is empty`);
  }
  return { name: m.name as string, namespace: m.namespace as string, uid: m.uid as string };
}

/** The message of any thrown value. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
