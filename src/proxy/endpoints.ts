// EndpointSlices → endpoints per service port (upstream's EndpointSliceCache): slices are grouped by the
// Service named in their kubernetes.io/service-name label, endpoints are deduplicated by "ip:port" across the
// slices of a Service and sorted, so that equal sets compare equal.
import type { EndpointSlice } from "../api/schema/discovery/endpointslice.ts";
import { flat } from "./chain-names.ts";
import { isIPv4 } from "./ip.ts";
import { servicePortName } from "./service-port.ts";
import { type EndpointInfo, PROTOCOLS, type Protocol, servicePortKey } from "./types.ts";

export const SERVICE_NAME_LABEL = "kubernetes.io/service-name";

/** The parts of one EndpointSlice the proxy uses. */
export interface SliceInfo {
  /** "namespace/name" of the owning Service. */
  service: string;
  ports: Array<{ key: string; port: number }>;
  endpoints: Array<Omit<EndpointInfo, "port" | "endpoint">>;
}

/** "namespace/slice-name" */
export function sliceKey(slice: EndpointSlice): string {
  return `${slice.metadata?.namespace ?? ""}/${slice.metadata?.name ?? ""}`;
}

/** Compacts a slice; undefined for slices the proxy ignores (no service label, not IPv4). */
export function sliceInfo(slice: EndpointSlice, nodeName: string): SliceInfo | undefined {
  const namespace = slice.metadata?.namespace ?? "";
  const serviceName = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
  if (!serviceName || slice.addressType !== "IPv4") return undefined;
  const ports: SliceInfo["ports"] = [];
  for (const port of slice.ports ?? []) {
    const protocol = (port.protocol ?? "TCP") as Protocol;
    if (!PROTOCOLS.includes(protocol) || !port.port) continue;
    ports.push({
      key: servicePortKey(servicePortName(namespace, serviceName, port.name ?? ""), protocol),
      port: port.port,
    });
  }
  const endpoints: SliceInfo["endpoints"] = [];
  for (const endpoint of slice.endpoints ?? []) {
    const ip = endpoint.addresses?.[0];
    if (!ip || !isIPv4(ip)) continue;
    const conditions = endpoint.conditions ?? {};
    endpoints.push({
      ip,
      ready: conditions.ready ?? true,
      serving: conditions.serving ?? true,
      terminating: conditions.terminating ?? false,
      isLocal: endpoint.nodeName !== undefined && endpoint.nodeName === nodeName,
    });
  }
  return { service: `${namespace}/${serviceName}`, ports, endpoints };
}

function byEndpoint(a: EndpointInfo, b: EndpointInfo): number {
  return a.endpoint < b.endpoint ? -1 : a.endpoint > b.endpoint ? 1 : 0;
}

/** Merges the slices of one Service into endpoints per service-port key, deduplicated and sorted. */
export function mergeSlices(slices: Iterable<SliceInfo>): Map<string, EndpointInfo[]> {
  const byPort = new Map<string, Map<string, EndpointInfo>>();
  for (const slice of slices) {
    for (const port of slice.ports) {
      let set = byPort.get(port.key);
      if (!set) {
        set = new Map();
        byPort.set(port.key, set);
      }
      for (const ep of slice.endpoints) {
        const endpoint = flat(`${ep.ip}:${port.port}`);
        // An endpoint seen in two slices (moving between them, or an IP reused by a new pod while the old one
        // terminates): prefer the one that is not terminating.
        if (set.has(endpoint) && ep.terminating) continue;
        set.set(endpoint, { ...ep, port: port.port, endpoint });
      }
    }
  }
  const result = new Map<string, EndpointInfo[]>();
  for (const [key, set] of byPort) {
    if (set.size > 0) result.set(key, [...set.values()].sort(byEndpoint));
  }
  return result;
}
