// Service-account tokens as upstream's bound tokens: ES256 JWTs signed with DATA_DIR/pki/sa.key, issued by
// the serviceaccounts/<name>/token subresource (TokenRequest) and accepted as bearer tokens while they are
// unexpired, meant for one of the API server's audiences, and the service account (and the pod, secret or
// node they are bound to) still exists with the same UID. The user is system:serviceaccount:<ns>:<name> in
// system:serviceaccounts and system:serviceaccounts:<ns>.

import {
  createHash,
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  randomUUID,
  sign,
  verify,
} from "node:crypto";
import type { KubeObject } from "../../../api/resource.ts";
import type { Clock } from "../../../util/clock.ts";
import { AuthenticationError, type UserInfo } from "../pipeline/authentication.ts";
import type { TokenAuthenticator } from "./bearer.ts";
import type { ObjectLookup } from "./lookup.ts";

/** kubeadm's --service-account-issuer; also the API server's audience (--api-audiences defaults to it). */
export const DEFAULT_ISSUER = "https://kubernetes.default.svc.cluster.local";
export const SERVICE_ACCOUNT_PREFIX = "system:serviceaccount:";
export const SERVICE_ACCOUNTS_GROUP = "system:serviceaccounts";
/** Clock skew tolerated on nbf/iat (upstream's leeway). */
const LEEWAY_SECONDS = 60;

export type BoundKind = "Pod" | "Secret" | "Node";

export interface TokenClaims {
  iss: string;
  sub: string;
  aud: string[];
  exp: number;
  iat: number;
  nbf: number;
  jti: string;
  "kubernetes.io": {
    namespace: string;
    serviceaccount: { name: string; uid: string };
    pod?: { name: string; uid: string };
    secret?: { name: string; uid: string };
    node?: { name: string; uid: string };
  };
}

export interface IssueTokenRequest {
  namespace: string;
  serviceAccount: { name: string; uid: string };
  /** Default: the API server's audiences. */
  audiences?: string[];
  expirationSeconds: number;
  boundObject?: { kind: BoundKind; name: string; uid: string; node?: { name: string; uid: string } };
}

export interface ServiceAccountTokensOptions {
  privateKeyPem: string;
  publicKeyPem: string;
  issuer?: string;
  /** Audiences this server accepts (upstream --api-audiences); default [issuer]. */
  apiAudiences?: string[];
  clock: Clock;
  lookup: ObjectLookup;
}

const RESOURCES = {
  ServiceAccount: { group: "", version: "v1", plural: "serviceaccounts" },
  Pod: { group: "", version: "v1", plural: "pods" },
  Secret: { group: "", version: "v1", plural: "secrets" },
  Node: { group: "", version: "v1", plural: "nodes" },
} as const;

export class ServiceAccountTokens {
  readonly issuer: string;
  readonly apiAudiences: readonly string[];
  private readonly privateKey: KeyObject;
  private readonly publicKey: KeyObject;
  private readonly keyId: string;
  private readonly clock: Clock;
  private readonly lookup: ObjectLookup;

  constructor(options: ServiceAccountTokensOptions) {
    this.privateKey = createPrivateKey(options.privateKeyPem);
    this.publicKey = createPublicKey(options.publicKeyPem);
    if (this.publicKey.asymmetricKeyDetails?.namedCurve !== "prime256v1") {
      throw new Error("the service-account signing key must be an ECDSA P-256 key (ES256)");
    }
    this.issuer = options.issuer ?? DEFAULT_ISSUER;
    this.apiAudiences = options.apiAudiences ?? [this.issuer];
    // Upstream's key ID: the unpadded base64url SHA-256 of the public key's DER SPKI.
    this.keyId = createHash("sha256")
      .update(this.publicKey.export({ type: "spki", format: "der" }))
      .digest("base64url");
    this.clock = options.clock;
    this.lookup = options.lookup;
  }

  issue(request: IssueTokenRequest): { token: string; expiresAt: Date } {
    const now = Math.floor(this.clock.now() / 1000);
    const exp = now + request.expirationSeconds;
    const scope: TokenClaims["kubernetes.io"] = {
      namespace: request.namespace,
      serviceaccount: { name: request.serviceAccount.name, uid: request.serviceAccount.uid },
    };
    const bound = request.boundObject;
    if (bound?.kind === "Pod") scope.pod = { name: bound.name, uid: bound.uid };
    if (bound?.kind === "Secret") scope.secret = { name: bound.name, uid: bound.uid };
    if (bound?.kind === "Node") scope.node = { name: bound.name, uid: bound.uid };
    if (bound?.kind === "Pod" && bound.node) scope.node = bound.node;
    const claims: TokenClaims = {
      aud: request.audiences && request.audiences.length > 0 ? request.audiences : [...this.apiAudiences],
      exp,
      iat: now,
      iss: this.issuer,
      jti: randomUUID(),
      "kubernetes.io": scope,
      nbf: now,
      sub: `${SERVICE_ACCOUNT_PREFIX}${request.namespace}:${request.serviceAccount.name}`,
    };
    const header = encode({ alg: "ES256", kid: this.keyId });
    const payload = encode(claims);
    const signature = sign("sha256", Buffer.from(`${header}.${payload}`), {
      key: this.privateKey,
      dsaEncoding: "ieee-p1363",
    }).toString("base64url");
    return { token: `${header}.${payload}.${signature}`, expiresAt: new Date(exp * 1000) };
  }

  /** /openid/v1/jwks: the public key as a JWK set, for relying parties outside the cluster. */
  jwks(): { keys: Array<Record<string, string>> } {
    const jwk = this.publicKey.export({ format: "jwk" }) as Record<string, string>;
    return {
      keys: [
        {
          use: "sig",
          kty: "EC",
          kid: this.keyId,
          crv: "P-256",
          alg: "ES256",
          x: jwk.x ?? "",
          y: jwk.y ?? "",
        },
      ],
    };
  }

  /** /.well-known/openid-configuration (upstream's service account issuer discovery). */
  openidConfiguration(): Record<string, unknown> {
    return {
      issuer: this.issuer,
      jwks_uri: `${this.issuer.replace(/\/+$/, "")}/openid/v1/jwks`,
      response_types_supported: ["id_token"],
      subject_types_supported: ["public"],
      id_token_signing_alg_values_supported: ["ES256"],
    };
  }

  authenticator(): TokenAuthenticator {
    return { name: "service-account", authenticateToken: (token) => this.authenticate(token) };
  }

  private async authenticate(token: string): Promise<UserInfo | undefined> {
    const parts = token.split(".");
    if (parts.length !== 3) return undefined;
    const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
    const header = decode(headerPart) as { alg?: unknown } | undefined;
    const claims = decode(payloadPart) as Partial<TokenClaims> | undefined;
    // Not a JWT of this issuer: another authenticator's token.
    if (!header || !claims || claims.iss !== this.issuer) return undefined;
    const reject = (why: string) => new AuthenticationError(`service account token: ${why}`);
    if (header.alg !== "ES256") throw reject(`unexpected signing algorithm ${JSON.stringify(header.alg)}`);
    const signed = verify(
      "sha256",
      Buffer.from(`${headerPart}.${payloadPart}`),
      { key: this.publicKey, dsaEncoding: "ieee-p1363" },
      Buffer.from(signaturePart, "base64url"),
    );
    if (!signed) throw reject("invalid signature");
    const now = this.clock.now() / 1000;
    if (typeof claims.exp !== "number" || now >= claims.exp) throw reject("expired");
    if (typeof claims.nbf === "number" && claims.nbf > now + LEEWAY_SECONDS) throw reject("not valid yet");
    const audiences = Array.isArray(claims.aud)
      ? claims.aud
      : typeof claims.aud === "string"
        ? [claims.aud]
        : [];
    if (!audiences.some((a) => this.apiAudiences.includes(a)))
      throw reject("not meant for this API server's audiences");
    const scope = claims["kubernetes.io"];
    const namespace = scope?.namespace;
    const account = scope?.serviceaccount;
    if (!namespace || !account?.name || !account.uid) throw reject("no service account claims");
    if (claims.sub !== `${SERVICE_ACCOUNT_PREFIX}${namespace}:${account.name}`)
      throw reject("subject mismatch");

    await this.mustExist("ServiceAccount", namespace, account, reject);
    const extra: Record<string, string[]> = {};
    if (scope.pod) {
      await this.mustExist("Pod", namespace, scope.pod, reject);
      extra["authentication.kubernetes.io/pod-name"] = [scope.pod.name];
      extra["authentication.kubernetes.io/pod-uid"] = [scope.pod.uid];
    }
    if (scope.secret) await this.mustExist("Secret", namespace, scope.secret, reject);
    if (scope.node) {
      if (!scope.pod) await this.mustExist("Node", "", scope.node, reject);
      extra["authentication.kubernetes.io/node-name"] = [scope.node.name];
      extra["authentication.kubernetes.io/node-uid"] = [scope.node.uid];
    }
    if (claims.jti) extra["authentication.kubernetes.io/credential-id"] = [`JTI=${claims.jti}`];
    return {
      name: claims.sub,
      uid: account.uid,
      groups: [SERVICE_ACCOUNTS_GROUP, `${SERVICE_ACCOUNTS_GROUP}:${namespace}`],
      extra,
    };
  }

  private async mustExist(
    kind: keyof typeof RESOURCES,
    namespace: string,
    ref: { name: string; uid: string },
    reject: (why: string) => Error,
  ): Promise<void> {
    const found: KubeObject | undefined = await this.lookup(RESOURCES[kind], namespace, ref.name);
    const where = namespace ? `${namespace}/${ref.name}` : ref.name;
    if (!found) throw reject(`${kind} ${where} no longer exists`);
    if (found.metadata?.uid !== ref.uid) throw reject(`${kind} ${where} was replaced (UID changed)`);
    if (found.metadata?.deletionTimestamp) throw reject(`${kind} ${where} is being deleted`);
  }
}

function encode(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

function decode(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
