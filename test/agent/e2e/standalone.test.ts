// A standalone node: `deckhand agent` without --kubeconfig runs the static pods of its manifest directory
// on its own, with no API server anywhere (upstream kubelet's standalone mode).
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { stringify as stringifyYaml } from "yaml";
import { RuntimeLabels } from "../../../src/runtime/types.ts";
import { connectRuntime, nodeObjects, removeNodeObjects, requireRuntime } from "../../support/agent.ts";
import { testEnv } from "../../support/env.ts";
import { freePort } from "../../support/etcd.ts";
import { uniqueName } from "../../support/names.ts";
import { waitFor } from "../../support/wait.ts";
import { SLEEP_FOREVER, shContainer } from "./harness.ts";

const CLI = join(import.meta.dirname, "..", "..", "..", "src", "cli", "main.ts");

describe("standalone agent (no API server)", () => {
  const nodeName = uniqueName("dh-standalone");
  const dir = mkdtempSync(join(tmpdir(), "deckhand-standalone-"));
  const manifests = join(dir, "manifests");
  const runtime = connectRuntime("docker");
  let child: ChildProcess | undefined;
  let log = "";

  afterAll(async () => {
    child?.kill("SIGTERM");
    if (child && child.exitCode === null) await new Promise((resolve) => child?.once("exit", resolve));
    await removeNodeObjects(runtime, nodeName);
    await runtime.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("runs its static pods and keeps them running", async () => {
    requireRuntime("docker");
    mkdirSync(manifests);
    writeFileSync(
      join(manifests, "solo.yaml"),
      stringifyYaml({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "solo" },
        spec: { terminationGracePeriodSeconds: 1, containers: [shContainer("main", SLEEP_FOREVER)] },
      }),
    );
    const config = join(dir, "config.yaml");
    writeFileSync(
      config,
      stringifyYaml({
        address: "127.0.0.1",
        port: await freePort(),
        healthzPort: await freePort(),
        fileCheckFrequency: "2s",
      }),
    );
    child = spawn(
      process.execPath,
      [
        CLI,
        "agent",
        "--node-name",
        nodeName,
        "--runtime",
        "docker",
        "--root-dir",
        join(dir, "root"),
        "--static-pod-dir",
        manifests,
        "--pod-infra-container-image",
        testEnv.pauseImage,
        "--config",
        config,
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    child.stdout?.on("data", (c: Buffer) => {
      log += c.toString();
    });
    child.stderr?.on("data", (c: Buffer) => {
      log += c.toString();
    });
    const running = await waitFor(
      async () => {
        const { containers } = await nodeObjects(runtime, nodeName);
        return containers.find(
          (c) => c.labels[RuntimeLabels.podName] === `solo-${nodeName}` && c.state === "running",
        );
      },
      { what: `the static pod to run (agent log: ${log.slice(-800)})`, timeoutMs: 90_000 },
    );
    expect(running.metadata.name).toBe("main");
    expect(log).toContain("standalone node");
    expect(child.exitCode).toBeNull();
  });
});
