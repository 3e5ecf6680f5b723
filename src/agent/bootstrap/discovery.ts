// Token-based discovery, as `kubeadm join --discovery-token-ca-cert-hash` does it: kube-public/cluster-info
// is read anonymously with TLS verification off — for this one request only, since the CA is not known
// yet — then trusted only if (1) the bootstrap token signed its kubeconfig (jws-kubeconfig-<token-id>)
// and (2) the CA in it has the public key hash the operator pinned. Every later request verifies TLS
// against that CA.

import { request } from "node:https";
import { type BootstrapToken, jwsKey, verifyDetachedSignature } from "../../api/bootstrap-token.ts";
import { caCertHash } from "../../pki/index.ts";
import { parseYamlStrict } from "../../util/yaml.ts";

export class DiscoveryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DiscoveryError";
  }
}

const CLUSTER_INFO_PATH = "/api/v1/namespaces/kube-public/configmaps/cluster-info";
const CA_HASH = /^sha256:[0-9a-f]{64}$/;
const MAX_BODY = 1024 * 1024;

export function validateCaHash(hash: string): string | undefined {
  return CA_HASH.test(hash)
    ? undefined
    : `${JSON.stringify(hash)} is not of the form sha256:<64 lower-case hex digits>`;
}

export interface ClusterInfo {
  /** The CA bundle (PEM) from cluster-info, now pinned. */
  caPem: string;
  /** The server URL cluster-info advertises. */
  advertisedServer: string;
}

/** GET cluster-info without verifying the server (the CA is what is being fetched). */
export function fetchClusterInfoUnverified(
  server: string,
  timeoutMs = 15_000,
): Promise<Record<string, string>> {
  const url = new URL(CLUSTER_INFO_PATH, `${server}/`);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: "GET",
        rejectUnauthorized: false,
        headers: { Accept: "application/json" },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_BODY) req.destroy(new Error("the answer is larger than 1 MiB"));
          else chunks.push(chunk);
        });
        res.on("end", () => {
          const body = Buffer.concat(chunks).toString("utf8");
          if (res.statusCode !== 200) {
            reject(
              new DiscoveryError(
                `GET ${url.href} answered ${res.statusCode}: ${body.slice(0, 300)} (anonymous users must be able to read kube-public/cluster-info; is the bootstrap signer running?)`,
              ),
            );
            return;
          }
          try {
            resolve(
              ((JSON.parse(body) as { data?: Record<string, string> }).data ?? {}) as Record<string, string>,
            );
          } catch {
            reject(new DiscoveryError(`GET ${url.href}: the answer is not a ConfigMap`));
          }
        });
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", (error) =>
      reject(new DiscoveryError(`cannot read cluster-info from ${server}: ${error.message}`)),
    );
    req.end();
  });
}

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** Checks cluster-info's data against the token and the pinned CA hash; returns the pinned CA. */
export function verifyClusterInfo(
  data: Record<string, string>,
  token: BootstrapToken,
  pinnedHash: string,
): ClusterInfo {
  const kubeconfig = data.kubeconfig;
  if (!kubeconfig) throw new DiscoveryError("the cluster-info ConfigMap has no kubeconfig");
  const signature = data[jwsKey(token.id)];
  if (!signature) {
    throw new DiscoveryError(
      `there is no JWS signed token in the cluster-info ConfigMap for token ID "${token.id}": the token is unknown, expired or not allowed to sign (usage-bootstrap-signing)`,
    );
  }
  if (!verifyDetachedSignature(kubeconfig, signature, token)) {
    throw new DiscoveryError(
      `the cluster-info kubeconfig is not signed by token "${token.id}": wrong token secret, or the ConfigMap was tampered with`,
    );
  }
  let doc: { clusters?: Array<{ cluster?: Record<string, string> }> } | null;
  try {
    doc = parseYamlStrict(kubeconfig) as typeof doc;
  } catch (error) {
    throw new DiscoveryError(`the cluster-info kubeconfig is not YAML: ${(error as Error).message}`);
  }
  const cluster = doc?.clusters?.[0]?.cluster ?? {};
  const caData = cluster["certificate-authority-data"];
  if (!caData) throw new DiscoveryError("the cluster-info kubeconfig has no certificate-authority-data");
  const caPem = Buffer.from(caData, "base64").toString("utf8");
  const certs = caPem.match(CERT_BLOCK) ?? [];
  if (certs.length === 0) throw new DiscoveryError("the cluster-info CA data holds no certificate");
  const hashes = certs.map((pem) => caCertHash(pem));
  if (!hashes.includes(pinnedHash)) {
    throw new DiscoveryError(
      `the cluster CA's public key hash ${hashes.join(", ")} does not match --discovery-token-ca-cert-hash ${pinnedHash}: refusing to trust this server (check the hash printed by \`deckhand token create\`)`,
    );
  }
  return { caPem, advertisedServer: cluster.server ?? "" };
}
