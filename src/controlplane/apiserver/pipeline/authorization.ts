// Stage 2: may this user do this? Attributes mirror upstream's authorizer.Attributes (user + RequestInfo);
// authorizers answer allow, deny or no opinion, and a union asks each in turn (upstream's union authorizer:
// the first allow or deny wins, no opinion passes on).

import { ApiError, forbidden } from "../errors.ts";
import type { RequestInfo } from "../request-info.ts";
import type { UserInfo } from "./authentication.ts";

export interface AuthorizationAttributes {
  user: UserInfo;
  request: RequestInfo;
}

/**
 * allowed: the request may proceed. Otherwise `denied` says whether an authorizer refused outright (no later
 * authorizer is asked) or only had no opinion; `reason` is appended to the 403 message when not empty.
 */
export type Decision =
  | { allowed: true; reason?: string }
  | { allowed: false; reason: string; denied?: boolean };

export interface ResourceRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
}

export interface NonResourceRule {
  verbs: string[];
  nonResourceURLs?: string[];
}

/** What a user may do in a namespace, as far as an authorizer can enumerate it (SelfSubjectRulesReview). */
export interface UserRules {
  resourceRules: ResourceRule[];
  nonResourceRules: NonResourceRule[];
  /** The authorizer may allow more than it listed. */
  incomplete: boolean;
  evaluationError?: string;
}

export interface Authorizer {
  readonly name: string;
  authorize(attributes: AuthorizationAttributes): Promise<Decision> | Decision;
  /** Enumerates the user's permissions in `namespace` ("" for cluster-wide only); optional. */
  rulesFor?(user: UserInfo, namespace: string): UserRules;
}

export const SYSTEM_MASTERS = "system:masters";

export function allowAllAuthorizer(): Authorizer {
  return { name: "allow-all", authorize: () => ({ allowed: true }) };
}

/** Asks each authorizer in order; the first allow or explicit deny decides; the reasons of the rest are joined. */
export function unionAuthorizer(authorizers: readonly Authorizer[]): Authorizer {
  return {
    name: authorizers.map((a) => a.name).join(","),
    rulesFor(user, namespace) {
      const all: UserRules = { resourceRules: [], nonResourceRules: [], incomplete: false };
      const errors: string[] = [];
      for (const a of authorizers) {
        const rules = a.rulesFor?.(user, namespace);
        if (!rules) continue;
        all.resourceRules.push(...rules.resourceRules);
        all.nonResourceRules.push(...rules.nonResourceRules);
        all.incomplete ||= rules.incomplete;
        if (rules.evaluationError) errors.push(rules.evaluationError);
      }
      if (errors.length > 0) all.evaluationError = errors.join(", ");
      return all;
    },
    async authorize(attributes) {
      const reasons: string[] = [];
      for (const a of authorizers) {
        const decision = await a.authorize(attributes);
        if (decision.allowed) return decision;
        if (decision.reason) reasons.push(decision.reason);
        if (decision.denied) return { allowed: false, denied: true, reason: reasons.join("\n") };
      }
      return { allowed: false, reason: reasons.join("\n") };
    },
  };
}

/** Members of system:masters may do anything (upstream's privileged group), whatever the authorizer says. */
export async function authorize(
  authorizer: Authorizer,
  attributes: AuthorizationAttributes,
): Promise<Decision> {
  if (attributes.user.groups.includes(SYSTEM_MASTERS)) return { allowed: true };
  return authorizer.authorize(attributes);
}

/** Upstream's forbiddenMessage: what the user may not do, without the reason. */
export function forbiddenMessage(user: UserInfo, info: RequestInfo): string {
  if (!info.isResourceRequest) return `User "${user.name}" cannot ${info.verb} path "${info.path}"`;
  const resource = info.subresource ? `${info.resource}/${info.subresource}` : info.resource;
  const where = info.namespace ? `in the namespace "${info.namespace}"` : "at the cluster scope";
  return `User "${user.name}" cannot ${info.verb} resource "${resource}" in API group "${info.apiGroup}" ${where}`;
}

/** The 403 Status for a request the authorizer did not allow, worded as kube-apiserver words it. */
export function forbiddenError(user: UserInfo, info: RequestInfo, reason: string): ApiError {
  const message = reason ? `${forbiddenMessage(user, info)}: ${reason}` : forbiddenMessage(user, info);
  if (!info.isResourceRequest) return new ApiError(403, "Forbidden", `forbidden: ${message}`);
  return forbidden({ group: info.apiGroup, resource: info.resource }, info.name, message);
}
