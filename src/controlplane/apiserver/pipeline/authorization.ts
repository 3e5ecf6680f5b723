// Stage 2: may this user do this? Attributes mirror upstream's authorizer.Attributes so an RBAC
// authorizer can slot in later without touching the handlers.

import type { RequestInfo } from "../request-info.ts";
import type { UserInfo } from "./authentication.ts";

export interface AuthorizationAttributes {
  user: UserInfo;
  request: RequestInfo;
}

export type Decision = { allowed: true } | { allowed: false; reason: string };

export interface Authorizer {
  readonly name: string;
  authorize(attributes: AuthorizationAttributes): Promise<Decision> | Decision;
}

export function allowAllAuthorizer(): Authorizer {
  return { name: "allow-all", authorize: () => ({ allowed: true }) };
}

/** Members of system:masters may do anything (upstream's privileged group), whatever the authorizer says. */
export async function authorize(
  authorizer: Authorizer,
  attributes: AuthorizationAttributes,
): Promise<Decision> {
  if (attributes.user.groups.includes("system:masters")) return { allowed: true };
  return authorizer.authorize(attributes);
}
