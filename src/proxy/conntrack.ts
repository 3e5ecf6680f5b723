// Stale UDP conntrack entries (upstream's conntrack cleanup): UDP has no connection close, so a client
// keeps sending to an endpoint that is gone as long as its conntrack entry lives. After each sync (as upstream's
// detectStaleConntrackEntries and deleteStale*ConntrackEntries): entries NATed to an endpoint that stopped
// serving are deleted, on the ClusterIP, external IPs, load-balancer IPs and the node port; and every entry
// to those addresses and the node port goes when a service port gets its first serving endpoint (packets
// sent while it had none were not NATed, and their entries would keep them from ever being).
import { execFile } from "node:child_process";
import type { EndpointInfo, ServicePortInfo } from "./types.ts";

/** One `conntrack -D` filter. */
export type ConntrackDeletion =
  /** Flows to `origin` (a service IP) NATed to `endpoint`. */
  | { kind: "nat"; origin: string; endpoint: string }
  /** Flows to a node port NATed to `endpoint`. */
  | { kind: "port-nat"; port: number; endpoint: string }
  /** All UDP flows to a service IP. */
  | { kind: "ip"; ip: string }
  /** All UDP flows to a node port. */
  | { kind: "port"; port: number };

/**
 * What to delete after a sync, given the endpoints each changed Service had before it (by service-port key),
 * the state after it, and the ClusterIPs of UDP service ports deleted by it (all their flows go: a client
 * would otherwise keep reaching the old endpoint until the entry times out).
 */
export function planConntrackCleanup(
  previous: ReadonlyMap<string, ReadonlyMap<string, readonly EndpointInfo[]>>,
  ports: ReadonlyMap<string, ServicePortInfo>,
  endpoints: ReadonlyMap<string, readonly EndpointInfo[]>,
  deletedUDPClusterIPs: Iterable<string> = [],
): ConntrackDeletion[] {
  const deletions: ConntrackDeletion[] = [];
  for (const ip of deletedUDPClusterIPs) deletions.push({ kind: "ip", ip });
  if (previous.size === 0) return deletions;
  // The current UDP ports of the changed Services.
  const keysOf = new Map<string, Set<string>>();
  for (const [key, svc] of ports) {
    if (svc.protocol !== "UDP" || !previous.has(svc.service)) continue;
    let keys = keysOf.get(svc.service);
    if (!keys) {
      keys = new Set();
      keysOf.set(svc.service, keys);
    }
    keys.add(key);
  }
  for (const [service, before] of previous) {
    for (const key of keysOf.get(service) ?? []) {
      const svc = ports.get(key) as ServicePortInfo;
      const old = before.get(key) ?? [];
      const now = endpoints.get(key) ?? [];
      const serviceIPs = [svc.clusterIP, ...svc.externalIPs, ...svc.loadBalancerVIPs];
      const servingNow = new Set<string>();
      for (const ep of now) if (ep.serving) servingNow.add(ep.endpoint);
      // An endpoint that was serving and is gone or no longer serving: flows NATed to it are stale. (One
      // that never served got no traffic.) Its IP may still serve on another port: upstream deletes by IP too.
      for (const ep of old) {
        if (!ep.serving || servingNow.has(ep.endpoint)) continue;
        for (const origin of serviceIPs) deletions.push({ kind: "nat", origin, endpoint: ep.ip });
        if (svc.nodePort) deletions.push({ kind: "port-nat", port: svc.nodePort, endpoint: ep.ip });
      }
      // From no serving endpoint to some: packets sent meanwhile may have left entries without NAT that
      // would keep swallowing the client's datagrams; clear every flow to the service's addresses.
      if (servingNow.size > 0 && !old.some((ep) => ep.serving)) {
        for (const ip of serviceIPs) deletions.push({ kind: "ip", ip });
        if (svc.nodePort) deletions.push({ kind: "port", port: svc.nodePort });
      }
    }
  }
  return deletions;
}

export function conntrackArgs(deletion: ConntrackDeletion): string[] {
  switch (deletion.kind) {
    case "nat":
      return ["-D", "-p", "udp", "--orig-dst", deletion.origin, "--dst-nat", deletion.endpoint];
    case "port-nat":
      return ["-D", "-p", "udp", "--dport", String(deletion.port), "--dst-nat", deletion.endpoint];
    case "ip":
      return ["-D", "-p", "udp", "--orig-dst", deletion.ip];
    case "port":
      return ["-D", "-p", "udp", "--dport", String(deletion.port)];
  }
}

export interface Conntrack {
  /** Runs one deletion; "nothing matched" is not an error. */
  delete(deletion: ConntrackDeletion): Promise<void>;
}

/** The `conntrack` command (conntrack-tools), on the host or inside a network namespace. */
export function execConntrack(netns?: string): Conntrack {
  return {
    delete: (deletion) =>
      new Promise((resolve, reject) => {
        const args = conntrackArgs(deletion);
        const argv = netns ? ["netns", "exec", netns, "conntrack", ...args] : args;
        execFile(netns ? "ip" : "conntrack", argv, (error, _stdout, stderr) => {
          // conntrack exits 1 with "0 flow entries have been deleted" when nothing matched.
          if (error && !/0 flow entries/.test(stderr)) {
            reject(new Error(`conntrack ${args.join(" ")} failed: ${stderr.trim() || error.message}`));
          } else resolve();
        });
      }),
  };
}
