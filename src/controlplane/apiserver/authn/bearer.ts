// Bearer tokens (upstream's bearertoken + websocket protocol authenticators): the token comes from
// `Authorization: Bearer <token>` or, for WebSocket clients that cannot set headers, from the
// `base64url.bearer.authorization.k8s.io.<token>` subprotocol. Token authenticators are asked in order; a
// token none of them recognises is a rejection (401), not an anonymous request. The credential is removed
// from the request once used, so nothing downstream (proxies to agents) forwards it.

import type { IncomingMessage } from "node:http";
import { AuthenticationError, type Authenticator, type UserInfo } from "../pipeline/authentication.ts";

export interface TokenAuthenticator {
  readonly name: string;
  /** The user; undefined when the token is not one of this authenticator's; throws when it is but is invalid. */
  authenticateToken(token: string): Promise<UserInfo | undefined> | UserInfo | undefined;
}

const WEBSOCKET_PREFIX = "base64url.bearer.authorization.k8s.io.";

export function bearerTokenAuthenticator(tokenAuthenticators: readonly TokenAuthenticator[]): Authenticator {
  return {
    name: "bearer-token",
    async authenticate(req) {
      const found = extractToken(req);
      if (found === undefined) return undefined;
      const reasons: string[] = [];
      for (const t of tokenAuthenticators) {
        try {
          const user = await t.authenticateToken(found.token);
          if (user) {
            found.strip();
            return user;
          }
        } catch (error) {
          reasons.push(`${t.name}: ${(error as Error).message}`);
        }
      }
      throw new AuthenticationError(reasons.length > 0 ? reasons.join("; ") : "invalid bearer token");
    },
  };
}

function extractToken(req: IncomingMessage): { token: string; strip(): void } | undefined {
  const header = req.headers.authorization;
  if (header !== undefined) {
    const match = /^\s*bearer\s+(\S+)\s*$/i.exec(header);
    if (match) return { token: match[1] as string, strip: () => delete req.headers.authorization };
    return undefined;
  }
  const protocols = req.headers["sec-websocket-protocol"];
  if (typeof protocols === "string" && protocols.includes(WEBSOCKET_PREFIX)) {
    const list = protocols.split(",").map((p) => p.trim());
    const encoded = list.find((p) => p.startsWith(WEBSOCKET_PREFIX))?.slice(WEBSOCKET_PREFIX.length) ?? "";
    const token = Buffer.from(encoded, "base64url").toString("utf8");
    if (token === "") return undefined;
    return {
      token,
      strip: () => {
        req.headers["sec-websocket-protocol"] = list
          .filter((p) => !p.startsWith(WEBSOCKET_PREFIX))
          .join(", ");
      },
    };
  }
  return undefined;
}
