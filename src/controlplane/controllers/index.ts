// The controller manager: the scheduler and the core controllers, all ordinary API clients sharing one set
// of informers, run only while this process holds the leader Lease (kube-system/deckhand-controller-manager)
// so that two control planes over one etcd never both act. Each leadership term starts from fresh
// informers and queues; losing the lease stops everything until it is won again.

import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { Logger } from "pino";
import type { ApiClient } from "../../api/client/client.ts";
import { type Clock, systemClock } from "../../util/clock.ts";
import { Scheduler } from "../scheduler/index.ts";
import { BootstrapSignerController } from "./bootstrap-signer.ts";
import { CsrApprovingController } from "./csr-approving.ts";
import { CsrCleanerController } from "./csr-cleaner.ts";
import { type CertificatesConfig, CsrSigningController } from "./csr-signing.ts";
import { DaemonSetController } from "./daemonset/controller.ts";
import { DeploymentController } from "./deployment/controller.ts";
import { EndpointSliceController, EndpointsController } from "./endpoints/controllers.ts";
import { JobController } from "./job/controller.ts";
import { TtlAfterFinishedController } from "./job/ttl.ts";
import { type ControllerContext, createContext } from "./machinery/context.ts";
import type { ControllerStats } from "./machinery/controller.ts";
import { DEFAULT_LEADER_ELECTION, LeaderElector } from "./machinery/leader-election.ts";
import { CidrSet } from "./nodeipam/cidr-set.ts";
import { NodeIpamController } from "./nodeipam/controller.ts";
import { NodeLifecycleController, type NodeLifecycleOptions } from "./nodelifecycle/controller.ts";
import { TaintEvictionController } from "./nodelifecycle/taint-eviction.ts";
import { PodGarbageCollector, type PodGcOptions } from "./podgc.ts";
import { REPLICA_SET_KIND, REPLICATION_CONTROLLER_KIND, ReplicaController } from "./replicaset/controller.ts";
import { RootCaPublisher } from "./root-ca-publisher.ts";
import { ServiceAccountController } from "./serviceaccounts.ts";
import { TokenCleanerController } from "./token-cleaner.ts";

export interface LeaderElectionOptions {
  /** false: act at once without a lease (single control plane, tests). Default true. */
  enabled?: boolean;
  identity?: string;
  namespace?: string;
  name?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
}

export interface ControllerManagerOptions {
  client: ApiClient;
  log: Logger;
  /** Pod network; nodes get /nodeCidrMaskSize ranges from it (node IPAM). */
  clusterCidr: string;
  clock?: Clock;
  leaderElection?: LeaderElectionOptions;
  /** Which loops to run, by upstream-style name; default all (see CONTROLLER_NAMES). */
  controllers?: readonly string[];
  /** Size of the pod CIDR block each node gets (upstream --node-cidr-mask-size, 24). */
  nodeCidrMaskSize?: number;
  /** Node heartbeat grace periods and monitor period. */
  nodeLifecycle?: Partial<NodeLifecycleOptions>;
  podGc?: Partial<PodGcOptions>;
  /**
   * The cluster CA and signing settings: without them the CSR signer and the bootstrap signer (which
   * publishes kube-public/cluster-info) have nothing to sign with and stay idle.
   */
  certificates?: CertificatesConfig;
  /** Validity of the certificates the CSR signer issues (upstream --cluster-signing-duration, 1 year). */
  clusterSigningDurationMs?: number;
}

export interface ControllerManager {
  /** True while this process holds the lease and runs the loops. */
  readonly leading: boolean;
  stats(): Record<string, unknown>;
  stop(): Promise<void>;
}

interface Runnable {
  run(signal: AbortSignal): Promise<void>;
  readonly stats?: unknown;
  readonly loop?: { stats: ControllerStats };
}

type Factory = (ctx: ControllerContext, options: ControllerManagerOptions) => Runnable;

const FACTORIES: Record<string, Factory> = {
  scheduler: (ctx) => new Scheduler({ ctx }),
  replicaset: (ctx) => new ReplicaController(ctx, REPLICA_SET_KIND),
  replicationcontroller: (ctx) => new ReplicaController(ctx, REPLICATION_CONTROLLER_KIND),
  deployment: (ctx) => new DeploymentController(ctx),
  daemonset: (ctx) => new DaemonSetController(ctx),
  endpoint: (ctx) => new EndpointsController(ctx),
  endpointslice: (ctx) => new EndpointSliceController(ctx),
  job: (ctx) => new JobController(ctx),
  "ttl-after-finished": (ctx) => new TtlAfterFinishedController(ctx),
  nodelifecycle: (ctx, o) => new NodeLifecycleController(ctx, o.nodeLifecycle),
  "taint-eviction-controller": (ctx) => new TaintEvictionController(ctx),
  nodeipam: (ctx, o) => new NodeIpamController(ctx, o.clusterCidr, o.nodeCidrMaskSize ?? 24),
  podgc: (ctx, o) => new PodGarbageCollector(ctx, o.podGc),
  serviceaccount: (ctx) => new ServiceAccountController(ctx),
  "root-ca-cert-publisher": (ctx, o) =>
    o.certificates
      ? new RootCaPublisher(ctx, o.certificates.ca.certPem)
      : idle(ctx, "root-ca-cert-publisher"),
  csrapproving: (ctx) => new CsrApprovingController(ctx),
  csrsigning: (ctx, o) =>
    o.certificates
      ? new CsrSigningController(ctx, o.certificates, o.clusterSigningDurationMs)
      : idle(ctx, "csrsigning"),
  bootstrapsigner: (ctx, o) =>
    o.certificates?.serverUrl
      ? new BootstrapSignerController(ctx, { ...o.certificates, serverUrl: o.certificates.serverUrl })
      : idle(ctx, "bootstrapsigner"),
  tokencleaner: (ctx) => new TokenCleanerController(ctx),
  csrcleaner: (ctx) => new CsrCleanerController(ctx),
};

/** A loop that has nothing to do without the cluster CA (a control plane started without one). */
function idle(ctx: ControllerContext, name: string): Runnable {
  return {
    async run() {
      ctx.log.info({ controller: name }, "no cluster CA configured (certificates); not running");
    },
  };
}

export const CONTROLLER_NAMES = Object.keys(FACTORIES);

export function startControllers(options: ControllerManagerOptions): ControllerManager {
  const clock = options.clock ?? systemClock;
  const log = options.log.child({ component: "controller-manager" });
  const names = options.controllers ?? CONTROLLER_NAMES;
  // Validate configuration once, up front: a bad --cluster-cidr/--node-cidr-mask-size fails here, loudly.
  new CidrSet(options.clusterCidr, options.nodeCidrMaskSize ?? 24);
  for (const name of names) {
    if (!FACTORIES[name]) {
      throw new Error(`unknown controller ${JSON.stringify(name)}; known: ${CONTROLLER_NAMES.join(", ")}`);
    }
  }
  const stopAll = new AbortController();
  let term: { abort: AbortController; runnables: Map<string, Runnable>; done: Promise<void> } | undefined;

  const lead = (signal: AbortSignal) => {
    const abort = new AbortController();
    signal.addEventListener("abort", () => abort.abort(), { once: true });
    const ctx = createContext(options.client, log, clock);
    const runnables = new Map<string, Runnable>();
    for (const name of names) runnables.set(name, (FACTORIES[name] as Factory)(ctx, options));
    ctx.informers.start(abort.signal);
    const done = (async () => {
      if (!(await ctx.informers.waitForSync(abort.signal))) return;
      log.info({ controllers: names }, "caches synced; controllers running");
      await Promise.all(
        [...runnables].map(([name, r]) =>
          r
            .run(abort.signal)
            .catch((error) =>
              log.error({ controller: name, err: error }, "controller stopped with an error"),
            ),
        ),
      );
      await ctx.informers.stopped();
    })();
    term = { abort, runnables, done };
  };

  const election = options.leaderElection ?? {};
  let elector: LeaderElector | undefined;
  let electing: Promise<void> = Promise.resolve();
  if (election.enabled === false) {
    lead(stopAll.signal);
  } else {
    elector = new LeaderElector({
      client: options.client,
      log,
      clock,
      namespace: election.namespace ?? DEFAULT_LEADER_ELECTION.namespace,
      name: election.name ?? DEFAULT_LEADER_ELECTION.name,
      identity: election.identity ?? `${hostname()}_${randomUUID()}`,
      leaseDurationMs: election.leaseDurationMs ?? DEFAULT_LEADER_ELECTION.leaseDurationMs,
      renewDeadlineMs: election.renewDeadlineMs ?? DEFAULT_LEADER_ELECTION.renewDeadlineMs,
      retryPeriodMs: election.retryPeriodMs ?? DEFAULT_LEADER_ELECTION.retryPeriodMs,
      onStartedLeading: (signal) => lead(signal),
      onStoppedLeading: () => {
        const ending = term;
        term = undefined;
        ending?.abort.abort();
      },
    });
    electing = elector.run(stopAll.signal);
  }

  return {
    get leading() {
      return term !== undefined && !term.abort.signal.aborted;
    },
    stats() {
      const out: Record<string, unknown> = {};
      for (const [name, r] of term?.runnables ?? []) out[name] = r.loop?.stats ?? r.stats;
      return out;
    },
    async stop() {
      const ending = term;
      stopAll.abort();
      ending?.abort.abort();
      await electing;
      await ending?.done;
      log.info("controllers stopped");
    },
  };
}
