import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  type webcrypto,
} from "node:crypto";
import { PkiError } from "./errors.ts";

/** A key pair as PEM: the private key as PKCS#8 (`PRIVATE KEY`), the public key as SPKI (`PUBLIC KEY`). */
export interface KeyPair {
  privateKeyPem: string;
  publicKeyPem: string;
}

/** A fresh ECDSA P-256 key pair, the algorithm kubeadm uses for new clusters' certificates. */
export function generateKey(): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  return { privateKeyPem: exportPrivateKeyPem(privateKey), publicKeyPem: exportPublicKeyPem(publicKey) };
}

export function exportPrivateKeyPem(key: KeyObject): string {
  return key.export({ type: "pkcs8", format: "pem" }).toString();
}

export function exportPublicKeyPem(key: KeyObject): string {
  return key.export({ type: "spki", format: "pem" }).toString();
}

/** The SPKI public key of a PEM private key. */
export function publicKeyOf(privateKeyPem: string): string {
  return exportPublicKeyPem(createPublicKey(loadPrivateKey(privateKeyPem)));
}

export function loadPrivateKey(pem: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch (error) {
    throw new PkiError("PKI_INVALID_PEM", "the private key is not a PEM PKCS#8, SEC1 or PKCS#1 key", {
      cause: error,
    });
  }
}

export function loadPublicKey(pem: string): KeyObject {
  try {
    return createPublicKey(pem);
  } catch (error) {
    throw new PkiError("PKI_INVALID_PEM", "the public key is not a PEM SPKI key", { cause: error });
  }
}

/** The WebCrypto algorithms that sign with a key: ECDSA P-256/P-384 with SHA-256/384, RSA PKCS#1 v1.5 with SHA-256. */
export interface SigningAlgorithm {
  name: "ECDSA" | "RSASSA-PKCS1-v1_5";
  hash: "SHA-256" | "SHA-384";
  namedCurve?: "P-256" | "P-384";
}

export function signingAlgorithm(key: KeyObject): SigningAlgorithm {
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === "ec" && details?.namedCurve === "prime256v1") {
    return { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
  }
  if (key.asymmetricKeyType === "ec" && details?.namedCurve === "secp384r1") {
    return { name: "ECDSA", namedCurve: "P-384", hash: "SHA-384" };
  }
  if (key.asymmetricKeyType === "rsa") {
    return { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
  }
  throw new PkiError(
    "PKI_UNSUPPORTED_KEY",
    `unsupported key ${key.asymmetricKeyType ?? "?"}${details?.namedCurve ? ` (${details.namedCurve})` : ""}: use ECDSA P-256/P-384 or RSA`,
  );
}

/** A WebCrypto key pair for signing with a PEM private key. */
export async function signingKeyPair(privateKeyPem: string): Promise<webcrypto.CryptoKeyPair> {
  const privateKey = loadPrivateKey(privateKeyPem);
  const algorithm = signingAlgorithm(privateKey);
  return {
    privateKey: await privateKey.toCryptoKey(algorithm, false, ["sign"]),
    publicKey: await createPublicKey(privateKey).toCryptoKey(algorithm, true, ["verify"]),
  };
}

/** A WebCrypto public key for a PEM SPKI key, extractable so that it can go into a certificate. */
export async function webPublicKey(publicKeyPem: string): Promise<webcrypto.CryptoKey> {
  const key = loadPublicKey(publicKeyPem);
  return key.toCryptoKey(signingAlgorithm(key), true, ["verify"]);
}
