// Stage 1 of the request pipeline: who is asking. As upstream's union authenticator, every authenticator
// is asked in order: the first that recognises the request wins; when none does but one rejected the
// request (a client certificate from another CA, an unknown or expired token), the request is answered
// 401; when nobody had anything to say, the caller treats it as system:anonymous. Authenticated users get
// the system:authenticated group. Credentials are never logged or echoed back.

import type { IncomingMessage } from "node:http";

export interface UserInfo {
  name: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

export interface Authenticator {
  readonly name: string;
  /** The user; undefined when this authenticator does not recognise the request; throws to reject it (401). */
  authenticate(req: IncomingMessage): Promise<UserInfo | undefined> | UserInfo | undefined;
}

/** Why credentials were refused: said in the server's log, never in the response (always "Unauthorized"). */
export class AuthenticationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AuthenticationError";
  }
}

export const ANONYMOUS_USER = "system:anonymous";
export const UNAUTHENTICATED_GROUP = "system:unauthenticated";
export const AUTHENTICATED_GROUP = "system:authenticated";

export function anonymousUser(): UserInfo {
  return { name: ANONYMOUS_USER, groups: [UNAUTHENTICATED_GROUP] };
}

export function isAnonymous(user: UserInfo): boolean {
  return user.name === ANONYMOUS_USER || user.groups.includes(UNAUTHENTICATED_GROUP);
}

/** Everybody is system:anonymous, in system:masters (admin): for in-process servers in tests only. */
export function anonymousAdminAuthenticator(): Authenticator {
  const user: UserInfo = { name: ANONYMOUS_USER, groups: [UNAUTHENTICATED_GROUP, "system:masters"] };
  return { name: "anonymous-admin", authenticate: () => user };
}

export type AuthenticationResult =
  | { user: UserInfo }
  | { user?: undefined; rejected: Array<{ authenticator: string; reason: string }> };

/** Runs authenticators in order (upstream's union): the first user wins; else every rejection, if any. */
export async function authenticate(
  authenticators: readonly Authenticator[],
  req: IncomingMessage,
): Promise<AuthenticationResult> {
  const rejected: Array<{ authenticator: string; reason: string }> = [];
  for (const a of authenticators) {
    try {
      const user = await a.authenticate(req);
      if (user) return { user: withAuthenticatedGroup(user) };
    } catch (error) {
      rejected.push({ authenticator: a.name, reason: (error as Error).message });
    }
  }
  return { rejected };
}

function withAuthenticatedGroup(user: UserInfo): UserInfo {
  if (isAnonymous(user) || user.groups.includes(AUTHENTICATED_GROUP)) return user;
  return { ...user, groups: [...user.groups, AUTHENTICATED_GROUP] };
}
