// The Dockerfile, built against the local engine on a locally built base image (scripts/build-base-image.sh;
// no container registry needed), then `deckhand version`, a control plane and an agent run from the image
// with host networking, as the README's operator guide shows.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requirePrerequisite, requireRoot, requireSocket, testEnv } from "../support/env.ts";
import { freePort } from "../support/etcd.ts";
import { uniqueName } from "../support/names.ts";
import { run } from "../support/run.ts";
import { controlPlaneReady, startService } from "./service-process.ts";

const REPO_ROOT = join(import.meta.dirname, "..", "..");
const DOCKER = "/usr/bin/docker"; // Debian's client (../shared/notes/host.md)
const CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt";

const image = `deckhand.local/deckhand:${uniqueName("test")}`;
const containers: string[] = [];
const mounts: string[] = [];
let scratch: string;

beforeAll(async () => {
  requireRoot();
  requireSocket(testEnv.dockerSocket, "Docker engine");
  requirePrerequisite(existsSync(DOCKER), `${DOCKER} is missing`, "apt-get install docker.io");
  scratch = mkdtempSync(join(tmpdir(), "deckhand-image-"));
  // Once per machine (about 3 min: Debian minbase from the apt archive + Node from the npm registry).
  const base = (
    await run(join(REPO_ROOT, "scripts", "build-base-image.sh"), [], { timeoutMs: 900_000 })
  ).stdout.trim();
  const commit = await run("git", ["-C", REPO_ROOT, "rev-parse", "--short=12", "HEAD"], {
    allowFailure: true,
  });
  // BuildKit for the npm step's CA secret (the host's trust store, for TLS-inspecting proxies).
  await run(
    "/usr/bin/env",
    [
      "DOCKER_BUILDKIT=1",
      DOCKER,
      "build",
      "--quiet",
      ...(existsSync(CA_BUNDLE) ? ["--secret", `id=ca-certificates,src=${CA_BUNDLE}`] : []),
      "--build-arg",
      `BASE_IMAGE=${base}`,
      "--build-arg",
      `GIT_COMMIT=${commit.code === 0 ? commit.stdout.trim() : "unknown"}`,
      "--tag",
      image,
      REPO_ROOT,
    ],
    { timeoutMs: 900_000 },
  );
}, 1_800_000);

afterAll(async () => {
  for (const name of containers) await run(DOCKER, ["rm", "-f", name], { allowFailure: true });
  for (const path of mounts) await run("umount", ["--lazy", path], { allowFailure: true });
  // The layers stay cached for the next build; only this run's tag goes.
  await run(DOCKER, ["rmi", image], { allowFailure: true });
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

function dockerRun(name: string, args: readonly string[]): string[] {
  containers.push(name);
  return [DOCKER, "run", "--rm", "--name", name, ...args];
}

describe("the Deckhand image", () => {
  it("runs `deckhand version` on Node 24", async () => {
    const { stdout } = await run(DOCKER, ["run", "--rm", image, "version", "-o", "json"]);
    const info = JSON.parse(stdout) as Record<string, string>;
    expect(info.nodeVersion).toMatch(/^v24\./);
    expect(info.gitCommit).toMatch(/^([0-9a-f]{7,40}|unknown)$/);
  });

  it("carries production dependencies only, and the tools the agent runs", async () => {
    const { stdout } = await run(DOCKER, [
      "run",
      "--rm",
      "--entrypoint",
      "sh",
      image,
      "-c",
      "ls /opt/deckhand/node_modules; iptables --version; conntrack --version; ip -V",
    ]);
    expect(stdout).toContain("commander");
    expect(stdout).not.toMatch(/^(typescript|vitest|@biomejs|@vitest)$/m);
    expect(stdout).toMatch(/iptables v1\./);
  });

  it("runs a control plane with host networking that serves over HTTPS", async () => {
    const port = await freePort();
    const stateDir = join(scratch, "cp");
    mkdirSync(stateDir);
    const service = startService(
      dockerRun(uniqueName("dh-cp"), [
        "--network",
        "host",
        "-v",
        `${stateDir}:/var/lib/deckhand`,
        image,
        "control-plane",
        "--data-dir",
        "/var/lib/deckhand/control-plane",
        "--listen",
        `127.0.0.1:${port}`,
        "--controllers",
        "none",
      ]),
    );
    let namespaces: string[];
    try {
      namespaces = await controlPlaneReady(service, join(stateDir, "control-plane"), port);
      await service.until(async () => service.output().includes("control plane ready"), "the ready log line");
    } catch (error) {
      await service.stop();
      throw error;
    }
    expect(namespaces).toContain("kube-system");
    // docker run passes the SIGTERM on; the control plane stops cleanly.
    expect(await service.stop()).toBe(0);
  });

  it("runs the agent as documented: host network and PID, privileged, runtime socket, state and config", async () => {
    requireSocket(testEnv.criSocket, "test containerd (CRI)");
    const [port, healthzPort] = [await freePort(), await freePort()];
    // Pod volumes are bind-mounted by the runtime from host paths: the root dir has the same path inside,
    // with mounts the agent makes there (tmpfs emptyDirs) propagated back (rshared). That needs a shared
    // mount on the host side: systemd makes / shared, this host's / is private, so the test shares a bind
    // mount of its own directory.
    const rootDir = join(scratch, "agent-root");
    const configDir = join(scratch, "agent-etc");
    mkdirSync(join(configDir, "manifests"), { recursive: true });
    mkdirSync(rootDir);
    await run("mount", ["--bind", rootDir, rootDir]);
    mounts.push(rootDir);
    await run("mount", ["--make-rshared", rootDir]);
    writeFileSync(
      join(configDir, "agent.yaml"),
      [
        `nodeName: ${uniqueName("pkg-image-agent")}`,
        `rootDir: ${rootDir}`,
        "staticPodPath: /etc/deckhand/manifests",
        "runtime: cri",
        `containerRuntimeEndpoint: ${testEnv.criEndpoint}`,
        "address: 127.0.0.1",
        `port: ${port}`,
        `healthzPort: ${healthzPort}`,
        "proxyMode: none",
        "",
      ].join("\n"),
    );
    const service = startService(
      dockerRun(uniqueName("dh-agent"), [
        "--network",
        "host",
        "--pid",
        "host",
        // The README says --privileged; this host's root lacks CAP_SYS_RESOURCE, which --privileged asks
        // for (runc: "unable to apply caps"), so the test grants every other capability, unconfined.
        ...["--cap-add", "ALL", "--cap-drop", "SYS_RESOURCE", "--security-opt", "seccomp=unconfined"],
        "-v",
        `${testEnv.criSocket}:${testEnv.criSocket}`,
        "-v",
        `${rootDir}:${rootDir}:rshared`,
        "-v",
        `${configDir}:/etc/deckhand:ro`,
        image,
        "agent",
        "--config",
        "/etc/deckhand/agent.yaml",
      ]),
    );
    try {
      await service.until(async () => {
        const res = await fetch(`http://127.0.0.1:${healthzPort}/healthz`);
        await res.body?.cancel();
        return res.status === 200;
      }, `the agent's /healthz on 127.0.0.1:${healthzPort}`);
    } catch (error) {
      await service.stop();
      throw error;
    }
    expect(await service.stop()).toBe(0);
  });
});
