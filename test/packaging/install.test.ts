// scripts/install.sh into a staged root (--root: every path inside the installed files points below it),
// then the installed units checked by systemd-analyze and their ExecStart= lines run as systemd would run
// them: the control plane comes up and serves, the agent comes up and answers /healthz.
import {
  existsSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requirePrerequisite, requireRoot, requireSocket, testEnv } from "../support/env.ts";
import { freePort } from "../support/etcd.ts";
import { uniqueName } from "../support/names.ts";
import { run } from "../support/run.ts";
import { controlPlaneReady, startService } from "./service-process.ts";
import { execStart, parseUnit, serviceEnvironment, values } from "./systemd-unit.ts";

const REPO_ROOT = join(import.meta.dirname, "..", "..");
const INSTALL = join(REPO_ROOT, "scripts", "install.sh");
const SYSTEMD_ANALYZE = "/usr/bin/systemd-analyze";

let root: string;
const unitPath = (name: string) => join(root, "etc", "systemd", "system", `${name}.service`);
const loadUnit = (name: string) => parseUnit(readFileSync(unitPath(name), "utf8"));

beforeAll(async () => {
  requireRoot();
  root = mkdtempSync(join(tmpdir(), "deckhand-install-"));
  // Builds dist/ first only when it is missing or stale (scripts/test.sh builds before the tests).
  await run(INSTALL, ["--root", root, "--agent", "--control-plane"], { timeoutMs: 600_000 });
}, 600_000);

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe("scripts/install.sh --root", () => {
  it("installs Deckhand, its Node, production dependencies only, the wrapper, units and settings", () => {
    const prefix = join(root, "opt", "deckhand");
    for (const path of [
      "dist/cli/main.js",
      "proto/runtime/v1/api.proto",
      "node/bin/node",
      "scripts/install.sh",
    ]) {
      expect(existsSync(join(prefix, path)), path).toBe(true);
    }
    expect(existsSync(join(prefix, "node_modules", "commander"))).toBe(true);
    expect(existsSync(join(prefix, "node_modules", "vitest"))).toBe(false);
    expect(existsSync(join(prefix, "node_modules", "typescript"))).toBe(false);
    expect(readFileSync(join(root, "usr", "local", "bin", "deckhand"), "utf8")).toContain(
      `${prefix}/node/bin/node ${prefix}/dist/cli/main.js`,
    );
    expect(lstatSync(join(root, "etc", "deckhand", "agent.yaml")).mode & 0o777).toBe(0o600);
    expect(lstatSync(join(root, "var", "lib", "deckhand")).mode & 0o777).toBe(0o700);
    for (const unit of ["deckhand-agent", "deckhand-control-plane"]) {
      // --agent / --control-plane enabled them (systemctl --root): the multi-user.target.wants links.
      expect(
        lstatSync(
          join(root, "etc/systemd/system/multi-user.target.wants", `${unit}.service`),
        ).isSymbolicLink(),
      ).toBe(true);
    }
  });

  it("runs `deckhand version` through the installed wrapper on the installed Node", async () => {
    const { stdout } = await run(join(root, "usr", "local", "bin", "deckhand"), ["version", "-o", "json"]);
    const info = JSON.parse(stdout) as Record<string, string>;
    expect(info.nodeVersion).toMatch(/^v24\./);
    expect(info.deckhandVersion).toBe(
      JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")).version,
    );
  });

  it("installs units that systemd-analyze verify accepts", async () => {
    requirePrerequisite(
      existsSync(SYSTEMD_ANALYZE),
      `${SYSTEMD_ANALYZE} is missing`,
      "apt-get install systemd (scripts/setup-host.sh does)",
    );
    const result = await run(
      SYSTEMD_ANALYZE,
      ["verify", unitPath("deckhand-agent"), unitPath("deckhand-control-plane")],
      {
        allowFailure: true,
      },
    );
    expect(`${result.stdout}${result.stderr}`.trim()).toBe("");
    expect(result.code).toBe(0);
  });

  it("gives the agent unit what the agent needs from systemd", () => {
    const unit = loadUnit("deckhand-agent");
    expect(values(unit, "Service", "Restart")).toEqual(["always"]);
    expect(values(unit, "Service", "KillMode")).toEqual(["process"]);
    expect(values(unit, "Service", "Delegate")).toEqual(["yes"]);
    expect(values(unit, "Service", "LimitNOFILE")).toEqual(["1048576"]);
    expect(values(unit, "Service", "EnvironmentFile")).toEqual([`-${root}/etc/default/deckhand-agent`]);
    expect(values(unit, "Unit", "After").join(" ").split(/\s+/)).toEqual(
      expect.arrayContaining(["network-online.target", "containerd.service", "docker.service"]),
    );
    expect(values(unit, "Install", "WantedBy")).toEqual(["multi-user.target"]);
  });

  it("runs the control plane unit's ExecStart with the settings from its EnvironmentFile", async () => {
    const port = await freePort();
    const dataDir = join(root, "var", "lib", "deckhand", "cp-test");
    writeFileSync(
      join(root, "etc", "default", "deckhand-control-plane"),
      `# test settings\nDECKHAND_LISTEN=127.0.0.1:${port}\nDECKHAND_DATA_DIR="${dataDir}"\nDECKHAND_CONTROL_PLANE_ARGS=--controllers none --store sqlite\n`,
    );
    const unit = loadUnit("deckhand-control-plane");
    const argv = execStart(unit, serviceEnvironment(unit));
    expect(argv).toEqual([
      join(root, "usr", "local", "bin", "deckhand"),
      "control-plane",
      "--data-dir",
      dataDir,
      "--listen",
      `127.0.0.1:${port}`,
      "--controllers",
      "none",
      "--store",
      "sqlite",
    ]);
    const service = startService(argv);
    try {
      expect(await controlPlaneReady(service, dataDir, port)).toContain("kube-system");
      // Its SIGTERM handler is in place once it logged that it is ready.
      await service.until(async () => service.output().includes("control plane ready"), "the ready log line");
    } finally {
      expect(await service.stop()).toBe(0);
    }
  });

  it("runs the agent unit's ExecStart: the agent reads its config file and answers /healthz", async () => {
    requireSocket(testEnv.criSocket, "test containerd (CRI)");
    const [port, healthzPort] = [await freePort(), await freePort()];
    const nodeName = uniqueName("pkg-agent");
    const configPath = join(root, "etc", "deckhand", "agent-test.yaml");
    writeFileSync(
      configPath,
      [
        `nodeName: ${nodeName}`,
        `rootDir: ${join(root, "var", "lib", "deckhand")}`,
        `staticPodPath: ${join(root, "etc", "deckhand", "manifests")}`,
        "address: 127.0.0.1",
        `port: ${port}`,
        `healthzPort: ${healthzPort}`,
        "proxyMode: none",
        "",
      ].join("\n"),
    );
    writeFileSync(
      join(root, "etc", "default", "deckhand-agent"),
      `DECKHAND_AGENT_CONFIG=${configPath}\nDECKHAND_AGENT_ARGS=--runtime cri --runtime-endpoint ${testEnv.criEndpoint}\n`,
    );
    const unit = loadUnit("deckhand-agent");
    const argv = execStart(unit, serviceEnvironment(unit));
    expect(argv.slice(1)).toEqual([
      "agent",
      "--config",
      configPath,
      "--runtime",
      "cri",
      "--runtime-endpoint",
      testEnv.criEndpoint,
    ]);
    const service = startService(argv);
    try {
      await service.until(async () => {
        const res = await fetch(`http://127.0.0.1:${healthzPort}/healthz`);
        await res.body?.cancel();
        return res.status === 200;
      }, `the agent's /healthz on 127.0.0.1:${healthzPort}`);
    } finally {
      expect(await service.stop()).toBe(0);
    }
  });

  it("prints every step and changes nothing with --dry-run", async () => {
    const dry = mkdtempSync(join(tmpdir(), "deckhand-install-dry-"));
    try {
      const { stderr } = await run(INSTALL, ["--root", dry, "--agent", "--dry-run"]);
      expect(stderr).toContain(`would write ${dry}/etc/systemd/system/deckhand-agent.service`);
      expect(stderr).toContain("would run: systemctl");
      expect(readdirSync(dry)).toEqual([]);
    } finally {
      rmSync(dry, { recursive: true, force: true });
    }
  });

  it("refuses unknown arguments with exit status 2", async () => {
    const result = await run(INSTALL, ["--frobnicate"], { allowFailure: true });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("unknown argument --frobnicate");
  });

  it("uninstalls, keeping configuration and state unless --purge", async () => {
    await run(INSTALL, ["--root", root, "--uninstall"]);
    expect(existsSync(join(root, "opt", "deckhand"))).toBe(false);
    expect(existsSync(join(root, "usr", "local", "bin", "deckhand"))).toBe(false);
    expect(existsSync(unitPath("deckhand-agent"))).toBe(false);
    expect(existsSync(join(root, "etc/systemd/system/multi-user.target.wants/deckhand-agent.service"))).toBe(
      false,
    );
    expect(existsSync(join(root, "etc", "deckhand", "agent.yaml"))).toBe(true);
    await run(INSTALL, ["--root", root, "--uninstall", "--purge"]);
    expect(existsSync(join(root, "etc", "deckhand"))).toBe(false);
    expect(existsSync(join(root, "var", "lib", "deckhand"))).toBe(false);
  });
});
