// The certificate controllers against a real control plane: requests that do not qualify for automatic
// approval stay pending (the approver says why) until `kubectl certificate approve`; the signer then issues
// from the cluster CA with the requested SANs and usages, honours spec.expirationSeconds, and marks an
// approved request that its signer cannot accept as Failed (SignerValidationFailure).

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { certificateInfo, createCsr, generateKey, isIssuedBy } from "../../src/pki/index.ts";
import { startControlPlane, type TestControlPlane } from "../support/controlplane.ts";
import { uniqueName } from "../support/names.ts";
import { waitFor } from "../support/wait.ts";

let cp: TestControlPlane;

beforeAll(async () => {
  cp = await startControlPlane({ controllers: ["csrapproving", "csrsigning"] });
}, 90_000);

afterAll(async () => {
  await cp?.stop();
});

const PATH = "/apis/certificates.k8s.io/v1/certificatesigningrequests";

interface Csr {
  metadata: { name: string };
  spec: { username: string };
  status: {
    certificate?: string;
    conditions?: Array<{ type: string; status: string; reason?: string; message?: string }>;
  };
}

async function submit(
  name: string,
  subject: { commonName: string; organizations: string[]; dnsNames?: string[]; ipAddresses?: string[] },
  spec: { signerName: string; usages: string[]; expirationSeconds?: number },
): Promise<void> {
  const key = generateKey();
  const pem = await createCsr({ keyPem: key.privateKeyPem, ...subject });
  const res = await cp.fetch(PATH, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      apiVersion: "certificates.k8s.io/v1",
      kind: "CertificateSigningRequest",
      metadata: { name },
      spec: { request: Buffer.from(pem).toString("base64"), ...spec },
    }),
  });
  expect(res.status, await res.clone().text()).toBe(201);
}

async function get(name: string): Promise<Csr> {
  return (await (await cp.fetch(`${PATH}/${name}`)).json()) as Csr;
}

function waitForLog(csr: string, text: string): Promise<unknown> {
  return waitFor(
    () =>
      cp
        .logs()
        .split("\n")
        .some((line) => line.includes(`"csr":"${csr}"`) && line.includes(text)),
    { what: `the controller log about ${csr}: ${text}`, timeoutMs: 30_000, intervalMs: 200 },
  );
}

describe("CSR approval and signing", () => {
  it("leaves a serving request by someone other than the node pending until kubectl certificate approve", async () => {
    const name = uniqueName("csr-serving");
    const node = uniqueName("node");
    await submit(
      name,
      {
        commonName: `system:node:${node}`,
        organizations: ["system:nodes"],
        dnsNames: [node],
        ipAddresses: ["10.9.8.7"],
      },
      { signerName: "kubernetes.io/kubelet-serving", usages: ["digital signature", "server auth"] },
    );
    await waitForLog(name, "someone other than the node itself needs manual approval");
    expect((await get(name)).status.conditions ?? []).toEqual([]);

    const approve = await cp.kubectl(["certificate", "approve", name]);
    expect(approve.stdout).toContain("approved");
    const issued = await waitFor(async () => (await get(name)).status.certificate, {
      what: `a certificate for ${name}`,
      timeoutMs: 30_000,
      intervalMs: 200,
    });
    const pem = Buffer.from(issued, "base64").toString();
    expect(isIssuedBy(pem, cp.caPem)).toBe(true);
    const info = certificateInfo(pem);
    expect(info).toMatchObject({
      commonName: `system:node:${node}`,
      organizations: ["system:nodes"],
      dnsNames: [node],
      ipAddresses: ["10.9.8.7"],
      isCa: false,
    });
    // --cluster-signing-duration's default: one year.
    const days = (info.notAfter.getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(364);
    expect(days).toBeLessThan(366);
    expect((await cp.kubectl(["get", "csr", name])).stdout).toMatch(/Approved,Issued/);
  });

  it("issues a client certificate for an admin's node request at once, for spec.expirationSeconds", async () => {
    const name = uniqueName("csr-client");
    const node = uniqueName("node");
    await submit(
      name,
      { commonName: `system:node:${node}`, organizations: ["system:nodes"] },
      {
        signerName: "kubernetes.io/kube-apiserver-client-kubelet",
        usages: ["digital signature", "client auth"],
        expirationSeconds: 600,
      },
    );
    const csr = await waitFor(
      async () => {
        const current = await get(name);
        return current.status.certificate ? current : undefined;
      },
      { what: `${name} approved and issued`, timeoutMs: 30_000, intervalMs: 200 },
    );
    expect(csr.status.conditions?.[0]).toMatchObject({ type: "Approved", reason: "AutoApproved" });
    const info = certificateInfo(Buffer.from(csr.status.certificate as string, "base64").toString());
    const lifetime = info.notAfter.getTime() - info.notBefore.getTime();
    // Ten minutes, backdated by 1% of that (a short lifetime is backdated less than five minutes).
    expect(lifetime).toBe(606_000);
  });

  it("marks an approved request its signer cannot accept as Failed", async () => {
    const name = uniqueName("csr-bad-client");
    await submit(
      name,
      { commonName: "not-a-node", organizations: ["system:nodes"] },
      {
        signerName: "kubernetes.io/kube-apiserver-client-kubelet",
        usages: ["digital signature", "client auth"],
      },
    );
    await waitForLog(name, "left for manual approval");
    expect((await cp.kubectl(["certificate", "approve", name])).code).toBe(0);
    const failed = await waitFor(
      async () => (await get(name)).status.conditions?.find((c) => c.type === "Failed"),
      { what: `${name} to be marked Failed`, timeoutMs: 30_000, intervalMs: 200 },
    );
    expect(failed).toMatchObject({ status: "True", reason: "SignerValidationFailure" });
    expect(failed.message).toContain('subject common name must be "system:node:<node name>"');
    expect((await get(name)).status.certificate).toBeUndefined();
    expect((await cp.kubectl(["get", "csr", name])).stdout).toMatch(/Approved,Failed/);
  });

  it("never issues a denied request", async () => {
    const name = uniqueName("csr-denied");
    const node = uniqueName("node");
    await submit(
      name,
      { commonName: `system:node:${node}`, organizations: ["system:nodes"], ipAddresses: ["10.9.8.6"] },
      { signerName: "kubernetes.io/kubelet-serving", usages: ["digital signature", "server auth"] },
    );
    await waitForLog(name, "needs manual approval");
    expect((await cp.kubectl(["certificate", "deny", name])).code).toBe(0);
    const csr = await get(name);
    expect(csr.status.conditions?.map((c) => c.type)).toEqual(["Denied"]);
    expect(csr.status.certificate).toBeUndefined();
  });
});
