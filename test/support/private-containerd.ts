// A containerd with CRI of the test's own (own config, root, state, socket and CNI bridge under a temporary
// directory), for tests that kill the runtime: the shared test containerd is never touched. Same settings as
// scripts/setup-host.sh's instance, like test/runtime/cri-restart.test.ts, on a network of its own.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, openSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { requirePrerequisite, requireRoot, requireSocket, testEnv } from "./env.ts";
import { run } from "./run.ts";
import { waitFor } from "./wait.ts";

/** The containerd configuration scripts/setup-host.sh uses too, with @NAME@ placeholders. */
const CONFIG_TEMPLATE = join(import.meta.dirname, "..", "..", "scripts", "containerd-test.toml");

export interface PrivateNetwork {
  /** Linux bridge name (at most 15 characters). */
  bridge: string;
  subnet: string;
}

export interface PrivateContainerdOptions {
  /**
   * Runs containerd inside this network namespace (`nsenter --net`; `ip netns exec` would give it a private
   * /sys without the cgroup mounts runc needs): its CNI plugins create the pods' bridge there and its stream
   * server listens on that namespace's loopback.
   */
  netns?: string;
}

export class PrivateContainerd {
  readonly dir: string;
  readonly socket: string;
  /** containerd's CNI configuration directory (cni.conf_dir). */
  readonly cniConfDir: string;
  private readonly network: PrivateNetwork | undefined;
  private readonly options: PrivateContainerdOptions;
  private child: ChildProcess | undefined;

  private constructor(dir: string, network: PrivateNetwork | undefined, options: PrivateContainerdOptions) {
    this.dir = dir;
    this.socket = join(dir, "containerd.sock");
    this.cniConfDir = join(dir, "cni");
    this.network = network;
    this.options = options;
  }

  /**
   * Configures, starts and stocks (busybox and pause from the shared test containerd) a new instance.
   * `network` undefined: no CNI configuration of its own; an agent with networkPlugin kubenet writes one
   * into `cniConfDir`, and sandboxes wait for it (NetworkReady=false until then).
   */
  static async create(
    network: PrivateNetwork | undefined,
    options: PrivateContainerdOptions = {},
  ): Promise<PrivateContainerd> {
    requireRoot();
    requireSocket(testEnv.criSocket, "test containerd (CRI), to copy the test images from");
    const tools = await run("sh", ["-c", "command -v containerd && command -v ctr"], { allowFailure: true });
    requirePrerequisite(tools.code === 0, "containerd and ctr are not installed");
    const instance = new PrivateContainerd(await mkdtemp(join(tmpdir(), "dh-e2e-ctrd-")), network, options);
    try {
      await instance.configure();
      await instance.start();
      await instance.importImages();
    } catch (error) {
      await instance.destroy();
      throw error;
    }
    return instance;
  }

  get endpoint(): string {
    return `unix://${this.socket}`;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  private async configure(): Promise<void> {
    await mkdir(this.cniConfDir, { recursive: true });
    if (this.network) await this.writeConflist(this.network);
    const config = (await readFile(CONFIG_TEMPLATE, "utf8"))
      .replaceAll("@ROOT@", join(this.dir, "root"))
      .replaceAll("@STATE@", join(this.dir, "state"))
      .replaceAll("@SOCKET@", this.socket)
      .replaceAll("@DEBUG_SOCKET@", join(this.dir, "debug.sock"))
      .replaceAll("@PAUSE_IMAGE@", testEnv.pauseImage)
      .replaceAll("@CNI_CONF_DIR@", this.cniConfDir);
    await writeFile(join(this.dir, "config.toml"), config);
  }

  private async writeConflist(network: PrivateNetwork): Promise<void> {
    await writeFile(
      join(this.cniConfDir, "10-deckhand-e2e.conflist"),
      JSON.stringify({
        cniVersion: "1.0.0",
        name: `deckhand-e2e-${network.bridge}`,
        plugins: [
          {
            type: "bridge",
            bridge: network.bridge,
            isGateway: true,
            ipMasq: false,
            hairpinMode: true,
            ipam: {
              type: "host-local",
              ranges: [[{ subnet: network.subnet }]],
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
  }

  async start(): Promise<void> {
    const log = openSync(join(this.dir, "containerd.log"), "a");
    const containerd = ["containerd", "--config", join(this.dir, "config.toml")];
    const netns = this.options.netns;
    const [file, ...args] = netns
      ? ["nsenter", `--net=/run/netns/${netns}`, "--", ...containerd]
      : containerd;
    const child = spawn(file as string, args, { stdio: ["ignore", log, log] });
    this.child = child;
    await waitFor(
      async () => {
        if (child.exitCode !== null)
          throw new Error(`containerd exited with ${child.exitCode}; see ${this.dir}/containerd.log`);
        if (!existsSync(this.socket)) return false;
        const probe = await run("ctr", ["--address", this.socket, "--connect-timeout", "1s", "version"], {
          allowFailure: true,
        });
        return probe.code === 0;
      },
      { what: `the private containerd on ${this.socket} to answer`, timeoutMs: 60_000, intervalMs: 100 },
    );
  }

  /** SIGKILL, like a crash: the shims (and so the containers) keep running; the socket file stays. */
  async kill(): Promise<void> {
    await this.signal("SIGKILL");
  }

  async stop(): Promise<void> {
    await this.signal("SIGTERM");
  }

  /** Stops containerd and removes its directories and bridge (after the test removed its pods). */
  async destroy(): Promise<void> {
    await this.stop();
    if (this.network) await run("ip", ["link", "delete", this.network.bridge], { allowFailure: true });
    await run("sh", ["-c", `grep -o ' ${this.dir}[^ ]*' /proc/mounts | sort -r | xargs -r -n1 umount -l`], {
      allowFailure: true,
    });
    await rm(this.dir, { recursive: true, force: true });
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill(signal);
    await exited;
  }

  private async importImages(): Promise<void> {
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
    await rm(archive, { force: true });
  }
}
