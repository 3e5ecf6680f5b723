import { describe, expect, it } from "vitest";
import { ConfigError, defaultConfig, finishConfig, parseConfigFile } from "../../src/agent/config.ts";

describe("agent configuration", () => {
  it("has upstream kubelet defaults", () => {
    const config = finishConfig(defaultConfig());
    expect(config.maxPods).toBe(110);
    expect(config.nodeStatusUpdateFrequencyMs).toBe(10_000);
    expect(config.nodeStatusReportFrequencyMs).toBe(300_000);
    expect(config.nodeLeaseDurationSeconds).toBe(40);
    expect(config.fileCheckFrequencyMs).toBe(20_000);
    expect(config.clusterDomain).toBe("cluster.local");
    expect(config.evictionHard["memory.available"]).toBe("100Mi");
    expect(config.runtimeEndpoint).toBe("unix:///run/containerd/containerd.sock");
  });

  it("reads KubeletConfiguration-style YAML", () => {
    const parsed = parseConfigFile(
      [
        "apiVersion: kubelet.config.k8s.io/v1beta1",
        "kind: KubeletConfiguration",
        "maxPods: 50",
        "podCIDR: 10.244.1.0/24",
        "clusterCIDR: 10.244.0.0/16",
        "clusterDNS: [10.96.0.10]",
        "systemReserved: { cpu: 100m, memory: 256Mi }",
        "nodeStatusUpdateFrequency: 5s",
        "registerWithTaints: [{ key: dedicated, value: infra, effect: NoSchedule }]",
        "staticPodPath: /etc/deckhand/manifests",
      ].join("\n"),
      "test.yaml",
    );
    expect(parsed).toMatchObject({
      maxPods: 50,
      podCIDR: "10.244.1.0/24",
      clusterCIDR: "10.244.0.0/16",
      clusterDNS: ["10.96.0.10"],
      systemReserved: { cpu: "100m", memory: "256Mi" },
      nodeStatusUpdateFrequencyMs: 5000,
      registerWithTaints: [{ key: "dedicated", value: "infra", effect: "NoSchedule" }],
    });
  });

  it.each([
    ["maxPods: -1", "maxPods", "must be an integer from 1 to 10000"],
    ["podCIDR: 10.244.1.0", "podCIDR", "must be an IPv4 CIDR"],
    ["clusterCIDR: 10.244.0.0/33", "clusterCIDR", "must be an IPv4 CIDR"],
    ["nodeStatusUpdateFrequency: often", "nodeStatusUpdateFrequency", 'must be a duration like "10s"'],
    ["systemReserved: { memory: lots }", "systemReserved.memory", "is not a quantity"],
    ["evictionHard: { memory.free: 1Gi }", "evictionHard.memory.free", "unknown eviction signal"],
    ["registerWithTaints: [{ key: a, effect: Sometimes }]", "registerWithTaints[0].effect", "must be one of"],
    ["maxpods: 3", "maxpods", "unknown field"],
    ["clusterDNS: [10.96.0.300]", "clusterDNS[0]", "must be an IPv4 address"],
  ])("rejects %s naming %s", (yaml, field, message) => {
    let error: unknown;
    try {
      parseConfigFile(yaml, "bad.yaml");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).field).toBe(field);
    expect((error as ConfigError).message).toContain(message);
  });

  it("checks fields against each other after flags are applied", () => {
    expect(() => finishConfig({ ...defaultConfig(), nodeStatusReportFrequencyMs: 1000 })).toThrow(
      /nodeStatusReportFrequency/,
    );
    expect(() => finishConfig({ ...defaultConfig(), nodeName: "Worker_1" })).toThrow(
      /nodeName: must be a lower-case DNS subdomain/,
    );
    expect(finishConfig({ ...defaultConfig(), runtime: "docker" }).runtimeEndpoint).toBe(
      "unix:///var/run/docker.sock",
    );
  });
});
