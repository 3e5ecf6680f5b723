// Builders for Services, EndpointSlices and the proxy's own model, for proxy tests and benchmarks.
import type { Service } from "../../../src/api/schema/core/service-types.ts";
import type { EndpointSlice } from "../../../src/api/schema/discovery/endpointslice.ts";
import type { ProxyRulesConfig, ProxyState } from "../../../src/proxy/render.ts";
import { servicePortName } from "../../../src/proxy/service-port.ts";
import {
  type EndpointInfo,
  type Protocol,
  type ServicePortInfo,
  servicePortKey,
} from "../../../src/proxy/types.ts";

export interface PortSpec {
  name?: string;
  port: number;
  protocol?: Protocol;
  targetPort?: number;
  nodePort?: number;
}

export function makeService(
  namespace: string,
  name: string,
  spec: Partial<NonNullable<Service["spec"]>> & { ports: PortSpec[] },
  status?: Service["status"],
): Service {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { namespace, name, uid: `uid-${namespace}-${name}`, resourceVersion: "1" },
    spec: { type: "ClusterIP", ...spec, ports: spec.ports.map((p) => ({ protocol: "TCP", ...p })) },
    status: status ?? { loadBalancer: {} },
  } as Service;
}

export interface EndpointSpec {
  ip: string;
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
  nodeName?: string;
}

export function makeSlice(
  namespace: string,
  service: string,
  sliceName: string,
  ports: Array<{ name?: string; port: number; protocol?: Protocol }>,
  endpoints: EndpointSpec[],
): EndpointSlice {
  return {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: {
      namespace,
      name: sliceName,
      labels: { "kubernetes.io/service-name": service },
      resourceVersion: "1",
    },
    addressType: "IPv4",
    ports: ports.map((p) => ({ name: p.name ?? "", port: p.port, protocol: p.protocol ?? "TCP" })),
    endpoints: endpoints.map((e) => ({
      addresses: [e.ip],
      conditions: {
        ready: e.ready ?? true,
        ...(e.serving === undefined ? {} : { serving: e.serving }),
        ...(e.terminating === undefined ? {} : { terminating: e.terminating }),
      },
      ...(e.nodeName ? { nodeName: e.nodeName } : {}),
    })),
  } as EndpointSlice;
}

/** A service port in the proxy's model, with defaults for everything not given. */
export function port(
  service: string,
  portName: string,
  fields: Partial<ServicePortInfo> & { clusterIP: string; port: number },
): ServicePortInfo {
  const [namespace = "", name = ""] = service.split("/");
  return {
    service,
    name: servicePortName(namespace, name, portName),
    protocol: "TCP",
    nodePort: 0,
    externalIPs: [],
    loadBalancerVIPs: [],
    loadBalancerSourceRanges: [],
    stickyMaxAgeSeconds: 0,
    externalPolicyLocal: false,
    internalPolicyLocal: false,
    healthCheckNodePort: 0,
    ...fields,
  };
}

export function endpoint(ip: string, portNumber: number, fields: Partial<EndpointInfo> = {}): EndpointInfo {
  return {
    ip,
    port: portNumber,
    endpoint: `${ip}:${portNumber}`,
    ready: true,
    serving: true,
    terminating: false,
    isLocal: false,
    ...fields,
  };
}

/** A ProxyState from (port, endpoints) pairs. */
export function state(...entries: Array<[ServicePortInfo, EndpointInfo[]]>): ProxyState {
  const ports = new Map<string, ServicePortInfo>();
  const endpoints = new Map<string, EndpointInfo[]>();
  for (const [svc, eps] of entries) {
    const key = servicePortKey(svc.name, svc.protocol);
    ports.set(key, svc);
    if (eps.length > 0) endpoints.set(key, eps);
  }
  return { ports, endpoints };
}

export const TEST_CONFIG: ProxyRulesConfig = {
  nodeIPs: ["192.168.0.2"],
  clusterCIDR: "10.0.0.0/8",
  masqueradeAll: false,
  masqueradeMark: "0x4000",
  localhostNodePorts: true,
  randomFully: true,
  conntrackTCPBeLiberal: false,
};

/** `count` ClusterIP services with `perService` endpoints each (benchmarks, scale tests). */
export function syntheticState(count: number, perService: number, offset = 0): ProxyState {
  const entries: Array<[ServicePortInfo, EndpointInfo[]]> = [];
  for (let i = offset; i < offset + count; i++) {
    const clusterIP = `172.${16 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
    const svc = port(`ns${i % 100}/svc${i}`, "http", { clusterIP, port: 80 });
    const eps: EndpointInfo[] = [];
    for (let e = 0; e < perService; e++)
      eps.push(endpoint(`10.${64 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`, 8000 + e));
    entries.push([svc, eps]);
  }
  return state(...entries);
}
