/**
 * Deckhand's X.509 toolkit, shared by the agent and the control plane (it imports neither).
 *
 * Keys are PEM strings throughout: private keys PKCS#8 (`PRIVATE KEY`; SEC1 and PKCS#1 are read too),
 * public keys SPKI (`PUBLIC KEY`). New keys are ECDSA P-256; CAs with RSA keys still sign.
 *
 *   const ca = await createCertificateAuthority({ commonName: "kubernetes" });      // 10 years
 *   const key = generateKey();                                                      // { privateKeyPem, publicKeyPem }
 *   const certPem = await issueCertificate(ca, {
 *     publicKeyPem: key.publicKeyPem,            // or csrPem: the CSR's signature is verified and its
 *     commonName: "kube-apiserver",              // subject and SANs are the defaults
 *     organizations: [], dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"],
 *     usage: "server",                           // "server" | "client" | "both" (extended key usage)
 *     validityDays: 365,                         // fractions allowed (short-lived certs in tests)
 *   });
 *   const csrPem = await createCsr({ keyPem, commonName: "system:node:n1", organizations: ["system:nodes"] });
 *   const csr = await parseCsr(csrPem);          // CN, O, SANs, public key; throws on a bad signature
 *   caCertHash(ca.certPem);                      // "sha256:<hex>" of the SPKI (kubeadm discovery pin)
 *   certificateExpiry(certPem);                  // Date
 *   await writeKeyFile(path, keyPem);            // 0600, atomic; writeCertFile: 0644
 *
 * Building certificates and CSRs uses @peculiar/x509 over Node's WebCrypto, because node:crypto parses
 * and verifies X.509 (X509Certificate) but cannot create certificates or requests. Parsing, hashing and
 * verification use node:crypto where it can (everything but CSRs, which node:crypto cannot read). The
 * library is loaded on first use (./x509.ts): a process that only inspects certificates, like the node
 * agent between rotations, never loads it; and `inWorker("createCsr" | "createSelfSignedChain", …)`
 * (./in-worker.ts) builds in a short-lived worker thread, so a long-running process does not keep it.
 */
export {
  type CertificateAuthority,
  type CertificateInfo,
  type CertificateUsage,
  caCertHash,
  certificateExpiry,
  certificateInfo,
  certificatePublicKey,
  createCertificateAuthority,
  type IssueRequest,
  isIssuedBy,
  issueCertificate,
  issueKeyAndCertificate,
  keyMatchesCertificate,
} from "./certificates.ts";
export { createCsr, type ParsedCsr, parseCsr } from "./csr.ts";
export { isPkiError, PkiError, type PkiErrorCode } from "./errors.ts";
export { writeCertFile, writeKeyFile } from "./files.ts";
export { generateKey, type KeyPair, publicKeyOf } from "./keys.ts";
