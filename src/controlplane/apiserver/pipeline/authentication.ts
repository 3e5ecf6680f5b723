// Stage 1 of the request pipeline: who is asking. Authenticators are tried in order; the first that
// recognises the request wins. TLS client certificates and tokens arrive in a later issue; until then the
// anonymous authenticator maps every request to an anonymous user that is a cluster admin.

import type { IncomingMessage } from "node:http";

export interface UserInfo {
  name: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

export interface Authenticator {
  readonly name: string;
  /** The user, undefined when this authenticator does not recognise the request; throws to reject it (401). */
  authenticate(req: IncomingMessage): Promise<UserInfo | undefined> | UserInfo | undefined;
}

/** Everybody is system:anonymous, in system:masters (admin) — only while the server has no real authn. */
export function anonymousAdminAuthenticator(): Authenticator {
  const user: UserInfo = { name: "system:anonymous", groups: ["system:unauthenticated", "system:masters"] };
  return { name: "anonymous-admin", authenticate: () => user };
}

/** Runs authenticators in order. */
export async function authenticate(
  authenticators: readonly Authenticator[],
  req: IncomingMessage,
): Promise<UserInfo | undefined> {
  for (const a of authenticators) {
    const user = await a.authenticate(req);
    if (user) return user;
  }
  return undefined;
}
