// Kubeconfigs the control plane writes: one cluster (its URL and CA), one user (a client certificate or a
// token), one context. The admin kubeconfig in the data directory authenticates as kubernetes-admin
// (O=system:masters), as kubeadm's admin.conf.

import { chmod, rename, writeFile } from "node:fs/promises";
import { stringify } from "yaml";

export type KubeconfigCredentials = { certPem: string; keyPem: string } | { token: string };

export interface KubeconfigOptions {
  /** e.g. https://127.0.0.1:6443 */
  server: string;
  /** PEM of the CA that signed the server's certificate. */
  caPem: string;
  credentials: KubeconfigCredentials;
  userName?: string;
  clusterName?: string;
  namespace?: string;
}

const base64 = (text: string) => Buffer.from(text).toString("base64");

export function renderKubeconfig(options: KubeconfigOptions): string {
  const cluster = options.clusterName ?? "deckhand";
  const user = options.userName ?? "admin";
  const credentials =
    "token" in options.credentials
      ? { token: options.credentials.token }
      : {
          "client-certificate-data": base64(options.credentials.certPem),
          "client-key-data": base64(options.credentials.keyPem),
        };
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: cluster,
        cluster: { server: options.server, "certificate-authority-data": base64(options.caPem) },
      },
    ],
    users: [{ name: user, user: credentials }],
    contexts: [{ name: cluster, context: { cluster, user, namespace: options.namespace ?? "default" } }],
    "current-context": cluster,
    preferences: {},
  });
}

/** Writes the kubeconfig atomically (temp file + rename), readable by its owner only: it holds a private key. */
export async function writeKubeconfig(path: string, options: KubeconfigOptions): Promise<void> {
  const temp = `${path}.tmp-${process.pid}`;
  await writeFile(temp, renderKubeconfig(options), { mode: 0o600 });
  await chmod(temp, 0o600);
  await rename(temp, path);
}
