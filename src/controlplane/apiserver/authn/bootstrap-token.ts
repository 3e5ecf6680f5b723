// Bootstrap tokens (upstream's bootstrap token authenticator): "<id>.<secret>" is valid while the Secret
// kube-system/bootstrap-token-<id> of type bootstrap.kubernetes.io/token holds the same secret, allows
// authentication (usage-bootstrap-authentication: "true"), has not expired and is not being deleted. The
// user is system:bootstrap:<id> in system:bootstrappers plus the token's auth-extra-groups.

import {
  BOOTSTRAP_TOKEN_NAMESPACE,
  BOOTSTRAP_USER_PREFIX,
  BOOTSTRAPPERS_GROUP,
  isExpired,
  parseToken,
  readTokenSecret,
  secretName,
  secretsEqual,
  validateExtraGroup,
} from "../../../api/bootstrap-token.ts";
import type { Clock } from "../../../util/clock.ts";
import { AuthenticationError } from "../pipeline/authentication.ts";
import type { TokenAuthenticator } from "./bearer.ts";
import type { ObjectLookup } from "./lookup.ts";

const SECRETS = { group: "", version: "v1", plural: "secrets" };

export function bootstrapTokenAuthenticator(lookup: ObjectLookup, clock: Clock): TokenAuthenticator {
  return {
    name: "bootstrap-token",
    async authenticateToken(text) {
      const token = parseToken(text);
      if (!token) return undefined;
      const secret = await lookup(SECRETS, BOOTSTRAP_TOKEN_NAMESPACE, secretName(token.id));
      const rejected = (why: string) => new AuthenticationError(`bootstrap token ${token.id}: ${why}`);
      if (!secret) throw rejected("no such token");
      if (secret.metadata?.deletionTimestamp) throw rejected("its Secret is being deleted");
      const spec = readTokenSecret(secret as Parameters<typeof readTokenSecret>[0]);
      if ("invalid" in spec) throw rejected(`its Secret is not a valid bootstrap token: ${spec.invalid}`);
      if (spec.id !== token.id || !secretsEqual(token.secret, spec.secret)) throw rejected("wrong secret");
      if (isExpired(spec, clock.now())) throw rejected(`expired at ${spec.expiration}`);
      if (!spec.usages.includes("authentication")) throw rejected("not usable for authentication");
      for (const group of spec.extraGroups) {
        const problem = validateExtraGroup(group);
        if (problem) throw rejected(`auth-extra-groups: ${problem}`);
      }
      return {
        name: `${BOOTSTRAP_USER_PREFIX}${token.id}`,
        groups: [BOOTSTRAPPERS_GROUP, ...spec.extraGroups.filter((g) => g !== BOOTSTRAPPERS_GROUP)],
      };
    },
  };
}
