// The proxy's own compact model of Services and endpoints: what the renderer needs and nothing more.
// Built from API objects by service-port.ts and endpoints.ts; compared by value to find net changes.

export type Protocol = "TCP" | "UDP" | "SCTP";
export const PROTOCOLS: readonly Protocol[] = ["TCP", "UDP", "SCTP"];

/** One port of one Service, with everything that decides its rules (upstream's ServicePort). */
export interface ServicePortInfo {
  /** "namespace/name", the Service this port belongs to. */
  service: string;
  /** Upstream's ServicePortName.String(): "namespace/name:port", or "namespace/name" for an unnamed port. */
  name: string;
  protocol: Protocol;
  clusterIP: string;
  port: number;
  /** 0 when the Service has no node port. */
  nodePort: number;
  externalIPs: string[];
  /** status.loadBalancer.ingress[].ip (ipMode VIP or unset). */
  loadBalancerVIPs: string[];
  loadBalancerSourceRanges: string[];
  /** sessionAffinity ClientIP: seconds a client sticks to its endpoint (0 = no affinity). */
  stickyMaxAgeSeconds: number;
  /** externalTrafficPolicy Local on an externally reachable Service. */
  externalPolicyLocal: boolean;
  /** internalTrafficPolicy Local. */
  internalPolicyLocal: boolean;
  /** healthCheckNodePort of a LoadBalancer Service with externalTrafficPolicy Local (0 = none). */
  healthCheckNodePort: number;
}

/** One endpoint of one service port (upstream's BaseEndpointInfo). */
export interface EndpointInfo {
  ip: string;
  port: number;
  /** "ip:port" */
  endpoint: string;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  /** Runs on this node (nodeName matches). */
  isLocal: boolean;
  /**
   * Its KUBE-SEP chain name, when already known (the endpoints tracker computes it once per endpoint); the
   * renderer computes it otherwise. Only valid for the service port whose endpoint list holds this object.
   */
  chain?: string;
}

/** Map key of a service port: its name and protocol (two ports may share a name only across protocols). */
export function servicePortKey(name: string, protocol: Protocol): string {
  return `${name}/${protocol}`;
}

/** The service ("namespace/name") a service-port key belongs to. */
export function serviceOfKey(key: string): string {
  const slash = key.indexOf("/");
  const colon = key.indexOf(":", slash + 1);
  const end = colon >= 0 ? colon : key.lastIndexOf("/");
  return key.slice(0, end);
}

/** True when traffic can reach the service port from outside the cluster network (upstream's ExternallyAccessible). */
export function externallyAccessible(svc: ServicePortInfo): boolean {
  return svc.nodePort !== 0 || svc.loadBalancerVIPs.length > 0 || svc.externalIPs.length > 0;
}

/** Cluster-wide endpoints are needed: internal policy Cluster, or any external traffic (for short-circuiting). */
export function usesClusterEndpoints(svc: ServicePortInfo): boolean {
  return !svc.internalPolicyLocal || externallyAccessible(svc);
}

/** Node-local endpoints are needed: internal policy Local, or external policy Local on an external port. */
export function usesLocalEndpoints(svc: ServicePortInfo): boolean {
  return svc.internalPolicyLocal || (svc.externalPolicyLocal && externallyAccessible(svc));
}
