// A standalone `deckhand agent` process (no --kubeconfig: static pods only, upstream kubelet's standalone
// mode) on the Docker engine, with its own root dir, manifest directory, ports and log file.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify as stringifyYaml } from "yaml";
import { testEnv } from "./env.ts";
import { freePort } from "./etcd.ts";

export const CLI = join(import.meta.dirname, "..", "..", "src", "cli", "main.ts");

export interface StandaloneAgentOptions {
  nodeName: string;
  /** The agent's own directory: root dir, config and log go here; the manifests in `dir/manifests`. */
  dir: string;
  /** Settings merged into the agent's config file. */
  config?: Record<string, unknown>;
  extraArgs?: readonly string[];
}

export interface StandaloneAgent {
  readonly child: ChildProcess;
  readonly manifests: string;
  /** Everything the agent printed so far. */
  log(): string;
  /** SIGTERM, then waits for the process to exit. */
  stop(): Promise<void>;
}

/** The directory a standalone agent reads its static pods from; write manifests here before starting. */
export function manifestDir(dir: string): string {
  const manifests = join(dir, "manifests");
  mkdirSync(manifests, { recursive: true });
  return manifests;
}

export async function startStandaloneAgent(options: StandaloneAgentOptions): Promise<StandaloneAgent> {
  const { nodeName, dir } = options;
  const manifests = manifestDir(dir);
  const configPath = join(dir, "config.yaml");
  writeFileSync(
    configPath,
    stringifyYaml({
      address: "127.0.0.1",
      port: await freePort(),
      healthzPort: await freePort(),
      fileCheckFrequency: "2s",
      ...options.config,
    }),
  );
  const logPath = join(dir, "agent.log");
  const fd = openSync(logPath, "a");
  const child = spawn(
    process.execPath,
    [
      CLI,
      "agent",
      "--node-name",
      nodeName,
      "--runtime",
      "docker",
      "--runtime-endpoint",
      `unix://${testEnv.dockerSocket}`,
      "--root-dir",
      join(dir, "root"),
      "--static-pod-dir",
      manifests,
      "--pod-infra-container-image",
      testEnv.pauseImage,
      "--config",
      configPath,
      ...(options.extraArgs ?? []),
    ],
    { stdio: ["ignore", fd, fd] },
  );
  return {
    child,
    manifests,
    log: () => readFileSync(logPath, "utf8"),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    },
  };
}
