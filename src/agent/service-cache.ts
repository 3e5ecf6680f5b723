// Every Service of the cluster, followed by one list+watch (kubelet's service informer), for the service
// environment variables of containers: a container start reads them here instead of listing the services of
// two namespaces from the API server each time.
import type { WatchEvent } from "../api/client/client.ts";
import type { Service } from "../api/schema/core/service-types.ts";

export class ServiceCache {
  private readonly byNamespace = new Map<string, Map<string, Service>>();
  private synced = false;

  /** True once the first list has arrived. */
  get hasSynced(): boolean {
    return this.synced;
  }

  /** The services of one namespace. */
  list(namespace: string): Service[] {
    return [...(this.byNamespace.get(namespace)?.values() ?? [])];
  }

  replace(services: readonly Service[]): void {
    this.byNamespace.clear();
    for (const service of services) this.put(service);
    this.synced = true;
  }

  event(event: WatchEvent<Service>): void {
    if (event.type === "DELETED") this.remove(event.object);
    else if (event.type === "ADDED" || event.type === "MODIFIED") this.put(event.object);
  }

  private put(service: Service): void {
    const namespace = service.metadata?.namespace ?? "";
    let services = this.byNamespace.get(namespace);
    if (!services) {
      services = new Map();
      this.byNamespace.set(namespace, services);
    }
    services.set(service.metadata?.name ?? "", service);
  }

  private remove(service: Service): void {
    const namespace = service.metadata?.namespace ?? "";
    const services = this.byNamespace.get(namespace);
    services?.delete(service.metadata?.name ?? "");
    if (services?.size === 0) this.byNamespace.delete(namespace);
  }
}

/** Keeps only what service environment variables are made of. */
export function serviceEnvFields(service: Service): Service {
  const { name, namespace, resourceVersion } = service.metadata ?? {};
  const { clusterIP, ports } = service.spec ?? {};
  return { metadata: { name, namespace, resourceVersion }, spec: { clusterIP, ports } } as Service;
}
