import { describe, expect, it } from "vitest";
import { EndpointsChangeTracker, ServiceChangeTracker } from "../../src/proxy/change-tracker.ts";
import { makeService, makeSlice } from "./support/fixtures.ts";

const svc = (ip: string, portNumber = 80) =>
  makeService("ns", "web", { clusterIP: ip, ports: [{ name: "http", port: portNumber }] });

describe("ServiceChangeTracker", () => {
  it("reports a new Service, applies it on checkout and then has nothing pending", () => {
    const tracker = new ServiceChangeTracker();
    expect(tracker.update(svc("10.96.0.1"))).toBe(true);
    expect(tracker.ports.size).toBe(0);
    expect([...tracker.checkout().changed]).toEqual(["ns/web"]);
    expect([...tracker.ports.keys()]).toEqual(["ns/web:http/TCP"]);
    expect(tracker.hasPending).toBe(false);
  });

  it("reports the ClusterIPs of UDP ports that are gone (deleted Service or removed port), not of TCP ones", () => {
    const tracker = new ServiceChangeTracker();
    const dns = makeService("ns", "dns", {
      clusterIP: "10.96.0.53",
      ports: [
        { name: "dns", port: 53, protocol: "UDP" },
        { name: "tcp", port: 53 },
      ],
    });
    tracker.update(dns);
    tracker.update(svc("10.96.0.1"));
    expect(tracker.checkout().deletedUDPClusterIPs.size).toBe(0);
    tracker.delete(svc("10.96.0.1"));
    tracker.update({ ...dns, spec: { ...dns.spec, ports: [{ name: "tcp", port: 53, protocol: "TCP" }] } });
    expect([...tracker.checkout().deletedUDPClusterIPs]).toEqual(["10.96.0.53"]);
    tracker.delete(dns);
    expect(tracker.checkout().deletedUDPClusterIPs.size).toBe(0);
  });

  it("keeps net changes only: a change undone before the sync is not pending", () => {
    const tracker = new ServiceChangeTracker();
    tracker.update(svc("10.96.0.1"));
    tracker.checkout();
    expect(tracker.update(svc("10.96.0.1", 81))).toBe(true);
    expect(tracker.update(svc("10.96.0.1", 80))).toBe(false);
    expect(tracker.checkout().changed.size).toBe(0);
    // Metadata-only updates (resourceVersion) are no change either.
    const touched = svc("10.96.0.1");
    if (touched.metadata) touched.metadata.resourceVersion = "99";
    expect(tracker.update(touched)).toBe(false);
  });

  it("removes ports on delete, and on a relist without the Service", () => {
    const tracker = new ServiceChangeTracker();
    tracker.update(svc("10.96.0.1"));
    tracker.update(
      makeService("ns", "other", { clusterIP: "10.96.0.2", ports: [{ port: 53, protocol: "UDP" }] }),
    );
    tracker.checkout();
    expect(tracker.delete(svc("10.96.0.1"))).toBe(true);
    expect([...tracker.checkout().changed]).toEqual(["ns/web"]);
    expect([...tracker.ports.keys()]).toEqual(["ns/other/UDP"]);
    expect(tracker.replace([])).toBe(true);
    expect([...tracker.checkout().changed]).toEqual(["ns/other"]);
    expect(tracker.ports.size).toBe(0);
  });

  it("tells about Services with ports it cannot proxy", () => {
    const problems: string[] = [];
    const tracker = new ServiceChangeTracker({ onProblems: (_svc, p) => problems.push(...p) });
    tracker.update(svc("10.96.0.1"));
    tracker.update(makeService("ns", "bad", { clusterIP: "10.96.0.3", ports: [{ port: 0 }] }));
    expect(problems).toEqual(["spec.ports[0]: port 0 is not within 1..65535; port skipped"]);
  });

  it("takes Services compacted ahead (the reflector's transform) the same as whole ones, keeping a Service only to report its problems", () => {
    const heard: Array<[string, string[], string | undefined]> = [];
    const whole = new ServiceChangeTracker();
    const compacted = new ServiceChangeTracker({
      onProblems: (service, problems, object) => heard.push([service, problems, object?.metadata?.name]),
    });
    const bad = makeService("ns", "bad", { clusterIP: "10.96.0.3", ports: [{ port: 0 }] });
    expect(compacted.compact(svc("10.96.0.1")).object).toBeUndefined();
    expect(compacted.compact(bad).object).toBe(bad);
    whole.replace([svc("10.96.0.1"), bad]);
    compacted.replace([svc("10.96.0.1"), bad].map((s) => compacted.compact(s)));
    expect(compacted.checkout()).toEqual(whole.checkout());
    expect(compacted.ports).toEqual(whole.ports);
    whole.delete(svc("10.96.0.1"));
    compacted.delete(compacted.compact(svc("10.96.0.1")));
    whole.update(svc("10.96.0.9"));
    compacted.update(compacted.compact(svc("10.96.0.9")));
    expect(compacted.checkout()).toEqual(whole.checkout());
    expect(heard).toEqual([
      ["ns/web", [], undefined],
      ["ns/bad", ["spec.ports[0]: port 0 is not within 1..65535; port skipped"], "bad"],
      ["ns/web", [], undefined],
    ]);
  });
});

describe("EndpointsChangeTracker", () => {
  const slice = (name: string, ips: string[]) =>
    makeSlice(
      "ns",
      "web",
      name,
      [{ name: "http", port: 8080 }],
      ips.map((ip) => ({ ip })),
    );

  it("merges the slices of a Service and reports it changed", () => {
    const tracker = new EndpointsChangeTracker("node-1");
    tracker.update(slice("web-a", ["10.0.0.2"]));
    tracker.update(slice("web-b", ["10.0.0.1"]));
    expect([...tracker.checkout().changed]).toEqual(["ns/web"]);
    expect(tracker.endpoints.get("ns/web:http/TCP")?.map((e) => e.endpoint)).toEqual([
      "10.0.0.1:8080",
      "10.0.0.2:8080",
    ]);
  });

  it("takes slices compacted ahead (the reflector's transform) the same as whole slices", () => {
    const whole = new EndpointsChangeTracker("node-1");
    const compacted = new EndpointsChangeTracker("node-1");
    whole.replace([slice("web-a", ["10.0.0.2"]), slice("web-b", ["10.0.0.1"])]);
    compacted.replace(
      [slice("web-a", ["10.0.0.2"]), slice("web-b", ["10.0.0.1"])].map((s) => compacted.compact(s)),
    );
    expect(compacted.checkout()).toEqual(whole.checkout());
    expect(compacted.endpoints).toEqual(whole.endpoints);
    whole.delete(slice("web-a", []));
    compacted.delete(compacted.compact(slice("web-a", [])));
    whole.update(slice("web-b", ["10.0.0.3"]));
    compacted.update(compacted.compact(slice("web-b", ["10.0.0.3"])));
    expect(compacted.checkout()).toEqual(whole.checkout());
    expect(compacted.endpoints.get("ns/web:http/TCP")?.map((e) => e.endpoint)).toEqual(["10.0.0.3:8080"]);
  });

  it("keeps net changes only and hands back the previous endpoints", () => {
    const tracker = new EndpointsChangeTracker("node-1");
    tracker.update(slice("web-a", ["10.0.0.1", "10.0.0.2"]));
    tracker.checkout();
    expect(tracker.update(slice("web-a", ["10.0.0.1"]))).toBe(true);
    expect(tracker.update(slice("web-a", ["10.0.0.2", "10.0.0.1"]))).toBe(false);
    expect(tracker.update(slice("web-a", ["10.0.0.1"]))).toBe(true);
    const { changed, previous } = tracker.checkout();
    expect([...changed]).toEqual(["ns/web"]);
    expect(previous.get("ns/web")?.get("ns/web:http/TCP")?.length).toBe(2);
    expect(tracker.endpoints.get("ns/web:http/TCP")?.length).toBe(1);
  });

  it("drops endpoints when their last slice goes, including on relist", () => {
    const tracker = new EndpointsChangeTracker("node-1");
    tracker.replace([slice("web-a", ["10.0.0.1"])]);
    tracker.checkout();
    expect(tracker.replace([])).toBe(true);
    tracker.checkout();
    expect(tracker.endpoints.size).toBe(0);
    expect(tracker.delete(slice("web-a", []))).toBe(false);
  });
});
