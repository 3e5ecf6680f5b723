// Where pods/proxy and services/proxy requests go (pure): upstream's `[scheme:]name[:port]`, port defaults,
// ready endpoints only and an even pick among them, and the proxied path as the client sent it.
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../../src/api/resource.ts";
import { streamObjectName } from "../../../src/controlplane/apiserver/streaming.ts";
import {
  podLocation,
  proxiedPath,
  serviceLocation,
  splitSchemeNamePort,
} from "../../../src/controlplane/pod-proxy.ts";

const pod = (podIP: string | undefined, ports: Array<{ name?: string; containerPort: number }> = []) =>
  ({
    metadata: { name: "web" },
    spec: { containers: [{ name: "a" }, { name: "b", ports }] },
    status: podIP ? { podIP } : {},
  }) as unknown as KubeObject;

const service = (ports: Array<{ name?: string; port: number }>, type = "ClusterIP") =>
  ({ metadata: { name: "svc" }, spec: { type, ports } }) as unknown as KubeObject;

const slice = (
  ports: Array<{ name?: string; port: number }>,
  endpoints: Array<{ addresses: string[]; ready?: boolean }>,
) =>
  ({
    ports,
    endpoints: endpoints.map((e) => ({ addresses: e.addresses, conditions: { ready: e.ready } })),
  }) as unknown as KubeObject;

describe("proxy locations", () => {
  it("splits upstream's [scheme:]name[:port]", () => {
    expect(splitSchemeNamePort("web")).toEqual({ scheme: "", name: "web", port: "" });
    expect(splitSchemeNamePort("web:8080")).toEqual({ scheme: "", name: "web", port: "8080" });
    expect(splitSchemeNamePort("https:web:https")).toEqual({ scheme: "https", name: "web", port: "https" });
    expect(splitSchemeNamePort("ftp:web:21")).toBeUndefined();
    expect(splitSchemeNamePort(":8080")).toBeUndefined();
    expect(splitSchemeNamePort("a:b:c:d")).toBeUndefined();
    expect(streamObjectName("pods", "proxy", "https:web:8443")).toBe("web");
    expect(streamObjectName("services", "proxy", "svc:http")).toBe("svc");
    expect(streamObjectName("nodes", "proxy", "node-1:10250")).toBe("node-1:10250");
    expect(streamObjectName("pods", "log", "a:b")).toBe("a:b");
  });

  it("pods: port by number or name, else the first container port; no IP is a 503", () => {
    const p = pod("10.0.0.5", [{ name: "http", containerPort: 8080 }]);
    expect(podLocation("web:9000", p)).toEqual({ scheme: "http", host: "10.0.0.5", port: 9000 });
    expect(podLocation("https:web:http", p)).toEqual({ scheme: "https", host: "10.0.0.5", port: 8080 });
    expect(podLocation("web", p)).toEqual({ scheme: "http", host: "10.0.0.5", port: 8080 });
    expect(() => podLocation("web", pod("10.0.0.5"))).toThrow("pod web declares no container port");
    expect(() => podLocation("web:nope", p)).toThrow('pod web has no container port named "nope"');
    expect(() => podLocation("web:8080", pod(undefined))).toThrow(
      expect.objectContaining({
        code: 503,
        message: "pod web has no IP address yet (status.podIP is empty)",
      }),
    );
  });

  it("services: the port by name or number, ready endpoints of that port only, each equally likely", () => {
    const svc = service([
      { name: "http", port: 80 },
      { name: "metrics", port: 9090 },
    ]);
    const slices = [
      slice(
        [
          { name: "http", port: 8080 },
          { name: "metrics", port: 9100 },
        ],
        [{ addresses: ["10.0.0.1"] }, { addresses: ["10.0.0.2"], ready: false }, { addresses: ["10.0.0.3"] }],
      ),
    ];
    expect(serviceLocation("svc:metrics", svc, slices, () => 0)).toEqual({
      scheme: "http",
      host: "10.0.0.1",
      port: 9100,
    });
    expect(serviceLocation("svc:80", svc, slices, () => 0.99)).toEqual({
      scheme: "http",
      host: "10.0.0.3",
      port: 8080,
    });
    const seen = new Set<string>();
    for (const r of [0, 0.49, 0.5, 0.99]) seen.add(serviceLocation("svc", svc, slices, () => r).host);
    expect([...seen].sort()).toEqual(["10.0.0.1", "10.0.0.3"]);
    expect(() => serviceLocation("svc:http", svc, [], () => 0)).toThrow(
      expect.objectContaining({ code: 503, message: 'no endpoints available for service "svc:http"' }),
    );
    expect(() => serviceLocation("svc:1", svc, slices)).toThrow(
      'no service port "1" found for service "svc"',
    );
    expect(() => serviceLocation("svc", service([{ port: 80 }], "ExternalName"), [])).toThrow("ExternalName");
    // An unnamed Service port matches the slice's unnamed port.
    expect(
      serviceLocation("svc", service([{ port: 80 }]), [
        slice([{ port: 8080 }], [{ addresses: ["10.0.0.9"] }]),
      ]),
    ).toEqual({ scheme: "http", host: "10.0.0.9", port: 8080 });
  });

  it("keeps the proxied path and query as sent", () => {
    expect(proxiedPath("/api/v1/namespaces/n/pods/web:80/proxy/a%20b/?q=1", "web:80")).toEqual({
      path: "/a%20b/",
      search: "?q=1",
    });
    expect(proxiedPath("/api/v1/namespaces/n/pods/web/proxy", "web")).toEqual({ path: "", search: "" });
    expect(proxiedPath("/api/v1/namespaces/n/pods/web%3A80/proxy/x", "web:80")).toEqual({
      path: "/x",
      search: "",
    });
  });
});
