// EndpointSlices → endpoints per service port (upstream's EndpointSliceCache): slices are grouped by the
// Service named in their kubernetes.io/service-name label, endpoints are deduplicated by "ip:port" across the
// slices of a Service and sorted, so that equal sets compare equal.
import type { EndpointSlice } from "../api/schema/discovery/endpointslice.ts";
import { endpointChainName, flat } from "./chain-names.ts";
import { isIPv4 } from "./ip.ts";
import { servicePortName } from "./service-port.ts";
import { type EndpointInfo, PROTOCOLS, type Protocol, servicePortKey } from "./types.ts";

export const SERVICE_NAME_LABEL = "kubernetes.io/service-name";

/**
 * The parts of one EndpointSlice the proxy uses: its endpoints already in the proxy's model, per service port,
 * sorted and deduplicated. A Service with one slice (the usual case) uses these arrays as they are, so each
 * endpoint is one small object however often it is compared or rendered.
 */
export interface SliceInfo {
  /** "namespace/name" of the owning Service. */
  service: string;
  ports: Array<{ key: string; endpoints: EndpointInfo[] }>;
}

/** A slice as the endpoints tracker keeps it: its key and its compacted endpoints (none: ignored by the proxy). */
export interface CompactSlice {
  key: string;
  info: SliceInfo | undefined;
}

/** "namespace/slice-name" */
export function sliceKey(slice: EndpointSlice): string {
  return `${slice.metadata?.namespace ?? ""}/${slice.metadata?.name ?? ""}`;
}

/** One endpoint, always built with the same fields in the same order (one hidden class, fields in-object). */
function endpointInfo(
  ip: string,
  port: number,
  endpoint: string,
  conditions: { ready?: boolean; serving?: boolean; terminating?: boolean },
  isLocal: boolean,
  chain: string,
): EndpointInfo {
  return {
    ip,
    port,
    endpoint,
    ready: conditions.ready ?? true,
    serving: conditions.serving ?? true,
    terminating: conditions.terminating ?? false,
    isLocal,
    chain,
  };
}

function isPortNumber(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= 65_535;
}

function byEndpoint(a: EndpointInfo, b: EndpointInfo): number {
  return a.endpoint < b.endpoint ? -1 : a.endpoint > b.endpoint ? 1 : 0;
}

/**
 * Sorts endpoints by "ip:port" and keeps one per "ip:port": the last one that is not terminating, or the
 * first when all are (an endpoint seen in two slices, moving between them, or an IP reused by a new pod while
 * the old one terminates). The sort is stable, so "last" and "first" are in the order given.
 */
function sortedUnique(endpoints: EndpointInfo[]): EndpointInfo[] {
  endpoints.sort(byEndpoint);
  let out = 0;
  for (let i = 0; i < endpoints.length; ) {
    let keep = endpoints[i] as EndpointInfo;
    let j = i + 1;
    for (; j < endpoints.length && (endpoints[j] as EndpointInfo).endpoint === keep.endpoint; j++) {
      const next = endpoints[j] as EndpointInfo;
      if (!next.terminating) keep = next;
    }
    endpoints[out++] = keep;
    i = j;
  }
  endpoints.length = out;
  return endpoints;
}

/** Compacts a slice; undefined for slices the proxy ignores (no service label, not IPv4). */
export function sliceInfo(slice: EndpointSlice, nodeName: string): SliceInfo | undefined {
  const namespace = slice.metadata?.namespace ?? "";
  const serviceName = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
  if (!serviceName || slice.addressType !== "IPv4") return undefined;
  const endpoints = slice.endpoints ?? [];
  const ports: SliceInfo["ports"] = [];
  for (const port of slice.ports ?? []) {
    const protocol = (port.protocol ?? "TCP") as Protocol;
    // A port outside 1..65535 (or not a number at all) cannot be a DNAT target; the API validates it, the
    // rule text must not depend on that.
    if (!PROTOCOLS.includes(protocol) || !isPortNumber(port.port)) continue;
    const portName = servicePortName(namespace, serviceName, port.name ?? "");
    const lowerProtocol = protocol.toLowerCase();
    const infos: EndpointInfo[] = [];
    for (const ep of endpoints) {
      const ip = ep.addresses?.[0];
      if (!ip || !isIPv4(ip)) continue;
      const endpoint = flat(`${ip}:${port.port}`);
      // The KUBE-SEP chain name is a SHA-256 hash: computed once here, not on every sync.
      const chain = endpointChainName(portName, lowerProtocol, endpoint);
      const isLocal = ep.nodeName !== undefined && ep.nodeName === nodeName;
      infos.push(endpointInfo(flat(ip), port.port, endpoint, ep.conditions ?? {}, isLocal, chain));
    }
    ports.push({ key: servicePortKey(portName, protocol), endpoints: sortedUnique(infos) });
  }
  return { service: `${namespace}/${serviceName}`, ports };
}

export function compactSlice(slice: EndpointSlice, nodeName: string): CompactSlice {
  return { key: sliceKey(slice), info: sliceInfo(slice, nodeName) };
}

/** Merges the slices of one Service into endpoints per service-port key, deduplicated and sorted. */
export function mergeSlices(slices: readonly SliceInfo[]): Map<string, EndpointInfo[]> {
  const result = new Map<string, EndpointInfo[]>();
  if (slices.length === 1) {
    for (const port of (slices[0] as SliceInfo).ports) {
      if (port.endpoints.length === 0) continue;
      // Two ports of one slice with the same name (a bad slice): merged like ports of different slices.
      const other = result.get(port.key);
      result.set(port.key, other ? mergeEndpoints([other, port.endpoints]) : port.endpoints);
    }
    return result;
  }
  const byPort = new Map<string, EndpointInfo[][]>();
  for (const slice of slices) {
    for (const port of slice.ports) {
      const lists = byPort.get(port.key);
      if (lists) lists.push(port.endpoints);
      else byPort.set(port.key, [port.endpoints]);
    }
  }
  for (const [key, lists] of byPort) {
    const merged = mergeEndpoints(lists);
    if (merged.length > 0) result.set(key, merged);
  }
  return result;
}

/** The endpoints of several slices of one port, sorted and deduplicated as sortedUnique does. */
function mergeEndpoints(lists: readonly EndpointInfo[][]): EndpointInfo[] {
  return sortedUnique(lists.flat());
}
