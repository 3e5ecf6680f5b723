// The node heartbeat: renews Lease kube-node-lease/<node> every quarter of its duration (10 s for 40 s),
// like kubelet's node lease controller. Failures retry quickly with backoff; the Lease is recreated if
// someone deletes it.
import type { ApiClient, ResourceRef } from "../../api/client/client.ts";
import { isConflict, isNotFound } from "../../api/client/errors.ts";
import type { KubeObject } from "../../api/resource.ts";
import { Backoff } from "../../util/backoff.ts";
import { type Clock, systemClock } from "../../util/clock.ts";
import { k8sMicroTime } from "../../util/time.ts";

export interface Lease extends KubeObject {
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    renewTime?: string;
    acquireTime?: string;
    leaseTransitions?: number;
  };
}

export interface NodeLeaseOptions {
  client: Pick<ApiClient, "get" | "create" | "update">;
  nodeName: string;
  /** The Node's UID, for the owner reference (the Lease goes when the Node goes). */
  nodeUid: () => string | undefined;
  leaseDurationSeconds: number;
  clock?: Clock;
  onError?(error: unknown): void;
  onRenewed?(lease: Lease): void;
}

export const NODE_LEASE_NAMESPACE = "kube-node-lease";

export class NodeLease {
  private readonly options: NodeLeaseOptions;
  private readonly clock: Clock;
  private readonly ref: ResourceRef;
  private readonly retry = new Backoff({ initialMs: 200, maxMs: 7_000, jitter: 0.2 });
  private latest: Lease | undefined;

  constructor(options: NodeLeaseOptions) {
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.ref = {
      group: "coordination.k8s.io",
      version: "v1",
      resource: "leases",
      namespace: NODE_LEASE_NAMESPACE,
      name: options.nodeName,
    };
  }

  get renewIntervalMs(): number {
    return (this.options.leaseDurationSeconds * 1000) / 4;
  }

  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      let wait = this.renewIntervalMs;
      try {
        await this.renew();
        this.retry.reset();
      } catch (error) {
        if (signal.aborted) break;
        this.options.onError?.(error);
        wait = Math.min(this.retry.next(this.clock.now()), this.renewIntervalMs);
      }
      await this.clock.sleep(wait, signal).catch(() => undefined);
    }
  }

  /** One renewal: update the Lease we hold, or fetch/create it first. */
  async renew(): Promise<Lease> {
    const now = k8sMicroTime(this.clock.now());
    if (this.latest) {
      try {
        this.latest = await this.options.client.update<Lease>(this.ref, this.desired(this.latest, now));
        this.options.onRenewed?.(this.latest);
        return this.latest;
      } catch (error) {
        if (!isConflict(error) && !isNotFound(error)) throw error;
        this.latest = undefined;
      }
    }
    let current: Lease | undefined;
    try {
      current = await this.options.client.get<Lease>(this.ref);
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    this.latest = current
      ? await this.options.client.update<Lease>(this.ref, this.desired(current, now))
      : await this.options.client.create<Lease>(
          { ...this.ref, name: undefined },
          this.desired(undefined, now),
        );
    this.options.onRenewed?.(this.latest);
    return this.latest;
  }

  private desired(current: Lease | undefined, now: string): Lease {
    const uid = this.options.nodeUid();
    return {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: {
        ...current?.metadata,
        name: this.options.nodeName,
        namespace: NODE_LEASE_NAMESPACE,
        ...(uid
          ? { ownerReferences: [{ apiVersion: "v1", kind: "Node", name: this.options.nodeName, uid }] }
          : {}),
      },
      spec: {
        ...current?.spec,
        holderIdentity: this.options.nodeName,
        leaseDurationSeconds: this.options.leaseDurationSeconds,
        renewTime: now,
      },
    };
  }
}
