// Tokens for projected serviceAccountToken sources: a cache in front of the TokenRequest API that refreshes a
// token once 80% of its lifetime has passed or after 24 hours, like kubelet's token manager.

export interface ServiceAccountTokenRequest {
  namespace: string;
  serviceAccountName: string;
  /** "" or undefined: the API server's own audiences. */
  audience?: string;
  expirationSeconds: number;
  /** The pod the token is bound to. */
  boundPod: { name: string; uid: string };
}

export interface IssuedToken {
  token: string;
  /** RFC 3339 (TokenRequest status.expirationTimestamp). */
  expirationTimestamp: string;
}

export interface ServiceAccountTokenSource {
  getToken(request: ServiceAccountTokenRequest): Promise<string>;
  /** Drops what is cached for a pod that is gone. */
  forgetPod?(uid: string): void;
}

const MAX_TTL_MS = 24 * 60 * 60 * 1000;

interface Cached {
  token: string;
  expiresAt: number;
  issuedAt: number;
}

/**
 * Wraps a TokenRequest call (POST .../serviceaccounts/<name>/token) with a cache keyed by pod, service account,
 * audience and expiration. `forgetPod` drops a deleted pod's tokens.
 */
export class ServiceAccountTokenCache implements ServiceAccountTokenSource {
  private readonly request: (request: ServiceAccountTokenRequest) => Promise<IssuedToken>;
  private readonly now: () => number;
  private readonly cache = new Map<string, Cached>();

  constructor(
    request: (request: ServiceAccountTokenRequest) => Promise<IssuedToken>,
    now: () => number = Date.now,
  ) {
    this.request = request;
    this.now = now;
  }

  async getToken(request: ServiceAccountTokenRequest): Promise<string> {
    const key = JSON.stringify([
      request.boundPod.uid,
      request.namespace,
      request.serviceAccountName,
      request.audience ?? "",
      request.expirationSeconds,
    ]);
    const cached = this.cache.get(key);
    if (cached && !this.needsRefresh(cached, request.expirationSeconds)) return cached.token;
    const issued = await this.request(request);
    const expiresAt = Date.parse(issued.expirationTimestamp);
    if (!issued.token || Number.isNaN(expiresAt)) {
      throw new Error(
        `TokenRequest for serviceaccount ${request.namespace}/${request.serviceAccountName} returned no token or expiration`,
      );
    }
    this.cache.set(key, {
      token: issued.token,
      expiresAt,
      issuedAt: expiresAt - request.expirationSeconds * 1000,
    });
    return issued.token;
  }

  forgetPod(uid: string): void {
    for (const key of this.cache.keys()) if ((JSON.parse(key) as string[])[0] === uid) this.cache.delete(key);
  }

  private needsRefresh(cached: Cached, expirationSeconds: number): boolean {
    const now = this.now();
    if (now > cached.issuedAt + MAX_TTL_MS) return true;
    return now > cached.expiresAt - expirationSeconds * 200; // the last 20% of the lifetime
  }
}
