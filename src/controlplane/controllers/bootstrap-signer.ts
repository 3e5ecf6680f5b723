// The bootstrap signer (upstream pkg/controller/bootstrap/bootstrapsigner.go, plus kubeadm's
// cluster-info phase): keeps the ConfigMap kube-public/cluster-info holding a kubeconfig with the API
// server's URL and the cluster CA, and one detached JWS per bootstrap token that may sign
// (jws-kubeconfig-<token-id>), so a joining node that knows a token can check what it downloaded
// anonymously. Signatures of deleted, expired or non-signing tokens are removed.

import { stringify } from "yaml";
import {
  BOOTSTRAP_TOKEN_SECRET_TYPE,
  detachedSignature,
  isExpired,
  jwsKey,
  readTokenSecret,
} from "../../api/bootstrap-token.ts";
import { isAlreadyExists, isNotFound } from "../../api/client/errors.ts";
import type { ConfigMap, Secret } from "../../api/schema/core/config-types.ts";
import type { CertificatesConfig } from "./csr-signing.ts";
import { type ControllerContext, RESOURCES } from "./machinery/context.ts";
import { ControllerLoop, type SyncResult } from "./machinery/controller.ts";
import type { Informer } from "./machinery/informer.ts";

const COMPONENT = "bootstrap-signer";
export const CLUSTER_INFO_NAMESPACE = "kube-public";
export const CLUSTER_INFO_NAME = "cluster-info";
export const CLUSTER_INFO_KUBECONFIG_KEY = "kubeconfig";
const KEY = `${CLUSTER_INFO_NAMESPACE}/${CLUSTER_INFO_NAME}`;

/** The kubeconfig cluster-info publishes, laid out as kubeadm writes it. */
export function clusterInfoKubeconfig(serverUrl: string, caCertPem: string): string {
  return stringify({
    apiVersion: "v1",
    clusters: [
      {
        cluster: {
          "certificate-authority-data": Buffer.from(caCertPem).toString("base64"),
          server: serverUrl,
        },
        name: "",
      },
    ],
    contexts: null,
    "current-context": "",
    kind: "Config",
    preferences: {},
    users: null,
  });
}

/** cluster-info's data for these token Secrets (pure). */
export function clusterInfoData(
  kubeconfig: string,
  secrets: readonly Secret[],
  now: number,
): Record<string, string> {
  const data: Record<string, string> = { [CLUSTER_INFO_KUBECONFIG_KEY]: kubeconfig };
  for (const secret of secrets) {
    if (secret.type !== BOOTSTRAP_TOKEN_SECRET_TYPE || secret.metadata?.deletionTimestamp) continue;
    const token = readTokenSecret(secret);
    if ("invalid" in token || !token.usages.includes("signing") || isExpired(token, now)) continue;
    data[jwsKey(token.id)] = detachedSignature(kubeconfig, token);
  }
  return data;
}

export class BootstrapSignerController {
  readonly loop: ControllerLoop;
  private readonly ctx: ControllerContext;
  private readonly secrets: Informer<Secret>;
  private readonly configMaps: Informer<ConfigMap>;
  private readonly kubeconfig: string;

  constructor(ctx: ControllerContext, config: CertificatesConfig & { serverUrl: string }) {
    this.ctx = ctx;
    this.kubeconfig = clusterInfoKubeconfig(config.serverUrl, config.ca.certPem);
    this.secrets = ctx.informers.get("kubeSystemSecrets");
    this.configMaps = ctx.informers.get("kubePublicConfigMaps");
    this.loop = new ControllerLoop({
      name: COMPONENT,
      log: ctx.log.child({ controller: COMPONENT }),
      clock: ctx.clock,
      workers: 1,
      sync: () => this.sync(),
    });
    const secretChanged = (secret: Secret) => {
      if (secret.type === BOOTSTRAP_TOKEN_SECRET_TYPE) this.loop.enqueue(KEY);
    };
    this.secrets.addHandler({
      add: secretChanged,
      update: (_o, s) => secretChanged(s),
      delete: secretChanged,
    });
    const mapChanged = (cm: ConfigMap) => {
      if (cm.metadata?.name === CLUSTER_INFO_NAME) this.loop.enqueue(KEY);
    };
    this.configMaps.addHandler({ add: mapChanged, update: (_o, cm) => mapChanged(cm), delete: mapChanged });
  }

  run(signal: AbortSignal): Promise<void> {
    this.loop.enqueue(KEY);
    return this.loop.run(signal);
  }

  private async sync(): Promise<SyncResult | undefined> {
    const now = this.ctx.clock.now();
    const data = clusterInfoData(this.kubeconfig, this.secrets.list(), now);
    const current = this.configMaps.get(KEY);
    const ref = { ...RESOURCES.kubePublicConfigMaps };
    if (!current) {
      try {
        await this.ctx.client.create(ref, {
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: { name: CLUSTER_INFO_NAME, namespace: CLUSTER_INFO_NAMESPACE },
          data,
        });
        this.ctx.log.info({ controller: COMPONENT }, "published kube-public/cluster-info");
      } catch (error) {
        // The namespace may not exist yet (the API server creates it at start-up); retry with backoff.
        if (!isAlreadyExists(error)) throw error;
      }
    } else if (JSON.stringify(current.data ?? {}) !== JSON.stringify(data)) {
      const next = structuredClone(current);
      next.data = data;
      try {
        await this.ctx.client.update({ ...ref, name: CLUSTER_INFO_NAME }, next);
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    }
    return this.nextExpiry(now);
  }

  /** Re-check when the next signing token expires, so its signature disappears with it. */
  private nextExpiry(now: number): SyncResult | undefined {
    let next: number | undefined;
    for (const secret of this.secrets.list()) {
      const token = secret.type === BOOTSTRAP_TOKEN_SECRET_TYPE ? readTokenSecret(secret) : undefined;
      if (!token || "invalid" in token || !token.expiration) continue;
      const at = Date.parse(token.expiration);
      if (at > now && (next === undefined || at < next)) next = at;
    }
    return next === undefined ? undefined : { requeueAfterMs: next - now + 1 };
  }
}
