// Checks requests before they reach either runtime driver. A bad value throws RuntimeError RUNTIME_INVALID
// whose `field` is its path inside the request object ("portMappings[0].containerPort", "mounts[1].hostPath",
// "resources.memoryLimitBytes", "port"), so that nothing half-valid is ever sent.
import { isIP } from "node:net";
import { posix } from "node:path";
import { invalid } from "./errors.ts";
import type { ContainerConfig, ContainerResources, PodSandboxConfig } from "./types.ts";

/**
 * Kubernetes object names and UIDs as they appear in sandbox and container metadata. No "_": the Docker
 * driver joins metadata into container names with it.
 */
const NAME = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/;
/** Container names are RFC 1123 labels upstream. */
const CONTAINER_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const HOSTNAME = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const CAPABILITY = /^(CAP_)?[A-Za-z_]+$/;
const SYSCTL = /^[A-Za-z0-9_./-]+$/;
const PROTOCOLS = ["TCP", "UDP", "SCTP"];
const PROPAGATIONS = ["private", "hostToContainer", "bidirectional"];
/** The kernel refuses a CFS quota below 1 ms and a period outside 1 ms..1 s. */
const MIN_CFS_US = 1000;
const MAX_CFS_PERIOD_US = 1_000_000;

function integer(field: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(field, `${JSON.stringify(value)} is not an integer from ${min} to ${max}`);
  }
}

function matches(field: string, value: unknown, pattern: RegExp, what: string): void {
  if (typeof value !== "string" || !pattern.test(value)) {
    throw invalid(field, `${JSON.stringify(value)} is not ${what}`);
  }
}

function absolute(field: string, value: unknown): void {
  if (typeof value !== "string" || !posix.isAbsolute(value)) {
    throw invalid(field, `${JSON.stringify(value)} is not an absolute path`);
  }
}

function strings(field: string, value: unknown): void {
  if (value === undefined) return;
  if (!Array.isArray(value)) throw invalid(field, "must be a list of strings");
  value.forEach((v, i) => {
    if (typeof v !== "string") throw invalid(`${field}[${i}]`, `${JSON.stringify(v)} is not a string`);
  });
}

function stringMap(field: string, value: unknown): void {
  if (value === undefined) return;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalid(field, "must be an object mapping strings to strings");
  }
  for (const [key, v] of Object.entries(value)) {
    if (key === "") throw invalid(field, "has an empty key");
    if (typeof v !== "string") throw invalid(`${field}.${key}`, `${JSON.stringify(v)} is not a string`);
  }
}

/** A sandbox or container ID handed back by the runtime. */
export function validateId(field: string, id: unknown): void {
  if (typeof id !== "string" || id === "" || /[\s/]/.test(id)) {
    throw invalid(field, `${JSON.stringify(id)} is not a runtime object ID`);
  }
}

export function validatePort(field: string, port: unknown): void {
  integer(field, port, 1, 65535);
}

export function validateSeconds(field: string, seconds: unknown): void {
  integer(field, seconds, 0);
}

export function validateSandboxConfig(config: PodSandboxConfig): void {
  if (typeof config !== "object" || config === null)
    throw invalid("config", "a PodSandboxConfig is required");
  const m = config.metadata;
  if (typeof m !== "object" || m === null)
    throw invalid("metadata", "name, uid, namespace and attempt are required");
  matches("metadata.name", m.name, NAME, "a Kubernetes object name");
  matches("metadata.namespace", m.namespace, NAME, "a Kubernetes namespace name");
  matches("metadata.uid", m.uid, NAME, "a pod UID");
  integer("metadata.attempt", m.attempt, 0, 0xffff_ffff);
  if (config.hostname !== undefined && config.hostname !== "") {
    matches(
      "hostname",
      config.hostname,
      HOSTNAME,
      "a host name (an RFC 1123 label of at most 63 characters)",
    );
  }
  if (config.logDirectory !== undefined) absolute("logDirectory", config.logDirectory);
  if (config.dnsConfig !== undefined) {
    strings("dnsConfig.servers", config.dnsConfig.servers);
    strings("dnsConfig.searches", config.dnsConfig.searches);
    strings("dnsConfig.options", config.dnsConfig.options);
    (config.dnsConfig.servers ?? []).forEach((s, i) => {
      if (isIP(s) === 0) throw invalid(`dnsConfig.servers[${i}]`, `"${s}" is not an IP address`);
    });
  }
  (config.portMappings ?? []).forEach((p, i) => {
    const at = `portMappings[${i}]`;
    if (!PROTOCOLS.includes(p.protocol)) {
      throw invalid(`${at}.protocol`, `${JSON.stringify(p.protocol)} is not TCP, UDP or SCTP`);
    }
    integer(`${at}.containerPort`, p.containerPort, 1, 65535);
    if (p.hostPort !== undefined) integer(`${at}.hostPort`, p.hostPort, 0, 65535);
    if (p.hostIp !== undefined && p.hostIp !== "" && isIP(p.hostIp) === 0) {
      throw invalid(`${at}.hostIp`, `"${p.hostIp}" is not an IP address`);
    }
  });
  stringMap("labels", config.labels);
  stringMap("annotations", config.annotations);
  stringMap("sysctls", config.sysctls);
  for (const key of Object.keys(config.sysctls ?? {})) {
    if (!SYSCTL.test(key)) throw invalid(`sysctls.${key}`, "is not a sysctl name");
  }
  if (config.cgroupParent !== undefined && config.cgroupParent !== "")
    absolute("cgroupParent", config.cgroupParent);
}

function validateResources(r: ContainerResources): void {
  if (r.cpuShares !== undefined) integer("resources.cpuShares", r.cpuShares, 0, 262_144);
  if (r.cpuPeriod !== undefined && r.cpuPeriod !== 0) {
    integer("resources.cpuPeriod", r.cpuPeriod, MIN_CFS_US, MAX_CFS_PERIOD_US);
  }
  if (r.cpuQuota !== undefined) {
    integer("resources.cpuQuota", r.cpuQuota, 0);
    if (r.cpuQuota !== 0 && r.cpuQuota < MIN_CFS_US) {
      throw invalid(
        "resources.cpuQuota",
        `${r.cpuQuota} µs is below the kernel's minimum quota of ${MIN_CFS_US} µs`,
      );
    }
  }
  if (r.memoryLimitBytes !== undefined) integer("resources.memoryLimitBytes", r.memoryLimitBytes, 0);
  if (r.oomScoreAdj !== undefined) integer("resources.oomScoreAdj", r.oomScoreAdj, -1000, 1000);
}

export function validateContainerConfig(config: ContainerConfig): void {
  if (typeof config !== "object" || config === null) throw invalid("config", "a ContainerConfig is required");
  const m = config.metadata;
  if (typeof m !== "object" || m === null) throw invalid("metadata", "name and attempt are required");
  matches("metadata.name", m.name, CONTAINER_NAME, "a container name (an RFC 1123 label)");
  integer("metadata.attempt", m.attempt, 0, 0xffff_ffff);
  if (typeof config.image !== "string" || config.image === "" || /\s/.test(config.image)) {
    throw invalid("image", `${JSON.stringify(config.image)} is not an image reference`);
  }
  strings("command", config.command);
  strings("args", config.args);
  if (config.workingDir !== undefined && config.workingDir !== "") absolute("workingDir", config.workingDir);
  (config.env ?? []).forEach((kv, i) => {
    if (typeof kv?.key !== "string" || kv.key === "" || kv.key.includes("=")) {
      throw invalid(`env[${i}].key`, `${JSON.stringify(kv?.key)} is not an environment variable name`);
    }
    if (typeof kv.value !== "string") throw invalid(`env[${i}].value`, "must be a string");
  });
  (config.mounts ?? []).forEach((mount, i) => {
    absolute(`mounts[${i}].containerPath`, mount.containerPath);
    absolute(`mounts[${i}].hostPath`, mount.hostPath);
    if (mount.propagation !== undefined && !PROPAGATIONS.includes(mount.propagation)) {
      throw invalid(
        `mounts[${i}].propagation`,
        `${JSON.stringify(mount.propagation)} is not one of ${PROPAGATIONS.join(", ")}`,
      );
    }
  });
  (config.devices ?? []).forEach((d, i) => {
    absolute(`devices[${i}].containerPath`, d.containerPath);
    absolute(`devices[${i}].hostPath`, d.hostPath);
    matches(
      `devices[${i}].permissions`,
      d.permissions,
      /^(?!.*(.).*\1)[rwm]{1,3}$/,
      'a combination of "r", "w" and "m"',
    );
  });
  stringMap("labels", config.labels);
  stringMap("annotations", config.annotations);
  if (config.logPath !== undefined && config.logPath !== "") {
    const normalized = posix.normalize(config.logPath);
    if (posix.isAbsolute(config.logPath) || normalized.startsWith("..")) {
      throw invalid(
        "logPath",
        `"${config.logPath}" must be relative to the sandbox's log directory and stay inside it`,
      );
    }
  }
  if (config.resources !== undefined) validateResources(config.resources);
  const s = config.securityContext;
  if (s !== undefined) {
    if (s.runAsUser !== undefined) integer("securityContext.runAsUser", s.runAsUser, 0, 0xffff_ffff);
    if (s.runAsGroup !== undefined) integer("securityContext.runAsGroup", s.runAsGroup, 0, 0xffff_ffff);
    (s.supplementalGroups ?? []).forEach((g, i) => {
      integer(`securityContext.supplementalGroups[${i}]`, g, 0, 0xffff_ffff);
    });
    for (const list of ["add", "drop"] as const) {
      (s.capabilities?.[list] ?? []).forEach((c, i) => {
        matches(
          `securityContext.capabilities.${list}[${i}]`,
          c,
          CAPABILITY,
          "a capability name such as NET_ADMIN or ALL",
        );
      });
    }
  }
}
