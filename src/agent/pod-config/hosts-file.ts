// The pod's managed /etc/hosts (kubelet's ensureHostsFile): localhost entries, the pod IPs with hostname (and
// FQDN with a subdomain), hostAliases; for host-network pods a copy of the node's file plus hostAliases.
import { chmod, readFile, rename, rm, writeFile } from "node:fs/promises";
import type { Pod } from "../../api/schema/core/pod-types.ts";
import { randomName } from "./atomic-writer.ts";
import type { PodHostname } from "./hostname.ts";

const MANAGED_HEADER = "# Kubernetes-managed hosts file.\n";
const MANAGED_HEADER_HOST_NETWORK = "# Kubernetes-managed hosts file (host network).\n";
export const NODE_HOSTS_FILE = "/etc/hosts";

function aliasEntries(pod: Pod): string {
  const aliases = pod.spec?.hostAliases ?? [];
  if (aliases.length === 0) return "";
  let out = "\n# Entries added by HostAliases.\n";
  for (const alias of aliases) out += `${alias.ip}\t${(alias.hostnames ?? []).join("\t")}\n`;
  return out;
}

/** The managed file for a pod on the pod network. */
export function managedHostsContent(pod: Pod, podIPs: readonly string[], names: PodHostname): string {
  let out = MANAGED_HEADER;
  out += "127.0.0.1\tlocalhost\n";
  out += "::1\tlocalhost ip6-localhost ip6-loopback\n";
  out += "fe00::0\tip6-localnet\n";
  out += "fe00::0\tip6-mcastprefix\n";
  out += "fe00::1\tip6-allnodes\n";
  out += "fe00::2\tip6-allrouters\n";
  for (const ip of podIPs) {
    out += names.domain
      ? `${ip}\t${names.hostname}.${names.domain}\t${names.hostname}\n`
      : `${ip}\t${names.hostname}\n`;
  }
  return out + aliasEntries(pod);
}

/** The file for a host-network pod: the node's own hosts file with a header and the pod's hostAliases. */
export function hostNetworkHostsContent(pod: Pod, nodeHosts: string): string {
  return MANAGED_HEADER_HOST_NETWORK + nodeHosts + aliasEntries(pod);
}

/** Writes `path` (0644) through a temporary file and a rename, and only when the content changed. */
export async function ensureHostsFile(
  path: string,
  pod: Pod,
  podIPs: readonly string[],
  names: PodHostname,
  nodeHostsFile = NODE_HOSTS_FILE,
): Promise<void> {
  const content = pod.spec?.hostNetwork
    ? hostNetworkHostsContent(pod, await readFile(nodeHostsFile, "utf8"))
    : managedHostsContent(pod, podIPs, names);
  try {
    if ((await readFile(path, "utf8")) === content) return;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  const temp = `${path}.${randomName()}.tmp`;
  try {
    await writeFile(temp, content, { mode: 0o644 });
    await chmod(temp, 0o644);
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}
