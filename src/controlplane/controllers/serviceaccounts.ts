// The service account controller (upstream pkg/controller/serviceaccount): every active namespace has a
// ServiceAccount named "default"; it is recreated if deleted.
import { isAlreadyExists } from "../../api/client/errors.ts";
import type { Namespace } from "../../api/schema/core/namespace-types.ts";
import type { ServiceAccount } from "../../api/schema/core/serviceaccount.ts";
import { type ControllerContext, RESOURCES } from "./machinery/context.ts";
import { ControllerLoop, type SyncResult } from "./machinery/controller.ts";
import type { Informer } from "./machinery/informer.ts";
import { keyFor, keyOf } from "./machinery/keys.ts";

const COMPONENT = "serviceaccount-controller";
export const DEFAULT_SERVICE_ACCOUNT = "default";

export class ServiceAccountController {
  readonly loop: ControllerLoop;
  private readonly ctx: ControllerContext;
  private readonly namespaces: Informer<Namespace>;
  private readonly accounts: Informer<ServiceAccount>;

  constructor(ctx: ControllerContext) {
    this.ctx = ctx;
    this.namespaces = ctx.informers.get("namespaces");
    this.accounts = ctx.informers.get("serviceAccounts");
    this.loop = new ControllerLoop({
      name: COMPONENT,
      log: ctx.log.child({ controller: COMPONENT }),
      clock: ctx.clock,
      sync: (key) => this.sync(key),
    });
    this.namespaces.addHandler({
      add: (ns) => this.loop.enqueue(keyOf(ns)),
      update: (_o, ns) => this.loop.enqueue(keyOf(ns)),
    });
    this.accounts.addHandler({
      delete: (sa) => {
        if (sa.metadata?.name === DEFAULT_SERVICE_ACCOUNT) this.loop.enqueue(sa.metadata?.namespace ?? "");
      },
    });
  }

  run(signal: AbortSignal): Promise<void> {
    return this.loop.run(signal);
  }

  private async sync(namespace: string): Promise<SyncResult | undefined> {
    const ns = this.namespaces.get(namespace);
    if (!ns || ns.metadata?.deletionTimestamp || ns.status?.phase === "Terminating") return undefined;
    if (this.accounts.get(keyFor(namespace, DEFAULT_SERVICE_ACCOUNT))) return undefined;
    try {
      await this.ctx.client.create(
        { ...RESOURCES.serviceAccounts, namespace },
        {
          apiVersion: "v1",
          kind: "ServiceAccount",
          metadata: { name: DEFAULT_SERVICE_ACCOUNT, namespace },
        },
      );
    } catch (error) {
      // A namespace being terminated refuses new objects; AlreadyExists means the cache lags.
      if (isAlreadyExists(error) || (error as { reason?: string }).reason === "Forbidden") return undefined;
      throw error;
    }
    return undefined;
  }
}
