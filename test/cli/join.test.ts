// Joining a node end to end against a real control plane: `deckhand token create`, `deckhand join` into
// temporary directories (the systemd part left out with --no-service; --dry-run changes nothing), then the
// agent started from the written configuration registers a Ready node. Refusals: a wrong CA hash (both
// hashes named), an unknown token, an expired token. The node's client certificate lives 30 s here, so the
// agent renews it (selfnodeclient) while the test watches. The node API answers 401 to anonymous callers,
// 403 to a node's own certificate, and kubectl logs/exec still work through the API server.

import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { splitClientPem } from "../../src/agent/bootstrap/certificate-manager.ts";
import { caCertHash, certificateInfo } from "../../src/pki/index.ts";
import { requireRuntime, startAgent, type TestAgent } from "../support/agent.ts";
import { startControlPlane, type TestControlPlane } from "../support/controlplane.ts";
import { testEnv } from "../support/env.ts";
import { uniqueName } from "../support/names.ts";
import { tlsFetch } from "../support/tls-fetch.ts";
import { waitFor } from "../support/wait.ts";

const CLI = join(import.meta.dirname, "..", "..", "src", "cli", "main.ts");

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

function deckhand(args: string[], timeoutMs = 120_000): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: timeoutMs }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

let cp: TestControlPlane;
let agent: TestAgent | undefined;
const dirs: string[] = [];

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

beforeAll(async () => {
  requireRuntime("docker");
  // csrcleaner would delete each request as soon as its 30 s certificate expires; the test reads them.
  cp = await startControlPlane({
    controllers: ["*", "-csrcleaner"],
    args: ["--cluster-signing-duration", "30s"],
  });
}, 90_000);

afterAll(async () => {
  await agent?.dispose();
  await cp?.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
}, 60_000);

async function createToken(extra: string[] = []): Promise<{ token: string; command: string[] }> {
  const created = await deckhand(["token", "create", "--kubeconfig", cp.kubeconfigPath, ...extra]);
  expect(created.code, created.stderr).toBe(0);
  const [token, command] = created.stdout.trim().split("\n");
  expect(token).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);
  return { token: token as string, command: (command as string).split(" ") };
}

function flag(command: string[], name: string): string {
  return command[command.indexOf(name) + 1] as string;
}

describe("deckhand token and join", () => {
  let token: string;
  let caHash: string;
  let server: string;

  it("token create stores kubeadm's Secret and prints the join command with the CA pin", async () => {
    const created = await createToken(["--description", "join test"]);
    token = created.token;
    expect(created.command.slice(0, 2)).toEqual(["deckhand", "join"]);
    server = created.command[2] as string;
    expect(server).toBe(cp.url);
    expect(flag(created.command, "--token")).toBe(token);
    caHash = flag(created.command, "--discovery-token-ca-cert-hash");
    expect(caHash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(caHash).toBe(caCertHash(cp.caPem));

    const id = token.split(".")[0] as string;
    const secret = JSON.parse(
      (await cp.kubectl(["get", "secret", "-n", "kube-system", `bootstrap-token-${id}`, "-o", "json"]))
        .stdout,
    ) as { type: string; data: Record<string, string> };
    expect(secret.type).toBe("bootstrap.kubernetes.io/token");
    const data = Object.fromEntries(
      Object.entries(secret.data).map(([k, v]) => [k, Buffer.from(v, "base64").toString()]),
    );
    expect(data).toMatchObject({
      "token-id": id,
      "token-secret": token.split(".")[1],
      "usage-bootstrap-authentication": "true",
      "usage-bootstrap-signing": "true",
      "auth-extra-groups": "system:bootstrappers:deckhand:default-node-token",
      description: "join test",
    });
    expect(Date.parse(data.expiration as string) - Date.now()).toBeGreaterThan(23 * 3600_000);

    const list = await deckhand(["token", "list", "--kubeconfig", cp.kubeconfigPath]);
    expect(list.stdout).toMatch(new RegExp(`${token.replace(".", "\\.")}\\s+23h\\s`));
  }, 180_000);

  it("token create refuses bad flags; token delete removes a token", async () => {
    const badTtl = await deckhand(["token", "create", "--kubeconfig", cp.kubeconfigPath, "--ttl", "soon"]);
    expect(badTtl.code).toBe(2);
    expect(badTtl.stderr).toContain('--ttl "soon"');
    const badGroup = await deckhand([
      "token",
      "create",
      "--kubeconfig",
      cp.kubeconfigPath,
      "--groups",
      "system:masters",
    ]);
    expect(badGroup.code).toBe(2);
    expect(badGroup.stderr).toContain('must start with "system:bootstrappers:"');
    const spare = await createToken();
    const id = spare.token.split(".")[0] as string;
    const deleted = await deckhand(["token", "delete", "--kubeconfig", cp.kubeconfigPath, spare.token]);
    expect(deleted.stdout).toContain(`bootstrap token "${id}" deleted`);
    const again = await deckhand(["token", "delete", "--kubeconfig", cp.kubeconfigPath, id]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`bootstrap token "${id}" not found`);
  }, 180_000);

  it("refuses a CA hash that does not match, naming both hashes", async () => {
    const wrong = `sha256:${"0".repeat(64)}`;
    const configDir = tempDir("deckhand-join-cfg-");
    const result = await deckhand([
      "join",
      server,
      "--token",
      token,
      "--discovery-token-ca-cert-hash",
      wrong,
      "--config-dir",
      configDir,
      "--data-dir",
      tempDir("deckhand-join-data-"),
      "--no-service",
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(caHash);
    expect(result.stderr).toContain(wrong);
    expect(existsSync(join(configDir, "node.kubeconfig"))).toBe(false);
  }, 180_000);

  it("refuses unknown and expired tokens", async () => {
    const unknown = await deckhand([
      "join",
      server,
      "--token",
      "zzzzzz.0123456789abcdef",
      "--discovery-token-ca-cert-hash",
      caHash,
      "--dry-run",
    ]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain(
      'no JWS signed token in the cluster-info ConfigMap for token ID "zzzzzz"',
    );

    const short = await createToken(["--ttl", "2s"]);
    const shortId = short.token.split(".")[0] as string;
    // The token cleaner deletes the Secret once it expires, and its cluster-info signature goes with it.
    await waitFor(
      async () => {
        const res = await cp
          .kubectl(["get", "secret", "-n", "kube-system", `bootstrap-token-${shortId}`])
          .catch((error: Error) => error);
        return res instanceof Error && res.message.includes("NotFound");
      },
      {
        what: `bootstrap-token-${shortId} to be deleted after it expired`,
        timeoutMs: 30_000,
        intervalMs: 250,
      },
    );
    const expired = await deckhand([
      "join",
      server,
      "--token",
      short.token,
      "--discovery-token-ca-cert-hash",
      caHash,
      "--dry-run",
    ]);
    expect(expired.code).toBe(1);
    expect(expired.stderr).toContain(
      `no JWS signed token in the cluster-info ConfigMap for token ID "${shortId}"`,
    );
    const asToken = await cp.fetchAs({ token: short.token }, "/api/v1/namespaces/default/pods");
    expect(asToken.status).toBe(401);
  }, 180_000);

  it("--dry-run checks the token and the CA and changes nothing", async () => {
    const configDir = join(tempDir("deckhand-join-dry-"), "etc");
    const dataDir = join(tempDir("deckhand-join-dry-"), "var");
    const before = (await cp.kubectl(["get", "csr", "-o", "name"])).stdout;
    const result = await deckhand([
      "join",
      server,
      "--token",
      token,
      "--discovery-token-ca-cert-hash",
      caHash,
      "--config-dir",
      configDir,
      "--data-dir",
      dataDir,
      "--node-name",
      "dry-node",
      "--dry-run",
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("CA pinned");
    expect(result.stdout).toContain(`would write ${join(configDir, "node.kubeconfig")}`);
    expect(result.stdout).toMatch(/would run: .*install\.sh (--units-only )?--agent --dry-run/);
    expect(existsSync(configDir)).toBe(false);
    expect(existsSync(dataDir)).toBe(false);
    expect((await cp.kubectl(["get", "csr", "-o", "name"])).stdout).toBe(before);
  }, 180_000);

  describe("a joined node", () => {
    const nodeName = uniqueName("dh-joined");
    let configDir: string;
    let dataDir: string;

    beforeAll(async () => {
      configDir = join(tempDir("deckhand-join-"), "etc");
      dataDir = join(tempDir("deckhand-join-"), "var");
      const result = await deckhand([
        "join",
        server,
        "--token",
        token,
        "--discovery-token-ca-cert-hash",
        caHash,
        "--node-name",
        nodeName,
        "--runtime",
        "docker",
        "--config-dir",
        configDir,
        "--data-dir",
        dataDir,
        "--no-service",
      ]);
      expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
      expect(result.stdout).toContain("[tls-bootstrap] certificate issued");
    }, 120_000);

    it("wrote the CA, a 0600 client certificate for system:node:<name>, the kubeconfig and agent.yaml", () => {
      const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);
      const pem = join(dataDir, "pki", "node-client-current.pem");
      expect(mode(pem)).toBe("600");
      expect(mode(join(configDir, "node.kubeconfig"))).toBe("600");
      expect(mode(join(configDir, "agent.yaml"))).toBe("600");
      expect(readFileSync(join(configDir, "pki", "ca.crt"), "utf8")).toBe(cp.caPem);
      const info = certificateInfo(splitClientPem(readFileSync(pem, "utf8")).certPem);
      expect(info).toMatchObject({ commonName: `system:node:${nodeName}`, organizations: ["system:nodes"] });
      const config = parse(readFileSync(join(configDir, "agent.yaml"), "utf8"));
      expect(config).toMatchObject({
        nodeName,
        kubeconfig: join(configDir, "node.kubeconfig"),
        runtime: "docker",
        rotateCertificates: true,
        serverTLSBootstrap: true,
        authentication: { x509: { clientCAFile: join(configDir, "pki", "ca.crt") } },
      });
    });

    it("the bootstrap CSR was auto-approved for the token's user", async () => {
      const csrs = JSON.parse((await cp.kubectl(["get", "csr", "-o", "json"])).stdout) as {
        items: Array<{
          spec: { username: string; groups: string[]; signerName: string };
          status: { conditions?: Array<{ type: string; reason: string }> };
        }>;
      };
      const id = token.split(".")[0];
      const mine = csrs.items.find((c) => c.spec.username === `system:bootstrap:${id}`);
      expect(mine?.spec.signerName).toBe("kubernetes.io/kube-apiserver-client-kubelet");
      expect(mine?.spec.groups).toContain("system:bootstrappers");
      expect(mine?.status.conditions?.[0]).toMatchObject({ type: "Approved", reason: "AutoApproved" });
    });

    it("starts from the written configuration, becomes Ready and renews its certificate", async () => {
      const written = parse(readFileSync(join(configDir, "agent.yaml"), "utf8")) as Record<string, unknown>;
      agent = await startAgent({
        runtime: "docker",
        kubeconfigPath: join(configDir, "node.kubeconfig"),
        nodeName,
        config: {
          rotateCertificates: written.rotateCertificates,
          serverTLSBootstrap: written.serverTLSBootstrap,
          authentication: written.authentication,
        },
      });
      await waitFor(
        async () => {
          const res = await cp.kubectl([
            "get",
            "node",
            nodeName,
            "-o",
            "jsonpath={.status.conditions[?(@.type=='Ready')].status}",
          ]);
          return res.stdout === "True";
        },
        { what: `node ${nodeName} Ready`, timeoutMs: 90_000, intervalMs: 500 },
      ).catch((error: Error) => {
        throw new Error(`${error.message}\n${agent?.tail(60)}`);
      });
      const pem = join(dataDir, "pki", "node-client-current.pem");
      const rotations = () => (agent?.logs().match(/client certificate rotated/g) ?? []).length;
      const first = certificateInfo(splitClientPem(readFileSync(pem, "utf8")).certPem);
      const done = rotations();
      await waitFor(() => rotations() > done, {
        what: "the agent to renew its 30 s client certificate",
        timeoutMs: 60_000,
        intervalMs: 500,
      });
      const second = certificateInfo(splitClientPem(readFileSync(pem, "utf8")).certPem);
      expect(second.serialNumber).not.toBe(first.serialNumber);
      expect(second.commonName).toBe(`system:node:${nodeName}`);
      const csrs = JSON.parse((await cp.kubectl(["get", "csr", "-o", "json"])).stdout) as {
        items: Array<{
          spec: { username: string; signerName: string };
          status: { conditions?: Array<{ message?: string }> };
        }>;
      };
      const renewal = csrs.items.find(
        (c) =>
          c.spec.username === `system:node:${nodeName}` &&
          c.spec.signerName === "kubernetes.io/kube-apiserver-client-kubelet",
      );
      expect(renewal?.status.conditions?.[0]?.message).toContain("self kubelet client certificate");
      // Still talking to the API server with the new certificate: the Lease keeps being renewed.
      const renewTime = async () =>
        (
          await cp.kubectl([
            "get",
            "lease",
            "-n",
            "kube-node-lease",
            nodeName,
            "-o",
            "jsonpath={.spec.renewTime}",
          ])
        ).stdout;
      const before = await renewTime();
      await waitFor(async () => (await renewTime()) !== before, {
        what: "a lease renewal after the certificate rotation",
        timeoutMs: 30_000,
        intervalMs: 500,
      });
    }, 180_000);

    it("its node API refuses anonymous callers and other nodes; the API server gets through", async () => {
      const node = JSON.parse((await cp.kubectl(["get", "node", nodeName, "-o", "json"])).stdout) as {
        status: { daemonEndpoints: { kubeletEndpoint: { Port: number } } };
      };
      const base = `https://127.0.0.1:${node.status.daemonEndpoints.kubeletEndpoint.Port}`;
      const call = (path: string, creds: { cert?: string; key?: string } = {}) =>
        tlsGetInsecure(`${base}${path}`, creds);
      expect((await call("/pods")).status).toBe(401);
      expect((await call(`/exec/default/x/y?command=true&output=1`)).status).toBe(401);
      const { certPem, keyPem } = splitClientPem(
        readFileSync(join(dataDir, "pki", "node-client-current.pem"), "utf8"),
      );
      const asNode = await call("/pods", { cert: certPem, key: keyPem });
      expect(asNode.status).toBe(403);
      expect(await asNode.text()).toContain(
        `Forbidden (user=system:node:${nodeName}, verb=get, resource=nodes, subresource=proxy)`,
      );
      const admin = cp.connection;
      const asAdmin = await call("/pods", {
        cert: admin.clientCertificate?.toString(),
        key: admin.clientKey?.toString(),
      });
      expect(asAdmin.status).toBe(200);
      // Local /healthz stays open.
      expect((await call("/healthz")).status).toBe(200);

      // serverTLSBootstrap: the serving certificate now comes from the cluster CA (the approver took the
      // node's own request for its own addresses), so the node API verifies against the cluster CA.
      await waitFor(() => agent?.logs().includes("serving certificate rotated"), {
        what: "a serving certificate from the kubelet-serving signer",
        timeoutMs: 60_000,
        intervalMs: 500,
      }).catch((error: Error) => {
        const approver = cp
          .logs()
          .split("\n")
          .filter((l) => l.includes("csrapproving"))
          .slice(-10)
          .join("\n");
        throw new Error(`${error.message}\n${agent?.tail(30)}\n${approver}`);
      });
      const verified = await tlsFetch(
        `${base}/pods`,
        {},
        {
          ca: cp.caPem,
          cert: admin.clientCertificate?.toString(),
          key: admin.clientKey?.toString(),
        },
      );
      expect(verified.status).toBe(200);
      const servingCsr = JSON.parse((await cp.kubectl(["get", "csr", "-o", "json"])).stdout) as {
        items: Array<{
          spec: { signerName: string; username: string };
          status: { conditions?: Array<{ reason: string }> };
        }>;
      };
      const serving = servingCsr.items.find(
        (c) =>
          c.spec.signerName === "kubernetes.io/kubelet-serving" &&
          c.spec.username === `system:node:${nodeName}`,
      );
      expect(serving?.status.conditions?.[0]?.reason).toBe("AutoApproved");

      const ns = uniqueName("join-ns");
      await cp.kubectl(["create", "namespace", ns]);
      const pod = {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "echo", namespace: ns },
        spec: {
          nodeName,
          containers: [
            {
              name: "c",
              image: testEnv.busyboxImage,
              imagePullPolicy: "IfNotPresent",
              command: [
                "sh",
                "-c",
                "echo hello-from-joined; trap 'exit 0' TERM; while :; do sleep 1 & wait $!; done",
              ],
            },
          ],
        },
      };
      const created = await cp.fetch(`/api/v1/namespaces/${ns}/pods`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(pod),
      });
      expect(created.status).toBe(201);
      await waitFor(
        async () =>
          (await cp.kubectl(["get", "pod", "-n", ns, "echo", "-o", "jsonpath={.status.phase}"])).stdout ===
          "Running",
        { what: "pod echo Running on the joined node", timeoutMs: 120_000, intervalMs: 500 },
      );
      await waitFor(
        async () => (await cp.kubectl(["logs", "-n", ns, "echo"])).stdout.includes("hello-from-joined"),
        {
          what: "kubectl logs through the API server",
          timeoutMs: 30_000,
          intervalMs: 500,
        },
      );
      const exec = await cp.kubectl(["exec", "-n", ns, "echo", "--", "echo", "exec-ok"]);
      expect(exec.stdout.trim(), exec.stderr).toBe("exec-ok");
      await cp.kubectl(["delete", "namespace", ns, "--wait=false"]);
    }, 180_000);
  });
});

/** GET over TLS without verifying the agent's self-signed serving certificate. */
function tlsGetInsecure(
  url: string,
  creds: { cert?: string; key?: string },
): Promise<{ status: number; text(): Promise<string> }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      { method: "GET", rejectUnauthorized: false, ...creds, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const body = Buffer.concat(chunks).toString("utf8");
          resolve({ status: res.statusCode ?? 0, text: async () => body });
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end();
  });
}
