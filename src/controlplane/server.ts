// Composition root of `deckhand control-plane`: PKI → storage → API server → HTTPS listener, plus the
// admin kubeconfig. Everything the control plane runs is built here and nowhere else; `stop()` undoes it in
// reverse order.

import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "pino";
import { openAPIDocuments, openAPIV2 } from "../api/openapi.ts";
import type { KubeObject } from "../api/resource.ts";
import { resourceDefinitions } from "../api/schema/index.ts";
import { systemClock } from "../util/clock.ts";
import { bearerTokenAuthenticator, type TokenAuthenticator } from "./apiserver/authn/bearer.ts";
import { bootstrapTokenAuthenticator } from "./apiserver/authn/bootstrap-token.ts";
import { ServiceAccountTokens } from "./apiserver/authn/serviceaccount.ts";
import { loadTokenFile } from "./apiserver/authn/token-file.ts";
import { clientCertificateAuthenticator } from "./apiserver/authn/x509.ts";
import { schemaPatchEngine } from "./apiserver/patching.ts";
import { ApiServer } from "./apiserver/server.ts";
import type { StreamingBackend } from "./apiserver/streaming.ts";
import { type ControllersConfig, controllerAdmission, startControllerManager } from "./controllers/embed.ts";
import { writeKubeconfig } from "./kubeconfig.ts";
import { nodeProxy, storedNode } from "./node-proxy.ts";
import {
  ADMIN_CLIENT,
  CONTROLLER_MANAGER_CLIENT,
  type ControlPlanePki,
  ensureClientCertificate,
  ensureControlPlanePki,
  KUBELET_CLIENT,
} from "./pki.ts";
import { openStorage } from "./storage/index.ts";

export interface ControlPlaneConfig {
  dataDir: string;
  /** Address to listen on; port 0 picks a free one. */
  listen: { host: string; port: number };
  /** `sqlite` or `etcd://host:port[,host:port…]`. */
  store: string;
  serviceCidr: string;
  /** Pod network of the cluster; handed to the controllers that allocate node pod CIDRs. */
  clusterCidr: string;
  nodePortRange: string;
  /** --tls-san: extra DNS names and IPs for the serving certificate. */
  tlsSans?: string[];
  /** --token-auth-file: static bearer tokens, CSV `token,user,uid,"group1,group2"`. */
  tokenAuthFile?: string;
  /** iss of service-account tokens and the API audience (default https://kubernetes.default.svc.cluster.local). */
  serviceAccountIssuer?: string;
  log: Logger;
  streaming?: StreamingBackend;
  /** Watch bookmark interval (ms); upstream sends one a minute. */
  bookmarkIntervalMs?: number;
  /** --event-ttl: how long an event lives after its last write (default 1 h; 0 keeps events). */
  eventTtlMs?: number;
  /** Scheduler and controllers (src/controlplane/controllers); false runs the API server alone. */
  controllers?: ControllersConfig | false;
}

export interface RunningControlPlane {
  /** e.g. https://127.0.0.1:6443 */
  readonly url: string;
  readonly kubeconfigPath: string;
  /** DATA_DIR/pki/ca.crt */
  readonly caCertPath: string;
  /** The cluster CA and the server's keys (to issue certificates to components started next to it). */
  readonly pki: ControlPlanePki;
  readonly apiServer: ApiServer;
  stop(): Promise<void>;
}

/** The address clients use: a wildcard listener is reached on loopback. */
function clientHost(host: string): string {
  if (host === "0.0.0.0" || host === "") return "127.0.0.1";
  if (host === "::") return "[::1]";
  return host.includes(":") ? `[${host}]` : host;
}

export async function startControlPlane(config: ControlPlaneConfig): Promise<RunningControlPlane> {
  const { log } = config;
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const pki = await ensureControlPlanePki({
    dataDir: config.dataDir,
    listenHost: config.listen.host,
    serviceCidr: config.serviceCidr,
    extraSans: config.tlsSans ?? [],
    log,
  });
  const tokens: TokenAuthenticator[] = [];
  if (config.tokenAuthFile) tokens.push(await loadTokenFile(config.tokenAuthFile));
  // The API server's identity towards node agents (pods/log, exec, attach, port-forward, nodes/proxy).
  const kubeletClient = await ensureClientCertificate(pki, KUBELET_CLIENT);
  // Every certificate exists before the server listens: once admin.kubeconfig appears, the PKI is complete.
  const admin = await ensureClientCertificate(pki, ADMIN_CLIENT);
  const controllerIdentity = await ensureClientCertificate(pki, CONTROLLER_MANAGER_CLIENT);
  const storage = await openStorage(config.store, config.dataDir);
  log.info({ backend: storage.backend, store: config.store }, "storage opened");
  const lookup = (...args: Parameters<ApiServer["lookup"]>) => apiServer.lookup(...args);
  const serviceAccountTokens = new ServiceAccountTokens({
    ...pki.serviceAccountKey,
    ...(config.serviceAccountIssuer ? { issuer: config.serviceAccountIssuer } : {}),
    clock: systemClock,
    lookup,
  });
  const apiServer: ApiServer = new ApiServer({
    storage,
    definitions: resourceDefinitions,
    patch: schemaPatchEngine(),
    openapi: () => openAPIDocuments(resourceDefinitions),
    openapiV2: () => openAPIV2(resourceDefinitions),
    serviceCidr: config.serviceCidr,
    nodePortRange: config.nodePortRange,
    log,
    tls: { certPem: pki.serving.certPem, keyPem: pki.serving.keyPem, caPem: pki.ca.certPem },
    serviceAccountTokens,
    authenticators: [
      clientCertificateAuthenticator(),
      bearerTokenAuthenticator([
        ...tokens,
        bootstrapTokenAuthenticator(lookup, systemClock),
        serviceAccountTokens.authenticator(),
      ]),
    ],
    admission: controllerAdmission(config.controllers, { lookup }),
    // pods/log, exec, attach, portforward and nodes/proxy are answered by the node's agent.
    streaming:
      config.streaming ??
      nodeProxy((name): Promise<KubeObject> => storedNode(apiServer, name), log, { kubeletClient }),
    ...(config.bookmarkIntervalMs ? { watch: { bookmarkIntervalMs: config.bookmarkIntervalMs } } : {}),
    ...(config.eventTtlMs !== undefined ? { eventTtlMs: config.eventTtlMs } : {}),
  });
  try {
    const address = await apiServer.listen(config.listen.host, config.listen.port);
    await apiServer.start();
    const url = `https://${clientHost(address.address)}:${address.port}`;
    const kubeconfigPath = join(config.dataDir, "admin.kubeconfig");
    await writeKubeconfig(kubeconfigPath, {
      server: url,
      caPem: pki.ca.certPem,
      credentials: admin,
      userName: ADMIN_CLIENT.commonName,
    });
    // Scheduler and controllers: ordinary API clients of this server, started once it listens.
    const controllers =
      config.controllers === false
        ? undefined
        : startControllerManager({
            url,
            tls: { caPem: pki.ca.certPem, ...controllerIdentity },
            clusterCidr: config.clusterCidr,
            log,
            // The CSR signer and the bootstrap signer (cluster-info) sign with the cluster CA.
            config: { ...config.controllers, certificates: { ca: pki.ca, serverUrl: url } },
          });
    log.info(
      {
        url,
        kubeconfig: kubeconfigPath,
        serviceCidr: config.serviceCidr,
        clusterCidr: config.clusterCidr,
        nodePortRange: config.nodePortRange,
      },
      `control plane ready: kubectl --kubeconfig ${kubeconfigPath} get nodes`,
    );
    return {
      url,
      kubeconfigPath,
      caCertPath: pki.caCertPath,
      pki,
      apiServer,
      async stop() {
        await controllers?.stop();
        await apiServer.close();
        await storage.close();
        log.info("control plane stopped");
      },
    };
  } catch (error) {
    await apiServer.close().catch(() => {});
    await storage.close().catch(() => {});
    throw error;
  }
}
