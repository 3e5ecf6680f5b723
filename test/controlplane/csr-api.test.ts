// certificates.k8s.io/v1 CertificateSigningRequests through the API server and real kubectl: the
// requester is stamped from the authenticated user, the spec never changes, `kubectl certificate
// approve/deny` go through /approval (protobuf bodies), /status cannot approve, a certificate needs an
// approval and is never replaced. The API server runs alone so no controller touches the objects.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCertificateAuthority, createCsr, generateKey, issueCertificate } from "../../src/pki/index.ts";
import { startControlPlane, type TestControlPlane } from "../support/controlplane.ts";
import { uniqueName } from "../support/names.ts";

let cp: TestControlPlane;

beforeAll(async () => {
  cp = await startControlPlane({ controllers: false });
}, 90_000);

afterAll(async () => {
  await cp?.stop();
});

const PATH = "/apis/certificates.k8s.io/v1/certificatesigningrequests";

async function csrManifest(name: string, signerName = "example.com/test-signer") {
  const key = generateKey();
  const pem = await createCsr({
    keyPem: key.privateKeyPem,
    commonName: `user-${name}`,
    organizations: ["team"],
  });
  return {
    apiVersion: "certificates.k8s.io/v1",
    kind: "CertificateSigningRequest",
    metadata: { name },
    spec: {
      request: Buffer.from(pem).toString("base64"),
      signerName,
      usages: ["digital signature", "client auth"],
      username: "forged-user",
      groups: ["system:masters-forged"],
    },
  };
}

// biome-ignore lint/suspicious/noExplicitAny: answers are read field by field
type Json = Record<string, any>;

async function send(method: string, path: string, body?: unknown) {
  const res = await cp.fetch(path, {
    method,
    headers: { "Content-Type": "application/json" },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as Json };
}

describe("CertificateSigningRequest API", () => {
  it("stamps the requester, keeps the spec and is listed by kubectl get csr", async () => {
    const name = uniqueName("csr-get");
    const created = await send("POST", PATH, await csrManifest(name));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.spec.username).not.toBe("forged-user");
    expect(created.body.spec.groups).not.toContain("system:masters-forged");
    expect(created.body.spec.groups).toContain("system:masters");
    expect(created.body.status).toEqual({});

    const changed = structuredClone(created.body);
    changed.spec.signerName = "example.com/other";
    changed.status = { certificate: "bm9wZQ==" };
    const updated = await send("PUT", `${PATH}/${name}`, changed);
    expect(updated.status).toBe(200);
    expect(updated.body.spec.signerName).toBe("example.com/test-signer");
    expect(updated.body.status).toEqual({});

    const get = await cp.kubectl(["get", "csr", name]);
    expect(get.stdout).toMatch(/NAME\s+AGE\s+SIGNERNAME\s+REQUESTOR\s+REQUESTEDDURATION\s+CONDITION/);
    expect(get.stdout).toMatch(
      new RegExp(`${name}\\s+\\S+\\s+example.com/test-signer\\s+\\S+\\s+<none>\\s+Pending`),
    );
  });

  it("rejects a request that is not a CSR, an unknown usage and a bad signer name", async () => {
    const bad = await csrManifest(uniqueName("csr-bad"));
    bad.spec.request = Buffer.from("not a pem").toString("base64");
    bad.spec.usages = ["client auth", "flying"];
    bad.spec.signerName = "no-slash";
    const res = await send("POST", PATH, bad);
    expect(res.status).toBe(422);
    const fields = (res.body.details.causes as Array<{ field: string }>).map((c) => c.field).sort();
    expect(fields).toEqual(["spec.request", "spec.signerName", "spec.usages[1]"]);
  });

  it("kubectl certificate approve and deny go through /approval", async () => {
    const approved = uniqueName("csr-approve");
    const denied = uniqueName("csr-deny");
    expect((await send("POST", PATH, await csrManifest(approved))).status).toBe(201);
    expect((await send("POST", PATH, await csrManifest(denied))).status).toBe(201);
    const approve = await cp.kubectl(["certificate", "approve", approved]);
    expect(approve.stdout).toContain(`certificatesigningrequest.certificates.k8s.io/${approved} approved`);
    const deny = await cp.kubectl(["certificate", "deny", denied]);
    expect(deny.stdout).toContain(`certificatesigningrequest.certificates.k8s.io/${denied} denied`);

    const a = await send("GET", `${PATH}/${approved}`);
    const condition = a.body.status.conditions[0];
    expect(condition).toMatchObject({ type: "Approved", status: "True", reason: "KubectlApprove" });
    expect(condition.lastUpdateTime).toBeTruthy();
    expect(condition.lastTransitionTime).toBeTruthy();
    const get = await cp.kubectl(["get", "csr", approved, denied]);
    expect(get.stdout).toMatch(new RegExp(`${approved}.*Approved`));
    expect(get.stdout).toMatch(new RegExp(`${denied}.*Denied`));

    // Approval and denial exclude each other and are never taken back.
    const both = structuredClone(a.body);
    both.status.conditions.push({ type: "Denied", status: "True", reason: "Flip" });
    expect((await send("PUT", `${PATH}/${approved}/approval`, both)).status).toBe(422);
    const removed = structuredClone(a.body);
    removed.status.conditions = [];
    expect((await send("PUT", `${PATH}/${approved}/approval`, removed)).status).toBe(422);
  });

  it("/status cannot approve; a certificate needs an approval and is never replaced", async () => {
    const name = uniqueName("csr-status");
    const created = await send("POST", PATH, await csrManifest(name));
    const selfApprove = structuredClone(created.body);
    selfApprove.status = { conditions: [{ type: "Approved", status: "True", reason: "Me" }] };
    const res = await send("PUT", `${PATH}/${name}/status`, selfApprove);
    expect(res.status).toBe(200);
    expect(res.body.status.conditions ?? []).toEqual([]);

    const ca = await createCertificateAuthority({ commonName: "test-ca" });
    const certPem = await issueCertificate(ca, {
      publicKeyPem: generateKey().publicKeyPem,
      commonName: "someone",
      usage: "client",
    });
    const certificate = Buffer.from(certPem).toString("base64");
    const early = structuredClone(res.body);
    early.status = { certificate };
    const refused = await send("PUT", `${PATH}/${name}/status`, early);
    expect(refused.status).toBe(422);
    expect(refused.body.message).toContain("certificate may only be set when the request is Approved");

    expect((await cp.kubectl(["certificate", "approve", name])).code).toBe(0);
    const approved = (await send("GET", `${PATH}/${name}`)).body;
    const failed = structuredClone(approved);
    failed.status.conditions.push({ type: "Failed", status: "True", reason: "SignerError", message: "no" });
    failed.status.certificate = certificate;
    const issued = await send("PUT", `${PATH}/${name}/status`, failed);
    expect(issued.status, JSON.stringify(issued.body)).toBe(200);
    expect((await cp.kubectl(["get", "csr", name])).stdout).toMatch(/Approved,Failed,Issued/);
    const replaced = structuredClone(issued.body);
    replaced.status.certificate = Buffer.from(
      await issueCertificate(ca, {
        publicKeyPem: generateKey().publicKeyPem,
        commonName: "other",
        usage: "client",
      }),
    ).toString("base64");
    const again = await send("PUT", `${PATH}/${name}/status`, replaced);
    expect(again.status).toBe(422);
    expect(again.body.message).toContain("updates may not modify existing certificate content");
  });
});
