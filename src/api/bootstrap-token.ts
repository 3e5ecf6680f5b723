// Bootstrap tokens as kubeadm stores them (upstream k8s.io/cluster-bootstrap): a token "<id>.<secret>"
// ([a-z0-9]{6}.[a-z0-9]{16}) lives in the Secret kube-system/bootstrap-token-<id> of type
// bootstrap.kubernetes.io/token. Shared by `deckhand token`, the API server's token authenticator, the
// token cleaner and the bootstrap signer. Pure: no I/O.

import { createHmac, randomInt, timingSafeEqual } from "node:crypto";

export const BOOTSTRAP_TOKEN_SECRET_TYPE = "bootstrap.kubernetes.io/token";
export const BOOTSTRAP_TOKEN_NAMESPACE = "kube-system";
export const BOOTSTRAP_TOKEN_SECRET_PREFIX = "bootstrap-token-";
/** Every bootstrap-token user is in this group (upstream BootstrapDefaultGroup). */
export const BOOTSTRAPPERS_GROUP = "system:bootstrappers";
/** The extra group `deckhand token create` puts its tokens in (kubeadm: system:bootstrappers:kubeadm:default-node-token). */
export const DEFAULT_NODE_TOKEN_GROUP = "system:bootstrappers:deckhand:default-node-token";
/** User name of a bootstrap token: system:bootstrap:<token-id>. */
export const BOOTSTRAP_USER_PREFIX = "system:bootstrap:";

export const TOKEN_PATTERN = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;
const EXTRA_GROUP_PATTERN = /^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$/;
const ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

export interface BootstrapToken {
  id: string;
  secret: string;
}

export interface BootstrapTokenSpec extends BootstrapToken {
  description?: string;
  /** RFC 3339; undefined: never expires. */
  expiration?: string;
  usages: Array<"authentication" | "signing">;
  extraGroups: string[];
}

/** Parses "<id>.<secret>"; undefined when it does not have the bootstrap token shape. */
export function parseToken(text: string): BootstrapToken | undefined {
  const match = TOKEN_PATTERN.exec(text);
  return match ? { id: match[1] as string, secret: match[2] as string } : undefined;
}

export function formatToken(token: BootstrapToken): string {
  return `${token.id}.${token.secret}`;
}

/** A new random token from a CSPRNG. */
export function generateToken(): BootstrapToken {
  const pick = (n: number) => Array.from({ length: n }, () => ALPHABET[randomInt(ALPHABET.length)]).join("");
  return { id: pick(6), secret: pick(16) };
}

export function secretName(tokenId: string): string {
  return `${BOOTSTRAP_TOKEN_SECRET_PREFIX}${tokenId}`;
}

export function validateExtraGroup(group: string): string | undefined {
  return EXTRA_GROUP_PATTERN.test(group)
    ? undefined
    : `${JSON.stringify(group)} must start with "system:bootstrappers:" and contain only a-z, 0-9, ":" and "-"`;
}

interface SecretLike {
  metadata?: { name?: string; namespace?: string };
  type?: string;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

/** The Secret `kubeadm token create` writes for a token (values in stringData; the server encodes them). */
export function tokenSecret(spec: BootstrapTokenSpec): SecretLike & { apiVersion: string; kind: string } {
  const stringData: Record<string, string> = {
    "token-id": spec.id,
    "token-secret": spec.secret,
  };
  if (spec.description) stringData.description = spec.description;
  if (spec.expiration) stringData.expiration = spec.expiration;
  for (const usage of spec.usages) stringData[`usage-bootstrap-${usage}`] = "true";
  if (spec.extraGroups.length > 0) stringData["auth-extra-groups"] = spec.extraGroups.join(",");
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: secretName(spec.id), namespace: BOOTSTRAP_TOKEN_NAMESPACE },
    type: BOOTSTRAP_TOKEN_SECRET_TYPE,
    stringData,
  };
}

function field(secret: SecretLike, key: string): string | undefined {
  const value = secret.data?.[key];
  return value === undefined ? undefined : Buffer.from(value, "base64").toString("utf8");
}

/**
 * The token a stored Secret describes, or why it is not a usable bootstrap token. Checks what upstream's
 * authenticator checks: type, name matching the token id, the id/secret shape.
 */
export function readTokenSecret(secret: SecretLike): BootstrapTokenSpec | { invalid: string } {
  if (secret.type !== BOOTSTRAP_TOKEN_SECRET_TYPE)
    return { invalid: `type is not ${BOOTSTRAP_TOKEN_SECRET_TYPE}` };
  const id = field(secret, "token-id") ?? "";
  const tokenSecretValue = field(secret, "token-secret") ?? "";
  if (!parseToken(`${id}.${tokenSecretValue}`)) return { invalid: "token-id or token-secret is malformed" };
  if (secret.metadata?.name !== secretName(id)) return { invalid: `name is not ${secretName(id)}` };
  const usages: BootstrapTokenSpec["usages"] = [];
  if (field(secret, "usage-bootstrap-authentication") === "true") usages.push("authentication");
  if (field(secret, "usage-bootstrap-signing") === "true") usages.push("signing");
  const extraGroups = (field(secret, "auth-extra-groups") ?? "")
    .split(",")
    .map((g) => g.trim())
    .filter(Boolean);
  const expiration = field(secret, "expiration");
  const description = field(secret, "description");
  return {
    id,
    secret: tokenSecretValue,
    usages,
    extraGroups,
    ...(expiration ? { expiration } : {}),
    ...(description ? { description } : {}),
  };
}

/** True when the token has an expiration at or before `now` (an unparseable one counts as expired). */
export function isExpired(spec: Pick<BootstrapTokenSpec, "expiration">, now: number): boolean {
  if (!spec.expiration) return false;
  const at = Date.parse(spec.expiration);
  return !Number.isFinite(at) || at <= now;
}

/** Constant-time comparison of a presented secret with the stored one. */
export function secretsEqual(presented: string, stored: string): boolean {
  const a = Buffer.from(presented);
  const b = Buffer.from(stored);
  return a.length === b.length && timingSafeEqual(a, b);
}

// cluster-info signatures ----------------------------------------------------------------------------------

/** The ConfigMap key holding the signature of cluster-info's kubeconfig made with token `id`. */
export function jwsKey(tokenId: string): string {
  return `jws-kubeconfig-${tokenId}`;
}

/**
 * A detached compact JWS (HS256, key = the whole token, "kid" = the token id) over `content`, as
 * upstream's bootstrap signer writes into kube-public/cluster-info: "<header>..<signature>".
 */
export function detachedSignature(content: string, token: BootstrapToken): string {
  const header = Buffer.from(JSON.stringify({ alg: "HS256", kid: token.id })).toString("base64url");
  const payload = Buffer.from(content).toString("base64url");
  const signature = createHmac("sha256", formatToken(token))
    .update(`${header}.${payload}`)
    .digest("base64url");
  return `${header}..${signature}`;
}

/** Checks a detached signature of `content` made with `token` (constant time). */
export function verifyDetachedSignature(content: string, signature: string, token: BootstrapToken): boolean {
  return secretsEqual(signature, detachedSignature(content, token));
}
