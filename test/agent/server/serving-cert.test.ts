// The node API's self-signed serving certificate: issued in a worker thread (so the agent does not keep the
// certificate-building library), covering the node's name and addresses, kept and reused until it must change.
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  ensureSelfSignedServingCertificate,
  servingCertificatePaths,
} from "../../../src/agent/server/serving-cert.ts";
import { keyMatchesCertificate } from "../../../src/pki/index.ts";

describe("self-signed serving certificate", () => {
  const rootDir = mkdtempSync(join(tmpdir(), "deckhand-serving-cert-"));
  afterAll(() => rmSync(rootDir, { recursive: true, force: true }));

  it("issues a leaf for the node's name and addresses with its own CA, then reuses it", async () => {
    const issued = await ensureSelfSignedServingCertificate({
      rootDir,
      nodeName: "node-a",
      ipAddresses: ["127.0.0.1", "10.1.2.3"],
    });
    const [leafPem, caPem] = issued.certPem.split(/(?<=-----END CERTIFICATE-----\n)/);
    const leaf = new X509Certificate(leafPem as string);
    const ca = new X509Certificate(caPem as string);
    expect(leaf.subjectAltName).toContain("DNS:node-a");
    expect(leaf.subjectAltName).toContain("IP Address:10.1.2.3");
    expect(leaf.ca).toBe(false);
    expect(ca.ca).toBe(true);
    expect(leaf.verify(ca.publicKey)).toBe(true);
    expect(keyMatchesCertificate(issued.keyPem, leafPem as string)).toBe(true);
    const paths = servingCertificatePaths(rootDir);
    expect(readFileSync(paths.cert, "utf8")).toBe(issued.certPem);

    const again = await ensureSelfSignedServingCertificate({
      rootDir,
      nodeName: "node-a",
      ipAddresses: ["10.1.2.3"],
    });
    expect(again).toEqual(issued);

    const renamed = await ensureSelfSignedServingCertificate({
      rootDir,
      nodeName: "node-b",
      ipAddresses: ["10.1.2.3"],
    });
    expect(renamed.certPem).not.toBe(issued.certPem);
    expect(new X509Certificate(renamed.certPem).subjectAltName).toContain("DNS:node-b");
  });
});
