// Table tests of the CRI driver's pure parts: request mapping to CRI messages, answers back, validation and
// error mapping. The behaviour against the real containerd is in cri-conformance/cri-driver tests.
import * as grpc from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { CriError } from "../../src/runtime/cri/client.ts";
import {
  fromCriContainer,
  fromCriContainerStatus,
  fromCriSandbox,
  fromCriSandboxStatus,
  IMAGE_ANNOTATION,
  nanosToMillis,
  toCriAuth,
  toCriContainerConfig,
  toCriSandboxConfig,
} from "../../src/runtime/cri/convert.ts";
import { toPullError, toRuntimeError } from "../../src/runtime/cri/errors.ts";
import type { Container__Output } from "../../src/runtime/cri/generated/runtime/v1/Container.ts";
import type { ContainerStatus__Output } from "../../src/runtime/cri/generated/runtime/v1/ContainerStatus.ts";
import type { PodSandbox__Output } from "../../src/runtime/cri/generated/runtime/v1/PodSandbox.ts";
import type { PodSandboxStatus__Output } from "../../src/runtime/cri/generated/runtime/v1/PodSandboxStatus.ts";
import { resolveCriOptions } from "../../src/runtime/cri/options.ts";
import { RuntimeError } from "../../src/runtime/errors.ts";
import type { ContainerConfig, PodSandboxConfig } from "../../src/runtime/types.ts";
import { validateContainerConfig, validateSandboxConfig } from "../../src/runtime/validate.ts";

const sandbox: PodSandboxConfig = {
  metadata: { name: "web", namespace: "shop", uid: "u-1", attempt: 2 },
  hostname: "web",
  dnsConfig: { servers: ["10.96.0.10"], searches: ["shop.svc.cluster.local"], options: ["ndots:5"] },
  portMappings: [
    { protocol: "TCP", containerPort: 80, hostPort: 8080, hostIp: "127.0.0.1" },
    { protocol: "UDP", containerPort: 53 },
  ],
  labels: { app: "web", "io.kubernetes.pod.uid": "spoofed" },
  annotations: { note: "x" },
  cgroupParent: "/kubepods/pod-u-1",
  sysctls: { "net.ipv4.ip_unprivileged_port_start": "0" },
};

const container: ContainerConfig = {
  metadata: { name: "app", attempt: 3 },
  image: "127.0.0.1:5000/app:1",
  command: ["/bin/app"],
  args: ["--port", "80"],
  workingDir: "/srv",
  env: [{ key: "A", value: "1" }],
  mounts: [
    { containerPath: "/data", hostPath: "/var/lib/data", readonly: true, propagation: "hostToContainer" },
  ],
  devices: [{ containerPath: "/dev/fuse", hostPath: "/dev/fuse", permissions: "rwm" }],
  resources: {
    cpuShares: 512,
    cpuPeriod: 100_000,
    cpuQuota: 50_000,
    memoryLimitBytes: 64 << 20,
    oomScoreAdj: 500,
  },
  securityContext: {
    runAsUser: 1000,
    runAsGroup: 3000,
    readOnlyRootFilesystem: true,
    noNewPrivileges: true,
    capabilities: { add: ["net_bind_service", "CAP_NET_RAW"], drop: ["ALL"] },
  },
};

describe("CRI request mapping", () => {
  it("maps a sandbox config, deriving the log directory and identity labels from the metadata", () => {
    expect(toCriSandboxConfig(sandbox, { podLogRoot: "/var/log/pods" })).toEqual({
      metadata: { name: "web", uid: "u-1", namespace: "shop", attempt: 2 },
      hostname: "web",
      log_directory: "/var/log/pods/shop_web_u-1",
      dns_config: { servers: ["10.96.0.10"], searches: ["shop.svc.cluster.local"], options: ["ndots:5"] },
      port_mappings: [
        { protocol: "TCP", container_port: 80, host_port: 8080, host_ip: "127.0.0.1" },
        { protocol: "UDP", container_port: 53, host_port: 0, host_ip: "" },
      ],
      labels: {
        app: "web",
        "io.kubernetes.pod.uid": "u-1",
        "io.kubernetes.pod.name": "web",
        "io.kubernetes.pod.namespace": "shop",
        "io.deckhand.managed": "true",
      },
      annotations: { note: "x" },
      linux: {
        cgroup_parent: "/kubepods/pod-u-1",
        sysctls: { "net.ipv4.ip_unprivileged_port_start": "0" },
        security_context: {
          namespace_options: { network: "POD", pid: "CONTAINER", ipc: "POD" },
          privileged: false,
        },
      },
    });
  });

  it("uses the node's network namespace for host-network pods and keeps an explicit log directory", () => {
    const cri = toCriSandboxConfig(
      { ...sandbox, hostNetwork: true, logDirectory: "/logs/x" },
      { podLogRoot: "/r" },
    );
    expect(cri.log_directory).toBe("/logs/x");
    expect(cri.linux?.security_context?.namespace_options?.network).toBe("NODE");
    // The node's UTS namespace: no hostname of its own (kubelet sends none either).
    expect(cri.hostname).toBe("");
  });

  it("maps a container config: resources, security context, capabilities without CAP_, kubelet's log path", () => {
    const cri = toCriContainerConfig(container, sandbox);
    expect(cri).toMatchObject({
      metadata: { name: "app", attempt: 3 },
      image: { image: "127.0.0.1:5000/app:1" },
      command: ["/bin/app"],
      args: ["--port", "80"],
      working_dir: "/srv",
      envs: [{ key: "A", value: "1" }],
      mounts: [
        {
          container_path: "/data",
          host_path: "/var/lib/data",
          readonly: true,
          propagation: "PROPAGATION_HOST_TO_CONTAINER",
        },
      ],
      devices: [{ container_path: "/dev/fuse", host_path: "/dev/fuse", permissions: "rwm" }],
      log_path: "app/3.log",
      linux: {
        resources: {
          cpu_period: 100_000,
          cpu_quota: 50_000,
          cpu_shares: 512,
          memory_limit_in_bytes: 64 << 20,
          oom_score_adj: 500,
        },
        security_context: {
          capabilities: { add_capabilities: ["NET_BIND_SERVICE", "NET_RAW"], drop_capabilities: ["ALL"] },
          privileged: false,
          namespace_options: { network: "POD", pid: "CONTAINER", ipc: "POD" },
          run_as_user: { value: 1000 },
          run_as_group: { value: 3000 },
          readonly_rootfs: true,
          no_new_privs: true,
        },
      },
    });
    expect(cri.labels).toEqual({
      "io.kubernetes.pod.uid": "u-1",
      "io.kubernetes.pod.name": "web",
      "io.kubernetes.pod.namespace": "shop",
      "io.deckhand.managed": "true",
      "io.kubernetes.container.name": "app",
      "io.kubernetes.container.restartCount": "3",
    });
    const bare = toCriContainerConfig({ metadata: { name: "b", attempt: 0 }, image: "i" }, sandbox);
    expect(bare.linux?.security_context?.run_as_user).toBeNull();
    expect(bare.log_path).toBe("b/0.log");
  });
});

describe("CRI auth mapping", () => {
  it("gives a bare registry host a scheme, because containerd parses server_address as a URL", () => {
    expect(toCriAuth({ username: "u", password: "p", serverAddress: "127.0.0.1:5001" })).toEqual({
      username: "u",
      password: "p",
      auth: "",
      server_address: "https://127.0.0.1:5001",
      identity_token: "",
      registry_token: "",
    });
    expect(toCriAuth({ auth: "dTpw", serverAddress: "http://r.example:5000" })?.server_address).toBe(
      "http://r.example:5000",
    );
    expect(toCriAuth(undefined)).toBeNull();
  });
});

describe("CRI answer mapping", () => {
  it("converts nanosecond strings to milliseconds without losing range", () => {
    expect(nanosToMillis("0")).toBe(0);
    expect(nanosToMillis("")).toBe(0);
    expect(nanosToMillis("1700000000123456789")).toBe(1_700_000_000_123);
    for (const ns of [
      "1",
      "999999",
      "1000000",
      "1999999",
      "9223372036854775807",
      "-1999999",
      "-9223372036854775808",
    ])
      expect(nanosToMillis(ns)).toBe(Number(BigInt(ns) / 1_000_000n));
    expect(nanosToMillis(5_000_000)).toBe(5);
  });

  it("maps a container status, with the sandbox ID supplied by the caller", () => {
    const s = {
      id: "c1",
      metadata: { name: "app", attempt: 1 },
      state: "CONTAINER_EXITED",
      created_at: "1700000000000000000",
      started_at: "1700000001000000000",
      finished_at: "1700000002500000000",
      exit_code: 137,
      image: { image: "busybox", annotations: {} },
      image_ref: "sha256:abc",
      reason: "OOMKilled",
      message: "",
      labels: { a: "b" },
      annotations: {},
      mounts: [],
      log_path: "/var/log/pods/x/app/1.log",
      resources: null,
    } as unknown as ContainerStatus__Output;
    expect(fromCriContainerStatus(s, "sb1")).toEqual({
      id: "c1",
      podSandboxId: "sb1",
      metadata: { name: "app", attempt: 1 },
      image: "busybox",
      imageRef: "sha256:abc",
      state: "exited",
      createdAt: 1_700_000_000_000,
      startedAt: 1_700_000_001_000,
      finishedAt: 1_700_000_002_500,
      exitCode: 137,
      reason: "OOMKilled",
      message: "",
      labels: { a: "b" },
      annotations: {},
      logPath: "/var/log/pods/x/app/1.log",
    });
  });

  it("never reports a container finishing before it started (containerd stamps the two differently)", () => {
    const s = {
      id: "c1",
      metadata: { name: "app", attempt: 0 },
      state: "CONTAINER_EXITED",
      created_at: "1000000000",
      started_at: "3000000000",
      finished_at: "2998000000",
      exit_code: 0,
      labels: {},
      annotations: {},
    } as unknown as ContainerStatus__Output;
    const status = fromCriContainerStatus(s, "sb");
    expect([status.startedAt, status.finishedAt]).toEqual([3000, 3000]);
    const running = fromCriContainerStatus({ ...s, state: "CONTAINER_RUNNING", finished_at: "0" }, "sb");
    expect(running.finishedAt).toBe(0);
  });

  it("takes over the labels and annotations of the decoded message instead of copying them", () => {
    const c = {
      id: "c1",
      pod_sandbox_id: "sb1",
      metadata: { name: "app", attempt: 0 },
      image: { image: "busybox" },
      image_ref: "sha256:abc",
      state: "CONTAINER_RUNNING",
      created_at: "1000000",
      labels: { a: "b" },
      annotations: { [IMAGE_ANNOTATION]: "busybox:1.35" },
    } as unknown as Container__Output;
    const mapped = fromCriContainer(c);
    expect(mapped).toMatchObject({ id: "c1", podSandboxId: "sb1", image: "busybox:1.35", createdAt: 1 });
    expect(mapped.labels).toBe(c.labels);
    expect(mapped.annotations).toBe(c.annotations);
    const s = {
      id: "s1",
      metadata: { name: "web", uid: "u", namespace: "ns", attempt: 0 },
      state: "SANDBOX_READY",
      created_at: "0",
      labels: { a: "b" },
      annotations: {},
    } as unknown as PodSandbox__Output;
    expect(fromCriSandbox(s).labels).toBe(s.labels);
  });

  it("maps a sandbox status with its IPs and host-network mode", () => {
    const s = {
      id: "s1",
      metadata: { name: "web", uid: "u", namespace: "ns", attempt: 0 },
      state: "SANDBOX_READY",
      created_at: "5000000",
      network: { ip: "10.89.0.7", additional_ips: [{ ip: "fd00::7" }] },
      linux: { namespaces: { options: { network: "NODE", pid: "CONTAINER", ipc: "POD" } } },
      labels: {},
      annotations: {},
      runtime_handler: "",
    } as unknown as PodSandboxStatus__Output;
    expect(fromCriSandboxStatus(s)).toMatchObject({
      state: "ready",
      createdAt: 5,
      ip: "10.89.0.7",
      additionalIps: ["fd00::7"],
      hostNetwork: true,
    });
  });
});

describe("CRI driver validation", () => {
  const invalidField = (fn: () => void): string | undefined => {
    try {
      fn();
    } catch (error) {
      if (error instanceof RuntimeError && error.code === "RUNTIME_INVALID") return error.field;
      throw error;
    }
    return undefined;
  };

  it.each<[string, Partial<PodSandboxConfig>]>([
    ["metadata.name", { metadata: { name: "", uid: "u", namespace: "n", attempt: 0 } }],
    ["metadata.uid", { metadata: { name: "a", uid: "has space", namespace: "n", attempt: 0 } }],
    ["metadata.attempt", { metadata: { name: "a", uid: "u", namespace: "n", attempt: -1 } }],
    ["hostname", { hostname: "-bad-" }],
    ["logDirectory", { logDirectory: "relative" }],
    ["dnsConfig.servers[0]", { dnsConfig: { servers: ["dns.example"], searches: [], options: [] } }],
    [
      "portMappings[0].hostIp",
      { portMappings: [{ protocol: "TCP", containerPort: 80, hostIp: "localhost" }] },
    ],
    ["cgroupParent", { cgroupParent: "kubepods" }],
    ["labels.x", { labels: { x: 1 as unknown as string } }],
  ])("rejects a sandbox config with a bad %s", (field, extra) => {
    expect(invalidField(() => validateSandboxConfig({ ...sandbox, ...extra }))).toBe(field);
  });

  it.each<[string, Partial<ContainerConfig>]>([
    ["metadata.name", { metadata: { name: "Upper_Case", attempt: 0 } }],
    ["image", { image: "has space" }],
    ["workingDir", { workingDir: "srv" }],
    ["env[0].key", { env: [{ key: "A=B", value: "" }] }],
    [
      "devices[0].permissions",
      { devices: [{ containerPath: "/dev/x", hostPath: "/dev/x", permissions: "rr" }] },
    ],
    ["logPath", { logPath: "../escape.log" }],
    ["logPath", { logPath: "/abs.log" }],
    ["resources.cpuQuota", { resources: { cpuQuota: 500 } }],
    ["resources.cpuPeriod", { resources: { cpuPeriod: 2_000_000 } }],
    ["resources.oomScoreAdj", { resources: { oomScoreAdj: -1001 } }],
    ["securityContext.runAsUser", { securityContext: { runAsUser: -1 } }],
    [
      "securityContext.capabilities.add[0]",
      { securityContext: { capabilities: { add: ["NET ADMIN"], drop: [] } } },
    ],
  ])("rejects a container config with a bad %s", (field, extra) => {
    expect(invalidField(() => validateContainerConfig({ ...container, ...extra }))).toBe(field);
  });

  it("accepts the full example configs", () => {
    expect(invalidField(() => validateSandboxConfig(sandbox))).toBeUndefined();
    expect(invalidField(() => validateContainerConfig(container))).toBeUndefined();
  });

  it("validates its own options at construction, naming the option", () => {
    expect(invalidField(() => resolveCriOptions({ endpoint: "tcp://127.0.0.1:1" }))).toBe("endpoint");
    expect(invalidField(() => resolveCriOptions({ podLogRoot: "logs" }))).toBe("podLogRoot");
    expect(invalidField(() => resolveCriOptions({ requestTimeoutMs: 0 }))).toBe("requestTimeoutMs");
    expect(resolveCriOptions({ endpoint: "/run/x.sock" }).endpoint).toBe("unix:///run/x.sock");
    expect(resolveCriOptions().endpoint).toBe("unix:///run/containerd/containerd.sock");
  });
});

describe("CRI error mapping", () => {
  const criError = (
    code: ConstructorParameters<typeof CriError>[0],
    grpcCode: grpc.status,
    details: string,
  ) =>
    new CriError(code, `CRI RuntimeService/X at unix:///s failed: ${details}`, {
      endpoint: "unix:///s",
      method: "RuntimeService/X",
      grpcCode,
      cause: Object.assign(new Error(details), { code: grpcCode, details }),
    });

  it.each<[ConstructorParameters<typeof CriError>[0], grpc.status, string, string]>([
    ["CRI_NOT_FOUND", grpc.status.NOT_FOUND, "not found", "RUNTIME_NOT_FOUND"],
    ["CRI_DEADLINE", grpc.status.DEADLINE_EXCEEDED, "deadline", "RUNTIME_DEADLINE"],
    ["CRI_UNAVAILABLE", grpc.status.UNAVAILABLE, "connect ECONNREFUSED /s", "RUNTIME_UNAVAILABLE"],
    ["CRI_ERROR", grpc.status.UNKNOWN, "timeout 1s exceeded: context deadline exceeded", "RUNTIME_DEADLINE"],
    ["CRI_ERROR", grpc.status.UNKNOWN, "something else", "RUNTIME_ERROR"],
    ["CRI_INVALID_ARGUMENT", grpc.status.INVALID_ARGUMENT, "bad", "RUNTIME_ERROR"],
  ])("%s (%s: %s) becomes %s", (code, grpcCode, details, expected) => {
    const mapped = toRuntimeError(criError(code, grpcCode, details), "do a thing", "unix:///s");
    expect(mapped.code).toBe(expected);
    expect(mapped.message).toMatch(/^do a thing: /);
    if (expected === "RUNTIME_UNAVAILABLE") expect(mapped.message).toMatch(/start containerd/);
  });

  it("pull failures from the registry are RUNTIME_IMAGE_PULL naming the image; an absent runtime is not", () => {
    const notFound = toPullError(
      criError(
        "CRI_NOT_FOUND",
        grpc.status.NOT_FOUND,
        'failed to resolve reference "r/i:t": r/i:t: not found',
      ),
      "r/i:t",
      "unix:///s",
    );
    expect(notFound.code).toBe("RUNTIME_IMAGE_PULL");
    expect(notFound.message).toBe(
      'pulling image "r/i:t" failed: failed to resolve reference "r/i:t": r/i:t: not found',
    );
    const down = toPullError(
      criError("CRI_UNAVAILABLE", grpc.status.UNAVAILABLE, "no socket"),
      "r/i:t",
      "unix:///s",
    );
    expect(down.code).toBe("RUNTIME_UNAVAILABLE");
  });
});
