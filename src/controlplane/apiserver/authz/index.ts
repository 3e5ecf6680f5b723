// Composition of the API server's authorization: the Node authorizer, then RBAC (upstream's
// --authorization-mode=Node,RBAC), the NodeRestriction admission plugin, and the default bootstrap policy
// reconciled at start. Everything reads the server's own watch caches, never storage per request.

import type { Logger } from "pino";
import type { KubeObject } from "../../../api/resource.ts";
import { RBAC_GROUP } from "../../../api/schema/rbac/rbac.ts";
import type { AdmissionPlugin } from "../pipeline/admission.ts";
import { type Authorizer, authorize, unionAuthorizer } from "../pipeline/authorization.ts";
import { nodeRestriction } from "../pipeline/node-restriction.ts";
import type { ResourceRegistry, ServedResource } from "../resources.ts";
import type { ObjectStore } from "../store/object-store.ts";
import type { WatchCache } from "../watch/cache.ts";
import { ClusterRoleAggregator } from "./aggregation.ts";
import { reconcileBootstrapPolicy } from "./bootstrap-policy.ts";
import { type FeedTarget, feed } from "./cache-feed.ts";
import { rbacEscalation } from "./escalation.ts";
import { nodeAuthorizer } from "./node.ts";
import { NodeGraph } from "./node-graph.ts";
import { rbacAuthorizer, rbacRulesFor } from "./rbac.ts";
import { RbacIndex } from "./rbac-index.ts";

export interface ClusterAuthorizationOptions {
  registry: ResourceRegistry;
  /** The server's watch caches; read lazily (they are filled after construction). */
  caches: ReadonlyMap<ServedResource, WatchCache>;
  stores: ReadonlyMap<ServedResource, ObjectStore>;
  log: Logger;
}

export class ClusterAuthorization {
  readonly authorizer: Authorizer;
  readonly admission: AdmissionPlugin[];
  readonly rbac = new RbacIndex();
  readonly graph = new NodeGraph();
  private readonly options: ClusterAuthorizationOptions;
  private unsubscribe: Array<() => void> = [];
  private readonly aggregator: ClusterRoleAggregator;
  private started = false;

  constructor(options: ClusterAuthorizationOptions) {
    this.options = options;
    this.authorizer = unionAuthorizer([nodeAuthorizer(this.graph), rbacAuthorizer(this.rbac)]);
    this.admission = [
      nodeRestriction((name) => this.node(name)),
      rbacEscalation({
        rulesFor: (user, namespace) => {
          const rules = rbacRulesFor(this.rbac, user, namespace);
          return [...rules.resourceRules, ...rules.nonResourceRules];
        },
        clusterRole: (name) => this.rbac.clusterRole(name),
        role: (namespace, name) => this.rbac.role(namespace, name),
        authorize: (attributes) => authorize(this.authorizer, attributes),
      }),
    ];
    this.aggregator = new ClusterRoleAggregator({
      roles: () => [...this.rbac.clusterRoles.byKey.values()],
      store: () => {
        const served = options.registry.lookup(RBAC_GROUP, "v1", "clusterroles");
        return served ? options.stores.get(served) : undefined;
      },
      log: options.log,
    });
  }

  private cache(group: string, plural: string): WatchCache | undefined {
    const served = this.options.registry.lookup(group, "v1", plural);
    return served ? this.options.caches.get(served) : undefined;
  }

  /** A Node from the watch cache, else from storage (one registered a moment ago may not be cached yet). */
  private async node(name: string): Promise<KubeObject | undefined> {
    const served = this.options.registry.lookup("", "v1", "nodes");
    if (!served) return undefined;
    const cached = this.options.caches.get(served)?.getByKey(`${served.keyPrefix}${name}`);
    if (cached) return cached;
    return (await this.options.stores.get(served)?.tryGet("", name))?.object;
  }

  /** Once the caches are ready: index them and reconcile the bootstrap policy. */
  async start(): Promise<void> {
    const feeds: Array<[string, string, FeedTarget]> = [
      [RBAC_GROUP, "roles", this.rbac.roles],
      [RBAC_GROUP, "clusterroles", this.clusterRoleFeed()],
      [RBAC_GROUP, "rolebindings", this.rbac.roleBindingIndex],
      [RBAC_GROUP, "clusterrolebindings", this.rbac.clusterRoleBindingIndex],
      ["", "pods", this.graph],
    ];
    for (const [group, plural, target] of feeds) {
      const cache = this.cache(group, plural);
      if (cache) this.unsubscribe.push(feed(cache, target));
    }
    // From here every ClusterRole change (the policy's own writes included) re-runs aggregation.
    this.started = true;
    await reconcileBootstrapPolicy(this.options);
    await this.aggregator.trigger();
  }

  /** ClusterRoles go to the index, and every change re-runs aggregation (once started). */
  private clusterRoleFeed(): FeedTarget {
    return {
      apply: (type, object) => {
        this.rbac.clusterRoles.apply(type, object);
        if (this.started) void this.aggregator.trigger();
      },
      reset: () => this.rbac.clusterRoles.reset(),
    };
  }

  stop(): void {
    this.started = false;
    for (const u of this.unsubscribe) u();
    this.unsubscribe = [];
  }
}
