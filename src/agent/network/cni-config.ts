// The pod network's CNI configuration for a node that owns its pod network (kubenet's model): one bridge
// per node, addresses from the Node's spec.podCIDR by host-local IPAM, the bridge as the pods' gateway.
// Pods on other nodes are reached through host routes to those nodes' podCIDRs (./host-routes.ts), so
// the bridge does no masquerading of its own: pod-to-pod traffic keeps pod source addresses, like kubenet.
import { formatIpv4, parseIpv4Cidr } from "../../controlplane/apiserver/allocators/ip.ts";

export interface PodNetworkOptions {
  /** The Node's spec.podCIDR, e.g. 10.244.1.0/24. */
  podCIDR: string;
  /** Network name; containerd picks the conflist by file and reports this name. */
  name?: string;
  /** Linux bridge device (kubenet: cbr0). */
  bridge?: string;
  /** host-local IPAM's state directory (default /var/lib/cni/networks). */
  ipamDataDir?: string;
  mtu?: number;
}

export const DEFAULT_POD_NETWORK_NAME = "deckhand";
export const DEFAULT_POD_BRIDGE = "cbr0";

/** The bridge's (gateway's) address: the first host address of the pod CIDR, as kubenet assigns it. */
export function podGateway(podCIDR: string): string {
  const cidr = parseIpv4Cidr(podCIDR);
  if (cidr.prefix > 30) throw new Error(`podCIDR ${podCIDR}: a /${cidr.prefix} leaves no room for pods`);
  return formatIpv4(cidr.base + 1);
}

/** The conflist (CNI spec 1.0.0): bridge with host-local IPAM → portmap → firewall → loopback. */
export function podNetworkConflist(options: PodNetworkOptions): Record<string, unknown> {
  const cidr = parseIpv4Cidr(options.podCIDR);
  const gateway = podGateway(options.podCIDR);
  return {
    cniVersion: "1.0.0",
    name: options.name ?? DEFAULT_POD_NETWORK_NAME,
    plugins: [
      {
        type: "bridge",
        bridge: options.bridge ?? DEFAULT_POD_BRIDGE,
        isGateway: true,
        ipMasq: false,
        hairpinMode: true,
        ...(options.mtu ? { mtu: options.mtu } : {}),
        ipam: {
          type: "host-local",
          ranges: [[{ subnet: cidr.text, gateway }]],
          routes: [{ dst: "0.0.0.0/0" }],
          ...(options.ipamDataDir ? { dataDir: options.ipamDataDir } : {}),
        },
      },
      { type: "portmap", capabilities: { portMappings: true } },
      // Without it Docker's FORWARD DROP policy drops pod traffic on hosts that also run dockerd.
      { type: "firewall", backend: "iptables" },
      { type: "loopback" },
    ],
  };
}

/** The file's text; byte-identical for the same inputs, so a rewrite can be skipped when nothing changed. */
export function renderPodNetworkConflist(options: PodNetworkOptions): string {
  return `${JSON.stringify(podNetworkConflist(options), null, 2)}\n`;
}
