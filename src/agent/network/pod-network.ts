// networkPlugin "kubenet": Deckhand owns the pod network. Once the control plane gave this Node a
// spec.podCIDR, the bridge conflist for it goes into the runtime's CNI config directory (containerd picks
// it up for new sandboxes), and every other node's podCIDR is routed via its InternalIP (host-gw).
// Resynced from a Node list every resyncMs: Nodes change rarely and a missed change heals on the next pass.
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "pino";
import type { ApiClient } from "../../api/client/client.ts";
import type { KubeObject } from "../../api/resource.ts";
import { type Clock, systemClock } from "../../util/clock.ts";
import { renderPodNetworkConflist } from "./cni-config.ts";
import { desiredHostRoutes, type IpRouteTable, type RoutePlan } from "./host-routes.ts";

export const POD_NETWORK_CONFLIST = "10-deckhand.conflist";

export interface PodNetworkOptions {
  client: Pick<ApiClient, "list">;
  nodeName: string;
  /** The runtime's CNI configuration directory (containerd: plugins.cri.cni.conf_dir). */
  cniConfDir: string;
  /** host-local IPAM state; default is the plugin's (/var/lib/cni/networks). */
  ipamDataDir?: string;
  bridge?: string;
  routes: Pick<IpRouteTable, "sync">;
  resyncMs?: number;
  clock?: Clock;
  log: Logger;
}

export interface PodNetworkSync {
  podCIDR: string | undefined;
  conflistWritten: boolean;
  routes: RoutePlan;
}

export class PodNetwork {
  readonly #options: PodNetworkOptions;
  readonly #clock: Clock;

  constructor(options: PodNetworkOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
  }

  get conflistPath(): string {
    return join(this.#options.cniConfDir, POD_NETWORK_CONFLIST);
  }

  async syncOnce(): Promise<PodNetworkSync> {
    const { client, nodeName } = this.#options;
    type NodeObject = KubeObject & { spec?: { podCIDR?: string } };
    const nodes = (await client.list<NodeObject>({ version: "v1", resource: "nodes" })).items;
    const podCIDR = nodes.find((n) => n.metadata?.name === nodeName)?.spec?.podCIDR;
    const conflistWritten = podCIDR ? await this.#writeConflist(podCIDR) : false;
    const routes = await this.#options.routes.sync(desiredHostRoutes(nodeName, nodes));
    return { podCIDR, conflistWritten, routes };
  }

  async run(signal: AbortSignal): Promise<void> {
    const { log } = this.#options;
    let lastCIDR: string | undefined;
    while (!signal.aborted) {
      try {
        const result = await this.syncOnce();
        if (result.podCIDR !== lastCIDR) {
          log.info({ podCIDR: result.podCIDR, conflist: this.conflistPath }, "pod network configured");
          lastCIDR = result.podCIDR;
        } else if (result.podCIDR === undefined) {
          log.debug("pod network: the Node has no podCIDR yet");
        }
        if (result.routes.replace.length > 0 || result.routes.remove.length > 0)
          log.info({ routes: result.routes }, "pod network: host routes to other nodes updated");
      } catch (error) {
        log.warn({ err: error }, "pod network sync failed; retrying");
      }
      await this.#clock.sleep(this.#options.resyncMs ?? 10_000, signal).catch(() => {});
    }
  }

  async #writeConflist(podCIDR: string): Promise<boolean> {
    const text = renderPodNetworkConflist({
      podCIDR,
      ...(this.#options.bridge ? { bridge: this.#options.bridge } : {}),
      ...(this.#options.ipamDataDir ? { ipamDataDir: this.#options.ipamDataDir } : {}),
    });
    const path = this.conflistPath;
    if ((await readFile(path, "utf8").catch(() => undefined)) === text) return false;
    await mkdir(this.#options.cniConfDir, { recursive: true });
    // Written aside and renamed: the runtime never reads half a file.
    await writeFile(`${path}.tmp`, text, { mode: 0o644 });
    await rename(`${path}.tmp`, path);
    return true;
  }
}
