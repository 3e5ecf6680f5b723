// CRI-specific behaviour of the CRI driver against the real test containerd, beyond the shared conformance
// suite: kubelet's log layout, host network, cgroup parent, privileged containers, large transfers through
// containerd's SPDY stream server, single-use streaming URLs, image removal by ID, the cleanup of a sandbox
// whose request timed out, log reopening, and objects the driver did not create.
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, readlink, rename, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callUnary, createCriClients } from "../../src/runtime/cri/client.ts";
import { type CriRuntime, createCriRuntime } from "../../src/runtime/cri/index.ts";
import { runRemoteCommand } from "../../src/runtime/cri/streaming/remotecommand.ts";
import { StreamUpgradeError } from "../../src/runtime/cri/streaming/upgrade.ts";
import { RuntimeError } from "../../src/runtime/errors.ts";
import { RuntimeLabels } from "../../src/runtime/types.ts";
import { requireSocket, testEnv } from "../support/env.ts";
import { uniqueName } from "../support/names.ts";
import { run } from "../support/run.ts";
import { waitFor } from "../support/wait.ts";
import { waitForLogLine } from "./conformance/containers.ts";
import { execUntil, expectClean, Sink, TestPod, waitForState } from "./conformance/fixtures.ts";
import { deletePushedImage, pushUniqueImage } from "./conformance/registry.ts";

const SLEEPER = "trap 'exit 0' TERM; while :; do sleep 1 & wait $!; done";

function sha256(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

describe("CRI driver against the test containerd", () => {
  let rt: CriRuntime;
  let podLogRoot = "";

  beforeAll(async () => {
    requireSocket(testEnv.criSocket, "test containerd (CRI)");
    podLogRoot = await mkdtemp(join(tmpdir(), "deckhand-cri-driver-logs-"));
    rt = createCriRuntime({ endpoint: testEnv.criEndpoint, podLogRoot });
  });

  afterAll(async () => {
    await rt?.close();
    if (podLogRoot) await rm(podLogRoot, { recursive: true, force: true });
  });

  /** A fresh pod on the driver under test; removed afterwards, and the runtime checked clean. */
  async function withPod<T>(prefix: string, body: (pod: TestPod) => Promise<T>): Promise<T> {
    const pod = new TestPod(rt, testEnv.busyboxImage, prefix);
    try {
      return await body(pod);
    } finally {
      await pod.dispose();
    }
  }

  it("lays out logs like kubelet (<root>/<ns>_<name>_<uid>/<container>/<attempt>.log) and removes them with the container", async () => {
    await withPod("cri-logdir", async (pod) => {
      const { containerId } = await pod.runPod(`echo hello; ${SLEEPER}`);
      const status = await rt.containerStatus(containerId);
      const expected = join(podLogRoot, `${pod.namespace}_${pod.name}_${pod.uid}`, "main", "0.log");
      expect(status.logPath).toBe(expected);
      await waitForLogLine(rt, containerId, "hello");
      expect(await readFile(expected, "utf8")).toMatch(/^\S+ stdout F hello\n/);
      await rt.removeContainer(containerId);
      expect(existsSync(expected)).toBe(false);
    });
  });

  it("runs a host-network pod in the node's network namespace, without a pod IP", async () => {
    await withPod("cri-hostnet", async (pod) => {
      const { sandbox, containerId } = await pod.runPod(SLEEPER, {}, { hostNetwork: true });
      const status = await rt.podSandboxStatus(sandbox.id);
      expect([status.hostNetwork, status.ip]).toEqual([true, ""]);
      const inside = (await rt.execSync(containerId, ["readlink", "/proc/self/ns/net"], 10)).stdout
        .toString()
        .trim();
      expect(inside).toBe(await readlink("/proc/self/ns/net"));
    });
  });

  it("places the pod's containers under the sandbox's cgroup parent", async () => {
    const parent = `/${uniqueName("deckhand-test-cg")}`;
    try {
      await withPod("cri-cgroup", async (pod) => {
        const { containerId } = await pod.runPod(SLEEPER, {}, { cgroupParent: parent });
        const cgroups = (await rt.execSync(containerId, ["cat", "/proc/self/cgroup"], 10)).stdout.toString();
        expect(cgroups).toContain(`${parent}/`);
      });
    } finally {
      // The per-container cgroups are gone with the pod; the parent directories are ours to remove.
      await run("sh", ["-c", `find /sys/fs/cgroup -depth -type d -path '*${parent}' -exec rmdir {} \\;`], {
        allowFailure: true,
      });
    }
  });

  it("runs a privileged container (the sandbox config sent with it is marked privileged)", async () => {
    await withPod("cri-priv", async (pod) => {
      const sandbox = await pod.runSandbox();
      const id = await pod.startContainer(sandbox, {
        ...pod.containerConfig("priv", SLEEPER),
        securityContext: { privileged: true },
      });
      const capEff = (
        await rt.execSync(id, ["sh", "-c", "grep CapEff /proc/self/status"], 10)
      ).stdout.toString();
      const bits = BigInt(`0x${capEff.split(/\s+/)[1]}`);
      const CAP_SYS_ADMIN = 1n << 21n;
      expect(bits & CAP_SYS_ADMIN).toBe(CAP_SYS_ADMIN);
    });
  });

  it("streams a megabyte through exec stdin and back over containerd's SPDY stream server", async () => {
    await withPod("cri-bigexec", async (pod) => {
      const { containerId } = await pod.runPod();
      const payload = randomBytes(1024 * 1024);
      const stdout = new PassThrough();
      const chunks: Buffer[] = [];
      stdout.on("data", (c: Buffer) => chunks.push(c));
      const stderr = new Sink();
      const result = await rt.exec(containerId, {
        command: ["sh", "-c", "cat; echo finished >&2"],
        stdin: Readable.from([payload.subarray(0, 300_000), payload.subarray(300_000)]),
        stdout,
        stderr,
        signal: AbortSignal.timeout(60_000),
      });
      expect(result.exitCode).toBe(0);
      expect(stderr.text).toBe("finished\n");
      expect(sha256(Buffer.concat(chunks))).toBe(sha256(payload));
    });
  });

  it("forwards a megabyte both ways through port-forward to an echo server in the pod", async () => {
    await withPod("cri-bigfwd", async (pod) => {
      const { sandbox, containerId } = await pod.runPod("exec nc -ll -p 9000 -e cat");
      await execUntil(
        rt,
        containerId,
        ["sh", "-c", "netstat -ltn | grep -q ':9000 '"],
        "the echo server to listen",
      );
      const payload = randomBytes(1024 * 1024);
      const stream = await rt.portForward(sandbox.id, 9000);
      const received: Buffer[] = [];
      let length = 0;
      const all = new Promise<void>((resolve, reject) => {
        stream.on("data", (chunk: Buffer) => {
          received.push(chunk);
          length += chunk.length;
          if (length >= payload.length) resolve();
        });
        stream.on("error", reject);
      });
      stream.write(payload);
      await all;
      expect(sha256(Buffer.concat(received))).toBe(sha256(payload));
      stream.end();
      await new Promise<void>((resolve) => {
        if (stream.destroyed) resolve();
        else stream.once("close", () => resolve());
        stream.resume();
      });
    });
  });

  it("fails a forwarded stream with containerd's message when nothing listens on the port", async () => {
    await withPod("cri-fwdrefused", async (pod) => {
      const { sandbox } = await pod.runPod();
      const stream = await rt.portForward(sandbox.id, 9999);
      const error = await new Promise<Error>((resolve, reject) => {
        stream.on("error", resolve);
        stream.on("end", () => reject(new Error("the stream ended without an error")));
        stream.resume();
      });
      expect(error.message).toMatch(
        /port-forward to port 9999 of pod sandbox .* failed: .*connection refused/,
      );
    });
  });

  it("close() ends the forwarded connections of that driver instance", async () => {
    await withPod("cri-fwdclose", async (pod) => {
      const { sandbox, containerId } = await pod.runPod("exec nc -ll -p 9001 -e cat");
      await execUntil(
        rt,
        containerId,
        ["sh", "-c", "netstat -ltn | grep -q ':9001 '"],
        "the echo server to listen",
      );
      const other = createCriRuntime({ endpoint: testEnv.criEndpoint, podLogRoot });
      const stream = await other.portForward(sandbox.id, 9001);
      const ended = new Promise<string>((resolve) => {
        stream.on("error", (e: Error) => resolve(e.message));
        stream.on("close", () => resolve("closed"));
      });
      await other.close();
      expect(await ended).toMatch(/was closed/);
    });
  });

  it("exec and attach on a container that does not exist are RUNTIME_NOT_FOUND", async () => {
    const id = "f".repeat(64);
    const exec = await rt.exec(id, { command: ["true"], stdout: new PassThrough() }).catch((e: unknown) => e);
    expect((exec as RuntimeError).code).toBe("RUNTIME_NOT_FOUND");
    const attach = await rt.attach(id, { stdout: new PassThrough() }).catch((e: unknown) => e);
    expect((attach as RuntimeError).code).toBe("RUNTIME_NOT_FOUND");
  });

  it("aborting an exec ends the streaming session and rejects promptly", async () => {
    await withPod("cri-execabort", async (pod) => {
      const { containerId } = await pod.runPod();
      const controller = new AbortController();
      const stdout = new Sink();
      const running = rt.exec(containerId, {
        command: ["sh", "-c", "echo started; exec sleep 3600"],
        stdout,
        signal: controller.signal,
      });
      await waitFor(() => stdout.text === "started\n", { what: "the exec to start" });
      controller.abort(new Error("caller gave up"));
      const error = await running.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RuntimeError);
      expect((error as RuntimeError).message).toContain("caller gave up");
    });
  });

  it("streaming URLs are single-use: a second upgrade is refused with 404", async () => {
    const cri = createCriClients(testEnv.criEndpoint);
    try {
      await withPod("cri-url", async (pod) => {
        const { containerId } = await pod.runPod();
        const { url } = await callUnary(cri.runtime, "Exec", {
          container_id: containerId,
          cmd: ["true"],
          stdout: true,
        });
        const first = await runRemoteCommand(url, { stdout: new PassThrough(), connectTimeoutMs: 10_000 });
        expect(first.exitCode).toBe(0);
        const again = await runRemoteCommand(url, {
          stdout: new PassThrough(),
          connectTimeoutMs: 10_000,
        }).catch((e: unknown) => e);
        expect(again).toBeInstanceOf(StreamUpgradeError);
        expect((again as StreamUpgradeError).httpStatus).toBe(404);
        expect((again as Error).message).toMatch(/single-use/);
      });
    } finally {
      cri.close();
    }
  });

  it("pulls with a base64 `auth` credential; removing one tag removes every tag of that image ID (CRI semantics)", async () => {
    const image = await pushUniqueImage(
      testEnv.registry,
      testEnv.registryBusyboxRepo,
      testEnv.registryBusyboxTag,
      uniqueName("cri-tags"),
    );
    const open = image.ref(testEnv.registry);
    const authed = image.ref(testEnv.authRegistry);
    try {
      const auth = Buffer.from(`${testEnv.authRegistryUser}:${testEnv.authRegistryPassword}`).toString(
        "base64",
      );
      expect(await rt.pullImage(authed, { auth, serverAddress: testEnv.authRegistry })).toBe(
        image.configDigest,
      );
      expect(await rt.pullImage(open)).toBe(image.configDigest);
      const status = await rt.imageStatus(open);
      expect(status?.repoTags.sort()).toEqual([authed, open].sort());
      await rt.removeImage(open);
      expect(await rt.imageStatus(open)).toBeUndefined();
      expect(await rt.imageStatus(authed)).toBeUndefined();
    } finally {
      await rt.removeImage(open).catch(() => undefined);
      await rt.removeImage(authed).catch(() => undefined);
      await deletePushedImage(testEnv.registry, image);
    }
  });

  it("does not leak the sandbox of a RunPodSandbox whose answer missed its deadline", async () => {
    const hasty = createCriRuntime({ endpoint: testEnv.criEndpoint, podLogRoot, requestTimeoutMs: 30 });
    const pod = new TestPod(hasty, testEnv.busyboxImage, "cri-hasty");
    try {
      // Connect first (that alone can take longer than 30 ms), so that the deadline is spent on the sandbox.
      await waitFor(() => hasty.version().then(() => true), { what: "a first answer within 30 ms" });
      const error = await hasty.runPodSandbox(pod.sandboxConfig()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RuntimeError);
      expect((error as RuntimeError).code).toBe("RUNTIME_DEADLINE");
      // The driver has already looked for and removed what the runtime made; nothing is left.
      await expectClean(rt, pod.uid);
    } finally {
      await hasty.close();
    }
  });

  it("reopens a container's log file after it was rotated away", async () => {
    await withPod("cri-reopen", async (pod) => {
      const { containerId } = await pod.runPod("i=0; while :; do i=$((i+1)); echo line-$i; sleep 0.1; done");
      await waitForLogLine(rt, containerId, "line-2");
      const path = (await rt.containerStatus(containerId)).logPath;
      await rename(path, `${path}.1`);
      await rt.reopenContainerLog(containerId);
      await waitFor(
        async () => existsSync(path) && (await readFile(path, "utf8")).includes("stdout F line-"),
        {
          what: "the runtime to write into the reopened log file",
        },
      );
      const first = Number((await readFile(path, "utf8")).split("\n")[0]?.split("line-")[1]);
      const old = await readFile(`${path}.1`, "utf8");
      expect(old).toContain(`line-${first - 1}\n`);
      await rm(`${path}.1`, { force: true });
    });
  });

  it("lists only objects it created (labelled io.deckhand.managed)", async () => {
    const cri = createCriClients(testEnv.criEndpoint);
    const name = uniqueName("cri-foreign");
    const uid = `uid-${name}`;
    const config = {
      metadata: { name, uid, namespace: "foreign", attempt: 0 },
      log_directory: join(podLogRoot, name),
      labels: { [RuntimeLabels.podUid]: uid },
      linux: {},
    };
    const { pod_sandbox_id: id } = await callUnary(
      cri.runtime,
      "RunPodSandbox",
      { config },
      { timeoutMs: 60_000 },
    );
    try {
      expect(await rt.listPodSandboxes({ labelSelector: { [RuntimeLabels.podUid]: uid } })).toEqual([]);
      expect((await rt.podSandboxStatus(id)).metadata.name).toBe(name);
    } finally {
      await callUnary(cri.runtime, "StopPodSandbox", { pod_sandbox_id: id });
      await callUnary(cri.runtime, "RemovePodSandbox", { pod_sandbox_id: id });
      cri.close();
    }
  });

  it("reports stats for the running containers of a pod only, when asked for that state", async () => {
    await withPod("cri-stats", async (pod) => {
      const sandbox = await pod.runSandbox();
      const running = await pod.startContainer(sandbox, pod.containerConfig("running", SLEEPER));
      const done = await pod.startContainer(sandbox, pod.containerConfig("done", "exit 0"));
      await waitForState(rt, done, "exited");
      const stats = await rt.listContainerStats({ podSandboxId: sandbox.id, state: "running" });
      expect(stats.map((s) => [s.containerId, s.name, s.podSandboxId])).toEqual([
        [running, "running", sandbox.id],
      ]);
    });
  });
});
