import { afterEach, describe, expect, it } from "vitest";
import { buildSandboxConfig, PodConfigError } from "../../../src/agent/pod-config/index.ts";
import { sysctlName } from "../../../src/agent/pod-config/sandbox.ts";
import { RuntimeLabels } from "../../../src/runtime/types.ts";
import { container, pod, type TestContext, testContext } from "./fixtures.ts";

let t: TestContext;
afterEach(() => t?.cleanup());

describe("buildSandboxConfig", () => {
  it("maps a pod onto the sandbox config", async () => {
    t = await testContext();
    const p = pod({
      metadata: { labels: { app: "web", [RuntimeLabels.podName]: "spoofed" }, annotations: { note: "x" } },
      spec: {
        containers: [
          container("app", {
            ports: [
              { containerPort: 80, protocol: "TCP", hostPort: 8080, hostIP: "127.0.0.1" },
              { containerPort: 53, protocol: "UDP" },
              { name: "dup", containerPort: 81, protocol: "TCP" },
              { name: "dup", containerPort: 82, protocol: "TCP" },
            ],
          }),
          container("side", { ports: [{ containerPort: 9090, protocol: "SCTP", hostPort: 9090 }] }),
        ],
        securityContext: {
          sysctls: [
            { name: "net.ipv4.ip_local_port_range", value: "1024 65000" },
            { name: "net/ipv4/conf/eth0.100/forwarding", value: "1" },
          ],
        },
      },
    });
    const config = buildSandboxConfig(p, t.ctx, 2);
    expect(config).toEqual({
      metadata: { name: "web", namespace: "ns1", uid: "uid-1", attempt: 2 },
      hostname: "web",
      labels: {
        app: "web",
        [RuntimeLabels.podName]: "web",
        [RuntimeLabels.podNamespace]: "ns1",
        [RuntimeLabels.podUid]: "uid-1",
        [RuntimeLabels.managedBy]: "true",
      },
      annotations: { note: "x" },
      hostNetwork: false,
      dnsConfig: {
        servers: ["10.96.0.10"],
        searches: ["ns1.svc.cluster.local", "svc.cluster.local", "cluster.local", "corp.example"],
        options: ["ndots:5"],
      },
      logDirectory: `${t.ctx.rootDir}/pods/uid-1/logs`,
      portMappings: [
        { protocol: "TCP", containerPort: 80, hostPort: 8080, hostIp: "127.0.0.1" },
        { protocol: "UDP", containerPort: 53 },
        { protocol: "TCP", containerPort: 81 },
        { protocol: "SCTP", containerPort: 9090, hostPort: 9090 },
      ],
      sysctls: { "net.ipv4.ip_local_port_range": "1024 65000", "net.ipv4.conf.eth0/100.forwarding": "1" },
    });
    expect(t.warnings).toEqual([]);
  });

  it.each([
    ["spec.hostname", { hostname: "db-0" }, "db-0"],
    [
      "setHostnameAsFQDN with a subdomain",
      { hostname: "db-0", subdomain: "db", setHostnameAsFQDN: true },
      "db-0.db.ns1.svc.cluster.local",
    ],
    ["setHostnameAsFQDN without a subdomain", { setHostnameAsFQDN: true }, "web"],
  ])("hostname from %s", async (_name, spec, hostname) => {
    t = await testContext();
    expect(buildSandboxConfig(pod({ spec }), t.ctx, 0).hostname).toBe(hostname);
  });

  it("truncates long pod names to 63 characters without a trailing '-' or '.'", async () => {
    t = await testContext();
    const name = `${"a".repeat(62)}-b${"c".repeat(10)}`;
    expect(buildSandboxConfig(pod({ metadata: { name } }), t.ctx, 0).hostname).toBe("a".repeat(62));
  });

  it("leaves hostname unset for host-network pods, uses the host DNS and no log directory on docker", async () => {
    t = await testContext({ runtimeName: "docker" });
    const config = buildSandboxConfig(pod({ spec: { hostNetwork: true } }), t.ctx, 0);
    expect(config.hostname).toBeUndefined();
    expect(config.hostNetwork).toBe(true);
    expect(config.logDirectory).toBeUndefined();
    expect(config.dnsConfig).toEqual({
      servers: ["192.0.2.53"],
      searches: ["corp.example"],
      options: ["edns0"],
    });
  });

  it("reports MissingClusterDNS through ctx.warn", async () => {
    t = await testContext({ clusterDNS: [] });
    buildSandboxConfig(pod(), t.ctx, 0);
    expect(t.warnings.map((w) => w.reason)).toEqual(["MissingClusterDNS"]);
  });

  it.each([
    [{ metadata: { uid: "" } }, "pod web_ns1(): metadata.uid is empty"],
    [{ spec: { hostname: "Bad_Name" } }, 'pod Hostname "Bad_Name" is not a valid DNS label'],
    [{ spec: { subdomain: "-x" } }, 'pod Subdomain "-x" is not a valid DNS label'],
    [
      { spec: { hostname: "h".repeat(40), subdomain: "s".repeat(10), setHostnameAsFQDN: true } },
      "failed to construct FQDN from pod hostname and cluster domain",
    ],
  ] as Array<[Parameters<typeof pod>[0], string]>)("rejects bad input: %#", async (extra, message) => {
    t = await testContext();
    let error: unknown;
    try {
      buildSandboxConfig(pod(extra), t.ctx, 0);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PodConfigError);
    expect((error as PodConfigError).reason).toBe("CreatePodSandboxError");
    expect((error as PodConfigError).message).toContain(message);
  });

  it("names an unreadable resolver file", async () => {
    t = await testContext();
    t.ctx.resolvConf = `${t.root}/missing-resolv.conf`;
    expect(() => buildSandboxConfig(pod(), t.ctx, 0)).toThrow(
      `cannot read the host resolver file ${t.root}/missing-resolv.conf (resolvConf)`,
    );
  });
});

describe("sysctlName", () => {
  it.each([
    ["kernel.shm_rmid_forced", "kernel.shm_rmid_forced"],
    ["kernel/shm_rmid_forced", "kernel.shm_rmid_forced"],
    ["net.ipv4.conf.eth0/100.forwarding", "net.ipv4.conf.eth0/100.forwarding"],
    ["net/ipv4/conf/eth0.100/forwarding", "net.ipv4.conf.eth0/100.forwarding"],
  ])("%s → %s", (input, expected) => {
    expect(sysctlName(input)).toBe(expected);
  });
});
