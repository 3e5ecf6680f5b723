import { generateKeyPairSync, X509Certificate } from "node:crypto";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, createServer, type TLSSocket } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type CertificateAuthority,
  caCertHash,
  certificateExpiry,
  certificateInfo,
  createCertificateAuthority,
  createCsr,
  generateKey,
  isIssuedBy,
  isPkiError,
  issueCertificate,
  issueKeyAndCertificate,
  keyMatchesCertificate,
  parseCsr,
  writeCertFile,
  writeKeyFile,
} from "../../src/pki/index.ts";
import { run } from "../support/run.ts";

let dir: string;
let ca: CertificateAuthority;

beforeAll(async () => {
  const openssl = await run("openssl", ["version"], { allowFailure: true }).catch(() => undefined);
  if (openssl === undefined || openssl.code !== 0) {
    throw new Error("these tests check certificates with the openssl CLI: apt-get install openssl");
  }
  dir = await mkdtemp(join(tmpdir(), "deckhand-pki-"));
  ca = await createCertificateAuthority({ commonName: "deckhand-test-ca" });
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function file(name: string, content: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

describe("certificate authority", () => {
  it("is a self-signed P-256 CA valid for ten years that openssl accepts", async () => {
    const caPath = await file("ca.crt", ca.certPem);
    const text = (await run("openssl", ["x509", "-in", caPath, "-noout", "-text"])).stdout;
    expect(text).toMatch(/CA:TRUE/);
    expect(text).toMatch(/Certificate Sign, CRL Sign/);
    expect(text).toMatch(/ASN1 OID: prime256v1/);
    expect((await run("openssl", ["verify", "-CAfile", caPath, caPath])).stdout).toMatch(/OK/);

    const info = certificateInfo(ca.certPem);
    expect(info).toMatchObject({ commonName: "deckhand-test-ca", isCa: true });
    const years = (certificateExpiry(ca.certPem).getTime() - Date.now()) / (365 * 24 * 3600 * 1000);
    expect(years).toBeGreaterThan(9.9);
    expect(years).toBeLessThan(10.1);
    expect(keyMatchesCertificate(ca.keyPem, ca.certPem)).toBe(true);
  });

  it("signs with an RSA key too", async () => {
    const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const rsaCa = await createCertificateAuthority({
      commonName: "rsa-ca",
      keyPem: rsa.privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
    });
    const leaf = await issueCertificate(rsaCa, {
      publicKeyPem: generateKey().publicKeyPem,
      commonName: "leaf",
      usage: "client",
    });
    expect(isIssuedBy(leaf, rsaCa.certPem)).toBe(true);
  });
});

describe("issued certificates", () => {
  it("carries subject, SANs and usages that openssl verifies against the CA", async () => {
    const { certPem } = await issueKeyAndCertificate(ca, {
      commonName: "kube-apiserver",
      organizations: ["deckhand"],
      dnsNames: ["localhost", "kubernetes.default.svc"],
      ipAddresses: ["127.0.0.1", "::1", "10.96.0.1"],
      usage: "server",
      validityDays: 30,
    });
    const caPath = await file("ca-for-server.crt", ca.certPem);
    const certPath = await file("server.crt", certPem);
    expect(
      (await run("openssl", ["verify", "-CAfile", caPath, "-purpose", "sslserver", certPath])).stdout,
    ).toMatch(/OK/);
    const clientPurpose = await run(
      "openssl",
      ["verify", "-CAfile", caPath, "-purpose", "sslclient", certPath],
      {
        allowFailure: true,
      },
    );
    expect(clientPurpose.code).not.toBe(0);
    const text = (await run("openssl", ["x509", "-in", certPath, "-noout", "-text"])).stdout;
    expect(text).toMatch(/Subject: O = deckhand, CN = kube-apiserver/);
    expect(text).toMatch(
      /DNS:localhost, DNS:kubernetes.default.svc, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, IP Address:10.96.0.1/,
    );
    expect(text).toMatch(/CA:FALSE/);
    expect(text).toMatch(/TLS Web Server Authentication/);

    const node = new X509Certificate(certPem);
    expect(node.checkHost("kubernetes.default.svc")).toBe("kubernetes.default.svc");
    expect(node.checkIP("10.96.0.1")).toBe("10.96.0.1");
    expect(node.checkIssued(new X509Certificate(ca.certPem))).toBe(true);
    expect(certificateInfo(certPem)).toMatchObject({
      commonName: "kube-apiserver",
      organizations: ["deckhand"],
      dnsNames: ["localhost", "kubernetes.default.svc"],
      ipAddresses: ["127.0.0.1", "::1", "10.96.0.1"],
      isCa: false,
    });
    const days = (certificateExpiry(certPem).getTime() - Date.now()) / (24 * 3600 * 1000);
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThanOrEqual(30);
  });

  it("works for a real TLS handshake with client-certificate authentication", async () => {
    const server = await issueKeyAndCertificate(ca, {
      commonName: "server",
      dnsNames: ["localhost"],
      ipAddresses: ["127.0.0.1"],
      usage: "server",
    });
    const client = await issueKeyAndCertificate(ca, {
      commonName: "kubernetes-admin",
      organizations: ["system:masters"],
      usage: "client",
    });
    const tls = createServer(
      {
        cert: server.certPem,
        key: server.keyPem,
        ca: ca.certPem,
        requestCert: true,
        rejectUnauthorized: true,
      },
      (socket) => {
        const peer = socket.getPeerCertificate();
        socket.end(`${peer.subject.CN}/${String(peer.subject.O)}`);
      },
    );
    await new Promise<void>((resolve) => tls.listen(0, "127.0.0.1", resolve));
    const port = (tls.address() as { port: number }).port;
    try {
      const answer = await new Promise<string>((resolve, reject) => {
        const socket: TLSSocket = connect({
          host: "127.0.0.1",
          port,
          servername: "localhost",
          ca: ca.certPem,
          cert: client.certPem,
          key: client.keyPem,
        });
        let data = "";
        socket.on("data", (chunk) => {
          data += chunk;
        });
        socket.on("end", () => resolve(data));
        socket.on("error", reject);
      });
      expect(answer).toBe("kubernetes-admin/system:masters");

      const otherCa = await createCertificateAuthority({ commonName: "other-ca" });
      const rejected = await new Promise<Error>((resolve) => {
        const socket = connect({ host: "127.0.0.1", port, servername: "localhost", ca: otherCa.certPem });
        socket.on("error", resolve);
        socket.on("secureConnect", () => resolve(new Error("connected")));
      });
      expect(rejected.message).toMatch(/self-signed|unable to verify|certificate/i);
    } finally {
      await new Promise((resolve) => tls.close(resolve));
    }
  });

  it("rejects bad requests with a PkiError", async () => {
    const publicKeyPem = generateKey().publicKeyPem;
    await expect(
      issueCertificate(ca, { publicKeyPem, commonName: "x", ipAddresses: ["not-an-ip"], usage: "server" }),
    ).rejects.toSatisfy((error) => isPkiError(error, "PKI_INVALID_REQUEST"));
    await expect(issueCertificate(ca, { commonName: "x", usage: "server" })).rejects.toSatisfy((error) =>
      isPkiError(error, "PKI_INVALID_REQUEST"),
    );
    await expect(
      issueCertificate(ca, { publicKeyPem: "garbage", commonName: "x", usage: "server" }),
    ).rejects.toSatisfy((error) => isPkiError(error, "PKI_INVALID_PEM"));
    expect(() => caCertHash("garbage")).toThrow(/not a PEM certificate/);
  });

  it("reads SANs that node:crypto prints quoted or uncompressed, from the first certificate of a chain", async () => {
    const { certPem } = await issueKeyAndCertificate(ca, {
      commonName: "cn, x=y+z",
      organizations: ["b", "a,+b"],
      dnsNames: ["a.example, DNS:b.example", "c.example"],
      ipAddresses: ["fd00:10:96::1", "2001:db8:0:0:a::1", "2001:db8::a:0:0:1", "fe80::"],
      usage: "both",
    });
    const info = certificateInfo(`${certPem.trimEnd()}\n${ca.certPem.trimEnd()}\n`);
    expect(info).toMatchObject({
      commonName: "cn, x=y+z",
      organizations: ["b", "a,+b"],
      dnsNames: ["a.example, DNS:b.example", "c.example"],
      ipAddresses: ["fd00:10:96::1", "2001:db8::a:0:0:1", "2001:db8::a:0:0:1", "fe80::"],
      isCa: false,
    });
    expect(info.serialNumber).toBe(new X509Certificate(certPem).serialNumber.toLowerCase());
  });

  it("is not issued by another CA", async () => {
    const other = await createCertificateAuthority({ commonName: "another-ca" });
    const { certPem } = await issueKeyAndCertificate(ca, { commonName: "c", usage: "client" });
    expect(isIssuedBy(certPem, ca.certPem)).toBe(true);
    expect(isIssuedBy(certPem, other.certPem)).toBe(false);
  });
});

describe("certificate requests", () => {
  it("round-trips subject and SANs, verified by openssl", async () => {
    const key = generateKey();
    const csrPem = await createCsr({
      keyPem: key.privateKeyPem,
      commonName: "system:node:worker-1",
      organizations: ["system:nodes"],
      dnsNames: ["worker-1"],
      ipAddresses: ["192.0.2.10"],
    });
    expect(csrPem).toMatch(/^-----BEGIN CERTIFICATE REQUEST-----/);
    const csrPath = await file("node.csr", csrPem);
    const verified = await run("openssl", ["req", "-in", csrPath, "-noout", "-verify", "-subject"]);
    expect(`${verified.stdout}${verified.stderr}`).toMatch(/verify OK/i);
    expect(verified.stdout).toMatch(/subject=O = system:nodes, CN = system:node:worker-1/);

    const parsed = await parseCsr(csrPem);
    expect(parsed).toMatchObject({
      commonName: "system:node:worker-1",
      organizations: ["system:nodes"],
      dnsNames: ["worker-1"],
      ipAddresses: ["192.0.2.10"],
      publicKeyAlgorithm: "ECDSA",
    });
    expect(parsed.publicKeyPem.replace(/\s/g, "")).toBe(key.publicKeyPem.replace(/\s/g, ""));

    const certPem = await issueCertificate(ca, { csrPem, usage: "client" });
    expect(certificateInfo(certPem)).toMatchObject({
      commonName: "system:node:worker-1",
      organizations: ["system:nodes"],
      dnsNames: ["worker-1"],
      ipAddresses: ["192.0.2.10"],
    });
    expect(keyMatchesCertificate(key.privateKeyPem, certPem)).toBe(true);
  });

  it("parses a CSR made by openssl", async () => {
    const keyPath = join(dir, "openssl.key");
    const csrPath = join(dir, "openssl.csr");
    await run("openssl", ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", keyPath]);
    await run("openssl", [
      "req",
      "-new",
      "-key",
      keyPath,
      "-subj",
      "/O=system:nodes/CN=system:node:worker-2",
      "-addext",
      "subjectAltName=DNS:worker-2,IP:127.0.0.2",
      "-out",
      csrPath,
    ]);
    const csrPem = (await run("cat", [csrPath])).stdout;
    expect(await parseCsr(csrPem)).toMatchObject({
      commonName: "system:node:worker-2",
      organizations: ["system:nodes"],
      dnsNames: ["worker-2"],
      ipAddresses: ["127.0.0.2"],
    });
  });

  it("refuses a CSR whose signature does not verify", async () => {
    const csrPem = await createCsr({ keyPem: generateKey().privateKeyPem, commonName: "system:node:evil" });
    const body = csrPem.split("\n").filter((line) => line !== "" && !line.startsWith("-----"));
    const der = Buffer.from(body.join(""), "base64");
    der[der.length - 10] = (der[der.length - 10] ?? 0) ^ 0xff;
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString("base64")}\n-----END CERTIFICATE REQUEST-----\n`;
    await expect(parseCsr(tampered)).rejects.toSatisfy((error) =>
      isPkiError(error, "PKI_CSR_SIGNATURE_INVALID"),
    );
    await expect(issueCertificate(ca, { csrPem: tampered, usage: "client" })).rejects.toSatisfy((error) =>
      isPkiError(error, "PKI_CSR_SIGNATURE_INVALID"),
    );
    await expect(parseCsr("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----")).rejects.toSatisfy(
      (error) => isPkiError(error, "PKI_INVALID_PEM"),
    );
  });
});

describe("CA certificate hash", () => {
  it("is the SHA-256 of the SubjectPublicKeyInfo, as openssl computes it", async () => {
    const caPath = await file("ca-hash.crt", ca.certPem);
    const pubkey = (await run("openssl", ["x509", "-in", caPath, "-noout", "-pubkey"])).stdout;
    const pubPath = await file("ca-hash.pub", pubkey);
    const derPath = join(dir, "ca-hash.der");
    await run("openssl", ["pkey", "-pubin", "-in", pubPath, "-outform", "der", "-out", derPath]);
    const digest = (await run("openssl", ["dgst", "-sha256", "-r", derPath])).stdout.split(" ")[0];
    expect(caCertHash(ca.certPem)).toBe(`sha256:${digest}`);
  });
});

describe("files", () => {
  it("writes keys 0600 even over a world-readable file, certificates 0644", async () => {
    const keyPath = join(dir, "sub", "k.key");
    await writeCertFile(keyPath, "old");
    expect((await stat(keyPath)).mode & 0o777).toBe(0o644);
    await writeKeyFile(keyPath, ca.keyPem);
    expect((await stat(keyPath)).mode & 0o777).toBe(0o600);
  });
});
