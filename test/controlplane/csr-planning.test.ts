// The pure parts of the certificate controllers: which requests the approver takes up and with what
// permission, the node certificate rules, the signer's validity window and cluster-info's contents.

import { describe, expect, it } from "vitest";
import { detachedSignature, tokenSecret } from "../../src/api/bootstrap-token.ts";
import type { CertificateSigningRequest } from "../../src/api/schema/certificates/csr.ts";
import {
  clusterInfoData,
  clusterInfoKubeconfig,
} from "../../src/controlplane/controllers/bootstrap-signer.ts";
import { groupsAllow, planApproval } from "../../src/controlplane/controllers/csr-approving.ts";
import { csrDeletionTime } from "../../src/controlplane/controllers/csr-cleaner.ts";
import { kubeletClientProblem, sanOutsideNode } from "../../src/controlplane/controllers/csr-kubelet.ts";
import { signingWindow } from "../../src/controlplane/controllers/csr-signing.ts";
import type { ParsedCsr } from "../../src/pki/index.ts";

const parsed = (over: Partial<ParsedCsr> = {}): ParsedCsr => ({
  commonName: "system:node:n1",
  organizations: ["system:nodes"],
  dnsNames: [],
  ipAddresses: [],
  emailAddresses: [],
  uris: [],
  publicKeyPem: "",
  publicKeyAlgorithm: "ECDSA",
  ...over,
});

const csr = (spec: Partial<NonNullable<CertificateSigningRequest["spec"]>>): CertificateSigningRequest => ({
  metadata: { name: "x" },
  spec: {
    request: "",
    signerName: "kubernetes.io/kube-apiserver-client-kubelet",
    usages: ["digital signature", "client auth"],
    ...spec,
  },
});

describe("CSR approver planning", () => {
  it("takes up node client requests: nodeclient for bootstrappers, selfnodeclient for renewals", () => {
    expect(planApproval(csr({ username: "system:bootstrap:abcdef" }), parsed())).toMatchObject({
      kind: "check",
      permission: "nodeclient",
    });
    expect(planApproval(csr({ username: "system:node:n1" }), parsed())).toMatchObject({
      kind: "check",
      permission: "selfnodeclient",
    });
  });

  it("leaves requests that are not node client certificates", () => {
    const cases: Array<[Partial<ParsedCsr>, string[], RegExp]> = [
      [{ organizations: ["system:masters"] }, ["digital signature", "client auth"], /organization/],
      [{ commonName: "admin" }, ["digital signature", "client auth"], /common name/],
      [{ dnsNames: ["n1"] }, ["digital signature", "client auth"], /alternative names/],
      [{}, ["digital signature", "client auth", "server auth"], /usages/],
    ];
    for (const [subject, usages, why] of cases) {
      const plan = planApproval(csr({ username: "system:bootstrap:abcdef", usages }), parsed(subject));
      expect(plan.kind).toBe("skip");
      expect((plan as { why: string }).why).toMatch(why);
    }
    expect(planApproval(csr({ signerName: "example.com/x" }), parsed()).kind).toBe("skip");
  });

  it("takes up serving requests only from the node itself", () => {
    const serving = {
      signerName: "kubernetes.io/kubelet-serving",
      usages: ["digital signature", "server auth"],
    };
    const sans = parsed({ ipAddresses: ["10.0.0.5"], dnsNames: ["n1"] });
    expect(
      planApproval(csr({ ...serving, username: "system:node:n1", groups: ["system:nodes"] }), sans),
    ).toMatchObject({
      kind: "serving",
      node: "n1",
    });
    expect(
      planApproval(csr({ ...serving, username: "system:node:n2", groups: ["system:nodes"] }), sans).kind,
    ).toBe("skip");
    expect(
      planApproval(csr({ ...serving, username: "system:node:n1", groups: ["system:nodes"] }), parsed()).kind,
    ).toBe("skip");
  });

  it("checks SANs against the Node's addresses", () => {
    const node = {
      status: {
        addresses: [
          { type: "InternalIP", address: "10.0.0.5" },
          { type: "Hostname", address: "n1" },
        ],
      },
    };
    expect(sanOutsideNode(parsed({ ipAddresses: ["10.0.0.5"], dnsNames: ["n1"] }), node)).toBeUndefined();
    expect(sanOutsideNode(parsed({ ipAddresses: ["10.0.0.6"] }), node)).toBe("10.0.0.6");
    expect(sanOutsideNode(parsed({ dnsNames: ["10.0.0.5"] }), node)).toBe("10.0.0.5");
  });

  it("falls back to the bootstrap policy's groups", () => {
    expect(groupsAllow("nodeclient", ["system:bootstrappers", "system:authenticated"])).toBe(true);
    expect(groupsAllow("nodeclient", ["system:nodes"])).toBe(false);
    expect(groupsAllow("selfnodeclient", ["system:nodes"])).toBe(true);
    expect(groupsAllow("selfnodeclient", ["system:bootstrappers"])).toBe(false);
    expect(groupsAllow("nodeclient", ["system:masters"])).toBe(true);
  });

  it("accepts RSA-style usages with key encipherment", () => {
    expect(
      kubeletClientProblem(parsed(), ["key encipherment", "digital signature", "client auth"]),
    ).toBeUndefined();
  });
});

describe("signing window", () => {
  it("backdates five minutes, at most 1% of a short lifetime, and never outlives the CA", () => {
    const now = 1_000_000_000_000;
    const year = 365 * 24 * 3600_000;
    expect(signingWindow(now, year, now + 10 * year)).toEqual({
      notBefore: now - 300_000,
      notAfter: now + year,
    });
    expect(signingWindow(now, 30_000, now + year)).toEqual({ notBefore: now - 300, notAfter: now + 30_000 });
    expect(signingWindow(now, year, now + 1000).notAfter).toBe(now + 1000);
  });
});

describe("cluster-info", () => {
  it("publishes the kubeconfig and one signature per live signing token", () => {
    const kubeconfig = clusterInfoKubeconfig(
      "https://10.0.0.1:6443",
      "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    );
    expect(kubeconfig).toContain("server: https://10.0.0.1:6443");
    expect(kubeconfig).toContain("certificate-authority-data: ");
    const now = Date.parse("2030-01-01T00:00:00Z");
    const secret = (id: string, usages: Array<"authentication" | "signing">, expiration?: string) => {
      const s = tokenSecret({
        id,
        secret: "0123456789abcdef",
        usages,
        extraGroups: [],
        ...(expiration ? { expiration } : {}),
      });
      return {
        metadata: s.metadata,
        type: s.type,
        data: Object.fromEntries(
          Object.entries(s.stringData ?? {}).map(([k, v]) => [k, Buffer.from(v).toString("base64")]),
        ),
      };
    };
    const data = clusterInfoData(
      kubeconfig,
      [
        secret("aaaaaa", ["authentication", "signing"]),
        secret("bbbbbb", ["authentication"]),
        secret("cccccc", ["signing"], "2029-12-31T00:00:00Z"),
        secret("dddddd", ["signing"], "2030-01-02T00:00:00Z"),
      ],
      now,
    );
    expect(Object.keys(data).sort()).toEqual([
      "jws-kubeconfig-aaaaaa",
      "jws-kubeconfig-dddddd",
      "kubeconfig",
    ]);
    expect(data["jws-kubeconfig-aaaaaa"]).toBe(
      detachedSignature(kubeconfig, { id: "aaaaaa", secret: "0123456789abcdef" }),
    );
  });
});

describe("CSR cleaner", () => {
  const created = "2030-01-01T00:00:00Z";
  const t = Date.parse(created);
  const withStatus = (status: CertificateSigningRequest["status"]): CertificateSigningRequest => ({
    metadata: { name: "x", creationTimestamp: created },
    spec: { request: "", signerName: "example.com/x" },
    status,
  });
  it("deletes pending requests after 24 h, denied and failed ones 1 h after the condition", () => {
    expect(csrDeletionTime(withStatus({}))).toBe(t + 24 * 3600_000);
    const later = "2030-01-01T02:00:00Z";
    expect(
      csrDeletionTime(
        withStatus({ conditions: [{ type: "Denied", status: "True", lastUpdateTime: later }] }),
      ),
    ).toBe(Date.parse(later) + 3600_000);
    expect(
      csrDeletionTime(
        withStatus({
          conditions: [
            { type: "Approved", status: "True", lastUpdateTime: created },
            { type: "Failed", status: "True", lastUpdateTime: later },
          ],
        }),
      ),
    ).toBe(Date.parse(later) + 3600_000);
    // Approved, not issued yet: waits for the signer.
    expect(
      csrDeletionTime(
        withStatus({ conditions: [{ type: "Approved", status: "True", lastUpdateTime: created }] }),
      ),
    ).toBe(undefined);
  });
});
