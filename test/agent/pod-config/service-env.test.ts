import { describe, expect, it } from "vitest";
import { envForServices, serviceEnvForPod } from "../../../src/agent/pod-config/service-env.ts";
import { FakeApi, pod, service } from "./fixtures.ts";

describe("envForServices", () => {
  it("makes the host/port variables and the Docker link variables per port", () => {
    const env = envForServices([
      service("ns1", "my-db.v2", "10.96.3.4", [
        { name: "sql", port: 5432, protocol: "TCP" },
        { name: "metrics-http", port: 9187, protocol: "UDP" },
      ]),
    ]);
    expect(env).toEqual([
      ["MY_DB_V2_SERVICE_HOST", "10.96.3.4"],
      ["MY_DB_V2_SERVICE_PORT", "5432"],
      ["MY_DB_V2_SERVICE_PORT_SQL", "5432"],
      ["MY_DB_V2_SERVICE_PORT_METRICS_HTTP", "9187"],
      ["MY_DB_V2_PORT", "tcp://10.96.3.4:5432"],
      ["MY_DB_V2_PORT_5432_TCP", "tcp://10.96.3.4:5432"],
      ["MY_DB_V2_PORT_5432_TCP_PROTO", "tcp"],
      ["MY_DB_V2_PORT_5432_TCP_PORT", "5432"],
      ["MY_DB_V2_PORT_5432_TCP_ADDR", "10.96.3.4"],
      ["MY_DB_V2_PORT_9187_UDP", "udp://10.96.3.4:9187"],
      ["MY_DB_V2_PORT_9187_UDP_PROTO", "udp"],
      ["MY_DB_V2_PORT_9187_UDP_PORT", "9187"],
      ["MY_DB_V2_PORT_9187_UDP_ADDR", "10.96.3.4"],
    ]);
  });

  it.each([
    ["headless", "None"],
    ["no cluster IP (ExternalName)", ""],
  ])("skips %s services", (_name, ip) => {
    expect(envForServices([service("ns1", "x", ip, [{ port: 80 }])])).toEqual([]);
  });

  it("prefixes names starting with a digit and defaults the protocol to TCP", () => {
    const env = new Map(envForServices([service("ns1", "3d", "10.96.0.5", [{ port: 80 }])]));
    expect(env.get("_3D_SERVICE_HOST")).toBe("10.96.0.5");
    expect(env.get("_3D_PORT_80_TCP_PROTO")).toBe("tcp");
  });
});

describe("serviceEnvForPod", () => {
  function api() {
    const fake = new FakeApi();
    fake.services.push(
      service("default", "kubernetes", "10.96.0.1", [{ name: "https", port: 443 }]),
      service("default", "other", "10.96.0.2", [{ port: 80 }]),
      service("ns1", "web", "10.96.1.1", [{ port: 8080 }]),
      service("ns2", "elsewhere", "10.96.2.1", [{ port: 80 }]),
    );
    return fake;
  }

  it("gives the pod's namespace services plus the master service from default", async () => {
    const env = await serviceEnvForPod(pod(), api());
    expect(env.get("KUBERNETES_SERVICE_HOST")).toBe("10.96.0.1");
    expect(env.get("KUBERNETES_SERVICE_PORT_HTTPS")).toBe("443");
    expect(env.get("WEB_SERVICE_HOST")).toBe("10.96.1.1");
    expect(env.has("OTHER_SERVICE_HOST")).toBe(false);
    expect(env.has("ELSEWHERE_SERVICE_HOST")).toBe(false);
  });

  it("gives only the master service when enableServiceLinks is false", async () => {
    const env = await serviceEnvForPod(pod({ spec: { enableServiceLinks: false } }), api());
    expect([...env.keys()].every((k) => k.startsWith("KUBERNETES_"))).toBe(true);
    expect(env.get("KUBERNETES_SERVICE_HOST")).toBe("10.96.0.1");
  });

  it("lets a same-named service of the pod's namespace win over the master service", async () => {
    const fake = api();
    fake.services.push(service("ns1", "kubernetes", "10.96.9.9", [{ port: 6443 }]));
    const env = await serviceEnvForPod(pod(), fake);
    expect(env.get("KUBERNETES_SERVICE_HOST")).toBe("10.96.9.9");
  });

  it("lists default once for a pod in default", async () => {
    const fake = api();
    const env = await serviceEnvForPod(pod({ metadata: { namespace: "default" } }), fake);
    expect(fake.calls).toEqual(["services default"]);
    expect(env.get("OTHER_SERVICE_HOST")).toBe("10.96.0.2");
  });
});
