// The root CA certificate publisher (upstream pkg/controller/certificates/rootcacertpublisher): every active
// namespace has a ConfigMap kube-root-ca.crt whose ca.crt is the cluster CA, so that pods can verify the API
// server (the kube-api-access projected volume reads it); it is recreated if deleted and reset if edited.
import { isAlreadyExists, isNotFound } from "../../api/client/errors.ts";
import type { ConfigMap } from "../../api/schema/core/config-types.ts";
import type { Namespace } from "../../api/schema/core/namespace-types.ts";
import { type ControllerContext, RESOURCES } from "./machinery/context.ts";
import { ControllerLoop, type SyncResult } from "./machinery/controller.ts";
import type { Informer } from "./machinery/informer.ts";
import { keyFor, keyOf } from "./machinery/keys.ts";

const COMPONENT = "root-ca-cert-publisher";
export const ROOT_CA_CONFIGMAP_NAME = "kube-root-ca.crt";
export const ROOT_CA_KEY = "ca.crt";
const DESCRIPTION_ANNOTATION = "kubernetes.io/description";
const DESCRIPTION =
  "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.";

export class RootCaPublisher {
  readonly loop: ControllerLoop;
  private readonly ctx: ControllerContext;
  private readonly namespaces: Informer<Namespace>;
  private readonly configMaps: Informer<ConfigMap>;
  private readonly caPem: string;

  constructor(ctx: ControllerContext, caPem: string) {
    this.ctx = ctx;
    this.caPem = caPem;
    this.namespaces = ctx.informers.get("namespaces");
    this.configMaps = ctx.informers.get("configMaps");
    this.loop = new ControllerLoop({
      name: COMPONENT,
      log: ctx.log.child({ controller: COMPONENT }),
      clock: ctx.clock,
      sync: (key) => this.sync(key),
    });
    this.namespaces.addHandler({
      add: (ns) => this.loop.enqueue(keyOf(ns)),
      update: (_o, ns) => this.loop.enqueue(keyOf(ns)),
    });
    const changed = (cm: ConfigMap) => {
      if (cm.metadata?.name === ROOT_CA_CONFIGMAP_NAME) this.loop.enqueue(cm.metadata.namespace ?? "");
    };
    this.configMaps.addHandler({ update: (_o, cm) => changed(cm), delete: changed });
  }

  run(signal: AbortSignal): Promise<void> {
    return this.loop.run(signal);
  }

  private async sync(namespace: string): Promise<SyncResult | undefined> {
    const ns = this.namespaces.get(namespace);
    if (!ns || ns.metadata?.deletionTimestamp || ns.status?.phase === "Terminating") return undefined;
    const ref = { ...RESOURCES.configMaps, namespace };
    const current = this.configMaps.get(keyFor(namespace, ROOT_CA_CONFIGMAP_NAME));
    try {
      if (!current) {
        await this.ctx.client.create(ref, {
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: {
            name: ROOT_CA_CONFIGMAP_NAME,
            namespace,
            annotations: { [DESCRIPTION_ANNOTATION]: DESCRIPTION },
          },
          data: { [ROOT_CA_KEY]: this.caPem },
        });
        return undefined;
      }
      const data = current.data ?? {};
      const upToDate =
        Object.keys(data).length === 1 &&
        data[ROOT_CA_KEY] === this.caPem &&
        current.metadata?.annotations?.[DESCRIPTION_ANNOTATION] === DESCRIPTION;
      if (upToDate) return undefined;
      const next = structuredClone(current);
      next.data = { [ROOT_CA_KEY]: this.caPem };
      delete next.binaryData;
      next.metadata = {
        ...next.metadata,
        annotations: { ...next.metadata?.annotations, [DESCRIPTION_ANNOTATION]: DESCRIPTION },
      };
      await this.ctx.client.update({ ...ref, name: ROOT_CA_CONFIGMAP_NAME }, next);
    } catch (error) {
      // The cache lags (AlreadyExists, NotFound), or the namespace is being terminated (Forbidden): the
      // informer's next event brings the namespace back here if it still needs the map.
      if (
        isAlreadyExists(error) ||
        isNotFound(error) ||
        (error as { reason?: string }).reason === "Forbidden"
      )
        return undefined;
      throw error;
    }
    return undefined;
  }
}
