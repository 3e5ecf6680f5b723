// Authentication of `deckhand control-plane` over its HTTPS listener, each way in and each way out:
// client certificates (cluster CA, another CA, expired, server-only), bootstrap tokens (valid, expired,
// wrong secret, not for authentication, unknown, malformed), the static token file, service-account
// tokens from TokenRequest (valid, expired, tampered, wrong audience, owner or bound pod gone), anonymous
// requests (401 with a Status, health and version open), and kubectl verifying the server with the CA.

import { createPublicKey, type JsonWebKey, verify } from "node:crypto";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { ServiceAccountTokens } from "../../../src/controlplane/apiserver/authn/serviceaccount.ts";
import {
  type CertificateAuthority,
  createCertificateAuthority,
  generateKey,
  issueCertificate,
  issueKeyAndCertificate,
} from "../../../src/pki/index.ts";
import { systemClock } from "../../../src/util/clock.ts";
import { startControlPlane, type TestControlPlane } from "../../support/controlplane.ts";
import { run } from "../../support/run.ts";
import { waitFor } from "../../support/wait.ts";

const MASTER_TOKEN = "deckhand-authn-test-master-token-0123456789";
const VIEWER_TOKEN = "deckhand-authn-test-viewer-token-0123456789";

let cp: TestControlPlane;
let ca: CertificateAuthority;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "deckhand-authn-"));
  const tokenFile = join(dir, "tokens.csv");
  writeFileSync(
    tokenFile,
    `${MASTER_TOKEN},root-user,uid-1,"system:masters,ops"\n${VIEWER_TOKEN},jane,uid-2\n`,
    { mode: 0o600 },
  );
  cp = await startControlPlane({
    controllers: false,
    args: ["--token-auth-file", tokenFile, "--tls-san", "api.deckhand.example,192.0.2.7"],
  });
  ca = {
    certPem: readFileSync(join(cp.dataDir, "pki", "ca.crt"), "utf8"),
    keyPem: readFileSync(join(cp.dataDir, "pki", "ca.key"), "utf8"),
  };
});

afterAll(async () => {
  await cp?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function status(
  res: Response,
): Promise<{ kind: string; code: number; reason: string; message: string }> {
  return (await res.json()) as { kind: string; code: number; reason: string; message: string };
}

/** The log line appears (the server writes its log asynchronously). */
async function logged(text: string): Promise<void> {
  await waitFor(() => cp.logs().includes(text), { what: `the control plane to log ${JSON.stringify(text)}` });
}

/** Deletions reach the authenticators through the watch cache a moment after the DELETE answers. */
async function eventuallyUnauthorized(token: string): Promise<void> {
  await waitFor(async () => (await cp.fetchAs({ token }, "/api/v1/namespaces")).status === 401, {
    what: "the token to be refused",
  });
  await expectUnauthorized(await cp.fetchAs({ token }, "/api/v1/namespaces"));
}

async function expectUnauthorized(res: Response): Promise<void> {
  expect(res.status).toBe(401);
  expect(await status(res)).toMatchObject({
    kind: "Status",
    code: 401,
    reason: "Unauthorized",
    message: "Unauthorized",
  });
}

/** Forbidden for a non-admin: the message names the user the server authenticated. */
async function expectForbiddenFor(res: Response, user: string): Promise<void> {
  expect(res.status).toBe(403);
  const body = await status(res);
  expect(body).toMatchObject({ kind: "Status", code: 403, reason: "Forbidden" });
  expect(body.message).toContain(`User "${user}"`);
}

const SECRETS_IN_KUBE_SYSTEM = "/api/v1/namespaces/kube-system/secrets";

describe("the PKI the control plane created", () => {
  it("keeps keys and the admin kubeconfig private and reuses the CA across restarts", async () => {
    for (const key of ["ca.key", "apiserver.key", "sa.key", "admin.key", "controller-manager.key"]) {
      expect(statSync(join(cp.dataDir, "pki", key)).mode & 0o777, key).toBe(0o600);
    }
    expect(statSync(cp.kubeconfigPath).mode & 0o777).toBe(0o600);
    const kubeconfig = readFileSync(cp.kubeconfigPath, "utf8");
    expect(kubeconfig).toContain("certificate-authority-data:");
    expect(kubeconfig).toContain("client-certificate-data:");
    expect(kubeconfig).not.toContain("insecure-skip-tls-verify");
    expect(cp.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);

    const serving = readFileSync(join(cp.dataDir, "pki", "apiserver.crt"), "utf8");
    const text = (await run("openssl", ["x509", "-noout", "-text"], { input: serving })).stdout;
    for (const name of [
      "DNS:localhost",
      "DNS:kubernetes.default.svc.cluster.local",
      "IP Address:127.0.0.1",
      "IP Address:10.96.0.1",
      "DNS:api.deckhand.example",
      "IP Address:192.0.2.7",
    ]) {
      expect(text).toContain(name);
    }

    await cp.restart();
    expect(readFileSync(join(cp.dataDir, "pki", "ca.crt"), "utf8")).toBe(ca.certPem);
    expect(readFileSync(join(cp.dataDir, "pki", "apiserver.crt"), "utf8")).toBe(serving);
    expect((await cp.fetch("/api/v1/namespaces")).status).toBe(200);
  });
});

describe("client certificates", () => {
  it("authenticate CN as the user and O as groups; system:masters may do anything", async () => {
    expect((await cp.fetch("/api/v1/namespaces")).status).toBe(200);
    const jane = await issueKeyAndCertificate(ca, {
      commonName: "jane",
      organizations: ["devs"],
      usage: "client",
    });
    await expectForbiddenFor(await cp.fetchAs(jane, SECRETS_IN_KUBE_SYSTEM), "jane");
  });

  it("from another CA, expired or not for client auth are refused with 401", async () => {
    const other = await createCertificateAuthority({ commonName: "not-the-cluster-ca" });
    const foreign = await issueKeyAndCertificate(other, {
      commonName: "kubernetes-admin",
      organizations: ["system:masters"],
      usage: "client",
    });
    await expectUnauthorized(await cp.fetchAs(foreign, "/api/v1/namespaces"));

    const key = generateKey();
    const expired = await issueCertificate(ca, {
      publicKeyPem: key.publicKeyPem,
      commonName: "kubernetes-admin",
      organizations: ["system:masters"],
      usage: "client",
      validityDays: 1,
      now: new Date(Date.now() - 3 * 24 * 3600 * 1000),
    });
    await expectUnauthorized(
      await cp.fetchAs({ certPem: expired, keyPem: key.privateKeyPem }, "/api/v1/namespaces"),
    );

    const serverOnly = await issueKeyAndCertificate(ca, {
      commonName: "kubernetes-admin",
      organizations: ["system:masters"],
      usage: "server",
    });
    await expectUnauthorized(await cp.fetchAs(serverOnly, "/api/v1/namespaces"));
  });
});

describe("anonymous requests", () => {
  it("get 401 with a Status, except health, version and cluster-info", async () => {
    await expectUnauthorized(await cp.fetchAs("anonymous", "/api/v1/namespaces"));
    await expectUnauthorized(
      await cp.fetchAs("anonymous", "/api/v1/namespaces/default/pods/x", { method: "DELETE" }),
    );
    await expectUnauthorized(await cp.fetchAs("anonymous", "/apis"));
    for (const path of ["/healthz", "/livez", "/readyz", "/readyz?verbose", "/version"]) {
      expect((await cp.fetchAs("anonymous", path)).status, path).toBe(200);
    }
    // kubeadm-style discovery: anybody may read kube-public/cluster-info (404 until the bootstrap signer writes it).
    expect(
      (await cp.fetchAs("anonymous", "/api/v1/namespaces/kube-public/configmaps/cluster-info")).status,
    ).not.toBe(401);
    await expectUnauthorized(await cp.fetchAs("anonymous", "/api/v1/namespaces/kube-public/configmaps"));
  });

  it("over plain HTTP get no answer, and the server keeps serving", async () => {
    const plain = cp.url.replace("https://", "http://");
    await expect(fetch(`${plain}/healthz`, { signal: AbortSignal.timeout(10_000) })).rejects.toThrow();
    expect((await cp.fetch("/readyz")).status).toBe(200);
  });

  it("with a non-bearer Authorization header are anonymous", async () => {
    const res = await cp.fetchAs("anonymous", "/api/v1/namespaces", {
      headers: { Authorization: `Basic ${Buffer.from("admin:admin").toString("base64")}` },
    });
    await expectUnauthorized(res);
  });
});

describe("bootstrap tokens", () => {
  async function createToken(id: string, secret: string, data: Record<string, string>): Promise<void> {
    const res = await cp.fetch("/api/v1/namespaces/kube-system/secrets", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: `bootstrap-token-${id}` },
        type: "bootstrap.kubernetes.io/token",
        stringData: { "token-id": id, "token-secret": secret, ...data },
      }),
    });
    expect(res.status, await res.clone().text()).toBe(201);
  }

  const future = new Date(Date.now() + 3600_000).toISOString().replace(/\.\d+Z$/, "Z");
  const past = new Date(Date.now() - 3600_000).toISOString().replace(/\.\d+Z$/, "Z");

  it("authenticate as system:bootstrap:<id> while valid", async () => {
    await createToken("abc123", "0123456789abcdef", {
      expiration: future,
      "usage-bootstrap-authentication": "true",
      "auth-extra-groups": "system:bootstrappers:deckhand:test",
    });
    await expectForbiddenFor(
      await cp.fetchAs({ token: "abc123.0123456789abcdef" }, SECRETS_IN_KUBE_SYSTEM),
      "system:bootstrap:abc123",
    );
  });

  it("are refused with 401 when expired, wrong, not for authentication, unknown or malformed", async () => {
    await createToken("exp123", "0123456789abcdef", {
      expiration: past,
      "usage-bootstrap-authentication": "true",
    });
    await createToken("nou123", "0123456789abcdef", { "usage-bootstrap-signing": "true" });
    for (const token of [
      "exp123.0123456789abcdef",
      "abc123.0123456789abcdee",
      "nou123.0123456789abcdef",
      "zzz999.0123456789abcdef",
      "abc123.0123456789ABCDEF",
      "not-a-token",
      "abc123.0123456789abcdef.extra",
    ]) {
      await expectUnauthorized(await cp.fetchAs({ token }, "/api/v1/namespaces"));
    }
    // The reason is logged for the operator, the secret half never.
    await logged("bootstrap token exp123: expired");
    expect(cp.logs()).not.toContain("0123456789abcdef");
  });
});

describe("the static token file", () => {
  it("authenticates its users with their groups and refuses unknown tokens", async () => {
    expect((await cp.fetchAs({ token: MASTER_TOKEN }, "/api/v1/namespaces")).status).toBe(200);
    await expectForbiddenFor(await cp.fetchAs({ token: VIEWER_TOKEN }, SECRETS_IN_KUBE_SYSTEM), "jane");
    await expectUnauthorized(await cp.fetchAs({ token: `${VIEWER_TOKEN}x` }, "/api/v1/namespaces"));
    expect(cp.logs()).not.toContain(VIEWER_TOKEN);
  });
});

describe("kubectl", () => {
  it("works with the admin kubeconfig, verifying the server with the CA", async () => {
    const { stdout } = await cp.kubectl(["get", "namespaces", "-o", "name"]);
    expect(stdout).toContain("namespace/kube-system");
  });

  it("with a token from the token file", async () => {
    const { stdout } = await cp.kubectl([
      "--token",
      MASTER_TOKEN,
      "get",
      "namespace",
      "default",
      "-o",
      "name",
    ]);
    expect(stdout.trim()).toBe("namespace/default");
  });

  it("refuses a server whose certificate another CA signed", async () => {
    const other = await createCertificateAuthority({ commonName: "impostor-ca" });
    const kubeconfig = join(dir, "wrong-ca.kubeconfig");
    const config = parse(readFileSync(cp.kubeconfigPath, "utf8"));
    config.clusters[0].cluster["certificate-authority-data"] = Buffer.from(other.certPem).toString("base64");
    writeFileSync(kubeconfig, stringify(config), { mode: 0o600 });
    const result = await cp.kubectl(["--kubeconfig", kubeconfig, "get", "namespaces"], {
      allowFailure: true,
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/x509|certificate/);
  });
});

describe("service account tokens", () => {
  const ns = "default";
  const post = (path: string, body: unknown) =>
    cp.fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });

  async function createAccount(name: string): Promise<void> {
    const res = await post(`/api/v1/namespaces/${ns}/serviceaccounts`, { metadata: { name } });
    expect(res.status, await res.clone().text()).toBe(201);
  }

  async function requestToken(account: string, spec: Record<string, unknown> = {}): Promise<string> {
    const res = await post(`/api/v1/namespaces/${ns}/serviceaccounts/${account}/token`, {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenRequest",
      spec,
    });
    const body = (await res.json()) as { status: { token: string; expirationTimestamp: string } };
    expect(res.status, JSON.stringify(body)).toBe(201);
    return body.status.token;
  }

  it("from TokenRequest authenticate the service account until it is deleted", async () => {
    await createAccount("authn-sa");
    const res = await post(`/api/v1/namespaces/${ns}/serviceaccounts/authn-sa/token`, { spec: {} });
    expect(res.status).toBe(201);
    const request = (await res.json()) as {
      kind: string;
      spec: { audiences: string[]; expirationSeconds: number };
      status: { token: string; expirationTimestamp: string };
    };
    expect(request).toMatchObject({
      kind: "TokenRequest",
      spec: { audiences: ["https://kubernetes.default.svc.cluster.local"], expirationSeconds: 3600 },
    });
    const left = Date.parse(request.status.expirationTimestamp) - Date.now();
    expect(left).toBeGreaterThan(3500_000);
    expect(left).toBeLessThanOrEqual(3600_000);
    const token = request.status.token;
    await expectForbiddenFor(
      await cp.fetchAs({ token }, SECRETS_IN_KUBE_SYSTEM),
      `system:serviceaccount:${ns}:authn-sa`,
    );

    const [header, payload, signature] = token.split(".") as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString()) as Record<string, unknown>;
    const forged = Buffer.from(
      JSON.stringify({ ...claims, sub: `system:serviceaccount:${ns}:admin` }),
    ).toString("base64url");
    await expectUnauthorized(
      await cp.fetchAs({ token: `${header}.${forged}.${signature}` }, "/api/v1/namespaces"),
    );

    expect(
      (await cp.fetch(`/api/v1/namespaces/${ns}/serviceaccounts/authn-sa`, { method: "DELETE" })).status,
    ).toBe(200);
    await eventuallyUnauthorized(token);
    await logged(`ServiceAccount ${ns}/authn-sa no longer exists`);
    expect(cp.logs()).not.toContain(signature);
  });

  it("are refused when expired, for another audience, or when their bound pod is gone", async () => {
    await createAccount("authn-sa-2");
    const account = (await (
      await cp.fetch(`/api/v1/namespaces/${ns}/serviceaccounts/authn-sa-2`)
    ).json()) as {
      metadata: { uid: string };
    };
    const other = await requestToken("authn-sa-2", { audiences: ["https://vault.example"] });
    await expectUnauthorized(await cp.fetchAs({ token: other }, "/api/v1/namespaces"));

    const past = new ServiceAccountTokens({
      privateKeyPem: readFileSync(join(cp.dataDir, "pki", "sa.key"), "utf8"),
      publicKeyPem: readFileSync(join(cp.dataDir, "pki", "sa.pub"), "utf8"),
      clock: { ...systemClock, now: () => Date.now() - 2 * 3600_000 },
      lookup: async () => undefined,
    });
    const expired = past.issue({
      namespace: ns,
      serviceAccount: { name: "authn-sa-2", uid: account.metadata.uid },
      expirationSeconds: 3600,
    }).token;
    await expectUnauthorized(await cp.fetchAs({ token: expired }, "/api/v1/namespaces"));
    await logged("service account token: expired");

    const pod = await post(`/api/v1/namespaces/${ns}/pods`, {
      metadata: { name: "authn-bound" },
      spec: { serviceAccountName: "authn-sa-2", containers: [{ name: "c", image: "busybox" }] },
    });
    expect(pod.status).toBe(201);
    const podUid = ((await pod.json()) as { metadata: { uid: string } }).metadata.uid;
    const bound = await requestToken("authn-sa-2", {
      boundObjectRef: { kind: "Pod", apiVersion: "v1", name: "authn-bound", uid: podUid },
    });
    await expectForbiddenFor(
      await cp.fetchAs({ token: bound }, SECRETS_IN_KUBE_SYSTEM),
      `system:serviceaccount:${ns}:authn-sa-2`,
    );
    const deleted = await cp.fetch(`/api/v1/namespaces/${ns}/pods/authn-bound?gracePeriodSeconds=0`, {
      method: "DELETE",
    });
    expect(deleted.status).toBe(200);
    await eventuallyUnauthorized(bound);
  });

  it("are asked for with valid parameters only", async () => {
    await createAccount("authn-sa-3");
    const short = await post(`/api/v1/namespaces/${ns}/serviceaccounts/authn-sa-3/token`, {
      spec: { expirationSeconds: 60 },
    });
    expect(short.status).toBe(422);
    expect((await status(short)).message).toContain("may not specify a duration less than 10 minutes");
    const badKind = await post(`/api/v1/namespaces/${ns}/serviceaccounts/authn-sa-3/token`, {
      spec: { boundObjectRef: { kind: "ConfigMap", name: "x" } },
    });
    expect(badKind.status).toBe(422);
    const missing = await post(`/api/v1/namespaces/${ns}/serviceaccounts/nobody/token`, { spec: {} });
    expect(missing.status).toBe(404);
  });

  it("can be verified by anyone with the issuer's discovery documents", async () => {
    await createAccount("authn-sa-oidc");
    const token = await requestToken("authn-sa-oidc");
    const config = (await (await cp.fetchAs({ token }, "/.well-known/openid-configuration")).json()) as {
      issuer: string;
      jwks_uri: string;
    };
    expect(config).toMatchObject({
      issuer: "https://kubernetes.default.svc.cluster.local",
      jwks_uri: "https://kubernetes.default.svc.cluster.local/openid/v1/jwks",
    });
    const res = await cp.fetchAs({ token }, "/openid/v1/jwks");
    expect(res.headers.get("content-type")).toBe("application/jwk-set+json");
    const { keys } = (await res.json()) as { keys: Array<Record<string, string>> };
    const [header, payload, signature] = token.split(".") as [string, string, string];
    const kid = (JSON.parse(Buffer.from(header, "base64url").toString()) as { kid: string }).kid;
    const jwk = keys.find((k) => k.kid === kid);
    expect(jwk).toMatchObject({ kty: "EC", crv: "P-256", alg: "ES256", use: "sig" });
    const key = createPublicKey({ key: jwk as JsonWebKey, format: "jwk" });
    const valid = verify(
      "sha256",
      Buffer.from(`${header}.${payload}`),
      { key, dsaEncoding: "ieee-p1363" },
      Buffer.from(signature, "base64url"),
    );
    expect(valid).toBe(true);
    await expectUnauthorized(await cp.fetchAs("anonymous", "/openid/v1/jwks"));
  });

  it("kubectl create token issues one that authenticates", async () => {
    await createAccount("authn-sa-kubectl");
    const { stdout } = await cp.kubectl([
      "create",
      "token",
      "authn-sa-kubectl",
      "-n",
      ns,
      "--duration",
      "20m",
    ]);
    await expectForbiddenFor(
      await cp.fetchAs({ token: stdout.trim() }, SECRETS_IN_KUBE_SYSTEM),
      `system:serviceaccount:${ns}:authn-sa-kubectl`,
    );
  });
});
