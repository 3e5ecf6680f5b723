// Request validation done before anything reaches the engine. Throws RuntimeError RUNTIME_INVALID whose
// `field` is the path inside the request object, e.g. "portMappings[0].containerPort",
// "mounts[1].containerPath", "resources.memoryLimitBytes". Nothing here is Docker-specific except the name
// alphabet (Docker container names are built from the metadata, joined with "_").
import { isIP } from "node:net";
import { posix } from "node:path";
import { invalid } from "../errors.ts";
import type { ContainerConfig, PodSandboxConfig } from "../types.ts";

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9.-]*$/;
const CAPABILITY = /^[A-Za-z_]+$/;
const SYSCTL = /^[a-zA-Z0-9_./-]+$/;
const PROTOCOLS = new Set(["TCP", "UDP", "SCTP"]);

function name(field: string, value: unknown): void {
  if (typeof value !== "string" || value === "") throw invalid(field, "must be a non-empty string");
  if (!NAME.test(value)) {
    throw invalid(
      field,
      `"${value}" may contain only letters, digits, "-" and "." and must start with a letter or digit`,
    );
  }
}

function intIn(field: string, value: unknown, min: number, max: number): void {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(field, `${String(value)} is not an integer between ${min} and ${max}`);
  }
}

function nonNegativeInt(field: string, value: unknown): void {
  intIn(field, value, 0, Number.MAX_SAFE_INTEGER);
}

function absolutePath(field: string, value: unknown): void {
  if (typeof value !== "string" || value === "") throw invalid(field, "must be an absolute path");
  if (!posix.isAbsolute(value)) throw invalid(field, `"${value}" is not an absolute path`);
}

function stringMap(field: string, value: unknown): void {
  if (value === undefined) return;
  if (typeof value !== "object" || value === null) throw invalid(field, "must be an object of strings");
  for (const [key, v] of Object.entries(value)) {
    if (key === "") throw invalid(field, "keys must not be empty");
    if (typeof v !== "string") throw invalid(`${field}.${key}`, "must be a string");
  }
}

function stringList(field: string, value: unknown): void {
  if (value === undefined) return;
  if (!Array.isArray(value)) throw invalid(field, "must be a list of strings");
  value.forEach((v, i) => {
    if (typeof v !== "string") throw invalid(`${field}[${i}]`, "must be a string");
  });
}

export function validateSandboxConfig(config: PodSandboxConfig): void {
  if (!config || typeof config !== "object") throw invalid("config", "a PodSandboxConfig is required");
  const m = config.metadata;
  if (!m || typeof m !== "object") throw invalid("metadata", "name, namespace, uid and attempt are required");
  name("metadata.name", m.name);
  name("metadata.namespace", m.namespace);
  name("metadata.uid", m.uid);
  nonNegativeInt("metadata.attempt", m.attempt);
  if (config.hostname !== undefined && config.hostname !== "") {
    if (!/^[a-zA-Z0-9]([a-zA-Z0-9-]{0,62})$/.test(config.hostname) || config.hostname.endsWith("-")) {
      throw invalid(
        "hostname",
        `"${config.hostname}" is not a valid host name (RFC 1123 label, at most 63 characters)`,
      );
    }
  }
  if (config.dnsConfig) {
    stringList("dnsConfig.servers", config.dnsConfig.servers);
    stringList("dnsConfig.searches", config.dnsConfig.searches);
    stringList("dnsConfig.options", config.dnsConfig.options);
    (config.dnsConfig.servers ?? []).forEach((s, i) => {
      if (isIP(s) === 0) throw invalid(`dnsConfig.servers[${i}]`, `"${s}" is not an IP address`);
    });
  }
  (config.portMappings ?? []).forEach((p, i) => {
    const field = `portMappings[${i}]`;
    if (!PROTOCOLS.has(p.protocol))
      throw invalid(`${field}.protocol`, `"${p.protocol}" is not TCP, UDP or SCTP`);
    intIn(`${field}.containerPort`, p.containerPort, 1, 65535);
    if (p.hostPort !== undefined) intIn(`${field}.hostPort`, p.hostPort, 0, 65535);
    if (p.hostIp !== undefined && p.hostIp !== "" && isIP(p.hostIp) === 0) {
      throw invalid(`${field}.hostIp`, `"${p.hostIp}" is not an IP address`);
    }
  });
  stringMap("labels", config.labels);
  stringMap("annotations", config.annotations);
  stringMap("sysctls", config.sysctls);
  for (const key of Object.keys(config.sysctls ?? {})) {
    if (!SYSCTL.test(key)) throw invalid(`sysctls.${key}`, "is not a sysctl name");
  }
  if (
    config.cgroupParent !== undefined &&
    config.cgroupParent !== "" &&
    !posix.isAbsolute(config.cgroupParent)
  ) {
    throw invalid("cgroupParent", `"${config.cgroupParent}" must be an absolute cgroup path`);
  }
}

export function validateContainerConfig(config: ContainerConfig): void {
  if (!config || typeof config !== "object") throw invalid("config", "a ContainerConfig is required");
  if (!config.metadata || typeof config.metadata !== "object")
    throw invalid("metadata", "name and attempt are required");
  name("metadata.name", config.metadata.name);
  nonNegativeInt("metadata.attempt", config.metadata.attempt);
  if (typeof config.image !== "string" || config.image.trim() === "" || /\s/.test(config.image)) {
    throw invalid("image", `${JSON.stringify(config.image)} is not an image reference`);
  }
  stringList("command", config.command);
  stringList("args", config.args);
  if (config.workingDir !== undefined && config.workingDir !== "")
    absolutePath("workingDir", config.workingDir);
  (config.env ?? []).forEach((kv, i) => {
    if (typeof kv?.key !== "string" || kv.key === "" || kv.key.includes("=")) {
      throw invalid(`env[${i}].key`, `${JSON.stringify(kv?.key)} is not a variable name`);
    }
    if (typeof kv.value !== "string") throw invalid(`env[${i}].value`, "must be a string");
  });
  (config.mounts ?? []).forEach((m, i) => {
    absolutePath(`mounts[${i}].containerPath`, m.containerPath);
    absolutePath(`mounts[${i}].hostPath`, m.hostPath);
    if (
      m.propagation !== undefined &&
      !["private", "hostToContainer", "bidirectional"].includes(m.propagation)
    ) {
      throw invalid(
        `mounts[${i}].propagation`,
        `"${m.propagation}" is not private, hostToContainer or bidirectional`,
      );
    }
  });
  (config.devices ?? []).forEach((d, i) => {
    absolutePath(`devices[${i}].containerPath`, d.containerPath);
    absolutePath(`devices[${i}].hostPath`, d.hostPath);
    if (!/^[rwm]{1,3}$/.test(d.permissions ?? "")) {
      throw invalid(`devices[${i}].permissions`, `"${d.permissions}" must be made of r, w and m`);
    }
  });
  stringMap("labels", config.labels);
  stringMap("annotations", config.annotations);
  const r = config.resources;
  if (r) {
    if (r.cpuShares !== undefined) nonNegativeInt("resources.cpuShares", r.cpuShares);
    if (r.cpuPeriod !== undefined) nonNegativeInt("resources.cpuPeriod", r.cpuPeriod);
    if (r.cpuQuota !== undefined) nonNegativeInt("resources.cpuQuota", r.cpuQuota);
    if (r.memoryLimitBytes !== undefined) nonNegativeInt("resources.memoryLimitBytes", r.memoryLimitBytes);
    if (r.oomScoreAdj !== undefined) intIn("resources.oomScoreAdj", r.oomScoreAdj, -1000, 1000);
  }
  const s = config.securityContext;
  if (s) {
    if (s.runAsUser !== undefined) nonNegativeInt("securityContext.runAsUser", s.runAsUser);
    if (s.runAsGroup !== undefined) nonNegativeInt("securityContext.runAsGroup", s.runAsGroup);
    (s.supplementalGroups ?? []).forEach((g, i) => {
      nonNegativeInt(`securityContext.supplementalGroups[${i}]`, g);
    });
    for (const list of ["add", "drop"] as const) {
      (s.capabilities?.[list] ?? []).forEach((c, i) => {
        if (typeof c !== "string" || !CAPABILITY.test(c)) {
          throw invalid(
            `securityContext.capabilities.${list}[${i}]`,
            `${JSON.stringify(c)} is not a capability name`,
          );
        }
      });
    }
  }
}

/** Port numbers for port-forward and similar single-value requests. */
export function validatePort(field: string, port: number): void {
  intIn(field, port, 1, 65535);
}
