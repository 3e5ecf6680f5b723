// The admin kubeconfig the control plane writes into its data directory: one cluster, one context, and a
// user with no credentials (the server treats anonymous requests as admin until real authentication
// arrives with TLS).

import { chmod, rename, writeFile } from "node:fs/promises";
import { stringify } from "yaml";

export interface AdminKubeconfig {
  /** e.g. http://127.0.0.1:6443 */
  server: string;
  clusterName?: string;
  namespace?: string;
}

export function renderAdminKubeconfig(options: AdminKubeconfig): string {
  const cluster = options.clusterName ?? "deckhand";
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: cluster, cluster: { server: options.server } }],
    users: [{ name: "admin", user: {} }],
    contexts: [
      { name: cluster, context: { cluster, user: "admin", namespace: options.namespace ?? "default" } },
    ],
    "current-context": cluster,
    preferences: {},
  });
}

/** Writes the kubeconfig atomically (temp file + rename), readable by its owner only. */
export async function writeAdminKubeconfig(path: string, options: AdminKubeconfig): Promise<void> {
  const temp = `${path}.tmp-${process.pid}`;
  await writeFile(temp, renderAdminKubeconfig(options), { mode: 0o600 });
  await chmod(temp, 0o600);
  await rename(temp, path);
}
