// buildContainerConfig end to end over a real pod directory: env, expansion, mounts (volumes, subPath bind
// mounts, /etc/hosts, termination log), log path, resources, security, labels. subPath mounts are real bind
// mounts, so these tests need root.
import { mkdir, readFile, realpath, stat, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { containerSpecHash } from "../../../src/agent/planner.ts";
import {
  buildContainerConfig,
  type ContainerConfigOptions,
  cleanupPodDirs,
  PodConfigError,
  prepareVolumes,
} from "../../../src/agent/pod-config/index.ts";
import { parseMountInfo } from "../../../src/agent/pod-config/mounter.ts";
import type { Container } from "../../../src/api/schema/core/container.ts";
import type { Pod } from "../../../src/api/schema/core/pod-types.ts";
import { RuntimeLabels } from "../../../src/runtime/types.ts";
import { requireRoot } from "../../support/env.ts";
import { container, pod, service, type TestContext, testContext } from "./fixtures.ts";

let t: TestContext;
beforeAll(() => requireRoot());
afterEach(async () => {
  if (!t) return;
  await cleanupPodDirs("uid-1", t.ctx);
  expect(await mountsUnder(t.root)).toEqual([]);
  await t.cleanup();
});

async function mountsUnder(dir: string): Promise<string[]> {
  const real = await realpath(dir).catch(() => dir);
  return parseMountInfo(await readFile("/proc/self/mountinfo", "utf8")).filter((p) =>
    p.startsWith(`${real}/`),
  );
}

async function build(p: Pod, c: Container, extra: Partial<ContainerConfigOptions> = {}) {
  const volumes = await prepareVolumes(p, t.ctx);
  return buildContainerConfig(p, c, {
    podIP: "10.89.0.7",
    restartCount: 0,
    volumes,
    ctx: t.ctx,
    isInit: false,
    imageUser: { uid: 0 },
    ...extra,
  });
}

async function failure(promise: Promise<unknown>): Promise<PodConfigError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PodConfigError);
  return error as PodConfigError;
}

describe("buildContainerConfig", () => {
  it("builds the whole config", async () => {
    t = await testContext();
    t.api.services.push(service("default", "kubernetes", "10.96.0.1", [{ name: "https", port: 443 }]));
    t.api.setConfigMap("ns1", "cfg", { greeting: "hello" });
    const app = container("app", {
      command: ["sh", "-c", "echo $(GREETING) $$(HOME) $(KUBERNETES_SERVICE_HOST) $(MISSING)"],
      args: ["--ip=$(POD_IP)"],
      workingDir: "/work",
      env: [
        { name: "GREETING", valueFrom: { configMapKeyRef: { name: "cfg", key: "greeting" } } },
        { name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
      ],
      volumeMounts: [
        { name: "config", mountPath: "/etc/app", readOnly: false },
        { name: "scratch", mountPath: "/scratch", mountPropagation: "HostToContainer" },
      ],
      resources: { requests: { cpu: "250m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
      securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
      ports: [{ containerPort: 8080, protocol: "TCP" }],
      lifecycle: { preStop: { exec: { command: ["sleep", "1"] } } },
      stdin: true,
      tty: true,
    });
    const p = pod({
      spec: {
        containers: [app],
        volumes: [
          { name: "config", configMap: { name: "cfg" } },
          { name: "scratch", emptyDir: {} },
        ],
        hostname: "web-0",
        subdomain: "web",
        hostAliases: [{ ip: "192.0.2.1", hostnames: ["gw", "gateway"] }],
        securityContext: { runAsUser: 1000, fsGroup: 2000 },
      },
    });
    const config = await build(p, app, { restartCount: 3 });
    const podDir = `${t.ctx.rootDir}/pods/uid-1`;

    expect(config.metadata).toEqual({ name: "app", attempt: 3 });
    expect(config.image).toBe("deckhand.local/busybox:1.35");
    expect(config.command).toEqual(["sh", "-c", "echo hello $(HOME) 10.96.0.1 $(MISSING)"]);
    expect(config.args).toEqual(["--ip=10.89.0.7"]);
    expect(config.workingDir).toBe("/work");
    expect(config.env?.slice(0, 2)).toEqual([
      { key: "GREETING", value: "hello" },
      { key: "POD_IP", value: "10.89.0.7" },
    ]);
    expect(config.env?.find((e) => e.key === "KUBERNETES_SERVICE_HOST")?.value).toBe("10.96.0.1");
    expect(config.labels).toEqual({
      [RuntimeLabels.podUid]: "uid-1",
      [RuntimeLabels.podName]: "web",
      [RuntimeLabels.podNamespace]: "ns1",
      [RuntimeLabels.containerName]: "app",
      [RuntimeLabels.restartCount]: "3",
      [RuntimeLabels.specHash]: containerSpecHash(app),
      [RuntimeLabels.managedBy]: "true",
    });
    expect(config.logPath).toBe("app/3.log");
    expect((await stat(`${podDir}/logs/app`)).isDirectory()).toBe(true);
    expect(config.resources).toEqual({
      cpuShares: 256,
      cpuPeriod: 100000,
      cpuQuota: 50000,
      memoryLimitBytes: 256 * 1024 * 1024,
      oomScoreAdj: 985, // 1000 - 1000 * 128Mi / 8Gi
    });
    expect(config.securityContext).toEqual({
      runAsUser: 1000,
      supplementalGroups: [2000],
      capabilities: { add: [], drop: ["ALL"] },
      noNewPrivileges: true,
    });
    expect(config.stdin).toBe(true);
    expect(config.tty).toBe(true);
    expect(config.stdinOnce).toBeUndefined();

    const termination = config.annotations?.["io.deckhand.container.terminationMessageHostPath"] as string;
    expect(config.mounts).toEqual([
      {
        containerPath: "/etc/app",
        hostPath: `${podDir}/volumes/kubernetes.io~configmap/config`,
        readonly: true,
      },
      {
        containerPath: "/scratch",
        hostPath: `${podDir}/volumes/kubernetes.io~empty-dir/scratch`,
        propagation: "hostToContainer",
      },
      { containerPath: "/etc/hosts", hostPath: `${podDir}/etc-hosts` },
      { containerPath: "/dev/termination-log", hostPath: termination },
    ]);
    expect(termination).toMatch(new RegExp(`^${podDir}/containers/app/[0-9a-f]{16}$`));
    expect((await stat(termination)).mode & 0o777).toBe(0o666);
    expect(await readFile(`${podDir}/etc-hosts`, "utf8")).toBe(
      "# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n10.89.0.7\tweb-0.web.ns1.svc.cluster.local\tweb-0\n\n# Entries added by HostAliases.\n192.0.2.1\tgw\tgateway\n",
    );
    expect((await stat(`${podDir}/etc-hosts`)).mode & 0o777).toBe(0o644);
    expect(config.annotations).toMatchObject({
      "io.kubernetes.container.terminationMessagePath": "/dev/termination-log",
      "io.kubernetes.container.terminationMessagePolicy": "File",
      "io.kubernetes.pod.terminationGracePeriod": "30",
      "io.kubernetes.container.preStopHandler": '{"exec":{"command":["sleep","1"]}}',
      "io.kubernetes.container.ports": '[{"containerPort":8080,"protocol":"TCP"}]',
    });
  });

  it("leaves out /etc/hosts before the pod has an IP, when the container mounts its own, and copies the node's for host network", async () => {
    t = await testContext({ runtimeName: "docker" });
    const app = container("app");
    const noIP = await build(pod({ spec: { containers: [app] } }), app, { podIP: "" });
    expect(noIP.mounts?.map((m) => m.containerPath)).toEqual(["/dev/termination-log"]);
    expect(noIP.logPath).toBeUndefined(); // Docker keeps its own logs

    const own = container("app", {
      volumeMounts: [{ name: "h", mountPath: "/etc/hosts", subPath: "hosts" }],
    });
    const withOwn = await build(
      pod({ spec: { containers: [own], volumes: [{ name: "h", emptyDir: {} }] } }),
      own,
    );
    expect(withOwn.mounts?.filter((m) => m.containerPath === "/etc/hosts")).toHaveLength(1);

    const nodeHosts = join(t.root, "node-hosts");
    await writeFile(nodeHosts, "127.0.0.1\tlocalhost\n192.0.2.10\tnode-a\n");
    const hostNet = pod({
      spec: { containers: [app], hostNetwork: true, hostAliases: [{ ip: "192.0.2.2", hostnames: ["db"] }] },
    });
    const config = await build(hostNet, app, { podIP: "", nodeHostsFile: nodeHosts });
    expect(config.mounts?.map((m) => m.containerPath)).toContain("/etc/hosts");
    expect(await readFile(`${t.ctx.rootDir}/pods/uid-1/etc-hosts`, "utf8")).toBe(
      "# Kubernetes-managed hosts file (host network).\n127.0.0.1\tlocalhost\n192.0.2.10\tnode-a\n\n# Entries added by HostAliases.\n192.0.2.2\tdb\n",
    );
  });

  it("creates subPath directories and bind-mounts them from a stable place", async () => {
    t = await testContext();
    t.api.setConfigMap("ns1", "cfg", { "app.conf": "v1" });
    const app = container("app", {
      env: [{ name: "POD", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }],
      volumeMounts: [
        { name: "data", mountPath: "/data", subPath: "a/b" },
        { name: "data", mountPath: "/per-pod", subPathExpr: "logs/$(POD)" },
        { name: "config", mountPath: "/etc/app.conf", subPath: "app.conf" },
      ],
    });
    const p = pod({
      spec: {
        containers: [app],
        volumes: [
          { name: "data", emptyDir: {} },
          { name: "config", configMap: { name: "cfg" } },
        ],
      },
    });
    const config = await build(p, app);
    const podDir = `${t.ctx.rootDir}/pods/uid-1`;
    const volume = `${podDir}/volumes/kubernetes.io~empty-dir/data`;
    expect(config.mounts?.slice(0, 3)).toEqual([
      { containerPath: "/data", hostPath: `${podDir}/volume-subpaths/data/app/0` },
      { containerPath: "/per-pod", hostPath: `${podDir}/volume-subpaths/data/app/1` },
      { containerPath: "/etc/app.conf", hostPath: `${podDir}/volume-subpaths/config/app/2`, readonly: true },
    ]);
    expect((await stat(`${volume}/a/b`)).mode & 0o777).toBe(0o777); // the volume's mode
    expect((await stat(`${volume}/logs/web`)).isDirectory()).toBe(true);
    // The bind mounts are live views of the volume.
    await writeFile(`${podDir}/volume-subpaths/data/app/0/x`, "through the mount");
    expect(await readFile(`${volume}/a/b/x`, "utf8")).toBe("through the mount");
    expect(await readFile(`${podDir}/volume-subpaths/config/app/2`, "utf8")).toBe("v1");
    // A restarted container gets the same places, re-bound (not stacked).
    await build(p, app, { restartCount: 1 });
    expect((await mountsUnder(`${podDir}/volume-subpaths`)).length).toBe(3);
  });

  it("refuses a subPath that leaves the volume through a symlink", async () => {
    t = await testContext();
    const app = container("app", {
      volumeMounts: [{ name: "data", mountPath: "/data", subPath: "link/inner" }],
    });
    const p = pod({ spec: { containers: [app], volumes: [{ name: "data", emptyDir: {} }] } });
    const volumes = await prepareVolumes(p, t.ctx);
    const outside = join(t.root, "outside");
    const link = `${volumes.volumes.get("data")?.hostPath}/link`;
    await symlink(outside, link);
    const run = () =>
      failure(
        buildContainerConfig(p, app, {
          podIP: "10.89.0.7",
          restartCount: 0,
          volumes,
          ctx: t.ctx,
          isInit: false,
          imageUser: { uid: 0 },
        }),
      );
    const dangling = await run();
    expect(dangling.reason).toBe("CreateContainerConfigError");
    expect(dangling.message).toBe(
      'failed to create subPath directory for volumeMount "data" of container "app": link/inner leads through a symlink that does not resolve',
    );
    await expect(stat(outside)).rejects.toMatchObject({ code: "ENOENT" });
    await mkdir(outside);
    expect((await run()).message).toBe(
      'failed to create subPath directory for volumeMount "data" of container "app": link/inner leaves the volume',
    );
    await expect(stat(join(outside, "inner"))).rejects.toMatchObject({ code: "ENOENT" });
    // An existing subPath that resolves outside is refused when mounting.
    await mkdir(join(outside, "inner"));
    expect((await run()).message).toBe(
      'failed to prepare subPath for volumeMount "data" of container "app": link/inner leaves the volume',
    );
  });

  it.each([
    [
      { volumeMounts: [{ name: "nope", mountPath: "/x" }] },
      'cannot find volume "nope" to mount into container "app"',
    ],
    [
      { volumeMounts: [{ name: "data", mountPath: "/x", subPath: "/abs" }] },
      "error SubPath `/abs` must not be an absolute path",
    ],
    [
      { volumeMounts: [{ name: "data", mountPath: "/x", subPath: "a/../../b" }] },
      "unable to provision SubPath `a/../../b`: must not contain '..'",
    ],
    [
      { volumeMounts: [{ name: "data", mountPath: "/x", subPathExpr: "$(UNSET)/$(ALSO)" }] },
      'volumeMount "data" of container "app": subPathExpr: missing value for ALSO, UNSET',
    ],
    [
      { volumeMounts: [{ name: "data", mountPath: "/x", mountPropagation: "Sideways" }] },
      'invalid MountPropagation mode: "Sideways"',
    ],
    [
      { securityContext: { runAsNonRoot: true } },
      'container has runAsNonRoot and image will run as root (pod: "web_ns1(uid-1)", container: app)',
    ],
    [
      { securityContext: { runAsNonRoot: true, runAsUser: 0 } },
      'container\'s runAsUser breaks non-root policy (pod: "web_ns1(uid-1)", container: app)',
    ],
    [
      { resources: { limits: { memory: "a lot" } } },
      'container "app": resources: memory "a lot" is not a quantity',
    ],
  ] as Array<[Partial<Container>, string]>)(
    "fails with CreateContainerConfigError: %#",
    async (extra, message) => {
      t = await testContext();
      const app = container("app", extra);
      const p = pod({ spec: { containers: [app], volumes: [{ name: "data", emptyDir: {} }] } });
      const error = await failure(build(p, app));
      expect(error.reason).toBe("CreateContainerConfigError");
      expect(error.message).toBe(message);
    },
  );

  it.each([
    [
      "",
      'Failed to apply default image tag "": couldn\'t parse image reference "": invalid reference format',
    ],
    [
      "Busybox:1",
      'Failed to apply default image tag "Busybox:1": couldn\'t parse image reference "Busybox:1": invalid reference format: repository name must be lowercase',
    ],
    [
      "busybox::1",
      'Failed to apply default image tag "busybox::1": couldn\'t parse image reference "busybox::1": invalid reference format',
    ],
  ])("rejects image %j with InvalidImageName", async (image, message) => {
    t = await testContext();
    const app = container("app", { image });
    const error = await failure(build(pod({ spec: { containers: [app] } }), app));
    expect(error.reason).toBe("InvalidImageName");
    expect(error.message).toBe(message);
  });

  it.each([
    "busybox",
    "deckhand.local/busybox:1.35",
    "127.0.0.1:5000/deckhand/busybox:1.35",
    "registry.k8s.io/pause@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "[::1]:5000/a/b_c__d-e:v1.2-rc.3",
  ])("accepts image %s", async (image) => {
    t = await testContext();
    const app = container("app", { image });
    expect((await build(pod({ spec: { containers: [app] } }), app)).image).toBe(image);
  });

  it("requires the container to be in the list it is started from", async () => {
    t = await testContext();
    const init = container("init");
    const p = pod({ spec: { initContainers: [init] } });
    expect((await build(p, init, { isInit: true })).metadata.name).toBe("init");
    const error = await failure(build(p, init, { isInit: false }));
    expect(error.message).toBe('container "init" is not in spec.containers of pod web_ns1(uid-1)');
  });
});
