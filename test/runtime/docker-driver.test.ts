// Docker-specific behaviour of the Docker driver, against the real engine: the dockershim layout (names,
// namespace modes, labels), the OOM score policy, objects Deckhand did not create, failed starts leaving
// nothing behind, the pause image pulled on demand, TTY logs and host-network pods.
import { createServer } from "node:net";
import type { Duplex } from "node:stream";
import type Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDockerRuntime } from "../../src/runtime/docker/index.ts";
import { RuntimeError } from "../../src/runtime/errors.ts";
import type { Runtime } from "../../src/runtime/types.ts";
import { connectDocker } from "../support/docker.ts";
import { testEnv } from "../support/env.ts";
import { uniqueName } from "../support/names.ts";
import { run } from "../support/run.ts";
import { collect, expectClean, TestPod, waitForState } from "./conformance/fixtures.ts";
import { deletePushedImage, pushUniqueImage } from "./conformance/registry.ts";
import { freeLoopbackPort } from "./conformance/sandboxes.ts";

const DOCKER = "/usr/bin/docker";

describe("docker driver against the real engine", () => {
  let docker: Docker;
  let rt: Runtime;

  beforeAll(async () => {
    docker = await connectDocker();
    rt = createDockerRuntime({ socketPath: testEnv.dockerSocket, pauseImage: testEnv.pauseImage });
  });
  afterAll(async () => {
    await rt?.close();
  });

  async function withPod<T>(prefix: string, body: (pod: TestPod) => Promise<T>, runtime = rt): Promise<T> {
    const pod = new TestPod(runtime, testEnv.busyboxImage, prefix);
    try {
      return await body(pod);
    } finally {
      await pod.dispose();
    }
  }

  it("lays pods out like dockershim: pause sandbox owning the namespaces, app containers joined to it", async () => {
    await withPod("layout", async (pod) => {
      const { sandbox, containerId } = await pod.runPod(undefined, { resources: { oomScoreAdj: -997 } });
      const s = await docker.getContainer(sandbox.id).inspect();
      expect(s.Name).toBe(`/k8s_POD_${pod.name}_${pod.namespace}_${pod.uid}_0`);
      expect(s.Config.Image).toBe(testEnv.pauseImage);
      expect(s.Config.Labels["io.kubernetes.docker.type"]).toBe("podsandbox");
      expect(s.HostConfig).toMatchObject({ NetworkMode: "bridge", IpcMode: "shareable" });
      // Never a negative OOM score by default: the sandbox's -998 and the requested -997 both become 0.
      expect(s.HostConfig.OomScoreAdj).toBe(0);

      const c = await docker.getContainer(containerId).inspect();
      expect(c.Name).toBe(`/k8s_main_${pod.name}_${pod.namespace}_${pod.uid}_0`);
      expect(c.Config.Labels["io.kubernetes.docker.type"]).toBe("container");
      expect(c.Config.Labels["io.kubernetes.sandbox.id"]).toBe(sandbox.id);
      const join = `container:${sandbox.id}`;
      expect(c.HostConfig).toMatchObject({ NetworkMode: join, IpcMode: join, PidMode: join, OomScoreAdj: 0 });
      expect(c.State.Running).toBe(true);
    });
  });

  it("sends a negative OOM score adjustment only when told to (created, not started: runc here would refuse it)", async () => {
    // The sandbox keeps score 0 so that it starts on hosts where root lacks CAP_SYS_RESOURCE.
    const open = createDockerRuntime({
      pauseImage: testEnv.pauseImage,
      restrictOomScoreAdj: false,
      sandboxOomScoreAdj: 0,
    });
    try {
      await withPod(
        "oom-open",
        async (pod) => {
          const sandbox = await pod.runSandbox();
          const id = await pod.createContainer(sandbox, {
            ...pod.containerConfig("negative", "true"),
            resources: { oomScoreAdj: -997 },
          });
          expect((await docker.getContainer(id).inspect()).HostConfig.OomScoreAdj).toBe(-997);
        },
        open,
      );
    } finally {
      await open.close();
    }
  });

  it("does not see or touch containers Deckhand did not create", async () => {
    const name = uniqueName("foreign");
    const foreign = await docker.createContainer({
      name,
      Image: testEnv.busyboxImage,
      Cmd: ["true"],
      Labels: { "io.kubernetes.pod.uid": "foreign" },
    });
    try {
      expect(
        (await rt.listContainers({ labelSelector: { "io.kubernetes.pod.uid": "foreign" } })).length,
      ).toBe(0);
      expect(
        (await rt.listPodSandboxes({ labelSelector: { "io.kubernetes.pod.uid": "foreign" } })).length,
      ).toBe(0);
      const error = await rt.containerStatus(foreign.id).catch((e: unknown) => e);
      expect((error as RuntimeError).code).toBe("RUNTIME_NOT_FOUND");
      await rt.removePodSandbox(foreign.id);
      expect((await foreign.inspect()).Name).toBe(`/${name}`);
    } finally {
      await foreign.remove({ force: true });
    }
  });

  it("reports a container whose command cannot run as ContainerCannotRun", async () => {
    await withPod("cannot-run", async (pod) => {
      const sandbox = await pod.runSandbox();
      const id = await pod.createContainer(sandbox, {
        ...pod.containerConfig("broken", ""),
        command: ["/does/not/exist"],
      });
      const error = await rt.startContainer(id).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RuntimeError);
      expect((error as RuntimeError).message).toContain("/does/not/exist");
      const status = await rt.containerStatus(id);
      expect([status.state, status.reason]).toEqual(["exited", "ContainerCannotRun"]);
      expect(status.exitCode).not.toBe(0);
      expect(status.message).toContain("/does/not/exist");
    });
  });

  it("leaves nothing behind when a sandbox cannot start (host port taken)", async () => {
    const port = await freeLoopbackPort();
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(port, "127.0.0.1", resolve));
    try {
      await withPod("port-taken", async (pod) => {
        const error = await rt
          .runPodSandbox(
            pod.sandboxConfig({
              portMappings: [{ protocol: "TCP", containerPort: 80, hostPort: port, hostIp: "127.0.0.1" }],
            }),
          )
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(RuntimeError);
        expect((error as RuntimeError).message).toContain(String(port));
        await expectClean(rt, pod.uid);
        const leftovers = await docker.listContainers({
          all: true,
          filters: { label: [`io.kubernetes.pod.uid=${pod.uid}`] },
        });
        expect(leftovers).toEqual([]);
      });
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });

  it("pulls the pause image when it is missing", async () => {
    const pause = `${testEnv.registry}/deckhand/pause:${uniqueName("pause")}`;
    await run(DOCKER, ["tag", testEnv.pauseImage, pause]);
    await run(DOCKER, ["push", pause]);
    await run(DOCKER, ["rmi", pause]);
    const custom = createDockerRuntime({ pauseImage: pause });
    try {
      expect(await custom.imageStatus(pause)).toBeUndefined();
      await withPod(
        "pause-pull",
        async (pod) => {
          const { id } = await pod.runSandbox();
          expect((await custom.podSandboxStatus(id)).state).toBe("ready");
          expect((await custom.imageStatus(pause))?.repoTags).toContain(pause);
        },
        custom,
      );
    } finally {
      await custom.removeImage(pause);
      await custom.close();
      const head = await fetch(
        `http://${testEnv.registry}/v2/deckhand/pause/manifests/${pause.split(":").pop()}`,
        {
          method: "HEAD",
          headers: { Accept: "application/vnd.docker.distribution.manifest.v2+json" },
        },
      );
      const digest = head.headers.get("docker-content-digest");
      if (digest)
        await fetch(`http://${testEnv.registry}/v2/deckhand/pause/manifests/${digest}`, { method: "DELETE" });
    }
  });

  it("removes a tag by name, and an image ID with all its tags", async () => {
    const image = await pushUniqueImage(
      testEnv.registry,
      testEnv.registryBusyboxRepo,
      testEnv.registryBusyboxTag,
      uniqueName("rmi"),
    );
    const open = image.ref(testEnv.registry);
    const auth = image.ref(testEnv.authRegistry);
    try {
      const id = await rt.pullImage(open);
      await rt.pullImage(auth, {
        username: testEnv.authRegistryUser,
        password: testEnv.authRegistryPassword,
      });
      expect((await rt.imageStatus(id))?.repoTags.sort()).toEqual([auth, open].sort());
      await rt.removeImage(auth);
      expect((await rt.imageStatus(id))?.repoTags).toEqual([open]);
      await rt.pullImage(auth, {
        username: testEnv.authRegistryUser,
        password: testEnv.authRegistryPassword,
      });
      await rt.removeImage(id);
      expect(await rt.imageStatus(id)).toBeUndefined();
      expect(await rt.imageStatus(open)).toBeUndefined();
      expect(await rt.imageStatus(auth)).toBeUndefined();
      await rt.removeImage(id);
    } finally {
      await rt.removeImage(open).catch(() => undefined);
      await rt.removeImage(auth).catch(() => undefined);
      await deletePushedImage(testEnv.registry, image);
    }
  });

  it("reads the logs of a TTY container", async () => {
    await withPod("tty-logs", async (pod) => {
      const { containerId } = await pod.runPod("echo first; echo second", { tty: true });
      await waitForState(rt, containerId, "exited");
      const lines = await collect(rt.containerLogs(containerId));
      expect(lines.map((l) => [l.stream, l.content.toString().replace(/\r$/, "")])).toEqual([
        ["stdout", "first"],
        ["stdout", "second"],
      ]);
      expect(lines.every((l) => l.timestampMs > 0)).toBe(true);
    });
  });

  it("runs host-network pods and port-forwards to them on 127.0.0.1", async () => {
    await withPod("hostnet", async (pod) => {
      const port = await freeLoopbackPort();
      const { sandbox } = await pod.runPod(`exec httpd -f -p 127.0.0.1:${port} -h /www`, undefined, {
        hostNetwork: true,
      });
      const status = await rt.podSandboxStatus(sandbox.id);
      expect([status.hostNetwork, status.ip]).toEqual([true, ""]);
      const answer = await (async () => {
        for (let attempt = 0; ; attempt++) {
          try {
            return await httpGet(await rt.portForward(sandbox.id, port));
          } catch (error) {
            if (attempt > 100) throw error;
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
        }
      })();
      expect(answer).toContain("deckhand test page");
    });
  });
});

async function httpGet(stream: Duplex): Promise<string> {
  const chunks: Buffer[] = [];
  stream.on("data", (c: Buffer) => chunks.push(c));
  const done = new Promise<void>((resolve, reject) => {
    stream.once("close", resolve);
    stream.once("error", reject);
  });
  stream.write("GET / HTTP/1.0\r\n\r\n");
  await done;
  return Buffer.concat(chunks).toString();
}
