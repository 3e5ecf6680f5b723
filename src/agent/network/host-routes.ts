// host-gw routing between nodes (flannel's host-gw backend, kubenet with a cloud's routes): every other
// node's podCIDR is routed via that node's InternalIP. Works when nodes share an L2 segment. Routes this
// agent programs carry their own routing protocol number, so it finds and removes exactly its own.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { parseIpv4, parseIpv4Cidr } from "../../controlplane/apiserver/allocators/ip.ts";

const execFileAsync = promisify(execFile);

/** `proto` of the routes Deckhand owns (rt_protos: 0–255; unassigned here, like flannel's and Calico's own). */
export const DECKHAND_ROUTE_PROTO = 77;

export interface HostRoute {
  /** Destination: another node's podCIDR, canonical (host bits cleared). */
  dst: string;
  /** That node's InternalIP. */
  via: string;
}

interface NodeLike {
  metadata?: { name?: string };
  spec?: { podCIDR?: string };
  status?: { addresses?: { type?: string; address?: string }[] };
}

/** The routes this node needs: one per other node with a valid podCIDR and InternalIP, sorted by dst. */
export function desiredHostRoutes(selfName: string, nodes: readonly NodeLike[]): HostRoute[] {
  const routes = new Map<string, HostRoute>();
  for (const node of nodes) {
    if (!node.metadata?.name || node.metadata.name === selfName || !node.spec?.podCIDR) continue;
    let dst: string;
    try {
      dst = parseIpv4Cidr(node.spec.podCIDR).text;
    } catch {
      continue;
    }
    const via = node.status?.addresses?.find((a) => a.type === "InternalIP" && parseIpv4(a.address ?? ""))
      ?.address as string | undefined;
    if (!via) continue;
    routes.set(dst, { dst, via });
  }
  return [...routes.values()].sort((a, b) => a.dst.localeCompare(b.dst));
}

export interface RoutePlan {
  /** Routes to add or change (`ip route replace`). */
  replace: HostRoute[];
  /** Destinations of own routes no node needs any more. */
  remove: string[];
}

/** What turns the current own routes into the desired ones; nothing when they already match. */
export function planHostRoutes(current: readonly HostRoute[], desired: readonly HostRoute[]): RoutePlan {
  const have = new Map(current.map((r) => [r.dst, r.via]));
  const want = new Set(desired.map((r) => r.dst));
  return {
    replace: desired.filter((r) => have.get(r.dst) !== r.via),
    remove: current.filter((r) => !want.has(r.dst)).map((r) => r.dst),
  };
}

/** Reads and changes the host's own routes with iproute2 (optionally inside a network namespace). */
export class IpRouteTable {
  readonly #prefix: string[];

  constructor(options: { netns?: string } = {}) {
    this.#prefix = options.netns ? ["-n", options.netns] : [];
  }

  async list(): Promise<HostRoute[]> {
    const { stdout } = await execFileAsync("ip", [
      ...this.#prefix,
      "-j",
      "-4",
      "route",
      "show",
      "proto",
      String(DECKHAND_ROUTE_PROTO),
    ]);
    const rows = JSON.parse(stdout || "[]") as { dst?: string; gateway?: string }[];
    return rows.flatMap((row) =>
      row.dst && row.gateway
        ? [{ dst: row.dst.includes("/") ? row.dst : `${row.dst}/32`, via: row.gateway }]
        : [],
    );
  }

  async apply(plan: RoutePlan): Promise<void> {
    for (const route of plan.replace) {
      await execFileAsync("ip", [
        ...this.#prefix,
        "route",
        "replace",
        route.dst,
        "via",
        route.via,
        "proto",
        String(DECKHAND_ROUTE_PROTO),
      ]);
    }
    for (const dst of plan.remove) {
      await execFileAsync("ip", [
        ...this.#prefix,
        "route",
        "del",
        dst,
        "proto",
        String(DECKHAND_ROUTE_PROTO),
      ]);
    }
  }

  /** Lists, plans and applies; returns the plan it applied. */
  async sync(desired: readonly HostRoute[]): Promise<RoutePlan> {
    const plan = planHostRoutes(await this.list(), desired);
    await this.apply(plan);
    return plan;
  }
}
