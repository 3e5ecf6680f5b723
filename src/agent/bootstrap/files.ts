// Where a joined node keeps its credentials and configuration (kubeadm/kubelet layout, Deckhand names):
//
//   <config-dir>/pki/ca.crt                 the pinned cluster CA (0644)
//   <config-dir>/node.kubeconfig            the node's kubeconfig: server, CA file, client certificate file (0600)
//   <config-dir>/agent.yaml                 agent configuration (KubeletConfiguration-style, 0600)
//   <data-dir>/pki/node-client-current.pem  the client certificate and its key in one file (0600), rewritten
//                                           in place by certificate rotation, like kubelet-client-current.pem

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { writeCertFile, writeKeyFile } from "../../pki/index.ts";

export interface NodeFiles {
  caFile: string;
  kubeconfig: string;
  agentConfig: string;
  clientPem: string;
  staticPodPath: string;
}

export function nodeFiles(configDir: string, dataDir: string): NodeFiles {
  return {
    caFile: join(configDir, "pki", "ca.crt"),
    kubeconfig: join(configDir, "node.kubeconfig"),
    agentConfig: join(configDir, "agent.yaml"),
    clientPem: join(dataDir, "pki", "node-client-current.pem"),
    staticPodPath: join(configDir, "manifests"),
  };
}

/** The node kubeconfig: file references, so that rotation only ever rewrites the certificate file. */
export function renderNodeKubeconfig(options: {
  server: string;
  nodeName: string;
  files: NodeFiles;
}): string {
  const user = `system:node:${options.nodeName}`;
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: "deckhand",
        cluster: { server: options.server, "certificate-authority": options.files.caFile },
      },
    ],
    users: [
      {
        name: user,
        user: { "client-certificate": options.files.clientPem, "client-key": options.files.clientPem },
      },
    ],
    contexts: [{ name: "deckhand", context: { cluster: "deckhand", user } }],
    "current-context": "deckhand",
    preferences: {},
  });
}

/**
 * The agent configuration join writes: what is already in the file (scripts/install.sh writes a default
 * one) with the cluster settings of this join on top.
 */
export function mergeAgentConfig(existing: string | undefined, settings: Record<string, unknown>): string {
  const current = (existing ? parse(existing) : undefined) as Record<string, unknown> | null | undefined;
  const base = current && typeof current === "object" && !Array.isArray(current) ? current : {};
  return stringify({
    apiVersion: "kubelet.config.k8s.io/v1beta1",
    kind: "KubeletConfiguration",
    ...base,
    ...settings,
  });
}

export async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/** Writes the client certificate and key into one 0600 file (atomic rename). */
export function writeClientPem(path: string, certPem: string, keyPem: string): Promise<void> {
  return writeKeyFile(path, `${certPem.trimEnd()}\n${keyPem.trimEnd()}\n`);
}

export { writeCertFile, writeKeyFile };
