// Registry credentials for an image from the pod's imagePullSecrets (kubernetes.io/dockerconfigjson and the
// legacy kubernetes.io/dockercfg), matched by registry host the way kubelet's credential keyring does.
import type { Pod } from "../api/schema/core/pod-types.ts";
import type { AuthConfig } from "../runtime/types.ts";

interface DockerAuthEntry {
  username?: string;
  password?: string;
  auth?: string;
  identitytoken?: string;
}

interface SecretLike {
  type?: string;
  data?: Record<string, string>;
}

/** The registry host of an image reference; Docker Hub for bare names. */
export function registryHost(image: string): string {
  const first = image.split("/")[0] ?? "";
  const hasRegistry =
    image.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost");
  return hasRegistry ? first : "docker.io";
}

function normalizeKey(key: string): string {
  return key
    .replace(/^https?:\/\//, "")
    .replace(/\/v[12]\/?$/, "")
    .replace(/\/$/, "")
    .replace(/^index\.docker\.io$/, "docker.io");
}

function entriesOf(secret: SecretLike): Record<string, DockerAuthEntry> {
  const decode = (key: string) => {
    const value = secret.data?.[key];
    return value === undefined ? undefined : JSON.parse(Buffer.from(value, "base64").toString("utf8"));
  };
  if (secret.type === "kubernetes.io/dockerconfigjson")
    return (decode(".dockerconfigjson")?.auths ?? {}) as Record<string, DockerAuthEntry>;
  if (secret.type === "kubernetes.io/dockercfg")
    return (decode(".dockercfg") ?? {}) as Record<string, DockerAuthEntry>;
  return {};
}

/** Every credential from the pod's pull secrets that applies to `image`'s registry (missing secrets are skipped, as upstream). */
export async function pullCredentialsFor(
  pod: Pod,
  image: string,
  getSecret: (namespace: string, name: string) => Promise<SecretLike | undefined>,
): Promise<AuthConfig[]> {
  const host = registryHost(image);
  const found: AuthConfig[] = [];
  for (const ref of pod.spec?.imagePullSecrets ?? []) {
    if (!ref.name) continue;
    const secret = await getSecret(pod.metadata?.namespace ?? "default", ref.name);
    if (!secret) continue;
    let entries: Record<string, DockerAuthEntry>;
    try {
      entries = entriesOf(secret);
    } catch {
      continue; // malformed secret data: upstream ignores it too
    }
    for (const [key, entry] of Object.entries(entries)) {
      if (normalizeKey(key) !== host) continue;
      let { username, password } = entry;
      if ((!username || !password) && entry.auth) {
        const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
        const colon = decoded.indexOf(":");
        username = decoded.slice(0, colon);
        password = decoded.slice(colon + 1);
      }
      found.push({
        username,
        password,
        serverAddress: host,
        ...(entry.identitytoken ? { identityToken: entry.identitytoken } : {}),
      });
    }
  }
  return found;
}
