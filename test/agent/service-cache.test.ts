import { describe, expect, it } from "vitest";
import { ServiceCache, serviceEnvFields } from "../../src/agent/service-cache.ts";
import type { Service } from "../../src/api/schema/core/service-types.ts";

const service = (namespace: string, name: string, clusterIP = "10.96.0.10"): Service => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { namespace, name, resourceVersion: "1", labels: { app: name }, managedFields: [] },
  spec: { clusterIP, ports: [{ port: 80, protocol: "TCP" }], selector: { app: name } },
});
const names = (services: Service[]) => services.map((s) => s.metadata?.name).sort();

describe("ServiceCache", () => {
  it("answers per namespace from the list, then follows watch events", () => {
    const cache = new ServiceCache();
    expect(cache.hasSynced).toBe(false);
    cache.replace([service("default", "kubernetes"), service("a", "web"), service("a", "db")]);
    expect(cache.hasSynced).toBe(true);
    expect(names(cache.list("a"))).toEqual(["db", "web"]);
    expect(names(cache.list("default"))).toEqual(["kubernetes"]);
    expect(cache.list("none")).toEqual([]);

    cache.event({ type: "ADDED", object: service("a", "cache") });
    cache.event({ type: "MODIFIED", object: service("a", "web", "10.96.0.99") });
    cache.event({ type: "DELETED", object: service("a", "db") });
    expect(names(cache.list("a"))).toEqual(["cache", "web"]);
    expect(cache.list("a").find((s) => s.metadata?.name === "web")?.spec?.clusterIP).toBe("10.96.0.99");

    cache.replace([service("b", "only")]);
    expect(cache.list("a")).toEqual([]);
    expect(names(cache.list("b"))).toEqual(["only"]);
  });

  it("keeps only the fields service links are made of", () => {
    expect(serviceEnvFields(service("a", "web"))).toEqual({
      metadata: { namespace: "a", name: "web", resourceVersion: "1" },
      spec: { clusterIP: "10.96.0.10", ports: [{ port: 80, protocol: "TCP" }] },
    });
  });
});
