// Service → the proxy's ServicePortInfo list (upstream's ServiceChangeTracker.serviceToServiceMap plus
// newBaseServiceInfo), for the IPv4 family. Ports that cannot be proxied are left out with a reason, so one bad
// Service never breaks the rules of the others.
import type { Service } from "../api/schema/core/service-types.ts";
import { canonicalCidr, isIPv4, parseCidr } from "./ip.ts";
import { PROTOCOLS, type Protocol, type ServicePortInfo } from "./types.ts";

/** sessionAffinityConfig.clientIP.timeoutSeconds default (3 hours), as upstream. */
export const DEFAULT_STICKY_MAX_AGE_SECONDS = 10_800;

export interface ServicePorts {
  /** "namespace/name" */
  service: string;
  ports: ServicePortInfo[];
  /** Why ports (or the whole Service) were skipped, in words, for a log line and an event. */
  problems: string[];
}

/** Upstream's ServicePortName.String(): "ns/name:port", or "ns/name" when the port has no name. */
export function servicePortName(namespace: string, name: string, port: string): string {
  return port ? `${namespace}/${name}:${port}` : `${namespace}/${name}`;
}

/** The Service's IPv4 ports to proxy; none for headless and ExternalName Services (not an error). */
export function servicePorts(svc: Service): ServicePorts {
  const namespace = svc.metadata?.namespace ?? "";
  const name = svc.metadata?.name ?? "";
  const service = `${namespace}/${name}`;
  const spec = svc.spec ?? {};
  const result: ServicePorts = { service, ports: [], problems: [] };
  const type = spec.type ?? "ClusterIP";
  if (type === "ExternalName") return result;
  const clusterIPs = spec.clusterIPs?.length ? spec.clusterIPs : spec.clusterIP ? [spec.clusterIP] : [];
  if (clusterIPs.length === 0 || clusterIPs[0] === "None") return result;
  const clusterIP = clusterIPs.find(isIPv4);
  if (!clusterIP) return result; // an IPv6-only Service belongs to the other family

  const externallyAccessible =
    type === "LoadBalancer" ||
    type === "NodePort" ||
    (type === "ClusterIP" && (spec.externalIPs ?? []).length > 0);
  const externalPolicyLocal = externallyAccessible && spec.externalTrafficPolicy === "Local";
  let healthCheckNodePort =
    type === "LoadBalancer" && externalPolicyLocal ? (spec.healthCheckNodePort ?? 0) : 0;
  if (!Number.isInteger(healthCheckNodePort) || healthCheckNodePort < 0 || healthCheckNodePort > 65_535) {
    result.problems.push(
      `spec.healthCheckNodePort ${JSON.stringify(healthCheckNodePort)} is not within 1..65535; health check port skipped`,
    );
    healthCheckNodePort = 0;
  }
  const sticky =
    spec.sessionAffinity === "ClientIP"
      ? (spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_STICKY_MAX_AGE_SECONDS)
      : 0;
  if (spec.sessionAffinity === "ClientIP" && !(sticky >= 1 && sticky <= 86_400)) {
    result.problems.push(
      `spec.sessionAffinityConfig.clientIP.timeoutSeconds ${sticky} is not within 1..86400; using ${DEFAULT_STICKY_MAX_AGE_SECONDS}`,
    );
  }
  const externalIPs = (spec.externalIPs ?? []).filter(isIPv4);
  const loadBalancerVIPs =
    type === "LoadBalancer"
      ? (svc.status?.loadBalancer?.ingress ?? [])
          .filter((ingress) => ingress.ip && isIPv4(ingress.ip) && ingress.ipMode !== "Proxy")
          .map((ingress) => ingress.ip as string)
      : [];
  const sourceRanges: string[] = [];
  for (const range of type === "LoadBalancer" ? (spec.loadBalancerSourceRanges ?? []) : []) {
    if (parseCidr(range)) sourceRanges.push(canonicalCidr(range));
    else if (!range.includes(":"))
      result.problems.push(`spec.loadBalancerSourceRanges: ${JSON.stringify(range)} is not a CIDR; ignored`);
  }

  for (const [i, port] of (spec.ports ?? []).entries()) {
    const protocol = (port.protocol ?? "TCP") as Protocol;
    const where = `spec.ports[${i}]${port.name ? ` (${port.name})` : ""}`;
    if (!PROTOCOLS.includes(protocol)) {
      result.problems.push(
        `${where}: protocol ${JSON.stringify(port.protocol)} is not TCP, UDP or SCTP; port skipped`,
      );
      continue;
    }
    if (!Number.isInteger(port.port) || port.port < 1 || port.port > 65_535) {
      result.problems.push(`${where}: port ${port.port} is not within 1..65535; port skipped`);
      continue;
    }
    let nodePort = type === "NodePort" || type === "LoadBalancer" ? (port.nodePort ?? 0) : 0;
    if (!Number.isInteger(nodePort) || nodePort < 0 || nodePort > 65_535) {
      result.problems.push(`${where}: nodePort ${nodePort} is not within 1..65535; node port skipped`);
      nodePort = 0;
    }
    result.ports.push({
      service,
      name: servicePortName(namespace, name, port.name ?? ""),
      protocol,
      clusterIP,
      port: port.port,
      nodePort,
      externalIPs,
      loadBalancerVIPs,
      loadBalancerSourceRanges: sourceRanges,
      stickyMaxAgeSeconds:
        sticky >= 1 && sticky <= 86_400 ? sticky : sticky ? DEFAULT_STICKY_MAX_AGE_SECONDS : 0,
      externalPolicyLocal,
      internalPolicyLocal: spec.internalTrafficPolicy === "Local",
      healthCheckNodePort,
    });
  }
  return result;
}
