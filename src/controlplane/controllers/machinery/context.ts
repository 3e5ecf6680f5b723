// What every controller is built from: the API client, one shared informer per resource (so the scheduler
// and all controllers watch pods once), a logger, a clock and event recorders named like upstream's
// components.
import type { Logger } from "pino";
import type { ApiClient, ResourceRef } from "../../../api/client/client.ts";
import { EventRecorder } from "../../../api/client/events.ts";
import type { KubeObject } from "../../../api/resource.ts";
import type { DaemonSet, Deployment, ReplicaSet } from "../../../api/schema/apps/types.ts";
import type { Job } from "../../../api/schema/batch/types.ts";
import type { CertificateSigningRequest } from "../../../api/schema/certificates/csr.ts";
import type { Lease } from "../../../api/schema/coordination/lease.ts";
import type { ConfigMap, Secret } from "../../../api/schema/core/config-types.ts";
import type { Endpoints } from "../../../api/schema/core/endpoints.ts";
import type { Namespace } from "../../../api/schema/core/namespace-types.ts";
import type { Node } from "../../../api/schema/core/node-types.ts";
import type { Pod } from "../../../api/schema/core/pod-types.ts";
import type { ReplicationController } from "../../../api/schema/core/replicationcontroller.ts";
import type { Service } from "../../../api/schema/core/service-types.ts";
import type { ServiceAccount } from "../../../api/schema/core/serviceaccount.ts";
import type { EndpointSlice } from "../../../api/schema/discovery/endpointslice.ts";
import type { Clock } from "../../../util/clock.ts";
import { byController, byNamespace, CONTROLLER_INDEX, Informer, NAMESPACE_INDEX } from "./informer.ts";

export const RESOURCES = {
  pods: { version: "v1", resource: "pods" },
  nodes: { version: "v1", resource: "nodes" },
  services: { version: "v1", resource: "services" },
  endpoints: { version: "v1", resource: "endpoints" },
  namespaces: { version: "v1", resource: "namespaces" },
  serviceAccounts: { version: "v1", resource: "serviceaccounts" },
  replicationControllers: { version: "v1", resource: "replicationcontrollers" },
  replicaSets: { group: "apps", version: "v1", resource: "replicasets" },
  deployments: { group: "apps", version: "v1", resource: "deployments" },
  daemonSets: { group: "apps", version: "v1", resource: "daemonsets" },
  jobs: { group: "batch", version: "v1", resource: "jobs" },
  endpointSlices: { group: "discovery.k8s.io", version: "v1", resource: "endpointslices" },
  nodeLeases: {
    group: "coordination.k8s.io",
    version: "v1",
    resource: "leases",
    namespace: "kube-node-lease",
  },
  certificateSigningRequests: {
    group: "certificates.k8s.io",
    version: "v1",
    resource: "certificatesigningrequests",
  },
  /** Bootstrap tokens live here (the token cleaner and the bootstrap signer watch them). */
  kubeSystemSecrets: { version: "v1", resource: "secrets", namespace: "kube-system" },
  /** cluster-info, which the bootstrap signer publishes. */
  kubePublicConfigMaps: { version: "v1", resource: "configmaps", namespace: "kube-public" },
  /** Every namespace's; the root CA publisher keeps kube-root-ca.crt in each. */
  configMaps: { version: "v1", resource: "configmaps" },
} as const satisfies Record<string, ResourceRef>;

interface Kinds {
  pods: Pod;
  nodes: Node;
  services: Service;
  endpoints: Endpoints;
  namespaces: Namespace;
  serviceAccounts: ServiceAccount;
  replicationControllers: ReplicationController;
  replicaSets: ReplicaSet;
  deployments: Deployment;
  daemonSets: DaemonSet;
  jobs: Job;
  endpointSlices: EndpointSlice;
  nodeLeases: Lease;
  certificateSigningRequests: CertificateSigningRequest;
  kubeSystemSecrets: Secret;
  kubePublicConfigMaps: ConfigMap;
  configMaps: ConfigMap;
}

export type ResourceName = keyof Kinds;

/** One informer per resource, created on first use and started together. */
export class SharedInformers {
  private readonly client: ApiClient;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly informers = new Map<ResourceName, Informer<KubeObject>>();
  private started: AbortSignal | undefined;
  private readonly running: Promise<void>[] = [];

  constructor(client: ApiClient, log: Logger, clock: Clock) {
    this.client = client;
    this.log = log;
    this.clock = clock;
  }

  get<R extends ResourceName>(resource: R): Informer<Kinds[R]> {
    let informer = this.informers.get(resource);
    if (!informer) {
      informer = new Informer<KubeObject>({
        client: this.client,
        ref: RESOURCES[resource],
        log: this.log,
        clock: this.clock,
      });
      informer.addIndex(NAMESPACE_INDEX, byNamespace);
      informer.addIndex(CONTROLLER_INDEX, byController);
      this.informers.set(resource, informer);
      if (this.started) this.running.push(informer.run(this.started));
    }
    return informer as unknown as Informer<Kinds[R]>;
  }

  /** Starts every informer created so far (and any created later) until `signal` aborts. */
  start(signal: AbortSignal): void {
    this.started = signal;
    for (const informer of this.informers.values()) this.running.push(informer.run(signal));
  }

  async waitForSync(signal?: AbortSignal): Promise<boolean> {
    const all = Promise.all([...this.informers.values()].map((i) => i.waitForSync()));
    if (!signal) {
      await all;
      return true;
    }
    const aborted = new Promise<false>((resolve) => {
      if (signal.aborted) resolve(false);
      signal.addEventListener("abort", () => resolve(false), { once: true });
    });
    return Promise.race([all.then(() => true), aborted]);
  }

  /** Resolves when every informer loop has returned (after the start signal aborted). */
  async stopped(): Promise<void> {
    await Promise.all(this.running);
  }
}

export interface ControllerContext {
  client: ApiClient;
  informers: SharedInformers;
  log: Logger;
  clock: Clock;
  /** An event recorder for a component, e.g. "replicaset-controller". */
  recorder(component: string): EventRecorder;
}

export function createContext(client: ApiClient, log: Logger, clock: Clock): ControllerContext {
  const informers = new SharedInformers(client, log, clock);
  const recorders = new Map<string, EventRecorder>();
  return {
    client,
    informers,
    log,
    clock,
    recorder(component) {
      let r = recorders.get(component);
      if (!r) {
        r = new EventRecorder({
          client,
          source: { component },
          clock,
          onError: (error) =>
            log.debug({ component, err: (error as Error).message }, "could not record an event"),
        });
        recorders.set(component, r);
      }
      return r;
    },
  };
}
