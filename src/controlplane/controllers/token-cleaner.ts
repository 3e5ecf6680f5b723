// The token cleaner (upstream pkg/controller/bootstrap/tokencleaner.go): deletes bootstrap-token Secrets in
// kube-system once their expiration has passed, checking again exactly when the next one expires. The
// authenticator refuses expired tokens on its own; this only keeps them from piling up.

import { BOOTSTRAP_TOKEN_SECRET_TYPE, isExpired, readTokenSecret } from "../../api/bootstrap-token.ts";
import { isConflict, isNotFound } from "../../api/client/errors.ts";
import type { Secret } from "../../api/schema/core/config-types.ts";
import { type ControllerContext, RESOURCES } from "./machinery/context.ts";
import { ControllerLoop, type SyncResult } from "./machinery/controller.ts";
import type { Informer } from "./machinery/informer.ts";
import { keyOf, splitKey } from "./machinery/keys.ts";

const COMPONENT = "token-cleaner";

export class TokenCleanerController {
  readonly loop: ControllerLoop;
  private readonly ctx: ControllerContext;
  private readonly secrets: Informer<Secret>;

  constructor(ctx: ControllerContext) {
    this.ctx = ctx;
    this.secrets = ctx.informers.get("kubeSystemSecrets");
    this.loop = new ControllerLoop({
      name: COMPONENT,
      log: ctx.log.child({ controller: COMPONENT }),
      clock: ctx.clock,
      sync: (key) => this.sync(key),
    });
    const changed = (secret: Secret) => {
      if (secret.type === BOOTSTRAP_TOKEN_SECRET_TYPE) this.loop.enqueue(keyOf(secret));
    };
    this.secrets.addHandler({ add: changed, update: (_o, s) => changed(s) });
  }

  run(signal: AbortSignal): Promise<void> {
    return this.loop.run(signal);
  }

  private async sync(key: string): Promise<SyncResult | undefined> {
    const secret = this.secrets.get(key);
    if (!secret || secret.type !== BOOTSTRAP_TOKEN_SECRET_TYPE || secret.metadata?.deletionTimestamp)
      return undefined;
    const token = readTokenSecret(secret);
    const expiration = "invalid" in token ? undefined : token.expiration;
    if (!expiration) return undefined;
    const now = this.ctx.clock.now();
    if (!isExpired({ expiration }, now)) return { requeueAfterMs: Date.parse(expiration) - now + 1 };
    const { namespace, name } = splitKey(key);
    try {
      await this.ctx.client.delete(
        { ...RESOURCES.kubeSystemSecrets, namespace, name },
        { preconditions: { uid: secret.metadata?.uid } },
      );
      this.ctx.log.info(
        { controller: COMPONENT, secret: key, expiration },
        "deleted expired bootstrap token",
      );
    } catch (error) {
      if (!isNotFound(error) && !isConflict(error)) throw error;
    }
    return undefined;
  }
}
