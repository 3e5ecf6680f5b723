// Real-filesystem tests of the volume manager: atomic-writer volumes and their updates, hostPath type checks,
// emptyDir on disk and on tmpfs (mounted for real: these tests need root), cleanup.
import { execFileSync } from "node:child_process";
import { lstat, mkdir, readdir, readFile, readlink, realpath, stat, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  cleanupPodDirs,
  PodConfigError,
  type PodVolumes,
  prepareVolumes,
  ServiceAccountTokenCache,
} from "../../../src/agent/pod-config/index.ts";
import { parseMountInfo } from "../../../src/agent/pod-config/mounter.ts";
import type { Volume } from "../../../src/api/schema/core/volume.ts";
import { requireRoot } from "../../support/env.ts";
import { container, pod, type TestContext, testContext } from "./fixtures.ts";

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

function mountOptions(path: string): string {
  const line = execFileSync("findmnt", ["-n", "-o", "FSTYPE,OPTIONS", "--mountpoint", path])
    .toString()
    .trim();
  return line;
}

function volumesPod(volumes: Volume[], extra: Parameters<typeof pod>[0] = {}) {
  return pod({ ...extra, spec: { volumes, ...extra.spec } });
}

async function failure(promise: Promise<unknown>): Promise<PodConfigError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PodConfigError);
  expect((error as PodConfigError).reason).toBe("FailedMount");
  return error as PodConfigError;
}

const read = (v: PodVolumes, name: string, file: string) =>
  readFile(join(v.volumes.get(name)?.hostPath as string, file), "utf8");

describe("configMap volumes", () => {
  it("projects every key, and updates propagate through the ..data swap", async () => {
    t = await testContext();
    t.api.setConfigMap(
      "ns1",
      "cfg",
      { "app.conf": "v1", other: "x" },
      { "logo.bin": Buffer.from([0, 1, 2]).toString("base64") },
    );
    const p = volumesPod([{ name: "config", configMap: { name: "cfg", defaultMode: 0o644 } }]);
    const v = await prepareVolumes(p, t.ctx);
    const volume = v.volumes.get("config");
    expect(volume).toMatchObject({
      source: "configMap",
      hostPath: `${t.ctx.rootDir}/pods/uid-1/volumes/kubernetes.io~configmap/config`,
      readOnly: true,
      memoryBacked: false,
    });
    expect(await read(v, "config", "app.conf")).toBe("v1");
    expect([...(await readFile(join(volume?.hostPath as string, "logo.bin")))]).toEqual([0, 1, 2]);
    // A consumer holding the volume path (like a running container's bind mount) sees the update.
    const firstData = await readlink(join(volume?.hostPath as string, "..data"));
    t.api.setConfigMap("ns1", "cfg", { "app.conf": "v2" });
    await prepareVolumes(p, t.ctx);
    expect(await read(v, "config", "app.conf")).toBe("v2");
    expect(await readlink(join(volume?.hostPath as string, "..data"))).not.toBe(firstData);
    await expect(lstat(join(volume?.hostPath as string, "other"))).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("projects items to paths with their modes", async () => {
    t = await testContext();
    t.api.setConfigMap("ns1", "cfg", { a: "A", b: "B" });
    const v = await prepareVolumes(
      volumesPod([
        {
          name: "config",
          configMap: {
            name: "cfg",
            defaultMode: 0o440,
            items: [
              { key: "a", path: "dir/a.txt" },
              { key: "b", path: "b", mode: 0o600 },
            ],
          },
        },
      ]),
      t.ctx,
    );
    const dir = v.volumes.get("config")?.hostPath as string;
    expect(await read(v, "config", "dir/a.txt")).toBe("A");
    expect((await stat(join(dir, "dir/a.txt"))).mode & 0o777).toBe(0o440);
    expect((await stat(join(dir, "b"))).mode & 0o777).toBe(0o600);
    expect((await readdir(dir)).filter((n) => !n.startsWith("..")).sort()).toEqual(["b", "dir"]);
  });

  it("mounts an empty volume for a missing optional config map, fills it when it appears", async () => {
    t = await testContext();
    const p = volumesPod([{ name: "config", configMap: { name: "later", optional: true } }]);
    const v = await prepareVolumes(p, t.ctx);
    expect(
      (await readdir(v.volumes.get("config")?.hostPath as string)).filter((n) => !n.startsWith("..")),
    ).toEqual([]);
    t.api.setConfigMap("ns1", "later", { k: "now" });
    await prepareVolumes(p, t.ctx);
    expect(await read(v, "config", "k")).toBe("now");
  });

  it.each([
    [
      { name: "config", configMap: { name: "absent" } },
      'MountVolume.SetUp failed for volume "config" : configmap "absent" not found',
    ],
    [
      { name: "config", configMap: { name: "cfg", items: [{ key: "nope", path: "x" }] } },
      'MountVolume.SetUp failed for volume "config" : configmap references non-existent config key: nope',
    ],
    [
      { name: "config", configMap: { name: "cfg", items: [{ key: "a", path: "../escape" }] } },
      "MountVolume.SetUp failed for volume \"config\" : invalid path: must not contain '..': ../escape",
    ],
  ] as Array<[Volume, string]>)(
    "fails with FailedMount and leaves nothing behind: %#",
    async (volume, message) => {
      t = await testContext();
      t.api.setConfigMap("ns1", "cfg", { a: "A" });
      const error = await failure(prepareVolumes(volumesPod([volume]), t.ctx));
      expect(error.message).toBe(message);
      await expect(
        stat(`${t.ctx.rootDir}/pods/uid-1/volumes/kubernetes.io~configmap/config/..data`),
      ).rejects.toMatchObject({
        code: "ENOENT",
      });
    },
  );

  it("names the object when the API fails", async () => {
    t = await testContext();
    t.api.fail = true;
    const error = await failure(
      prepareVolumes(volumesPod([{ name: "config", configMap: { name: "cfg" } }]), t.ctx),
    );
    expect(error.message).toBe(
      'MountVolume.SetUp failed for volume "config" : couldn\'t get configMap ns1/cfg: connect ECONNREFUSED 127.0.0.1:6443',
    );
  });
});

describe("secret, downwardAPI and projected volumes", () => {
  it("decodes secrets onto a tmpfs, 0644 by default", async () => {
    t = await testContext();
    t.api.setSecret("ns1", "creds", { password: "s3cret", "tls.key": Buffer.from([0xff, 0x00]) });
    const v = await prepareVolumes(volumesPod([{ name: "creds", secret: { secretName: "creds" } }]), t.ctx);
    const volume = v.volumes.get("creds");
    expect(volume).toMatchObject({ source: "secret", readOnly: true, memoryBacked: true });
    expect(await read(v, "creds", "password")).toBe("s3cret");
    expect([...(await readFile(join(volume?.hostPath as string, "tls.key")))]).toEqual([0xff, 0x00]);
    expect((await stat(join(volume?.hostPath as string, "password"))).mode & 0o777).toBe(0o644);
    expect(mountOptions(volume?.hostPath as string)).toMatch(/^tmpfs\s/);
    // A second sync neither remounts nor rewrites.
    await prepareVolumes(volumesPod([{ name: "creds", secret: { secretName: "creds" } }]), t.ctx);
    expect((await mountsUnder(t.root)).length).toBe(1);
  });

  it("keeps secrets on disk when memoryBackedSecretVolumes is false", async () => {
    t = await testContext({ memoryBackedSecretVolumes: false });
    t.api.setSecret("ns1", "creds", { password: "s3cret" });
    const v = await prepareVolumes(
      volumesPod([{ name: "creds", secret: { secretName: "creds", defaultMode: 0o400 } }]),
      t.ctx,
    );
    expect(v.volumes.get("creds")?.memoryBacked).toBe(false);
    expect(await mountsUnder(t.root)).toEqual([]);
    expect((await stat(join(v.volumes.get("creds")?.hostPath as string, "password"))).mode & 0o777).toBe(
      0o400,
    );
  });

  it("reports a missing secret and a missing secret key", async () => {
    t = await testContext();
    t.api.setSecret("ns1", "creds", { a: "1" });
    const missing = await failure(
      prepareVolumes(volumesPod([{ name: "s", secret: { secretName: "nope" } }]), t.ctx),
    );
    expect(missing.message).toBe('MountVolume.SetUp failed for volume "s" : secret "nope" not found');
    const key = await failure(
      prepareVolumes(
        volumesPod([{ name: "s", secret: { secretName: "creds", items: [{ key: "b", path: "b" }] } }]),
        t.ctx,
      ),
    );
    expect(key.message).toBe(
      'MountVolume.SetUp failed for volume "s" : references non-existent secret key: b',
    );
  });

  it("projects downward API fields and refreshes labels", async () => {
    t = await testContext();
    const app = container("app", { resources: { limits: { memory: "64Mi" } } });
    const volumes: Volume[] = [
      {
        name: "info",
        downwardAPI: {
          items: [
            { path: "labels", fieldRef: { apiVersion: "v1", fieldPath: "metadata.labels" } },
            { path: "name", fieldRef: { fieldPath: "metadata.name" } },
            {
              path: "mem",
              resourceFieldRef: { containerName: "app", resource: "limits.memory", divisor: "1Mi" },
            },
          ],
        },
      },
    ];
    const p = volumesPod(volumes, { metadata: { labels: { tier: "front" } }, spec: { containers: [app] } });
    const v = await prepareVolumes(p, t.ctx);
    expect(await read(v, "info", "labels")).toBe('tier="front"');
    expect(await read(v, "info", "name")).toBe("web");
    expect(await read(v, "info", "mem")).toBe("64");
    (p.metadata as { labels: Record<string, string> }).labels = { tier: "back", zone: "a" };
    await prepareVolumes(p, t.ctx);
    expect(await read(v, "info", "labels")).toBe('tier="back"\nzone="a"');
  });

  it("combines projected sources, with a token from the token source", async () => {
    const requests: string[] = [];
    const tokens = new ServiceAccountTokenCache(async (r) => {
      requests.push(`${r.namespace}/${r.serviceAccountName}/${r.audience ?? ""}/${r.boundPod.uid}`);
      return {
        token: `token-${requests.length}`,
        expirationTimestamp: new Date(Date.now() + 3600_000).toISOString(),
      };
    });
    t = await testContext({ serviceAccountTokens: tokens });
    t.api.setConfigMap("ns1", "ca", { "ca.crt": "CERT" });
    t.api.setSecret("ns1", "extra", { k: "v" });
    const p = volumesPod(
      [
        {
          name: "api",
          projected: {
            defaultMode: 0o420,
            sources: [
              { serviceAccountToken: { path: "token", expirationSeconds: 3607, audience: "vault" } },
              { configMap: { name: "ca", items: [{ key: "ca.crt", path: "ca.crt" }] } },
              { secret: { name: "extra" } },
              { secret: { name: "absent", optional: true } },
              {
                downwardAPI: {
                  items: [{ path: "namespace", fieldRef: { fieldPath: "metadata.namespace" } }],
                },
              },
            ],
          },
        },
      ],
      { spec: { serviceAccountName: "robot" } },
    );
    const v = await prepareVolumes(p, t.ctx);
    expect(await read(v, "api", "token")).toBe("token-1");
    expect(await read(v, "api", "ca.crt")).toBe("CERT");
    expect(await read(v, "api", "k")).toBe("v");
    expect(await read(v, "api", "namespace")).toBe("ns1");
    expect((await stat(join(v.volumes.get("api")?.hostPath as string, "token"))).mode & 0o777).toBe(0o420);
    await prepareVolumes(p, t.ctx);
    expect(requests).toEqual(["ns1/robot/vault/uid-1"]); // cached until 80% of its lifetime
  });

  it("fails a serviceAccountToken source clearly when there is no token source", async () => {
    t = await testContext();
    const error = await failure(
      prepareVolumes(
        volumesPod([{ name: "api", projected: { sources: [{ serviceAccountToken: { path: "token" } }] } }]),
        t.ctx,
      ),
    );
    expect(error.message).toBe(
      'MountVolume.SetUp failed for volume "api" : sources[0].serviceAccountToken (path "token"): this agent has no service account token source (PodConfigContext.serviceAccountTokens) to request a token',
    );
  });
});

describe("hostPath volumes", () => {
  async function check(path: string, type: string): Promise<string | undefined> {
    try {
      const v = await prepareVolumes(volumesPod([{ name: "host", hostPath: { path, type } }]), t.ctx);
      expect(v.volumes.get("host")).toMatchObject({ source: "hostPath", hostPath: path, readOnly: false });
      return undefined;
    } catch (error) {
      expect(error).toBeInstanceOf(PodConfigError);
      return (error as PodConfigError).message.replace('MountVolume.SetUp failed for volume "host" : ', "");
    }
  }

  it("checks every type like upstream", async () => {
    t = await testContext();
    const base = join(t.root, "host");
    await mkdir(join(base, "dir"), { recursive: true });
    await writeFile(join(base, "file"), "x");
    execFileSync("mknod", [join(base, "blockdev"), "b", "7", "250"]);
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(join(base, "sock"), resolve));
    try {
      const cases: Array<[string, string, string | undefined]> = [
        ["dir", "Directory", undefined],
        ["file", "Directory", `hostPath type check failed: ${base}/file is not a directory`],
        ["missing", "Directory", `hostPath type check failed: ${base}/missing is not a directory`],
        ["new/nested", "DirectoryOrCreate", undefined],
        ["file", "DirectoryOrCreate", `hostPath type check failed: ${base}/file is not a directory`],
        ["file", "File", undefined],
        ["dir", "File", `hostPath type check failed: ${base}/dir is not a file`],
        ["created.txt", "FileOrCreate", undefined],
        ["no-parent/x", "FileOrCreate", `ENOENT: no such file or directory, open '${base}/no-parent/x'`],
        ["sock", "Socket", undefined],
        ["file", "Socket", `hostPath type check failed: ${base}/file is not a socket file`],
        ["blockdev", "BlockDevice", undefined],
        ["file", "BlockDevice", `hostPath type check failed: ${base}/file is not a block device`],
        ["file", "CharDevice", `hostPath type check failed: ${base}/file is not a character device`],
        ["anything-missing", "", undefined],
        ["dir", "Pipe", "Pipe is an invalid volume type"],
      ];
      for (const [name, type, expected] of cases) {
        expect([name, type, await check(join(base, name), type)]).toEqual([name, type, expected]);
      }
      expect(await check("/dev/null", "CharDevice")).toBeUndefined();
      expect((await stat(join(base, "new/nested"))).isDirectory()).toBe(true);
      expect((await stat(join(base, "created.txt"))).mode & 0o777).toBe(0o644);
      expect(await check("relative/path", "")).toBe("hostPath relative/path must be an absolute path");
    } finally {
      server.close();
    }
  });
});

describe("emptyDir volumes", () => {
  it("makes a world-writable directory once, with setgid and the fsGroup when given", async () => {
    t = await testContext();
    const p = volumesPod([{ name: "scratch", emptyDir: {} }, { name: "shared" }], {
      spec: { securityContext: { fsGroup: 2345 } },
    });
    const v = await prepareVolumes(p, t.ctx);
    const dir = v.volumes.get("scratch")?.hostPath as string;
    expect(dir).toBe(`${t.ctx.rootDir}/pods/uid-1/volumes/kubernetes.io~empty-dir/scratch`);
    const info = await stat(dir);
    expect(info.mode & 0o7777).toBe(0o2777);
    expect(info.gid).toBe(2345);
    expect(v.volumes.get("shared")?.source).toBe("emptyDir"); // a volume without a source
    // Contents survive a re-sync and the mode a container set is left alone.
    await writeFile(join(dir, "data"), "kept");
    execFileSync("chmod", ["0750", dir]);
    await prepareVolumes(p, t.ctx);
    expect(await readFile(join(dir, "data"), "utf8")).toBe("kept");
    expect((await stat(dir)).mode & 0o777).toBe(0o750);
  });

  it("mounts a tmpfs sized by sizeLimit for medium Memory and unmounts it on cleanup", async () => {
    t = await testContext();
    const p = volumesPod([{ name: "ram", emptyDir: { medium: "Memory", sizeLimit: "16Mi" } }]);
    const v = await prepareVolumes(p, t.ctx);
    const volume = v.volumes.get("ram");
    expect(volume).toMatchObject({ source: "emptyDir", memoryBacked: true, readOnly: false });
    const dir = volume?.hostPath as string;
    expect(mountOptions(dir)).toMatch(/^tmpfs\s+.*size=16384k/);
    expect((await stat(dir)).mode & 0o777).toBe(0o777);
    await writeFile(join(dir, "f"), "in memory");
    await prepareVolumes(p, t.ctx); // idempotent: no second mount
    expect(await mountsUnder(t.root)).toEqual([await realpath(dir)]);
    expect(await readFile(join(dir, "f"), "utf8")).toBe("in memory");

    await cleanupPodDirs("uid-1", t.ctx);
    expect(await mountsUnder(t.root)).toEqual([]);
    await expect(stat(`${t.ctx.rootDir}/pods/uid-1`)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("caps a Memory emptyDir at the pod memory limit, then node allocatable", async () => {
    t = await testContext({ nodeAllocatable: { memory: "1Gi" } });
    const app = container("app", { resources: { limits: { memory: "32Mi" } } });
    const v = await prepareVolumes(
      volumesPod(
        [
          { name: "ram", emptyDir: { medium: "Memory", sizeLimit: "64Mi" } },
          { name: "big", emptyDir: { medium: "Memory" } },
        ],
        {
          spec: { containers: [app] },
        },
      ),
      t.ctx,
    );
    expect(mountOptions(v.volumes.get("ram")?.hostPath as string)).toMatch(/size=32768k/);
    expect(mountOptions(v.volumes.get("big")?.hostPath as string)).toMatch(/size=32768k/);
  });

  it("rejects other media and unsupported sources, naming the volume", async () => {
    t = await testContext();
    const medium = await failure(
      prepareVolumes(volumesPod([{ name: "huge", emptyDir: { medium: "HugePages" } }]), t.ctx),
    );
    expect(medium.message).toBe(
      'MountVolume.SetUp failed for volume "huge" : emptyDir medium "HugePages" is not supported (supported: "" and "Memory")',
    );
    const pvc = await failure(
      prepareVolumes(volumesPod([{ name: "data", persistentVolumeClaim: { claimName: "c" } }]), t.ctx),
    );
    expect(pvc.message).toBe(
      'MountVolume.SetUp failed for volume "data" : volume source persistentVolumeClaim is not supported by Deckhand (supported: emptyDir, hostPath, configMap, secret, downwardAPI, projected)',
    );
  });
});

describe("cleanupPodDirs", () => {
  it("is a no-op for an unknown pod and refuses a uid that is not a directory name", async () => {
    t = await testContext();
    await cleanupPodDirs("never-existed", t.ctx);
    await expect(cleanupPodDirs("..", t.ctx)).rejects.toThrow(
      'pod uid ".." cannot be used as a directory name',
    );
  });
});
