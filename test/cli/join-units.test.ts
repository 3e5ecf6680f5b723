// The pure parts of joining and rotation: flag checks, cluster-info verification (token signature and CA
// pin), the files join writes, the rotation deadline and the serving certificate request.

import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  rotationDeadline,
  servingCertificateRequest,
  splitClientPem,
} from "../../src/agent/bootstrap/certificate-manager.ts";
import { verifyClusterInfo } from "../../src/agent/bootstrap/discovery.ts";
import { mergeAgentConfig, nodeFiles, renderNodeKubeconfig } from "../../src/agent/bootstrap/files.ts";
import { installCommand, validateJoinOptions } from "../../src/agent/bootstrap/join.ts";
import { detachedSignature } from "../../src/api/bootstrap-token.ts";
import { shortHumanDuration } from "../../src/cli/token.ts";
import { clusterInfoKubeconfig } from "../../src/controlplane/controllers/bootstrap-signer.ts";
import { caCertHash, createCertificateAuthority } from "../../src/pki/index.ts";

const TOKEN = { id: "abcdef", secret: "0123456789abcdef" };

describe("join flags", () => {
  it("names every bad flag", () => {
    expect(
      validateJoinOptions({
        server: "http://10.0.0.1:6443",
        token: "ABC",
        caHash: "sha256:xyz",
        nodeName: "Bad_Name",
      }),
    ).toEqual([
      "the API server URL must be https://, not http://",
      "--token must look like [a-z0-9]{6}.[a-z0-9]{16} (from `deckhand token create`)",
      '--discovery-token-ca-cert-hash "sha256:xyz" is not of the form sha256:<64 lower-case hex digits>',
      '--node-name "Bad_Name" is not a valid node name (lower-case DNS subdomain)',
    ]);
    expect(
      validateJoinOptions({
        server: "https://10.0.0.1:6443",
        token: "abcdef.0123456789abcdef",
        caHash: `sha256:${"a".repeat(64)}`,
        nodeName: "worker-1",
      }),
    ).toEqual([]);
  });
});

describe("installer hand-over", () => {
  it("writes units only with the installed copy, installs Deckhand from a checkout", () => {
    expect(installCommand(false, true)).toEqual([
      "/opt/deckhand/scripts/install.sh",
      "--units-only",
      "--agent",
    ]);
    const fromCheckout = installCommand(true, false);
    expect(fromCheckout[0]).toMatch(/\/scripts\/install\.sh$/);
    expect(fromCheckout.slice(1)).toEqual(["--agent", "--dry-run"]);
  });
});

describe("cluster-info verification", () => {
  it("pins the CA by hash and checks the token's signature", async () => {
    const ca = await createCertificateAuthority({ commonName: "kubernetes" });
    const other = await createCertificateAuthority({ commonName: "other" });
    const kubeconfig = clusterInfoKubeconfig("https://10.0.0.1:6443", ca.certPem);
    const data = { kubeconfig, "jws-kubeconfig-abcdef": detachedSignature(kubeconfig, TOKEN) };
    const hash = caCertHash(ca.certPem);
    expect(verifyClusterInfo(data, TOKEN, hash)).toEqual({
      caPem: ca.certPem,
      advertisedServer: "https://10.0.0.1:6443",
    });
    const wrong = caCertHash(other.certPem);
    expect(() => verifyClusterInfo(data, TOKEN, wrong)).toThrow(
      `the cluster CA's public key hash ${hash} does not match --discovery-token-ca-cert-hash ${wrong}`,
    );
    expect(() => verifyClusterInfo(data, { id: "abcdef", secret: "0000000000000000" }, hash)).toThrow(
      'not signed by token "abcdef"',
    );
    expect(() => verifyClusterInfo({ kubeconfig }, TOKEN, hash)).toThrow(
      'no JWS signed token in the cluster-info ConfigMap for token ID "abcdef"',
    );
    const swapped = clusterInfoKubeconfig("https://10.0.0.1:6443", other.certPem);
    expect(() =>
      verifyClusterInfo(
        { kubeconfig: swapped, "jws-kubeconfig-abcdef": data["jws-kubeconfig-abcdef"] },
        TOKEN,
        hash,
      ),
    ).toThrow("not signed by token");
  });
});

describe("files join writes", () => {
  it("points the kubeconfig at files and merges agent.yaml", () => {
    const files = nodeFiles("/etc/deckhand", "/var/lib/deckhand");
    const kubeconfig = parse(
      renderNodeKubeconfig({ server: "https://10.0.0.1:6443", nodeName: "w1", files }),
    );
    expect(kubeconfig.clusters[0].cluster).toEqual({
      server: "https://10.0.0.1:6443",
      "certificate-authority": "/etc/deckhand/pki/ca.crt",
    });
    expect(kubeconfig.users[0]).toEqual({
      name: "system:node:w1",
      user: {
        "client-certificate": "/var/lib/deckhand/pki/node-client-current.pem",
        "client-key": "/var/lib/deckhand/pki/node-client-current.pem",
      },
    });
    const merged = parse(
      mergeAgentConfig("maxPods: 50\nnodeName: old\n", { nodeName: "w1", rotateCertificates: true }),
    );
    expect(merged).toEqual({
      apiVersion: "kubelet.config.k8s.io/v1beta1",
      kind: "KubeletConfiguration",
      maxPods: 50,
      nodeName: "w1",
      rotateCertificates: true,
    });
  });
});

describe("certificate rotation", () => {
  it("renews at 70–90% of the lifetime", () => {
    expect(rotationDeadline(1000, 2000, 0)).toBe(1700);
    expect(rotationDeadline(1000, 2000, 0.999999)).toBeCloseTo(1900, 3);
  });

  it("splits the combined pem file", () => {
    const text =
      "-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\nBBB\n-----END PRIVATE KEY-----\n";
    expect(splitClientPem(text)).toEqual({
      certPem: "-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n",
      keyPem: "-----BEGIN PRIVATE KEY-----\nBBB\n-----END PRIVATE KEY-----\n",
    });
    expect(() => splitClientPem("nothing")).toThrow("CERTIFICATE and a PRIVATE KEY");
  });

  it("asks for a serving certificate for exactly the Node's addresses", () => {
    expect(
      servingCertificateRequest("w1", [
        { type: "InternalIP", address: "10.0.0.5" },
        { type: "Hostname", address: "w1" },
        { type: "ExternalIP", address: "" },
      ]),
    ).toEqual({
      commonName: "system:node:w1",
      organizations: ["system:nodes"],
      dnsNames: ["w1"],
      ipAddresses: ["10.0.0.5"],
      signerName: "kubernetes.io/kubelet-serving",
      usages: ["digital signature", "server auth"],
      namePrefix: "csr-",
    });
  });

  it("prints token TTLs like kubeadm", () => {
    expect(shortHumanDuration(23 * 3600_000 + 59 * 60_000)).toBe("23h");
    expect(shortHumanDuration(90_000)).toBe("1m");
    expect(shortHumanDuration(3 * 86_400_000)).toBe("3d");
  });
});
