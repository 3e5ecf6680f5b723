// How `deckhand control-plane` runs the controller manager in its own process: an API client of the
// server's own URL, authenticated with the controller manager's client certificate and trusting the cluster
// CA, and the controllers on top; stop() stops them and closes the client.
import type { Logger } from "pino";
import { ApiClient } from "../../api/client/client.ts";
import type { ObjectLookup } from "../apiserver/authn/lookup.ts";
import type { AdmissionPlugin } from "../apiserver/pipeline/admission.ts";
import { type ControllerManager, type ControllerManagerOptions, startControllers } from "./index.ts";
import { defaultTolerationSeconds } from "./nodelifecycle/default-tolerations.ts";
import { serviceAccountAdmission } from "./serviceaccount-admission.ts";

/** The controller manager's settings in the control plane's configuration (everything but the wiring). */
export type ControllersConfig = Omit<ControllerManagerOptions, "client" | "log" | "clusterCidr"> & {
  /** upstream kube-apiserver --default-not-ready-toleration-seconds / --default-unreachable-toleration-seconds. */
  defaultTolerationSeconds?: { notReadySeconds?: number; unreachableSeconds?: number };
};

export function startControllerManager(options: {
  url: string;
  /** The cluster CA and the controller manager's client certificate (src/controlplane/pki.ts). */
  tls?: { caPem: string; certPem: string; keyPem: string };
  clusterCidr: string;
  log: Logger;
  config?: ControllersConfig;
}): ControllerManager {
  const client = new ApiClient(
    {
      server: options.url,
      insecureSkipTlsVerify: false,
      ...(options.tls
        ? {
            ca: Buffer.from(options.tls.caPem),
            clientCertificate: Buffer.from(options.tls.certPem),
            clientKey: Buffer.from(options.tls.keyPem),
          }
        : {}),
      namespace: "default",
      source: "the control plane itself",
    },
    { userAgent: "deckhand-controller-manager" },
  );
  const { defaultTolerationSeconds: _tolerations, ...config } = options.config ?? {};
  const manager = startControllers({
    ...config,
    client,
    log: options.log,
    clusterCidr: options.clusterCidr,
  });
  return {
    get leading() {
      return manager.leading;
    },
    stats: () => manager.stats(),
    async stop() {
      await manager.stop();
      client.close();
    },
  };
}

/**
 * Admission plugins that belong with the controllers: DefaultTolerationSeconds, whose tolerations decide
 * how long taint-based eviction leaves pods on a failed node, and ServiceAccount, which needs the
 * serviceaccount controller's default accounts (without that controller every pod would be refused).
 */
export function controllerAdmission(
  config: ControllersConfig | false | undefined,
  deps?: { lookup: ObjectLookup },
): AdmissionPlugin[] {
  const seconds = config === false ? undefined : config?.defaultTolerationSeconds;
  const plugins = [defaultTolerationSeconds(seconds)];
  const accounts = config !== false && (config?.controllers?.includes("serviceaccount") ?? true);
  if (accounts && deps) plugins.push(serviceAccountAdmission({ lookup: deps.lookup }));
  return plugins;
}
