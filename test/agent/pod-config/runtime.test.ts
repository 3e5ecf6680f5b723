// The configs this layer builds, run for real on both runtimes: a pod whose container sees its env, configMap
// volume (and the update propagating into the running container), a tmpfs emptyDir, a subPath, the managed
// /etc/hosts and the termination-log file. Afterwards the runtime and the mount table are clean.
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { readFile, realpath } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  buildContainerConfig,
  buildSandboxConfig,
  cleanupPodDirs,
  prepareVolumes,
} from "../../../src/agent/pod-config/index.ts";
import { parseMountInfo } from "../../../src/agent/pod-config/mounter.ts";
import { createCriRuntime } from "../../../src/runtime/cri/index.ts";
import { createDockerRuntime } from "../../../src/runtime/docker/index.ts";
import type { Runtime } from "../../../src/runtime/types.ts";
import { RuntimeLabels } from "../../../src/runtime/types.ts";
import { requireRoot, requireSocket, testEnv } from "../../support/env.ts";
import { uniqueName } from "../../support/names.ts";
import { container, pod, testContext } from "./fixtures.ts";

const criLogRoot = mkdtempSync(join(tmpdir(), "deckhand-podconfig-cri-logs-"));
afterAll(() => rmSync(criLogRoot, { recursive: true, force: true }));

const runtimes: Array<[string, "docker" | "cri", () => Runtime]> = [
  [
    "docker",
    "docker",
    () => {
      requireSocket(testEnv.dockerSocket, "Docker engine");
      return createDockerRuntime({ socketPath: testEnv.dockerSocket, pauseImage: testEnv.pauseImage });
    },
  ],
  [
    "cri (containerd)",
    "cri",
    () => {
      requireSocket(testEnv.criSocket, "test containerd (CRI)");
      return createCriRuntime({ endpoint: testEnv.criEndpoint, podLogRoot: criLogRoot });
    },
  ],
];

async function mountsUnder(dir: string): Promise<string[]> {
  const real = await realpath(dir).catch(() => dir);
  return parseMountInfo(await readFile("/proc/self/mountinfo", "utf8")).filter((p) =>
    p.startsWith(`${real}/`),
  );
}

describe.each(runtimes)("pod configs on %s", (_label, runtimeName, connect) => {
  it("runs a pod with env, volumes, subPath, /etc/hosts and the termination log; updates reach it", async () => {
    requireRoot();
    const runtime = connect();
    const t = await testContext({ runtimeName });
    const uid = randomUUID();
    const name = uniqueName("cfgpod").toLowerCase();
    const namespace = uniqueName("ns").toLowerCase();
    t.api.setConfigMap(namespace, "cfg", { "app.conf": "version-1", greeting: "hello" });
    const app = container("app", {
      image: testEnv.busyboxImage,
      command: ["sh", "-c", 'trap "exit 0" TERM; while :; do sleep 1; done'],
      env: [{ name: "GREETING", valueFrom: { configMapKeyRef: { name: "cfg", key: "greeting" } } }],
      volumeMounts: [
        { name: "cfg", mountPath: "/etc/cfg" },
        { name: "cfg", mountPath: "/etc/app.conf", subPath: "app.conf" },
        { name: "ram", mountPath: "/ram" },
        { name: "data", mountPath: "/data", subPath: "nested/dir" },
      ],
    });
    const p = pod({
      metadata: { name, namespace, uid },
      spec: {
        containers: [app],
        hostname: "cfg-host",
        volumes: [
          { name: "cfg", configMap: { name: "cfg" } },
          { name: "ram", emptyDir: { medium: "Memory", sizeLimit: "8Mi" } },
          { name: "data", emptyDir: {} },
        ],
      },
    });
    let sandboxId = "";
    try {
      const volumes = await prepareVolumes(p, t.ctx);
      const sandboxConfig = buildSandboxConfig(p, t.ctx, 0);
      sandboxId = await runtime.runPodSandbox(sandboxConfig);
      const podIP = (await runtime.podSandboxStatus(sandboxId)).ip;
      expect(podIP).not.toBe("");
      const config = await buildContainerConfig(p, app, {
        podIP,
        restartCount: 0,
        volumes,
        ctx: t.ctx,
        isInit: false,
        imageUser: { uid: 0 },
      });
      const id = await runtime.createContainer(sandboxId, config, sandboxConfig);
      await runtime.startContainer(id);
      const sh = async (script: string) => {
        const result = await runtime.execSync(id, ["sh", "-c", script], 10);
        expect({ script, exitCode: result.exitCode, stderr: result.stderr.toString() }).toEqual({
          script,
          exitCode: 0,
          stderr: "",
        });
        return result.stdout.toString();
      };

      expect(await sh("echo $GREETING")).toBe("hello\n");
      expect(await sh("cat /etc/cfg/app.conf")).toBe("version-1");
      expect(await sh("cat /etc/app.conf")).toBe("version-1");
      expect(await sh("hostname")).toBe("cfg-host\n");
      expect(await sh("grep cfg-host /etc/hosts")).toBe(`${podIP}\tcfg-host\n`);
      expect(await sh("grep ' /ram ' /proc/mounts | cut -d' ' -f3")).toBe("tmpfs\n");
      // Read-only configMap mount, writable volumes, the subPath lands inside the volume.
      expect((await runtime.execSync(id, ["sh", "-c", "echo x > /etc/cfg/new"], 10)).exitCode).not.toBe(0);
      await sh("echo written > /data/f && echo ram > /ram/f");
      const dataDir = volumes.volumes.get("data")?.hostPath as string;
      expect(await readFile(join(dataDir, "nested/dir/f"), "utf8")).toBe("written\n");
      expect(await readFile(join(volumes.volumes.get("ram")?.hostPath as string, "f"), "utf8")).toBe("ram\n");
      await sh("echo 'bye from app' > /dev/termination-log");
      const terminationFile = config.annotations?.[
        "io.deckhand.container.terminationMessageHostPath"
      ] as string;
      expect(await readFile(terminationFile, "utf8")).toBe("bye from app\n");

      // The update reaches the running container through ..data; the subPath copy stays (upstream semantics).
      t.api.setConfigMap(namespace, "cfg", { "app.conf": "version-2", greeting: "hello" });
      await prepareVolumes(p, t.ctx);
      expect(await sh("cat /etc/cfg/app.conf")).toBe("version-2");
      expect(await sh("cat /etc/app.conf")).toBe("version-1");
    } finally {
      if (sandboxId) {
        await runtime.stopPodSandbox(sandboxId);
        await runtime.removePodSandbox(sandboxId);
      }
      await cleanupPodDirs(uid, t.ctx);
      const selector = { [RuntimeLabels.podUid]: uid };
      expect(await runtime.listPodSandboxes({ labelSelector: selector })).toEqual([]);
      expect(await runtime.listContainers({ labelSelector: selector })).toEqual([]);
      expect(await mountsUnder(t.root)).toEqual([]);
      await runtime.close();
      await t.cleanup();
    }
  });
});
