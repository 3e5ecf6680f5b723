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
  /** The lifetime the server granted (spec.expirationSeconds of its answer), when it says. */
  expirationSeconds?: number;
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
  private readonly onRefreshError:
    | ((request: ServiceAccountTokenRequest, error: unknown) => void)
    | undefined;
  private readonly cache = new Map<string, Cached>();

  constructor(
    request: (request: ServiceAccountTokenRequest) => Promise<IssuedToken>,
    now: () => number = Date.now,
    /** Told when a refresh failed and the still-valid cached token was served instead. */
    onRefreshError?: (request: ServiceAccountTokenRequest, error: unknown) => void,
  ) {
    this.request = request;
    this.now = now;
    this.onRefreshError = onRefreshError;
  }

  async getToken(request: ServiceAccountTokenRequest): Promise<string> {
    const key = JSON.stringify([
      request.boundPod.uid,
      request.namespace,
      request.serviceAccountName,
      request.audience ?? "",
      request.expirationSeconds,
    ]);
    this.dropExpired();
    const cached = this.cache.get(key);
    if (cached && !this.needsRefresh(cached)) return cached.token;
    let fresh: Cached;
    try {
      fresh = await this.issue(request);
    } catch (error) {
      // Like kubelet: a failed refresh keeps serving the old token while it is still valid.
      if (!cached || this.now() >= cached.expiresAt) throw error;
      this.onRefreshError?.(request, error);
      return cached.token;
    }
    this.cache.set(key, fresh);
    return fresh.token;
  }

  private async issue(request: ServiceAccountTokenRequest): Promise<Cached> {
    const issued = await this.request(request);
    const expiresAt = Date.parse(issued.expirationTimestamp);
    if (!issued.token || Number.isNaN(expiresAt)) {
      throw new Error(
        `TokenRequest for serviceaccount ${request.namespace}/${request.serviceAccountName} returned no token or expiration`,
      );
    }
    const lifetimeMs = (issued.expirationSeconds ?? request.expirationSeconds) * 1000;
    return { token: issued.token, expiresAt, issuedAt: expiresAt - lifetimeMs };
  }

  private dropExpired(): void {
    const now = this.now();
    for (const [key, cached] of this.cache) if (now >= cached.expiresAt) this.cache.delete(key);
  }

  forgetPod(uid: string): void {
    for (const key of this.cache.keys()) if ((JSON.parse(key) as string[])[0] === uid) this.cache.delete(key);
  }

  /** kubelet's requiresRefresh: older than 24 hours, or in the last 20% of its lifetime. */
  needsRefresh(cached: Pick<Cached, "issuedAt" | "expiresAt">): boolean {
    const now = this.now();
    if (now > cached.issuedAt + MAX_TTL_MS) return true;
    return now > cached.expiresAt - (cached.expiresAt - cached.issuedAt) / 5;
  }
}
