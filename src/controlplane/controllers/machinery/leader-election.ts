// Leader election through a coordination.k8s.io Lease, as client-go's leaderelection does: a candidate
// takes the lease when it is free or when its holder has not renewed it for leaseDuration (measured on the
// candidate's own clock from when it last saw the record change, so clock skew between machines does not
// matter); the leader renews every retryPeriod and steps down when it could not renew for renewDeadline.
// Updates carry the resourceVersion read, so two candidates never both win the same round.
import type { Logger } from "pino";
import type { ApiClient } from "../../../api/client/client.ts";
import { isAlreadyExists, isConflict, isNotFound } from "../../../api/client/errors.ts";
import type { Lease } from "../../../api/schema/coordination/lease.ts";
import { type Clock, systemClock } from "../../../util/clock.ts";
import { k8sMicroTime } from "../../../util/time.ts";

export interface LeaderElectionConfig {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

export const DEFAULT_LEADER_ELECTION = {
  namespace: "kube-system",
  name: "deckhand-controller-manager",
  leaseDurationMs: 15_000,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2_000,
} as const;

export interface LeaderElectorOptions extends LeaderElectionConfig {
  client: Pick<ApiClient, "get" | "create" | "update">;
  log: Logger;
  clock?: Clock;
  /** Called when this candidate becomes leader; `signal` aborts when it stops leading. */
  onStartedLeading(signal: AbortSignal): void;
  onStoppedLeading?(): void;
}

const LEASE_REF = { group: "coordination.k8s.io", version: "v1", resource: "leases" };

export class LeaderElector {
  private readonly options: LeaderElectorOptions;
  private readonly clock: Clock;
  private readonly log: Logger;
  private observed: { record: string; at: number } | undefined;
  private current: Lease | undefined;
  private leading = false;

  constructor(options: LeaderElectorOptions) {
    if (options.renewDeadlineMs >= options.leaseDurationMs) {
      throw new Error(
        `leader election: renewDeadline (${options.renewDeadlineMs} ms) must be shorter than leaseDuration (${options.leaseDurationMs} ms)`,
      );
    }
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.log = options.log.child({ lease: `${options.namespace}/${options.name}` });
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** Campaigns, leads, and campaigns again after losing the lease, until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      if (!(await this.acquire(signal))) break;
      const leadership = new AbortController();
      this.leading = true;
      this.log.info({ identity: this.options.identity }, "became leader");
      this.options.onStartedLeading(leadership.signal);
      await this.renew(signal);
      this.leading = false;
      leadership.abort();
      this.options.onStoppedLeading?.();
      if (signal.aborted) {
        await this.release().catch((error) => this.log.warn({ err: error }, "could not release the lease"));
        break;
      }
      this.log.warn({ identity: this.options.identity }, "leader election lost; campaigning again");
    }
  }

  private async acquire(signal: AbortSignal): Promise<boolean> {
    let announced = false;
    while (!signal.aborted) {
      if (await this.tryAcquireOrRenew()) return true;
      if (!announced && this.current?.spec?.holderIdentity) {
        announced = true;
        this.log.info(
          { holder: this.current.spec.holderIdentity },
          "lease is held by another candidate; waiting",
        );
      }
      await this.clock.sleep(this.jittered(this.options.retryPeriodMs), signal).catch(() => undefined);
    }
    return false;
  }

  /** Renews every retryPeriod; returns when renewing failed for renewDeadline or `signal` aborted. */
  private async renew(signal: AbortSignal): Promise<void> {
    let lastRenew = this.clock.now();
    while (!signal.aborted) {
      await this.clock.sleep(this.options.retryPeriodMs, signal).catch(() => undefined);
      if (signal.aborted) return;
      if (await this.tryAcquireOrRenew()) {
        lastRenew = this.clock.now();
        continue;
      }
      if (this.clock.now() - lastRenew >= this.options.renewDeadlineMs) return;
    }
  }

  private jittered(ms: number): number {
    return Math.round(ms * (1 + 1.2 * Math.random()));
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity, leaseDurationMs } = this.options;
    const now = this.clock.now();
    const ref = { ...LEASE_REF, namespace, name };
    let lease: Lease;
    try {
      lease = await this.options.client.get<Lease>(ref);
    } catch (error) {
      if (!isNotFound(error)) {
        this.log.debug({ err: (error as Error).message }, "could not read the lease");
        return false;
      }
      try {
        this.current = await this.options.client.create<Lease>(
          { ...LEASE_REF, namespace },
          {
            apiVersion: "coordination.k8s.io/v1",
            kind: "Lease",
            metadata: { name, namespace },
            spec: {
              holderIdentity: identity,
              leaseDurationSeconds: Math.ceil(leaseDurationMs / 1000),
              acquireTime: k8sMicroTime(now),
              renewTime: k8sMicroTime(now),
              leaseTransitions: 0,
            },
          },
        );
        this.observed = { record: recordOf(this.current), at: now };
        return true;
      } catch (createError) {
        if (!isAlreadyExists(createError))
          this.log.debug({ err: (createError as Error).message }, "could not create the lease");
        return false;
      }
    }
    this.current = lease;
    const record = recordOf(lease);
    if (this.observed?.record !== record) this.observed = { record, at: now };
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? "";
    const duration = (spec.leaseDurationSeconds ?? 0) * 1000;
    const observedAt = this.observed?.at ?? now;
    if (holder !== "" && holder !== identity && observedAt + duration > now) return false;

    const mine = holder === identity;
    const updated: Lease = {
      ...lease,
      spec: {
        ...spec,
        holderIdentity: identity,
        leaseDurationSeconds: Math.ceil(leaseDurationMs / 1000),
        renewTime: k8sMicroTime(now),
        acquireTime: mine && spec.acquireTime ? spec.acquireTime : k8sMicroTime(now),
        leaseTransitions: (spec.leaseTransitions ?? 0) + (mine ? 0 : 1),
      },
    };
    try {
      this.current = await this.options.client.update<Lease>(ref, updated);
      this.observed = { record: recordOf(this.current), at: now };
      return true;
    } catch (error) {
      if (!isConflict(error)) this.log.debug({ err: (error as Error).message }, "could not update the lease");
      return false;
    }
  }

  /** Gives the lease up (upstream ReleaseOnCancel): another candidate can take it at once. */
  private async release(): Promise<void> {
    const lease = this.current;
    if (!lease || lease.spec?.holderIdentity !== this.options.identity) return;
    const now = this.clock.now();
    const { namespace, name } = this.options;
    await this.options.client.update<Lease>(
      { ...LEASE_REF, namespace, name },
      {
        ...lease,
        spec: {
          ...lease.spec,
          holderIdentity: "",
          leaseDurationSeconds: 1,
          renewTime: k8sMicroTime(now),
          acquireTime: k8sMicroTime(now),
        },
      },
    );
    this.log.info("released the lease");
  }
}

function recordOf(lease: Lease): string {
  const s = lease.spec ?? {};
  return JSON.stringify([
    s.holderIdentity,
    s.leaseDurationSeconds,
    s.acquireTime,
    s.renewTime,
    s.leaseTransitions,
  ]);
}
