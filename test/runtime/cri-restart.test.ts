// The CRI driver when containerd goes away and comes back.
//
// 1. The shared conformance scenario, with a socket proxy in front of the shared test containerd standing
//    in for the restart (connections drop, socket missing, then stale, then back).
// 2. A real restart: this file starts its OWN containerd (own config, root, state and socket under a temp
//    directory, own CNI network: bridge dhtestr0, 10.90.0.0/16), SIGKILLs it mid-test with a pod running, a
//    followed log and an exec in flight, starts it again on the same socket and shows that the same driver
//    instance recovers and the pod survived. The shared test containerd is never touched.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, openSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCriRuntime } from "../../src/runtime/cri/index.ts";
import { RuntimeError } from "../../src/runtime/errors.ts";
import type { LogLine, Runtime } from "../../src/runtime/types.ts";
import { requirePrerequisite, requireRoot, requireSocket, testEnv } from "../support/env.ts";
import { run } from "../support/run.ts";
import { waitFor } from "../support/wait.ts";
import { waitForLogLine } from "./conformance/containers.ts";
import { execUntil, TestPod, waitForState } from "./conformance/fixtures.ts";
import { runtimeRestartConformance } from "./conformance/index.ts";

const podLogRoot = join(tmpdir(), "deckhand-cri-restart-logs");

runtimeRestartConformance("cri (containerd)", {
  upstreamSocket: testEnv.criSocket,
  connectTo: (socketPath) => {
    requireSocket(testEnv.criSocket, "test containerd (CRI)");
    return createCriRuntime({ endpoint: socketPath, podLogRoot, requestTimeoutMs: 10_000 });
  },
});

const BRIDGE = "dhtestr0";
const SUBNET = "10.90.0.0/16";

/** A private containerd with CRI and CNI, in its own directories, on its own socket. */
class PrivateContainerd {
  readonly dir: string;
  readonly socket: string;
  private child: ChildProcess | undefined;

  constructor(dir: string) {
    this.dir = dir;
    this.socket = join(dir, "containerd.sock");
  }

  get endpoint(): string {
    return `unix://${this.socket}`;
  }

  async configure(): Promise<void> {
    await mkdir(join(this.dir, "cni"), { recursive: true });
    await writeFile(
      join(this.dir, "cni", "10-deckhand-restart.conflist"),
      JSON.stringify({
        cniVersion: "1.0.0",
        name: "deckhand-restart-test",
        plugins: [
          {
            type: "bridge",
            bridge: BRIDGE,
            isGateway: true,
            ipMasq: false,
            hairpinMode: true,
            ipam: {
              type: "host-local",
              ranges: [[{ subnet: SUBNET }]],
              routes: [{ dst: "0.0.0.0/0" }],
              dataDir: join(this.dir, "ipam"),
            },
          },
          { type: "portmap", capabilities: { portMappings: true } },
          { type: "firewall", backend: "iptables" },
          { type: "loopback" },
        ],
      }),
    );
    // The shared test containerd's settings (scripts/setup-host.sh), with every path moved here.
    await writeFile(
      join(this.dir, "config.toml"),
      `version = 2
root = "${join(this.dir, "root")}"
state = "${join(this.dir, "state")}"
[grpc]
  address = "${this.socket}"
[ttrpc]
  address = "${this.socket}.ttrpc"
[debug]
  address = "${join(this.dir, "debug.sock")}"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${testEnv.pauseImage}"
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${join(this.dir, "cni")}"
    max_conf_num = 1
`,
    );
  }

  async start(): Promise<void> {
    const log = openSync(join(this.dir, "containerd.log"), "a");
    this.child = spawn("containerd", ["--config", join(this.dir, "config.toml")], {
      stdio: ["ignore", log, log],
    });
    const child = this.child;
    await waitFor(
      async () => {
        if (child.exitCode !== null) {
          throw new Error(`containerd exited with ${child.exitCode}; see ${this.dir}/containerd.log`);
        }
        if (!existsSync(this.socket)) return false;
        const probe = await run("ctr", ["--address", this.socket, "--connect-timeout", "1s", "version"], {
          allowFailure: true,
        });
        return probe.code === 0;
      },
      { what: `the private containerd on ${this.socket} to answer`, timeoutMs: 30_000, intervalMs: 100 },
    );
  }

  /** SIGKILL, like a crash: the socket file stays behind, the shims (and so the containers) keep running. */
  async kill(): Promise<void> {
    await this.signal("SIGKILL");
  }

  async stop(): Promise<void> {
    await this.signal("SIGTERM");
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill(signal);
    await exited;
  }

  /** Copies the test images over from the shared test containerd (a `ctr export | ctr import`). */
  async importImages(): Promise<void> {
    const archive = join(this.dir, "images.tar");
    await run("ctr", [
      "--address",
      testEnv.criSocket,
      "-n",
      "k8s.io",
      "images",
      "export",
      archive,
      testEnv.busyboxImage,
      testEnv.pauseImage,
    ]);
    await run("ctr", ["--address", this.socket, "-n", "k8s.io", "images", "import", archive]);
  }
}

describe("cri driver across a real restart of its own containerd", () => {
  let containerd: PrivateContainerd | undefined;
  let dir = "";

  beforeAll(async () => {
    requireRoot();
    requireSocket(testEnv.criSocket, "test containerd (CRI), to copy the test images from");
    const tools = await run("sh", ["-c", "command -v containerd && command -v ctr"], { allowFailure: true });
    requirePrerequisite(tools.code === 0, "containerd and ctr are not installed");
    dir = await mkdtemp(join(tmpdir(), "dh-crirst-"));
    containerd = new PrivateContainerd(dir);
    await containerd.configure();
    await containerd.start();
    await containerd.importImages();
  });

  afterAll(async () => {
    await containerd?.stop();
    await run("ip", ["link", "delete", BRIDGE], { allowFailure: true });
    if (dir) {
      // Unmount whatever the runtime left mounted below its directories before removing them.
      await run("sh", ["-c", `grep -o ' ${dir}[^ ]*' /proc/mounts | sort -r | xargs -r -n1 umount -l`], {
        allowFailure: true,
      });
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("keeps working with the same driver instance after containerd is killed and started again", async () => {
    if (!containerd) throw new Error("the private containerd did not start (see beforeAll)");
    const cd = containerd;
    const rt: Runtime = createCriRuntime({
      endpoint: cd.endpoint,
      podLogRoot: join(dir, "pods"),
      requestTimeoutMs: 20_000,
    });
    const pod = new TestPod(rt, testEnv.busyboxImage, "crirestart");
    try {
      const { sandbox, containerId } = await pod.runPod(
        "echo before; trap 'exit 0' TERM; while :; do sleep 1 & wait $!; done",
      );
      const ip = (await rt.podSandboxStatus(sandbox.id)).ip;
      expect(ip).toMatch(/^10\.90\.\d+\.\d+$/);
      await waitForLogLine(rt, containerId, "before");

      const followed: LogLine[] = [];
      const follow = (async () => {
        for await (const line of rt.containerLogs(containerId, {
          follow: true,
          signal: AbortSignal.timeout(120_000),
        })) {
          followed.push(line);
        }
      })().then(
        () => "ended",
        (e: unknown) => (e instanceof RuntimeError ? e.code : String(e)),
      );
      const inFlight = rt.execSync(containerId, ["sleep", "3600"], 0).then(
        () => "finished",
        (e: unknown) => (e instanceof RuntimeError ? e.code : String(e)),
      );
      await waitFor(() => followed.length > 0, { what: "the followed log to deliver its first line" });

      await cd.kill();
      expect(existsSync(cd.socket), "a killed containerd leaves its socket file behind").toBe(true);
      // The call in flight ends; the follower ends once it cannot ask whether the container still runs.
      expect(await inFlight).toBe("RUNTIME_UNAVAILABLE");
      expect(["ended", "RUNTIME_UNAVAILABLE"]).toContain(await follow);
      const down = await rt.version().catch((e: unknown) => e);
      expect(down).toBeInstanceOf(RuntimeError);
      expect((down as RuntimeError).code).toBe("RUNTIME_UNAVAILABLE");
      expect((down as RuntimeError).message).toContain(cd.socket);
      expect((down as RuntimeError).message).toMatch(/start containerd/);

      await cd.start();
      await waitFor(() => rt.version().then(() => true), {
        what: "the driver to reach the restarted containerd",
        timeoutMs: 30_000,
        intervalMs: 200,
      });
      // The pod survived the restart (its shim kept running) and is fully usable again.
      const after = await rt.podSandboxStatus(sandbox.id);
      expect([after.state, after.ip]).toEqual(["ready", ip]);
      expect((await rt.containerStatus(containerId)).state).toBe("running");
      expect(await execUntil(rt, containerId, ["echo", "after"], "exec after the restart")).toBe("after\n");
      const second = await pod.startContainer(sandbox, pod.containerConfig("second", "echo second; exit 0"));
      expect((await waitForState(rt, second, "exited")).exitCode).toBe(0);
      const lines: string[] = [];
      for await (const line of rt.containerLogs(second, {
        follow: true,
        signal: AbortSignal.timeout(60_000),
      })) {
        lines.push(line.content.toString());
      }
      expect(lines).toEqual(["second"]);
    } finally {
      // dispose() removes the pod and asserts that nothing labelled with its UID is left.
      await pod.dispose();
      await rt.close();
    }
  });
});
