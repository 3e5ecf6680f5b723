// The node agent's composition root: builds every component once, wires them together and runs them until
// the signal aborts. Each component owns its state and loop; this file only connects them.
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "pino";
import { ApiClient } from "../api/client/client.ts";
import { ApiError, isNotFound, isTransient } from "../api/client/errors.ts";
import { EventRecorder } from "../api/client/events.ts";
import type { ClusterConnection } from "../api/client/kubeconfig.ts";
import { Reflector, stripManagedFields } from "../api/client/reflector.ts";
import type { ConfigMap, Secret } from "../api/schema/core/config-types.ts";
import type { Node } from "../api/schema/core/node-types.ts";
import type { Pod } from "../api/schema/core/pod-types.ts";
import type { Service } from "../api/schema/core/service-types.ts";
import { type Runtime, RuntimeLabels } from "../runtime/types.ts";
import { type Clock, systemClock } from "../util/clock.ts";
import { buildInfo, KUBERNETES_VERSION } from "../version.ts";
import { admitPod } from "./admission.ts";
import type { AgentConfig } from "./config.ts";
import { CrashBackoff } from "./crash-backoff.ts";
import { DebugHistory } from "./debug/history.ts";
import { DebugServer } from "./debug/server.ts";
import { instrumentRuntime } from "./instrumented-runtime.ts";
import { LastKnownReads } from "./last-known.ts";
import { AgentMetrics, podIsRunning } from "./metrics.ts";
import { MirrorPods } from "./mirror-pods.ts";
import { NodeLease } from "./node/lease.ts";
import { readMachineInfo } from "./node/machine.ts";
import { NodeManager } from "./node/node-manager.ts";
import { capacityAndAllocatable, type NodeObject } from "./node/node-status.ts";
import { orphanedPods } from "./orphans.ts";
import type { PodRuntimeStatus } from "./pleg.ts";
import { Pleg } from "./pleg.ts";
import { apiServiceAccountTokens, type PodConfigContext } from "./pod-config/index.ts";
import { podsDir } from "./pod-config/paths.ts";
import { PodSources } from "./pod-sources.ts";
import { generatePodStatus } from "./pod-status.ts";
import { PodWorkers } from "./pod-workers.ts";
import { type ProbedContainer, ProberManager } from "./prober/manager.ts";
import { pullCredentialsFor } from "./pull-secrets.ts";
import { x509NodeAuthorizer } from "./server/authn.ts";
import { NodeServer } from "./server/server.ts";
import { nodeApiTls } from "./server/serving-cert.ts";
import { ServiceCache, serviceEnvFields } from "./service-cache.ts";
import { isMirrorPod, isStaticPod, StaticPodSource } from "./static-pods.ts";
import { StatusManager } from "./status-manager.ts";
import { anythingRunning, PodSyncer } from "./sync-pod.ts";

export interface AgentOptions {
  config: AgentConfig;
  /** The API server to join; without it the agent is a standalone node running its static pods only. */
  connection?: ClusterConnection;
  runtime: Runtime;
  log: Logger;
  clock?: Clock;
  /** Periodic resync of every pod (kubelet's syncFrequency, 1 min). */
  resyncPeriodMs?: number;
}

export class Agent {
  private readonly options: AgentOptions;
  private readonly clock: Clock;
  /** Undefined for a standalone node. */
  readonly api: ApiClient | undefined;
  private readonly log: Logger;
  private readonly sources: PodSources;
  /** UIDs admitted to run here; anything else bound to the node was rejected at admission. */
  private readonly admitted = new Set<string>();
  private readonly resyncTimers = new Map<string, () => void>();
  private readonly lastKnown = new LastKnownReads();
  /** What `deckhand debug` tells about pods and Services beyond the current state. */
  private readonly history = new DebugHistory();
  private proxy: import("../proxy/index.ts").ServiceProxy | undefined;
  private readyResolve!: () => void;
  /** Resolves once the Node is registered and the pod source has synced. */
  readonly ready = new Promise<void>((resolve) => {
    this.readyResolve = resolve;
  });

  constructor(options: AgentOptions) {
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.log = options.log;
    const info = buildInfo();
    this.api = options.connection
      ? new ApiClient(options.connection, {
          userAgent: `deckhand/${info.deckhandVersion} (linux) kubelet/${KUBERNETES_VERSION.gitVersion}`,
        })
      : undefined;
    this.sources = new PodSources(options.connection ? ["api", "file"] : ["file"]);
  }

  async run(signal: AbortSignal): Promise<void> {
    const { config } = this.options;
    const log = this.log;
    // Metrics: every runtime call is counted and timed; the running pods/containers gauges read the PLEG.
    const metrics = new AgentMetrics({ nodeName: config.nodeName, runtimePods: () => runtimePods(pleg) });
    const runtime = instrumentRuntime(this.options.runtime, metrics);
    const machine = await readMachineInfo(config.rootDir);
    if (config.nodeIP) machine.internalIPs = [config.nodeIP];
    const runtimeName =
      (await runtime.version().catch(() => undefined))?.runtimeName ??
      (runtime.name === "cri" ? "containerd" : "docker");

    const standalone = this.api === undefined;
    // Every API call of a standalone node fails at once; the loops that need the API are not started.
    const client = this.api ?? offlineClient();
    const history = this.history;
    const sink: Recorder = this.api
      ? new EventRecorder({
          client: this.api,
          source: { component: "kubelet", host: config.nodeName },
          clock: this.clock,
          onError: (error) => log.debug({ err: error }, "event not recorded"),
        })
      : {
          record: (ref, type, reason, message) =>
            log.info({ object: `${ref.kind}/${ref.namespace ?? ""}/${ref.name}`, type, reason }, message),
          flush: async () => {},
        };
    // Pod events are also kept for `deckhand debug pod` (they may never reach an unreachable API server).
    const events: Recorder = {
      record: (ref, type, reason, message) => {
        if (ref.kind === "Pod" && ref.uid)
          history.recordEvent(ref.uid, { type, reason, message, fieldPath: ref.fieldPath });
        sink.record(ref, type, reason, message);
      },
      flush: () => sink.flush(),
    };

    const scopeLabels = { [RuntimeLabels.nodeName]: config.nodeName };
    const pleg = new Pleg({
      runtime,
      scope: scopeLabels,
      clock: this.clock,
      onEvents: (found) => {
        for (const uid of new Set(found.map((e) => e.podUid)))
          workers.update({ uid, desired: undefined, reason: "pleg" });
      },
      onError: (error) => log.warn({ err: error }, "PLEG relist failed"),
      onRelist: (ms) => metrics.observePlegRelist(ms / 1000),
    });

    const nodeManager = new NodeManager({
      client,
      runtime,
      config,
      machine,
      kubeletVersion: KUBERNETES_VERSION.gitVersion,
      pleg: () => pleg.healthy(),
      clock: this.clock,
      onError: (error) => log.warn({ err: error }, "node status update failed"),
    });

    const statusManager = new StatusManager({
      client,
      clock: this.clock,
      onError: (key, error) =>
        log.warn({ pod: key.name, namespace: key.namespace, err: error }, "pod status not written"),
    });

    // Service links come from a watched copy of every Service, as kubelet's do (not from lists per container).
    const services = new ServiceCache();
    const podConfigContext: PodConfigContext = {
      nodeName: config.nodeName,
      hostIPs: machine.internalIPs,
      rootDir: config.rootDir,
      clusterDNS: config.clusterDNS,
      clusterDomain: config.clusterDomain,
      runtimeName: runtime.name,
      allowNegativeOomScoreAdj: config.allowNegativeOomScoreAdj,
      nodeCapacity: capacityAndAllocatable(config, machine).capacity,
      nodeAllocatable: capacityAndAllocatable(config, machine).allocatable,
      // Standalone: none, and projected serviceAccountToken volumes fail naming why.
      ...(this.api
        ? {
            serviceAccountTokens: apiServiceAccountTokens(this.api, {
              now: () => this.clock.now(),
              onRefreshError: (request, error) =>
                log.warn(
                  { namespace: request.namespace, serviceAccount: request.serviceAccountName, err: error },
                  "service account token not refreshed; serving the cached one until it expires",
                ),
            }),
          }
        : {}),
      warn: (pod, reason, message) =>
        events.record(
          {
            apiVersion: "v1",
            kind: "Pod",
            namespace: pod.metadata?.namespace,
            name: pod.metadata?.name ?? "",
            uid: pod.metadata?.uid,
          },
          "Warning",
          reason,
          message,
        ),
      api: {
        // Last known answers while the API server is unreachable, so containers still restart.
        getConfigMap: (namespace, name) =>
          this.lastKnown.read(`configmaps/${namespace}/${name}`, () =>
            this.getOptional<ConfigMap>("configmaps", namespace, name),
          ),
        getSecret: (namespace, name) => this.readSecret(namespace, name),
        listServices: (namespace) =>
          standalone
            ? Promise.resolve([])
            : services.hasSynced
              ? Promise.resolve(services.list(namespace))
              : this.lastKnown
                  .read(
                    `services/${namespace}`,
                    async () =>
                      (await client.list<Service>({ version: "v1", resource: "services", namespace })).items,
                  )
                  .catch((error) => {
                    // Never read yet and the API is unreachable: only static pods can be starting now (API pods
                    // come from the API); they start without service links rather than not at all.
                    if (isTransient(error)) return [];
                    throw error;
                  }),
      },
    };

    const mirrorPods = new MirrorPods({
      client,
      nodeName: config.nodeName,
      nodeUid: () => nodeManager.uid,
    });
    // A static pod's status goes to its mirror pod (which has its own UID in the API).
    const keyOf = (pod: Pod) => ({
      namespace: pod.metadata?.namespace ?? "",
      name: pod.metadata?.name ?? "",
      uid: pod.metadata?.uid ?? "",
      ...(isStaticPod(pod) ? { apiUid: mirrorPods.mirrorUid(pod) ?? "" } : {}),
    });
    const syncMirrors = async (): Promise<void> => {
      if (standalone) return;
      await mirrorPods
        .reconcile(this.sources.pods().filter(isStaticPod))
        .catch((error) => log.warn({ err: error }, "mirror pods not reconciled; retrying later"));
    };

    const syncer = new PodSyncer({
      runtime,
      scopeLabels,
      runtimeName,
      readRuntimeStatus: (uid) => pleg.refresh(uid),
      runtimeStatusForSync: (uid, newPod) => pleg.statusForSync(uid, newPod),
      settleRuntimeStatus: (uid) => pleg.settle(uid),
      setPodStatus: (pod, status) => {
        const key = keyOf(pod);
        // A static pod without a mirror yet has nowhere to report to; the next sync after the mirror exists will.
        if (key.apiUid !== "") statusManager.setPodStatus(key, status as Record<string, unknown>);
      },
      finishDeletion: (pod) => statusManager.finishDeletion(keyOf(pod)),
      recordEvent: (ref, type, reason, message) => events.record(ref, type, reason, message),
      podConfigContext,
      pullCredentials: (pod, image) =>
        pullCredentialsFor(pod, image, (ns, name) => this.readSecret(ns, name)),
      hostIPs: () => machine.internalIPs,
      resyncAfter: (uid, afterMs) => this.scheduleResync(uid, afterMs, workers),
      observed: (pod, status) => prober.syncPod(pod, runningContainers(status)),
      probes: (uid) => prober.results(uid),
      clock: this.clock,
      log: { info: (f, m) => log.info(f, m), warn: (f, m) => log.warn(f, m) },
      crashBackoff: new CrashBackoff({ maxMs: config.maxContainerRestartPeriodMs }),
    });

    const prober = new ProberManager({
      runtime,
      clock: this.clock,
      onResult: (event) => {
        metrics.observeProbe(event, this.sources.get(event.podUid));
        history.recordProbe(event);
      },
      onChange: (uid, type) => workers.update({ uid, desired: undefined, reason: `${type} probe` }),
      onFailure: (event, pod) =>
        events.record(
          {
            apiVersion: "v1",
            kind: "Pod",
            namespace: pod.metadata?.namespace,
            name: pod.metadata?.name ?? "",
            uid: pod.metadata?.uid,
            fieldPath: `spec.containers{${event.container}}`,
          },
          "Warning",
          "Unhealthy",
          `${event.type[0]?.toUpperCase()}${event.type.slice(1)} probe failed: ${event.result.message}`,
        ),
    });

    // For the pod worker and pod start metrics: is the pod gone, or running as its spec asks?
    const podState = (uid: string) => {
      const pod = this.sources.get(uid);
      return !pod ? "gone" : podIsRunning(pod, pleg.podStatus(uid)) ? "running" : "pending";
    };
    const workers: PodWorkers<Pod> = new PodWorkers<Pod>({
      sync: metrics.instrumentPodSync<Pod>(async (uid, _desired, reasons, workerSignal) => {
        const current = this.sources.get(uid);
        log.debug({ uid, pod: current?.metadata?.name, reasons }, "sync pod");
        if (!current) {
          // Gone from every source: stop and remove everything it had, then forget it.
          prober.removePod(uid);
          await syncer.cleanup(uid);
          statusManager.forget(uid);
          this.admitted.delete(uid);
          workers.forget(uid);
          history.forget(uid);
          return;
        }
        if (!this.admitted.has(uid)) {
          // Housekeeping found a pod a source has but that was never admitted here still running.
          prober.removePod(uid);
          await syncer.stopUnowned(current);
          workers.forget(uid);
          return;
        }
        await syncer.sync(current, workerSignal, reasons.includes("add"));
        history.recordSync(uid);
      }, podState),
      onError: (uid, error) => {
        log.warn({ uid, err: error }, "pod sync failed");
        history.recordSync(uid, error);
      },
    });

    this.sources.onUpdate((update) => {
      const uid = update.pod.metadata?.uid ?? "";
      log.debug({ uid, pod: update.pod.metadata?.name, op: update.op, source: update.source }, "pod update");
      if (update.op === "add" && !this.admit(update.pod, statusManager, nodeManager, runtimeName, events))
        return;
      if (!this.admitted.has(uid) && update.op !== "remove") return;
      workers.update({ uid, desired: update.pod, reason: update.op });
    });

    const podReflector = new Reflector<Pod>({
      client,
      ref: { version: "v1", resource: "pods" },
      fieldSelector: `spec.nodeName=${config.nodeName}`,
      clock: this.clock,
      transform: stripManagedFields,
      handler: {
        replace: (pods) => {
          mirrorPods.replaceObserved(pods.filter(isMirrorPod));
          this.sources.replace(
            "api",
            pods.filter((pod) => !isMirrorPod(pod)),
          );
          for (const pod of pods)
            if (!isMirrorPod(pod))
              statusManager.observeApiStatus(keyOf(pod), pod.status as Record<string, unknown>);
          void syncMirrors();
        },
        event: (event) => {
          if (isMirrorPod(event.object)) {
            mirrorPods.observe(event.object, event.type === "DELETED");
            if (event.type === "DELETED" || event.object.metadata?.deletionTimestamp) void syncMirrors();
          } else if (event.type === "DELETED") this.sources.apply("api", "remove", event.object);
          else {
            this.sources.apply("api", "upsert", event.object);
            statusManager.observeApiStatus(
              keyOf(event.object),
              event.object.status as Record<string, unknown>,
            );
          }
        },
      },
      onError: (error, retryInMs) => log.warn({ err: error, retryInMs }, "pod watch failed; retrying"),
    });

    const lease = new NodeLease({
      client,
      nodeName: config.nodeName,
      nodeUid: () => nodeManager.uid,
      leaseDurationSeconds: config.nodeLeaseDurationSeconds,
      clock: this.clock,
      onError: (error) => log.warn({ err: error }, "node lease renewal failed"),
    });

    const staticPods = new StaticPodSource({
      dir: config.staticPodPath,
      nodeName: config.nodeName,
      rescanMs: config.fileCheckFrequencyMs,
      clock: this.clock,
      onPods: (pods) => {
        this.sources.replace("file", pods);
        void syncMirrors();
      },
      onProblem: ({ file, message }) => {
        log.warn({ file, err: message }, "static pod manifest rejected");
        events.record(
          { apiVersion: "v1", kind: "Node", name: config.nodeName, uid: nodeManager.uid ?? config.nodeName },
          "Warning",
          "FailedStaticPod",
          `static pod manifest ${file} rejected: ${message}`,
        );
      },
    });

    // The node API (logs, exec, attach, port-forward, metrics, stats) on config.address:port.
    const nodeServer = new NodeServer({
      host: {
        nodeName: config.nodeName,
        rootDir: config.rootDir,
        runtime,
        metrics,
        pods: () =>
          [...this.admitted].map((uid) => this.sources.get(uid)).filter((p): p is Pod => p !== undefined),
        runtimeStatus: (uid) => pleg.podStatus(uid),
        runtimePods: () => runtimePods(pleg),
        health: () => pleg.healthy(),
      },
      address: config.address,
      port: config.port,
      healthzAddress: config.healthzBindAddress,
      healthzPort: config.healthzPort,
      log: log.child({ component: "node-api" }),
      // HTTPS only; the API server's client certificate and node admins (system:masters) get in.
      tls: await nodeApiTls({
        rootDir: config.rootDir,
        nodeName: config.nodeName,
        ipAddresses: machine.internalIPs,
        tlsCertFile: config.tlsCertFile,
        tlsPrivateKeyFile: config.tlsPrivateKeyFile,
        clientCAFile: config.clientCAFile,
        clusterCa: this.options.connection?.ca,
      }),
      authorize: x509NodeAuthorizer(),
    });
    await nodeServer.start();

    // `deckhand debug`: the agent's own view over a root-only unix socket.
    const debugServer = config.debugSocket
      ? new DebugServer({
          socketPath: config.debugSocket,
          runtime,
          log: log.child({ component: "debug" }),
          state: {
            nodeName: config.nodeName,
            pods: () =>
              [...this.admitted].map((uid) => this.sources.get(uid)).filter((p): p is Pod => p !== undefined),
            runtimePods: () => runtimePods(pleg),
            probes: () => prober.describe(),
            history,
            services: () =>
              this.proxy && {
                backend: this.proxy.backend,
                ...this.proxy.stats,
                servicePorts: this.proxy.view(),
              },
            // Undefined (503, no rules yet) until the proxy has started and synced once.
            ...(config.proxyMode === "iptables" && {
              trace: async (target, options) => this.proxy?.trace(target, options),
            }),
            config: () => config,
          },
        })
      : undefined;
    await debugServer
      ?.start()
      .catch((error: unknown) =>
        log.warn({ err: error, socket: config.debugSocket }, "debug socket not started"),
      );

    log.info(
      { node: config.nodeName, runtime: runtime.endpoint, api: this.api?.server ?? "none (standalone node)" },
      "agent starting",
    );
    // The agent's own Node, watched: labels an admin adds after registration count at admission.
    const nodeReflector = new Reflector<NodeObject>({
      client,
      ref: { version: "v1", resource: "nodes" },
      fieldSelector: `metadata.name=${config.nodeName}`,
      clock: this.clock,
      handler: {
        replace: (nodes) => {
          for (const node of nodes) nodeManager.observe(node);
        },
        event: (event) => {
          if (event.type === "ADDED" || event.type === "MODIFIED") nodeManager.observe(event.object);
        },
      },
      onError: (error, retryInMs) =>
        log.warn({ err: error, retryInMs }, "watch of this Node failed; retrying"),
    });
    const serviceReflector = new Reflector<Service>({
      client,
      ref: { version: "v1", resource: "services" },
      clock: this.clock,
      transform: serviceEnvFields,
      handler: services,
      onError: (error, retryInMs) =>
        log.warn({ err: error, retryInMs }, "watch of Services (for service links) failed; retrying"),
    });
    const apiLoops = standalone
      ? []
      : [
          this.serviceProxy(signal, client, machine.internalIPs, metrics, events),
          nodeManager.run(signal),
          nodeReflector.run(signal),
          serviceReflector.run(signal),
          (async () => {
            // The Lease is owned by the Node (it goes when the Node goes): start once the Node is registered.
            await waitFor(() => nodeManager.uid !== undefined, this.clock, signal);
            await lease.run(signal);
          })(),
          statusManager.run(signal),
          config.networkPlugin === "kubenet" ? this.podNetwork(signal, client) : undefined,
          this.rotateClientCertificate(signal),
          config.serverTLSBootstrap
            ? this.bootstrapServingCertificate(
                signal,
                client,
                nodeServer,
                () => nodeManager.uid !== undefined,
              )
            : undefined,
          (async () => {
            await pleg.waitForRelist();
            // Admission needs the Node's labels (nodeSelector, node affinity): a pod listed before the Node is
            // known would be rejected with NodeAffinity, and a restarted agent would fail the pods it ran
            // (upstream's kubelet waits for its Node in the informer before starting the API pod source).
            await waitFor(() => nodeManager.current !== undefined, this.clock, signal);
            await podReflector.run(signal);
          })(),
        ];
    const loops = [
      nodeServer.run(signal),
      debugServer?.run(signal),
      pleg.run(signal),
      ...apiLoops,
      this.housekeeping(signal, pleg, workers, syncMirrors),
      (async () => {
        await pleg.waitForRelist();
        await staticPods.run(signal);
      })(),
    ];
    const synced = standalone
      ? [waitFor(() => this.sources.sourceReady("file"), this.clock, signal)]
      : [podReflector.waitForSync(), waitFor(() => nodeManager.uid !== undefined, this.clock, signal)];
    void Promise.all(synced).then(() => {
      log.info({ node: config.nodeName }, "agent ready");
      this.readyResolve();
    });
    await Promise.all(loops);
    prober.stop();
    for (const cancel of this.resyncTimers.values()) cancel();
    await events.flush();
    this.api?.close();
  }

  /** kubelet's rotateCertificates: renew the client certificate before it expires, without a restart. */
  private async rotateClientCertificate(signal: AbortSignal): Promise<void> {
    const { config } = this.options;
    if (!config.rotateCertificates || !this.api || !config.kubeconfig) return;
    const { clientCertificateManager, clientCertificateFile } = await import(
      "./bootstrap/certificate-manager.ts"
    );
    const pemPath = await clientCertificateFile(config.kubeconfig);
    if (!pemPath) {
      this.log.warn(
        { kubeconfig: config.kubeconfig },
        "rotateCertificates: the kubeconfig's user has no client-certificate file holding both certificate and key (as deckhand join writes it); not rotating",
      );
      return;
    }
    await clientCertificateManager({
      api: this.api,
      nodeName: config.nodeName,
      pemPath,
      ...(this.options.connection?.ca ? { caPem: this.options.connection.ca.toString("utf8") } : {}),
      log: this.log.child({ component: "certificate-manager" }),
      clock: this.clock,
    }).run(signal);
  }

  /** networkPlugin kubenet: the bridge conflist for this Node's podCIDR and host-gw routes (./network/). */
  private async podNetwork(signal: AbortSignal, client: ApiClient): Promise<void> {
    const { PodNetwork } = await import("./network/pod-network.ts");
    const { IpRouteTable } = await import("./network/host-routes.ts");
    const { config } = this.options;
    await new PodNetwork({
      client,
      nodeName: config.nodeName,
      cniConfDir: config.cniConfDir,
      // host-local's leases live with the agent's other state: two agents on one machine (each in a
      // network namespace of its own) never share a lease directory, and removing rootDir removes them.
      ipamDataDir: join(config.rootDir, "cni", "networks"),
      routes: new IpRouteTable(),
      clock: this.clock,
      log: this.log.child({ component: "pod-network" }),
    }).run(signal);
  }

  /**
   * kubelet's serverTLSBootstrap: once the Node is registered, the node API's certificate comes from the
   * kubernetes.io/kubelet-serving signer (SANs = the Node's addresses) and is renewed like the client one;
   * until then, and whenever the signer is unreachable, the self-signed certificate serves.
   */
  private async bootstrapServingCertificate(
    signal: AbortSignal,
    client: ApiClient,
    nodeServer: NodeServer,
    registered: () => boolean,
  ): Promise<void> {
    const { config } = this.options;
    const { CertificateManager, servingCertificateRequest } = await import(
      "./bootstrap/certificate-manager.ts"
    );
    const manager = new CertificateManager({
      api: client,
      kind: "serving",
      pemPath: join(config.rootDir, "pki", "deckhand-node-serving-current.pem"),
      request: async () => {
        const node = await client.get<Node>({ version: "v1", resource: "nodes", name: config.nodeName });
        // The approver checks the SANs against these; until the first status update there are none.
        const addresses = node.status?.addresses ?? [];
        if (addresses.length === 0) throw new Error("the Node reports no addresses yet");
        return servingCertificateRequest(config.nodeName, addresses);
      },
      apply: (certPem, keyPem) => nodeServer.setServingCertificate(certPem, keyPem),
      ...(this.options.connection?.ca ? { caPem: this.options.connection.ca.toString("utf8") } : {}),
      log: this.log.child({ component: "certificate-manager" }),
      clock: this.clock,
    });
    const stored = await manager.current().catch(() => undefined);
    if (stored) nodeServer.setServingCertificate(stored.certPem, stored.keyPem);
    await waitFor(registered, this.clock, signal);
    await manager.run(signal);
  }

  /** The kube-proxy half: iptables rules for Services, when proxyMode is iptables. */
  private async serviceProxy(
    signal: AbortSignal,
    client: ApiClient,
    nodeIPs: string[],
    metrics: AgentMetrics,
    agentEvents: Recorder,
  ): Promise<void> {
    const { config } = this.options;
    if (config.proxyMode !== "iptables") return;
    const log = this.log.child({ component: "proxy" });
    if (!config.clusterCIDR && !config.podCIDR)
      // As kube-proxy warns: without it, ClusterIP traffic from the node itself and a pod reaching itself
      // through its Service are not masqueraded, and replies from a backend can miss this node's conntrack.
      log.warn(
        "clusterCIDR not set (set it to the control plane's --cluster-cidr): unable to tell pod traffic from other traffic to Services, nothing is masqueraded",
      );
    const { ExecIptables, ServiceProxy } = await import("../proxy/index.ts");
    let iptables: Awaited<ReturnType<typeof ExecIptables.create>>;
    try {
      iptables = await ExecIptables.create();
    } catch (error) {
      log.error(
        { err: error },
        "service proxy disabled: iptables is not usable on this host (install iptables, or set proxyMode: none)",
      );
      return;
    }
    // Events about Services come from kube-proxy, as upstream's do.
    const events: Recorder = this.api
      ? new EventRecorder({
          client: this.api,
          source: { component: "kube-proxy", host: config.nodeName },
          clock: this.clock,
          onError: (error) => log.debug({ err: error }, "event not recorded"),
        })
      : agentEvents;
    const serviceRef = (namespace: string, name: string, uid?: string) => ({
      apiVersion: "v1",
      kind: "Service",
      namespace,
      name,
      ...(uid ? { uid } : {}),
    });
    const proxy = new ServiceProxy({
      client,
      nodeName: config.nodeName,
      nodeIPs,
      ...((config.clusterCIDR || config.podCIDR) && { clusterCIDR: config.clusterCIDR || config.podCIDR }),
      iptables,
      log,
      clock: this.clock,
      metrics: metrics.proxyMetrics(),
      healthzBindAddress: "0.0.0.0:10256",
      onServiceProblem: (svc, message) =>
        events.record(
          serviceRef(svc.metadata?.namespace ?? "", svc.metadata?.name ?? "", svc.metadata?.uid),
          "Warning",
          "FailedToProxyService",
          message,
        ),
      onServiceEvent: (svc, reason, message) =>
        events.record(serviceRef(svc.namespace, svc.name), "Warning", reason, message),
    });
    this.proxy = proxy;
    try {
      await proxy.run(signal);
    } catch (error) {
      // The pods go on without Service rules; the message names the fix (e.g. route_localnet not settable).
      log.error({ err: error }, "service proxy stopped");
    }
  }

  /** Periodic resync of every pod, and removal of runtime pods no source claims (once all sources synced). */
  private async housekeeping(
    signal: AbortSignal,
    pleg: Pleg,
    workers: PodWorkers<Pod>,
    syncMirrors: () => Promise<void>,
  ): Promise<void> {
    const period = Math.min(this.options.resyncPeriodMs ?? 60_000, 10_000);
    let sinceResync = 0;
    while (!signal.aborted) {
      await this.clock.sleep(period, signal).catch(() => undefined);
      if (signal.aborted) break;
      sinceResync += period;
      if (sinceResync >= (this.options.resyncPeriodMs ?? 60_000)) {
        sinceResync = 0;
        for (const uid of this.admitted) workers.update({ uid, desired: undefined, reason: "resync" });
      }
      await syncMirrors();
      if (!this.sources.allSourcesReady() || !pleg.hasRelisted) continue;
      // Runtime pods no source claims, and pod directories with nothing in the runtime (the agent died after
      // preparing volumes but before creating the sandbox, and the pod was deleted meanwhile): upstream's
      // cleanupOrphanedPodDirs; and running pods no worker owns (./orphans.ts).
      const orphans = orphanedPods({
        runtimeUids: pleg.podUids(),
        podDirUids: await podDirUids(this.options.config.rootDir),
        inSources: (uid) => this.sources.get(uid) !== undefined,
        admitted: (uid) => this.admitted.has(uid),
        syncing: (uid) => workers.isSyncing(uid),
        running: (uid) => anythingRunning(pleg.podStatus(uid)),
      });
      for (const uid of orphans.keys())
        workers.update({ uid, desired: { metadata: { uid } } as Pod, reason: "orphan" });
    }
  }

  /** Node-side admission; a rejected pod is failed with upstream's reason and never runs. */
  private admit(
    pod: Pod,
    statusManager: StatusManager,
    nodeManager: NodeManager,
    runtimeName: string,
    events: Recorder,
  ): boolean {
    const uid = pod.metadata?.uid ?? "";
    if (this.admitted.has(uid)) return true;
    if (pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed") return false;
    const node = nodeManager.current;
    const active = [...this.admitted]
      .map((u) => this.sources.get(u))
      .filter((p): p is Pod => p !== undefined);
    const result = admitPod(pod, active, {
      labels: (node?.metadata?.labels ?? {}) as Record<string, string>,
      allocatable: (node?.status?.allocatable ?? { pods: String(this.options.config.maxPods) }) as Record<
        string,
        string
      >,
    });
    if (result.admit) {
      this.admitted.add(uid);
      return true;
    }
    this.log.warn(
      { pod: pod.metadata?.name, namespace: pod.metadata?.namespace, reason: result.reason },
      result.message,
    );
    events.record(
      {
        apiVersion: "v1",
        kind: "Pod",
        namespace: pod.metadata?.namespace,
        name: pod.metadata?.name ?? "",
        uid,
      },
      "Warning",
      result.reason,
      result.message,
    );
    const status = generatePodStatus({
      pod,
      runtime: undefined,
      runtimeName,
      hostIPs: [],
      now: this.clock.now(),
      terminal: { phase: "Failed", reason: result.reason, message: `Pod was rejected: ${result.message}` },
    });
    statusManager.setPodStatus(
      { namespace: pod.metadata?.namespace ?? "", name: pod.metadata?.name ?? "", uid },
      status as Record<string, unknown>,
    );
    return false;
  }

  private scheduleResync(uid: string, afterMs: number, workers: PodWorkers<Pod>): void {
    this.resyncTimers.get(uid)?.();
    this.resyncTimers.set(
      uid,
      this.clock.setTimer(afterMs, () => {
        this.resyncTimers.delete(uid);
        workers.update({ uid, desired: undefined, reason: "backoff expired" });
      }),
    );
  }

  private readSecret(namespace: string, name: string) {
    return this.lastKnown.read(`secrets/${namespace}/${name}`, () =>
      this.getOptional<Secret>("secrets", namespace, name),
    );
  }

  private async getOptional<T extends Record<string, unknown>>(
    resource: string,
    namespace: string,
    name: string,
  ) {
    if (!this.api) return undefined;
    try {
      return await this.api.get<T & { metadata?: object }>({ version: "v1", resource, namespace, name });
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }
}

async function waitFor(condition: () => boolean, clock: Clock, signal: AbortSignal): Promise<void> {
  while (!condition() && !signal.aborted) await clock.sleep(100, signal).catch(() => undefined);
}

/** The runtime's view of every pod, as of the PLEG's last relist. */
function runtimePods(pleg: Pleg): PodRuntimeStatus[] {
  return pleg
    .podUids()
    .map((uid) => pleg.podStatus(uid))
    .filter((s): s is PodRuntimeStatus => s !== undefined);
}

/** The running app containers of a pod, as the prober needs them. */
function runningContainers(status: PodRuntimeStatus | undefined): ProbedContainer[] {
  const sandbox = status?.sandboxes.find((s) => s.state === "ready");
  return (status?.containers ?? [])
    .filter((c) => c.state === "running")
    .map((c) => ({
      name: c.metadata.name,
      containerId: c.id,
      podIP: sandbox?.ip ?? "",
      startedAt: c.startedAt || c.createdAt,
    }));
}

/** Where events go: the API (EventRecorder), or the log on a standalone node. */
type Recorder = Pick<EventRecorder, "record" | "flush">;

/** The API client of a standalone node: every call fails at once, naming why. */
function offlineClient(): ApiClient {
  const fail = async () => {
    throw new ApiError("API_UNREACHABLE", "standalone node: no API server configured (--kubeconfig)");
  };
  return {
    get: fail,
    list: fail,
    create: fail,
    update: fail,
    patch: fail,
    delete: fail,
    watch: fail,
  } as unknown as ApiClient;
}

/** The pod UIDs that have a directory under the agent's root dir (none when it cannot be read this round). */
async function podDirUids(rootDir: string): Promise<string[]> {
  return readdir(podsDir(rootDir)).catch(() => []);
}
