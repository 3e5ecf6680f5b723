// The agent's configuration: a YAML file in the spirit of KubeletConfiguration, overridden by flags,
// validated once at start-up with messages that name the field and the fix.
import { readFile } from "node:fs/promises";
import { hostname } from "node:os";
import { parseQuantity } from "../api/quantity.ts";
import { parseDuration } from "../util/duration.ts";
import { parseYamlStrict } from "../util/yaml.ts";

export type RuntimeKind = "docker" | "cri";
export type ProxyMode = "iptables" | "none";
export type NetworkPlugin = "cni" | "kubenet";

export interface Taint {
  key: string;
  value?: string;
  effect: "NoSchedule" | "PreferNoSchedule" | "NoExecute";
}

export interface AgentConfig {
  nodeName: string;
  /** The API server's kubeconfig; empty: a standalone node that runs its static pods only. */
  kubeconfig: string;
  runtime: RuntimeKind;
  /** unix:///run/containerd/containerd.sock (cri) or unix:///var/run/docker.sock (docker) by default. */
  runtimeEndpoint: string;
  rootDir: string;
  staticPodPath: string;
  /** How often the static-pod directory is rescanned besides file-watch events (ms). */
  fileCheckFrequencyMs: number;
  maxPods: number;
  podCIDR: string;
  clusterDNS: string[];
  clusterDomain: string;
  /** Quantities per resource name, e.g. { cpu: "100m", memory: "256Mi" }. */
  systemReserved: Record<string, string>;
  kubeReserved: Record<string, string>;
  /** Signal → threshold, e.g. { "memory.available": "100Mi", "nodefs.available": "10%" }. */
  evictionHard: Record<string, string>;
  /** How often node status is computed (ms); it is written when it changed or every nodeStatusReportFrequency. */
  nodeStatusUpdateFrequencyMs: number;
  nodeStatusReportFrequencyMs: number;
  nodeLeaseDurationSeconds: number;
  registerWithTaints: Taint[];
  nodeLabels: Record<string, string>;
  /** Upper bound of the CrashLoopBackOff delay (upstream: 5 min, fixed; configurable here). */
  maxContainerRestartPeriodMs: number;
  /** Pause image for the Docker driver's sandboxes. */
  podInfraContainerImage: string;
  /** Upstream gives guaranteed pods -997; a negative value needs CAP_SYS_RESOURCE (off by default). */
  allowNegativeOomScoreAdj: boolean;
  proxyMode: ProxyMode;
  /**
   * The cluster's pod network (kube-proxy's clusterCIDR): ClusterIP traffic from outside it is masqueraded,
   * so that replies from a backend on another node come back through this node's conntrack. Empty: podCIDR.
   */
  clusterCIDR: string;
  /** Node API (logs, exec, metrics) listen address and port. */
  address: string;
  port: number;
  healthzBindAddress: string;
  healthzPort: number;
  /** The node's InternalIP (kubelet's --node-ip); empty: the address of the default route's interface. */
  nodeIP: string;
  /**
   * "cni": pods get the runtime's own CNI configuration. "kubenet": Deckhand owns the pod network — a bridge
   * conflist for the Node's spec.podCIDR in cniConfDir and host routes to other nodes' podCIDRs (host-gw).
   */
  networkPlugin: NetworkPlugin;
  cniConfDir: string;
  /** Renew the kubeconfig's client certificate through CSRs before it expires (kubelet's rotateCertificates). */
  rotateCertificates: boolean;
  /** Get the node API's serving certificate from the kubelet-serving signer (kubelet's serverTLSBootstrap). */
  serverTLSBootstrap: boolean;
  /** The node API's serving certificate and key; empty: a self-signed one under rootDir/pki. */
  tlsCertFile: string;
  tlsPrivateKeyFile: string;
  /**
   * CA bundle that node API clients' certificates must chain to (authentication.x509.clientCAFile);
   * empty: the CA of the kubeconfig's cluster.
   */
  clientCAFile: string;
  /** Root-only unix socket `deckhand debug` talks to; empty: none. */
  debugSocket: string;
}

export class ConfigError extends Error {
  readonly field: string;
  constructor(field: string, problem: string) {
    super(`invalid agent configuration: ${field}: ${problem}`);
    this.name = "ConfigError";
    this.field = field;
  }
}

export function defaultConfig(): AgentConfig {
  return {
    nodeName: hostname().toLowerCase(),
    kubeconfig: "",
    runtime: "cri",
    runtimeEndpoint: "",
    rootDir: "/var/lib/deckhand",
    staticPodPath: "/etc/deckhand/manifests",
    fileCheckFrequencyMs: 20_000,
    maxPods: 110,
    podCIDR: "",
    clusterDNS: [],
    clusterDomain: "cluster.local",
    systemReserved: {},
    kubeReserved: {},
    evictionHard: {
      "memory.available": "100Mi",
      "nodefs.available": "10%",
      "nodefs.inodesFree": "5%",
      "imagefs.available": "15%",
    },
    nodeStatusUpdateFrequencyMs: 10_000,
    nodeStatusReportFrequencyMs: 5 * 60_000,
    nodeLeaseDurationSeconds: 40,
    registerWithTaints: [],
    nodeLabels: {},
    maxContainerRestartPeriodMs: 5 * 60_000,
    podInfraContainerImage: "registry.k8s.io/pause:3.10",
    allowNegativeOomScoreAdj: false,
    proxyMode: "iptables",
    clusterCIDR: "",
    address: "0.0.0.0",
    port: 10250,
    healthzBindAddress: "127.0.0.1",
    healthzPort: 10248,
    nodeIP: "",
    networkPlugin: "cni",
    cniConfDir: "/etc/cni/net.d",
    rotateCertificates: false,
    serverTLSBootstrap: false,
    tlsCertFile: "",
    tlsPrivateKeyFile: "",
    clientCAFile: "",
    debugSocket: "/run/deckhand/debug.sock",
  };
}

export const DEFAULT_RUNTIME_ENDPOINTS: Record<RuntimeKind, string> = {
  cri: "unix:///run/containerd/containerd.sock",
  docker: "unix:///var/run/docker.sock",
};

/** File keys (KubeletConfiguration spelling) and how each maps onto AgentConfig. */
type FileReader = (value: unknown, field: string) => Partial<AgentConfig>;

const FILE_FIELDS: Record<string, FileReader> = {
  nodeName: (v, f) => ({ nodeName: dnsSubdomain(v, f) }),
  kubeconfig: (v, f) => ({ kubeconfig: str(v, f) }),
  runtime: (v, f) => ({ runtime: oneOf(v, f, ["docker", "cri"] as const) }),
  containerRuntimeEndpoint: (v, f) => ({ runtimeEndpoint: endpoint(v, f) }),
  rootDir: (v, f) => ({ rootDir: absolutePath(v, f) }),
  staticPodPath: (v, f) => ({ staticPodPath: absolutePath(v, f) }),
  fileCheckFrequency: (v, f) => ({ fileCheckFrequencyMs: duration(v, f) }),
  maxPods: (v, f) => ({ maxPods: integer(v, f, 1, 10_000) }),
  podCIDR: (v, f) => ({ podCIDR: cidr(v, f) }),
  clusterDNS: (v, f) => ({ clusterDNS: list(v, f).map((ip, i) => ipv4(ip, `${f}[${i}]`)) }),
  clusterDomain: (v, f) => ({ clusterDomain: str(v, f) }),
  systemReserved: (v, f) => ({ systemReserved: quantities(v, f) }),
  kubeReserved: (v, f) => ({ kubeReserved: quantities(v, f) }),
  evictionHard: (v, f) => ({ evictionHard: thresholds(v, f) }),
  nodeStatusUpdateFrequency: (v, f) => ({ nodeStatusUpdateFrequencyMs: duration(v, f) }),
  nodeStatusReportFrequency: (v, f) => ({ nodeStatusReportFrequencyMs: duration(v, f) }),
  nodeLeaseDurationSeconds: (v, f) => ({ nodeLeaseDurationSeconds: integer(v, f, 1, 3600) }),
  registerWithTaints: (v, f) => ({ registerWithTaints: list(v, f).map((t, i) => taint(t, `${f}[${i}]`)) }),
  nodeLabels: (v, f) => ({ nodeLabels: stringMap(v, f) }),
  maxContainerRestartPeriod: (v, f) => ({ maxContainerRestartPeriodMs: duration(v, f) }),
  podInfraContainerImage: (v, f) => ({ podInfraContainerImage: str(v, f) }),
  allowNegativeOomScoreAdj: (v, f) => ({ allowNegativeOomScoreAdj: bool(v, f) }),
  proxyMode: (v, f) => ({ proxyMode: oneOf(v, f, ["iptables", "none"] as const) }),
  clusterCIDR: (v, f) => ({ clusterCIDR: cidr(v, f) }),
  address: (v, f) => ({ address: ipv4(v, f) }),
  port: (v, f) => ({ port: integer(v, f, 1, 65535) }),
  healthzBindAddress: (v, f) => ({ healthzBindAddress: ipv4(v, f) }),
  healthzPort: (v, f) => ({ healthzPort: integer(v, f, 0, 65535) }),
  nodeIP: (v, f) => ({ nodeIP: ipv4(v, f) }),
  networkPlugin: (v, f) => ({ networkPlugin: oneOf(v, f, ["cni", "kubenet"] as const) }),
  cniConfDir: (v, f) => ({ cniConfDir: absolutePath(v, f) }),
  rotateCertificates: (v, f) => ({ rotateCertificates: bool(v, f) }),
  serverTLSBootstrap: (v, f) => ({ serverTLSBootstrap: bool(v, f) }),
  tlsCertFile: (v, f) => ({ tlsCertFile: absolutePath(v, f) }),
  tlsPrivateKeyFile: (v, f) => ({ tlsPrivateKeyFile: absolutePath(v, f) }),
  authentication: (v, f) => ({ clientCAFile: authentication(v, f) }),
  debugSocket: (v, f) => ({ debugSocket: v === "" ? "" : absolutePath(v, f) }),
};

/** Fields of upstream's KubeletConfiguration header that may appear and mean nothing to Deckhand. */
const IGNORED_FILE_FIELDS = new Set(["apiVersion", "kind"]);

/** Parses a config file's text; throws ConfigError naming the first bad field. */
export function parseConfigFile(text: string, source: string): Partial<AgentConfig> {
  let doc: unknown;
  try {
    doc = parseYamlStrict(text);
  } catch (error) {
    throw new ConfigError(source, `not valid YAML: ${(error as Error).message}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== "object" || Array.isArray(doc)) throw new ConfigError(source, "must be a YAML mapping");
  let result: Partial<AgentConfig> = {};
  for (const [key, value] of Object.entries(doc)) {
    if (IGNORED_FILE_FIELDS.has(key)) continue;
    // Own keys only: "__proto__" or "toString" in a file must be an unknown field, not Object's members.
    const reader = Object.hasOwn(FILE_FIELDS, key) ? FILE_FIELDS[key] : undefined;
    if (!reader) {
      throw new ConfigError(key, `unknown field (known: ${Object.keys(FILE_FIELDS).sort().join(", ")})`);
    }
    result = { ...result, ...reader(value, key) };
  }
  return result;
}

/** Defaults ← file ← flags, then cross-field checks. */
export async function loadConfig(options: {
  file?: string;
  flags?: Partial<AgentConfig>;
}): Promise<AgentConfig> {
  let fromFile: Partial<AgentConfig> = {};
  if (options.file) {
    let text: string;
    try {
      text = await readFile(options.file, "utf8");
    } catch (error) {
      throw new ConfigError(
        "--config",
        `${options.file} cannot be read (${(error as NodeJS.ErrnoException).code})`,
      );
    }
    fromFile = parseConfigFile(text, options.file);
  }
  const flags = Object.fromEntries(Object.entries(options.flags ?? {}).filter(([, v]) => v !== undefined));
  return finishConfig({ ...defaultConfig(), ...fromFile, ...flags });
}

export function finishConfig(config: AgentConfig): AgentConfig {
  const done = { ...config };
  if (!done.runtimeEndpoint) done.runtimeEndpoint = DEFAULT_RUNTIME_ENDPOINTS[done.runtime];
  endpoint(done.runtimeEndpoint, "containerRuntimeEndpoint");
  dnsSubdomain(done.nodeName, "nodeName");
  if (!done.tlsCertFile !== !done.tlsPrivateKeyFile) {
    throw new ConfigError(
      done.tlsCertFile ? "tlsPrivateKeyFile" : "tlsCertFile",
      "tlsCertFile and tlsPrivateKeyFile go together: set both, or neither for a self-signed certificate",
    );
  }
  if (done.nodeStatusReportFrequencyMs < done.nodeStatusUpdateFrequencyMs) {
    throw new ConfigError(
      "nodeStatusReportFrequency",
      "must not be shorter than nodeStatusUpdateFrequency (status is computed at the update frequency)",
    );
  }
  return done;
}

// --- field readers: each names the field and says what is expected ----------------------------------------

/** kubelet's authentication block: x509.clientCAFile; anonymous access cannot be switched on. */
function authentication(v: unknown, f: string): string {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new ConfigError(f, "must be a mapping");
  let clientCAFile = "";
  for (const [key, value] of Object.entries(v)) {
    if (key === "x509") {
      if (typeof value !== "object" || value === null)
        throw new ConfigError(`${f}.x509`, "must be a mapping");
      const file = (value as Record<string, unknown>).clientCAFile;
      if (file !== undefined) clientCAFile = absolutePath(file, `${f}.x509.clientCAFile`);
    } else if (key === "anonymous") {
      const enabled = (value as Record<string, unknown> | null)?.enabled;
      if (enabled !== undefined && bool(enabled, `${f}.anonymous.enabled`)) {
        throw new ConfigError(
          `${f}.anonymous.enabled`,
          "anonymous access to the node API is not supported; use false",
        );
      }
    } else if (key !== "webhook") {
      throw new ConfigError(`${f}.${key}`, "unknown field (known: x509, anonymous, webhook)");
    }
  }
  return clientCAFile;
}

function str(v: unknown, f: string): string {
  if (typeof v !== "string" || v === "")
    throw new ConfigError(f, `must be a non-empty string, got ${JSON.stringify(v)}`);
  return v;
}

function bool(v: unknown, f: string): boolean {
  if (typeof v !== "boolean") throw new ConfigError(f, `must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

function integer(v: unknown, f: string, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw new ConfigError(f, `must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  }
  return v;
}

function oneOf<T extends string>(v: unknown, f: string, values: readonly T[]): T {
  if (typeof v !== "string" || !values.includes(v as T)) {
    throw new ConfigError(f, `must be one of ${values.join(", ")}, got ${JSON.stringify(v)}`);
  }
  return v as T;
}

function list(v: unknown, f: string): unknown[] {
  if (!Array.isArray(v)) throw new ConfigError(f, `must be a list, got ${JSON.stringify(v)}`);
  return v;
}

function stringMap(v: unknown, f: string): Record<string, string> {
  if (typeof v !== "object" || v === null || Array.isArray(v))
    throw new ConfigError(f, "must be a mapping of strings");
  for (const [key, value] of Object.entries(v)) {
    if (typeof value !== "string")
      throw new ConfigError(`${f}.${key}`, `must be a string, got ${JSON.stringify(value)}`);
  }
  return v as Record<string, string>;
}

function duration(v: unknown, f: string): number {
  const ms = typeof v === "string" ? parseDuration(v) : undefined;
  if (ms === undefined || ms < 0)
    throw new ConfigError(f, `must be a duration like "10s" or "5m", got ${JSON.stringify(v)}`);
  return ms;
}

function absolutePath(v: unknown, f: string): string {
  const path = str(v, f);
  if (!path.startsWith("/")) throw new ConfigError(f, `must be an absolute path, got "${path}"`);
  return path;
}

function endpoint(v: unknown, f: string): string {
  const text = str(v, f);
  if (!/^unix:\/\/\/./.test(text) && !text.startsWith("/")) {
    throw new ConfigError(
      f,
      `must be a unix socket like unix:///run/containerd/containerd.sock, got "${text}"`,
    );
  }
  return text;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

function ipv4(v: unknown, f: string): string {
  const text = str(v, f);
  if (!IPV4.test(text)) throw new ConfigError(f, `must be an IPv4 address, got "${text}"`);
  return text;
}

function cidr(v: unknown, f: string): string {
  const text = str(v, f);
  const [ip, bits, extra] = text.split("/");
  if (extra !== undefined || !ip || !IPV4.test(ip) || !/^\d+$/.test(bits ?? "") || Number(bits) > 32) {
    throw new ConfigError(f, `must be an IPv4 CIDR like 10.244.1.0/24, got "${text}"`);
  }
  return text;
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function dnsSubdomain(v: unknown, f: string): string {
  const text = str(v, f);
  if (text.length > 253 || !DNS_SUBDOMAIN.test(text)) {
    throw new ConfigError(f, `must be a lower-case DNS subdomain (e.g. "worker-1"), got "${text}"`);
  }
  return text;
}

function quantities(v: unknown, f: string): Record<string, string> {
  const map = stringMap(v, f);
  for (const [key, value] of Object.entries(map)) {
    if (parseQuantity(value) === undefined)
      throw new ConfigError(`${f}.${key}`, `"${value}" is not a quantity like "100m" or "256Mi"`);
  }
  return map;
}

const EVICTION_SIGNALS = new Set([
  "memory.available",
  "nodefs.available",
  "nodefs.inodesFree",
  "imagefs.available",
  "imagefs.inodesFree",
  "pid.available",
]);

function thresholds(v: unknown, f: string): Record<string, string> {
  const map = stringMap(v, f);
  for (const [signal, value] of Object.entries(map)) {
    if (!EVICTION_SIGNALS.has(signal)) {
      throw new ConfigError(
        `${f}.${signal}`,
        `unknown eviction signal (known: ${[...EVICTION_SIGNALS].join(", ")})`,
      );
    }
    const percent = /^(\d+(?:\.\d+)?)%$/.exec(value);
    if (percent ? Number(percent[1]) > 100 : parseQuantity(value) === undefined) {
      throw new ConfigError(
        `${f}.${signal}`,
        `"${value}" must be a quantity like "100Mi" or a percentage like "10%"`,
      );
    }
  }
  return map;
}

function taint(v: unknown, f: string): Taint {
  if (typeof v !== "object" || v === null) throw new ConfigError(f, "must be a taint {key, value?, effect}");
  const t = v as Record<string, unknown>;
  return {
    key: str(t.key, `${f}.key`),
    ...(t.value === undefined ? {} : { value: String(t.value) }),
    effect: oneOf(t.effect, `${f}.effect`, ["NoSchedule", "PreferNoSchedule", "NoExecute"] as const),
  };
}
