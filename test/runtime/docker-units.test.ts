// Table tests of the Docker driver's pure parts: validation, create requests, status mapping, log parsing,
// stats, image references and options. The behaviour against the engine is in the conformance suite and
// docker-driver.test.ts.
import type Docker from "dockerode";
import { describe, expect, it } from "vitest";
import {
  containerState,
  containerStatusFromInspect,
  dockerTimeMs,
} from "../../src/runtime/docker/convert.ts";
import { dockerAuth, normalizeImageRef, registryOf } from "../../src/runtime/docker/images.ts";
import { decodeLabels, encodeLabels } from "../../src/runtime/docker/labels.ts";
import { demuxLogLines, dockerSince, rawLogLines } from "../../src/runtime/docker/logs.ts";
import { resolveDockerOptions } from "../../src/runtime/docker/options.ts";
import { containerCreateOptions, sandboxCreateOptions } from "../../src/runtime/docker/specs.ts";
import { statsFromDocument } from "../../src/runtime/docker/stats.ts";
import { RuntimeError } from "../../src/runtime/errors.ts";
import type { ContainerConfig, LogLine, PodSandboxConfig } from "../../src/runtime/types.ts";
import { validateContainerConfig, validateSandboxConfig } from "../../src/runtime/validate.ts";

const pod: PodSandboxConfig = {
  metadata: { name: "web", namespace: "shop", uid: "0b7c-11", attempt: 2 },
  hostname: "web",
  labels: { app: "web" },
  annotations: { note: "x" },
  portMappings: [
    { protocol: "TCP", containerPort: 80, hostPort: 8080, hostIp: "127.0.0.1" },
    { protocol: "UDP", containerPort: 53 },
  ],
  dnsConfig: { servers: ["10.96.0.10"], searches: ["svc.cluster.local"], options: ["ndots:5"] },
  cgroupParent: "/kubepods/burstable",
};

const container: ContainerConfig = {
  metadata: { name: "app", attempt: 1 },
  image: "deckhand.local/busybox:1.35",
  command: ["sh", "-c"],
  args: ["echo hi"],
  env: [{ key: "A", value: "b=c" }],
  mounts: [
    { containerPath: "/data", hostPath: "/srv/data" },
    { containerPath: "/ro", hostPath: "/srv/ro", readonly: true, propagation: "hostToContainer" },
  ],
  resources: {
    cpuShares: 512,
    cpuQuota: 50000,
    cpuPeriod: 100000,
    memoryLimitBytes: 1 << 26,
    oomScoreAdj: -997,
  },
  securityContext: { runAsUser: 1000, runAsGroup: 3000, capabilities: { add: ["NET_ADMIN"], drop: ["ALL"] } },
};

function fieldOf(fn: () => void): string | undefined {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(RuntimeError);
    expect((error as RuntimeError).code).toBe("RUNTIME_INVALID");
    return (error as RuntimeError).field;
  }
  return undefined;
}

describe("docker driver: validation", () => {
  it("accepts the sample configs", () => {
    expect(fieldOf(() => validateSandboxConfig(pod))).toBeUndefined();
    expect(fieldOf(() => validateContainerConfig(container))).toBeUndefined();
  });

  it.each<[string, Partial<PodSandboxConfig>]>([
    ["metadata.name", { metadata: { ...pod.metadata, name: "a_b" } }],
    ["metadata.attempt", { metadata: { ...pod.metadata, attempt: -1 } }],
    ["hostname", { hostname: "-bad" }],
    ["dnsConfig.servers[0]", { dnsConfig: { servers: ["dns.example"], searches: [], options: [] } }],
    ["portMappings[0].containerPort", { portMappings: [{ protocol: "TCP", containerPort: 65536 }] }],
    ["portMappings[0].hostPort", { portMappings: [{ protocol: "TCP", containerPort: 1, hostPort: 1.5 }] }],
    [
      "portMappings[0].hostIp",
      { portMappings: [{ protocol: "TCP", containerPort: 1, hostIp: "localhost" }] },
    ],
    ["cgroupParent", { cgroupParent: "kubepods" }],
  ])("rejects sandbox field %s", (field, extra) => {
    expect(fieldOf(() => validateSandboxConfig({ ...pod, ...extra }))).toBe(field);
  });

  it.each<[string, Partial<ContainerConfig>]>([
    ["metadata.name", { metadata: { name: "", attempt: 0 } }],
    ["image", { image: " " }],
    ["workingDir", { workingDir: "tmp" }],
    ["env[0].key", { env: [{ key: "A=B", value: "" }] }],
    [
      "mounts[1].containerPath",
      {
        mounts: [
          { containerPath: "/a", hostPath: "/a" },
          { containerPath: "b", hostPath: "/b" },
        ],
      },
    ],
    [
      "devices[0].permissions",
      { devices: [{ containerPath: "/dev/x", hostPath: "/dev/null", permissions: "rx" }] },
    ],
    ["resources.memoryLimitBytes", { resources: { memoryLimitBytes: -1 } }],
    ["resources.cpuShares", { resources: { cpuShares: 2.5 } }],
    ["resources.oomScoreAdj", { resources: { oomScoreAdj: -1001 } }],
    ["securityContext.runAsUser", { securityContext: { runAsUser: -1 } }],
    [
      "securityContext.capabilities.add[0]",
      { securityContext: { capabilities: { add: ["NET ADMIN"], drop: [] } } },
    ],
  ])("rejects container field %s", (field, extra) => {
    expect(fieldOf(() => validateContainerConfig({ ...container, ...extra }))).toBe(field);
  });
});

describe("docker driver: create requests", () => {
  const options = resolveDockerOptions({ pauseImage: "deckhand.local/pause:3.9" });

  it("builds a dockershim-style sandbox: pause image, bridge, shareable IPC, ports, DNS, no negative OOM score", () => {
    const spec = sandboxCreateOptions(pod, options);
    expect(spec.name).toBe("k8s_POD_web_shop_0b7c-11_2");
    expect(spec.Image).toBe("deckhand.local/pause:3.9");
    expect(spec.Hostname).toBe("web");
    expect(spec.ExposedPorts).toEqual({ "80/tcp": {}, "53/udp": {} });
    expect(spec.HostConfig).toMatchObject({
      NetworkMode: "bridge",
      IpcMode: "shareable",
      PortBindings: { "80/tcp": [{ HostIp: "127.0.0.1", HostPort: "8080" }] },
      Dns: ["10.96.0.10"],
      DnsSearch: ["svc.cluster.local"],
      DnsOptions: ["ndots:5"],
      CgroupParent: "/kubepods/burstable",
      OomScoreAdj: 0,
    });
    expect(spec.Labels).toMatchObject({
      app: "web",
      "annotation.note": "x",
      "io.kubernetes.pod.uid": "0b7c-11",
      "io.kubernetes.pod.name": "web",
      "io.kubernetes.pod.namespace": "shop",
      "io.deckhand.managed": "true",
      "io.kubernetes.docker.type": "podsandbox",
    });
  });

  it("puts host-network sandboxes on the host network without hostname or published ports", () => {
    const spec = sandboxCreateOptions({ ...pod, hostNetwork: true }, options);
    expect(spec.HostConfig?.NetworkMode).toBe("host");
    expect(spec.Hostname).toBeUndefined();
    expect(spec.HostConfig?.PortBindings).toEqual({});
  });

  it("joins app containers to the sandbox and maps resources, mounts and security", () => {
    const spec = containerCreateOptions("sbx123", container, pod, options);
    expect(spec.name).toBe("k8s_app_web_shop_0b7c-11_1");
    expect(spec.Entrypoint).toEqual(["sh", "-c"]);
    expect(spec.Cmd).toEqual(["echo hi"]);
    expect(spec.Env).toEqual(["A=b=c"]);
    expect(spec.User).toBe("1000:3000");
    expect(spec.HostConfig).toMatchObject({
      NetworkMode: "container:sbx123",
      IpcMode: "container:sbx123",
      PidMode: "container:sbx123",
      Binds: ["/srv/data:/data:rw,rprivate", "/srv/ro:/ro:ro,rslave"],
      CpuShares: 512,
      CpuQuota: 50000,
      CpuPeriod: 100000,
      Memory: 1 << 26,
      MemorySwap: 1 << 26,
      OomScoreAdj: 0,
      CapAdd: ["NET_ADMIN"],
      CapDrop: ["ALL"],
      CgroupParent: "/kubepods/burstable",
    });
    expect(spec.Labels).toMatchObject({
      "io.kubernetes.container.name": "app",
      "io.kubernetes.container.restartCount": "1",
      "io.kubernetes.sandbox.id": "sbx123",
      "io.kubernetes.docker.type": "container",
    });
  });

  it("passes a negative OOM score only when the restriction is turned off", () => {
    const open = resolveDockerOptions({ restrictOomScoreAdj: false });
    expect(containerCreateOptions("s", container, pod, open).HostConfig?.OomScoreAdj).toBe(-997);
    expect(sandboxCreateOptions(pod, open).HostConfig?.OomScoreAdj).toBe(-998);
    expect(
      containerCreateOptions("s", { ...container, resources: {} }, pod, options).HostConfig?.OomScoreAdj,
    ).toBe(undefined);
  });

  it("leaves the image's entrypoint and command alone when none are given; no PID sharing when disabled", () => {
    const noPid = resolveDockerOptions({ sharePidNamespace: false });
    const spec = containerCreateOptions(
      "s",
      { ...container, command: undefined, args: undefined },
      pod,
      noPid,
    );
    expect(spec.Entrypoint).toBeUndefined();
    expect(spec.Cmd).toBeUndefined();
    expect(spec.HostConfig?.PidMode).toBeUndefined();
  });

  it("rejects a colon in a bind path, which Docker's Binds syntax cannot express", () => {
    const bad = { ...container, mounts: [{ containerPath: "/a", hostPath: "/srv/a:b" }] };
    expect(fieldOf(() => containerCreateOptions("s", bad, pod, options))).toBe("mounts[0].hostPath");
  });

  it("round-trips labels and annotations, hiding the driver's bookkeeping labels", () => {
    const encoded = encodeLabels({ a: "1" }, { b: "2" }, { "io.kubernetes.docker.type": "container" });
    expect(decodeLabels(encoded)).toEqual({ labels: { a: "1" }, annotations: { b: "2" } });
  });
});

function inspect(state: Partial<Docker.ContainerInspectInfo["State"]>): Docker.ContainerInspectInfo {
  return {
    Id: "c1",
    Created: "2026-01-01T00:00:00.5Z",
    Image: "sha256:abc",
    LogPath: "/var/lib/docker/containers/c1/c1-json.log",
    Name: "/k8s_app_web_shop_u_0",
    Config: {
      Image: "busybox",
      Labels: {
        "io.kubernetes.container.name": "app",
        "io.kubernetes.container.restartCount": "3",
        "io.kubernetes.sandbox.id": "s1",
        "io.deckhand.container.image": "deckhand.local/busybox:1.35",
      },
    },
    State: {
      Status: "exited",
      Running: false,
      Paused: false,
      Restarting: false,
      OOMKilled: false,
      Dead: false,
      Pid: 0,
      ExitCode: 0,
      Error: "",
      StartedAt: "2026-01-01T00:00:01Z",
      FinishedAt: "2026-01-01T00:00:02Z",
      ...state,
    },
  } as unknown as Docker.ContainerInspectInfo;
}

describe("docker driver: status mapping", () => {
  it.each([
    ["exit 0", { ExitCode: 0 }, "exited", 0, "Completed"],
    ["exit 2", { ExitCode: 2 }, "exited", 2, "Error"],
    ["OOM", { ExitCode: 137, OOMKilled: true }, "exited", 137, "OOMKilled"],
    [
      "start failed",
      { Status: "created", ExitCode: 127, StartedAt: "0001-01-01T00:00:00Z", Error: "exec: not found" },
      "exited",
      127,
      "ContainerCannotRun",
    ],
    ["running", { Status: "running", Running: true, FinishedAt: "0001-01-01T00:00:00Z" }, "running", 0, ""],
  ] as const)("%s", (_name, state, expected, exitCode, reason) => {
    const s = containerStatusFromInspect(inspect(state));
    expect([s.state, s.exitCode, s.reason]).toEqual([expected, exitCode, reason]);
    expect(s.metadata).toEqual({ name: "app", attempt: 3 });
    expect(s.podSandboxId).toBe("s1");
    expect(s.image).toBe("deckhand.local/busybox:1.35");
    expect(s.imageRef).toBe("sha256:abc");
  });

  it("never reports a container finished before it started (Docker stamps StartedAt late)", () => {
    const s = containerStatusFromInspect(
      inspect({ StartedAt: "2026-01-01T00:00:02.010Z", FinishedAt: "2026-01-01T00:00:02.007Z" }),
    );
    expect(s.finishedAt).toBe(s.startedAt);
  });

  it("maps Docker states and zero times", () => {
    expect(["created", "running", "paused", "exited", "dead", "removing"].map(containerState)).toEqual([
      "created",
      "running",
      "running",
      "exited",
      "exited",
      "unknown",
    ]);
    expect(dockerTimeMs("0001-01-01T00:00:00Z")).toBe(0);
    expect(dockerTimeMs("2026-01-01T00:00:00.123456789Z")).toBe(Date.UTC(2026, 0, 1, 0, 0, 0, 123));
  });
});

function frame(stream: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

async function* chunked(buffer: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < buffer.length; i += size) yield buffer.subarray(i, i + size);
}

async function all(lines: AsyncIterable<LogLine>): Promise<Array<[string, string, string, boolean]>> {
  const out: Array<[string, string, string, boolean]> = [];
  for await (const l of lines) out.push([l.time, l.stream, l.content.toString(), l.partial]);
  return out;
}

describe("docker driver: log parsing", () => {
  const t1 = "2026-11-22T00:15:38.667430133Z";
  const t2 = "2026-11-22T00:15:38.667431000Z";

  it("demultiplexes frames split at any byte boundary", async () => {
    const stream = Buffer.concat([
      frame(1, `${t1} one two\n`),
      frame(2, `${t2} oops\n`),
      frame(1, `${t2} tail`),
    ]);
    for (const size of [1, 3, 7, 1000]) {
      expect(await all(demuxLogLines(chunked(stream, size)))).toEqual([
        [t1, "stdout", "one two", false],
        [t2, "stderr", "oops", false],
        [t2, "stdout", "tail", true],
      ]);
    }
  });

  it("parses raw TTY logs line by line", async () => {
    const raw = Buffer.from(`${t1} hello\r\n${t2} world\r\n`);
    expect(await all(rawLogLines(chunked(raw, 5)))).toEqual([
      [t1, "stdout", "hello\r", false],
      [t2, "stdout", "world\r", false],
    ]);
  });

  it("formats `since` as seconds.nanoseconds", () => {
    expect(dockerSince(1_700_000_000_123)).toBe("1700000000.123000000");
  });
});

describe("docker driver: stats, images and options", () => {
  it("computes the working set as usage minus inactive file (cgroup v1 and v2 keys)", () => {
    const ids = { containerId: "c", name: "app" };
    const v1 = statsFromDocument(
      {
        cpu_stats: { cpu_usage: { total_usage: 5 } },
        memory_stats: { usage: 100, stats: { total_inactive_file: 30 } },
      },
      ids,
      1,
    );
    expect([v1.cpuUsageCoreNanoSeconds, v1.memoryWorkingSetBytes, v1.memoryUsageBytes]).toEqual([5, 70, 100]);
    const v2 = statsFromDocument({ memory_stats: { usage: 100, stats: { inactive_file: 130 } } }, ids, 1);
    expect(v2.memoryWorkingSetBytes).toBe(0);
  });

  it("normalizes references and finds their registry", () => {
    expect(normalizeImageRef("busybox")).toBe("busybox:latest");
    expect(normalizeImageRef("127.0.0.1:5000/deckhand/busybox")).toBe(
      "127.0.0.1:5000/deckhand/busybox:latest",
    );
    expect(normalizeImageRef("127.0.0.1:5000/deckhand/busybox:1.35")).toBe(
      "127.0.0.1:5000/deckhand/busybox:1.35",
    );
    expect(normalizeImageRef("busybox@sha256:abc")).toBe("busybox@sha256:abc");
    expect(registryOf("127.0.0.1:5001/deckhand/busybox:1")).toBe("127.0.0.1:5001");
    expect(registryOf("library/busybox:1")).toBe("docker.io");
    expect(registryOf("localhost/x:1")).toBe("localhost");
  });

  it("turns runtime credentials into Docker's auth config", () => {
    const auth = Buffer.from("deckhand:pw:with:colons").toString("base64");
    expect(dockerAuth("127.0.0.1:5001/a:b", { auth })).toEqual({
      serveraddress: "127.0.0.1:5001",
      username: "deckhand",
      password: "pw:with:colons",
    });
    expect(dockerAuth("127.0.0.1:5001/a:b", undefined)).toBeUndefined();
  });

  it("validates options once, naming the field", () => {
    expect(resolveDockerOptions({ socketPath: "unix:///run/x.sock" }).endpoint).toBe("unix:///run/x.sock");
    expect(resolveDockerOptions().pauseImage).toBe("registry.k8s.io/pause:3.10");
    expect(() => resolveDockerOptions({ socketPath: "docker.sock" })).toThrow(/socketPath/);
    expect(() => resolveDockerOptions({ requestTimeoutMs: 0 })).toThrow(/requestTimeoutMs/);
  });
});
