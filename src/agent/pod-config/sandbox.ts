// The pod sandbox config (kuberuntime's generatePodSandboxConfig): metadata, hostname, DNS, host ports,
// labels and annotations, log directory, host network and sysctls.
import type { Pod } from "../../api/schema/core/pod-types.ts";
import type { PodSandboxConfig, PortMapping, Protocol } from "../../runtime/types.ts";
import { RuntimeLabels } from "../../runtime/types.ts";
import { formatPod, messageOf, type PodConfigContext, PodConfigError, podIdentity } from "./context.ts";
import { DEFAULT_RESOLV_CONF, podDnsConfig, readHostDns } from "./dns.ts";
import { kernelHostname, podHostnameAndDomain } from "./hostname.ts";
import { podDir, podLogsDir } from "./paths.ts";

const REASON = "CreatePodSandboxError";

/** Every container port, deduplicated by name like upstream's MakePortMappings (app containers only). */
export function portMappings(pod: Pod): PortMapping[] {
  const out: PortMapping[] = [];
  for (const container of pod.spec?.containers ?? []) {
    const names = new Set<string>();
    for (const port of container.ports ?? []) {
      const protocol = (port.protocol ?? "TCP") as Protocol;
      const hostIp = port.hostIP ?? "";
      const family = hostIp === "" ? "any" : hostIp.includes(":") ? "v6" : "v4";
      const name = port.name || `${family}-${protocol}-${hostIp}:${port.containerPort}:${port.hostPort ?? 0}`;
      if (names.has(name)) continue;
      names.add(name);
      out.push({
        protocol,
        containerPort: port.containerPort,
        ...(port.hostPort ? { hostPort: port.hostPort } : {}),
        ...(hostIp ? { hostIp } : {}),
      });
    }
  }
  return out;
}

/** Sysctl names may use '/' as separator; the runtime wants dots (upstream's ConvertSysctlVariableToDotsSeparator). */
export function sysctlName(name: string): string {
  const firstSep = name.search(/[./]/);
  if (firstSep === -1 || name[firstSep] === ".") return name;
  return name.replace(/[./]/g, (c) => (c === "/" ? "." : "/"));
}

/** Throws PodConfigError(CreatePodSandboxError) naming the problem. */
export function buildSandboxConfig(pod: Pod, ctx: PodConfigContext, attempt: number): PodSandboxConfig {
  const id = podIdentity(pod, REASON);
  const hostNetwork = pod.spec?.hostNetwork === true;
  const config: PodSandboxConfig = {
    metadata: { name: id.name, uid: id.uid, namespace: id.namespace, attempt },
    labels: {
      ...(pod.metadata?.labels ?? {}),
      [RuntimeLabels.podName]: id.name,
      [RuntimeLabels.podNamespace]: id.namespace,
      [RuntimeLabels.podUid]: id.uid,
      [RuntimeLabels.managedBy]: "true",
    },
    annotations: { ...(pod.metadata?.annotations ?? {}) },
    hostNetwork,
  };
  if (!hostNetwork) {
    try {
      config.hostname = kernelHostname(pod, podHostnameAndDomain(pod, ctx.clusterDomain));
    } catch (error) {
      throw new PodConfigError(
        REASON,
        `Failed to generate sandbox config for pod ${formatPod(pod)}: ${messageOf(error)}`,
      );
    }
  }

  let host: ReturnType<typeof readHostDns>;
  const resolvConf = ctx.resolvConf ?? DEFAULT_RESOLV_CONF;
  try {
    host = readHostDns(resolvConf);
  } catch (error) {
    throw new PodConfigError(
      REASON,
      `Failed to generate sandbox config for pod ${formatPod(pod)}: cannot read the host resolver file ${resolvConf} (resolvConf): ${messageOf(error)}`,
      { cause: error },
    );
  }
  const dns = podDnsConfig(pod, {
    clusterDNS: ctx.clusterDNS,
    clusterDomain: ctx.clusterDomain,
    hostIPs: ctx.hostIPs,
    host,
  });
  for (const warning of dns.warnings) ctx.warn?.(pod, warning.reason, warning.message);
  config.dnsConfig = dns.config;

  if (ctx.runtimeName === "cri") config.logDirectory = podLogsDir(podDir(ctx.rootDir, id.uid, REASON));
  const ports = portMappings(pod);
  if (ports.length > 0) config.portMappings = ports;
  const sysctls = pod.spec?.securityContext?.sysctls ?? [];
  if (sysctls.length > 0) {
    config.sysctls = Object.fromEntries(sysctls.map((s) => [sysctlName(s.name), s.value]));
  }
  return config;
}
