// Certificate builders run in a worker thread (so a long-running process does not keep @peculiar/x509):
// the results are the same as in-process ones, and a failure in the worker comes back as an error.
import { X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import { inWorker } from "../../src/pki/in-worker.ts";
import { generateKey, keyMatchesCertificate, parseCsr } from "../../src/pki/index.ts";

describe("pki in a worker thread", () => {
  it("creates a CSR for the key, subject and names", async () => {
    const key = generateKey();
    const pem = await inWorker("createCsr", {
      keyPem: key.privateKeyPem,
      commonName: "system:node:n1",
      organizations: ["system:nodes"],
      dnsNames: ["n1"],
      ipAddresses: ["10.0.0.7"],
    });
    const csr = await parseCsr(pem);
    expect(csr.commonName).toBe("system:node:n1");
    expect(csr.organizations).toEqual(["system:nodes"]);
    expect(csr.dnsNames).toEqual(["n1"]);
    expect(csr.ipAddresses).toEqual(["10.0.0.7"]);
    const spki = (pem: string) => pem.replace(/\s/g, "");
    expect(spki(csr.publicKeyPem)).toBe(spki(key.publicKeyPem));
  });

  it("creates a server certificate chained to a CA made for it", async () => {
    const chain = await inWorker("createSelfSignedChain", {
      caCommonName: "n1-ca@1",
      commonName: "n1@1",
      dnsNames: ["n1"],
      ipAddresses: ["127.0.0.1"],
      validityDays: 30,
    });
    const [leafPem, caPem] = chain.certPem.split(/(?<=-----END CERTIFICATE-----\n)/) as [string, string];
    const leaf = new X509Certificate(leafPem);
    expect(leaf.subject).toContain("CN=n1@1");
    expect(leaf.verify(new X509Certificate(caPem).publicKey)).toBe(true);
    expect(keyMatchesCertificate(chain.keyPem, leafPem)).toBe(true);
  });

  it("reports a failure inside the worker as an error", async () => {
    await expect(inWorker("createCsr", { keyPem: "not a key", commonName: "x" })).rejects.toThrow();
  });
});
