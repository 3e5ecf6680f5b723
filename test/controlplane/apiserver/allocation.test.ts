// ClusterIP and NodePort allocation: unique under concurrency, conflicts rejected with upstream's words,
// released on delete, and rebuilt from the stored Services after a restart.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startControlPlane, type TestControlPlane } from "../../support/controlplane.ts";
import { uniqueName } from "../../support/names.ts";
import { call } from "./http.ts";

interface Service {
  metadata: { name: string };
  spec: {
    clusterIP: string;
    clusterIPs: string[];
    ports: Array<{ port: number; nodePort?: number }>;
    type: string;
  };
}

interface Status {
  message: string;
  reason: string;
  details: { causes: Array<{ field: string; message: string }> };
}

function ipToNumber(ip: string): number {
  return ip.split(".").reduce((n, part) => n * 256 + Number(part), 0);
}

describe("service allocation", () => {
  let cp: TestControlPlane;
  let ns: string;
  const services = () => `/api/v1/namespaces/${ns}/services`;
  const service = (name: string, spec: Record<string, unknown> = {}) => ({
    metadata: { name },
    spec: { ports: [{ port: 80, targetPort: 8080 }], selector: { app: name }, ...spec },
  });

  beforeAll(async () => {
    cp = await startControlPlane({ controllers: false });
    ns = uniqueName("alloc");
    await call(cp, "POST", "/api/v1/namespaces", { metadata: { name: ns } });
  });

  afterAll(async () => {
    await cp?.stop();
  });

  it("gives the kubernetes Service the first address and every other Service a unique one, concurrently", async () => {
    const kubernetes = await call<Service>(cp, "GET", "/api/v1/namespaces/default/services/kubernetes");
    expect(kubernetes.body.spec.clusterIP).toBe("10.96.0.1");
    expect(kubernetes.body.spec.ports[0]).toMatchObject({ name: "https", port: 443, protocol: "TCP" });
    const names = Array.from({ length: 40 }, (_, i) => `${uniqueName("c")}-${i}`);
    const created = await Promise.all(
      names.map((name) => call<Service>(cp, "POST", services(), service(name))),
    );
    for (const res of created) expect(res.status).toBe(201);
    const ips = created.map((r) => r.body.spec.clusterIP);
    expect(new Set(ips).size).toBe(ips.length);
    for (const ip of ips) {
      expect(ip).not.toBe("10.96.0.1");
      const n = ipToNumber(ip);
      expect(n).toBeGreaterThan(ipToNumber("10.96.0.0"));
      expect(n).toBeLessThan(ipToNumber("10.111.255.255"));
    }
    expect(created[0]?.body.spec.clusterIPs).toEqual([ips[0]]);
  });

  it("rejects a ClusterIP or NodePort that is taken or out of range, writing nothing", async () => {
    const first = await call<Service>(
      cp,
      "POST",
      services(),
      service(uniqueName("np"), { type: "NodePort" }),
    );
    expect(first.status).toBe(201);
    const nodePort = first.body.spec.ports[0]?.nodePort as number;
    expect(nodePort).toBeGreaterThanOrEqual(30000);
    expect(nodePort).toBeLessThanOrEqual(32767);

    const takenIpName = uniqueName("takenip");
    const takenIp = await call<Status>(
      cp,
      "POST",
      services(),
      service(takenIpName, { clusterIP: first.body.spec.clusterIP }),
    );
    expect(takenIp.status).toBe(422);
    expect(takenIp.body.message).toContain(
      `failed to allocate IP ${first.body.spec.clusterIP}: provided IP is already allocated`,
    );
    expect(takenIp.body.details.causes[0]?.field).toBe("spec.clusterIPs");
    expect((await call(cp, "GET", `${services()}/${takenIpName}`)).status).toBe(404);

    const outside = await call<Status>(
      cp,
      "POST",
      services(),
      service(uniqueName("outside"), { clusterIP: "192.168.1.1" }),
    );
    expect(outside.status).toBe(422);
    expect(outside.body.message).toContain("The range of valid IPs is 10.96.0.0/12");

    const takenPort = await call<Status>(
      cp,
      "POST",
      services(),
      service(uniqueName("takenport"), { type: "NodePort", ports: [{ port: 80, nodePort }] }),
    );
    expect(takenPort.status).toBe(422);
    expect(takenPort.body.details.causes[0]).toMatchObject({
      field: "spec.ports[0].nodePort",
      message: `Invalid value: ${nodePort}: provided port is already allocated`,
    });
    const badPort = await call<Status>(
      cp,
      "POST",
      services(),
      service(uniqueName("badport"), { type: "NodePort", ports: [{ port: 80, nodePort: 80 }] }),
    );
    expect(badPort.status).toBe(422);
    expect(badPort.body.message).toContain("The range of valid ports is 30000-32767");
  });

  it("keeps allocations on update, releases them on delete, and remembers them across a restart", async () => {
    const name = uniqueName("keep");
    const created = await call<Service>(cp, "POST", services(), service(name, { type: "NodePort" }));
    const { clusterIP } = created.body.spec;
    const nodePort = created.body.spec.ports[0]?.nodePort as number;
    // An update that leaves the allocated values out keeps them.
    const updated = await call<Service>(
      cp,
      "PUT",
      `${services()}/${name}`,
      service(name, { type: "NodePort", ports: [{ port: 80, targetPort: 9090 }] }),
    );
    expect(updated.status).toBe(200);
    expect(updated.body.spec.clusterIP).toBe(clusterIP);
    expect(updated.body.spec.ports[0]?.nodePort).toBe(nodePort);

    await cp.restart();
    const conflict = await call<Status>(cp, "POST", services(), service(uniqueName("again"), { clusterIP }));
    expect(conflict.status).toBe(422);
    expect(conflict.body.message).toContain("provided IP is already allocated");
    const portConflict = await call<Status>(
      cp,
      "POST",
      services(),
      service(uniqueName("againport"), { type: "NodePort", ports: [{ port: 80, nodePort }] }),
    );
    expect(portConflict.status).toBe(422);

    expect((await call(cp, "DELETE", `${services()}/${name}`)).status).toBe(200);
    const reused = await call<Service>(
      cp,
      "POST",
      services(),
      service(uniqueName("reuse"), { clusterIP, type: "NodePort", ports: [{ port: 80, nodePort }] }),
    );
    expect(reused.status).toBe(201);
    expect(reused.body.spec.clusterIP).toBe(clusterIP);
  });

  it("allocates from the configured service CIDR and node-port range", async () => {
    const small = await startControlPlane({
      controllers: false,
      args: ["--service-cidr", "10.100.0.0/29", "--node-port-range", "31000-31001"],
    });
    try {
      const space = uniqueName("small");
      await call(small, "POST", "/api/v1/namespaces", { metadata: { name: space } });
      const kubernetes = await call<Service>(small, "GET", "/api/v1/namespaces/default/services/kubernetes");
      expect(kubernetes.body.spec.clusterIP).toBe("10.100.0.1");
      const path = `/api/v1/namespaces/${space}/services`;
      // Two NodePorts in the range: the third NodePort Service fails, and gives back the IP it had taken.
      const ports = await Promise.all(
        [0, 1, 2].map((i) =>
          call<Service & Status>(small, "POST", path, service(`p${i}`, { type: "NodePort" })),
        ),
      );
      expect(
        ports
          .filter((r) => r.status === 201)
          .map((r) => r.body.spec.ports[0]?.nodePort)
          .sort(),
      ).toEqual([31000, 31001]);
      expect(ports.find((r) => r.status === 422)?.body.message).toContain(
        "failed to allocate a nodePort: range is full",
      );
      // 10.100.0.0/29 has 6 usable addresses: the kubernetes Service's, two NodePort Services', three left.
      const results = await Promise.all(
        Array.from({ length: 4 }, (_, i) => call<Service & Status>(small, "POST", path, service(`s${i}`))),
      );
      expect(results.filter((r) => r.status === 201)).toHaveLength(3);
      expect(results.find((r) => r.status === 422)?.body.message).toContain("range is full");
    } finally {
      await small.stop();
    }
  });
});
