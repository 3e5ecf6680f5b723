// Node IPAM (upstream's nodeipam range allocator): every node without spec.podCIDR gets the next free
// /nodeCidrMaskSize block of --cluster-cidr; blocks of deleted nodes are reused.

import { isNotFound } from "../../../api/client/errors.ts";
import { referenceTo } from "../../../api/client/events.ts";
import type { Node } from "../../../api/schema/core/node-types.ts";
import { type ControllerContext, RESOURCES } from "../machinery/context.ts";
import { ControllerLoop, type SyncResult } from "../machinery/controller.ts";
import type { Informer } from "../machinery/informer.ts";
import { keyOf, typed } from "../machinery/keys.ts";
import { CidrSet } from "./cidr-set.ts";

const COMPONENT = "node-ipam-controller";

export class NodeIpamController {
  readonly loop: ControllerLoop;
  private readonly ctx: ControllerContext;
  private readonly nodes: Informer<Node>;
  private readonly cidrs: CidrSet;
  /** node name → block it holds (allocated here or found on the node). */
  private readonly assigned = new Map<string, string>();
  private primed = false;

  constructor(ctx: ControllerContext, clusterCidr: string, maskSize: number) {
    this.ctx = ctx;
    this.cidrs = new CidrSet(clusterCidr, maskSize);
    this.nodes = ctx.informers.get("nodes");
    this.loop = new ControllerLoop({
      name: COMPONENT,
      log: ctx.log.child({ controller: COMPONENT }),
      clock: ctx.clock,
      workers: 1,
      sync: (key) => this.sync(key),
    });
    this.nodes.addHandler({
      add: (n) => this.loop.enqueue(keyOf(n)),
      update: (_o, n) => {
        if (!n.spec?.podCIDR) this.loop.enqueue(keyOf(n));
      },
      delete: (n) => {
        const name = n.metadata?.name ?? "";
        const block = this.assigned.get(name);
        if (block) this.cidrs.release(block);
        this.assigned.delete(name);
      },
    });
  }

  run(signal: AbortSignal): Promise<void> {
    return this.loop.run(signal);
  }

  /** Before the first allocation, learn every block nodes already hold (the cache is synced by then). */
  private prime(): void {
    if (this.primed) return;
    this.primed = true;
    for (const node of this.nodes.list()) this.remember(node);
  }

  private remember(node: Node): void {
    const cidr = node.spec?.podCIDR;
    if (!cidr) return;
    if (this.cidrs.occupy(cidr)) this.assigned.set(node.metadata?.name ?? "", cidr);
  }

  private async sync(name: string): Promise<SyncResult | undefined> {
    this.prime();
    const node = this.nodes.get(name);
    if (!node) return undefined;
    if (node.spec?.podCIDR) {
      if (this.assigned.get(name) !== node.spec.podCIDR) this.remember(node);
      return undefined;
    }
    let block = this.assigned.get(name);
    if (!block) {
      block = this.cidrs.allocateNext();
      if (!block) {
        this.ctx
          .recorder("cidrAllocator")
          .record(
            referenceTo(typed(node, "v1", "Node")),
            "Normal",
            "CIDRNotAvailable",
            `Node ${name} status is now: CIDRNotAvailable`,
          );
        throw new Error(
          `no pod CIDR left in ${this.cidrs.cluster} (/${this.cidrs.maskSize} blocks) for node ${name}`,
        );
      }
      this.assigned.set(name, block);
    }
    try {
      await this.ctx.client.patch({ ...RESOURCES.nodes, name }, "merge", {
        metadata: { uid: node.metadata?.uid },
        spec: { podCIDR: block, podCIDRs: [block] },
      });
      this.ctx.log.info({ controller: COMPONENT, node: name, podCIDR: block }, "assigned a pod CIDR");
    } catch (error) {
      if (isNotFound(error)) {
        this.cidrs.release(block);
        this.assigned.delete(name);
        return undefined;
      }
      throw error;
    }
    return undefined;
  }
}
