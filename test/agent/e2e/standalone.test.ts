// A standalone node: `deckhand agent` without --kubeconfig runs the static pods of its manifest directory
// on its own, with no API server anywhere (upstream kubelet's standalone mode).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { stringify as stringifyYaml } from "yaml";
import { RuntimeLabels } from "../../../src/runtime/types.ts";
import { connectRuntime, nodeObjects, removeNodeObjects, requireRuntime } from "../../support/agent.ts";
import { uniqueName } from "../../support/names.ts";
import { manifestDir, type StandaloneAgent, startStandaloneAgent } from "../../support/standalone-agent.ts";
import { waitFor } from "../../support/wait.ts";
import { SLEEP_FOREVER, shContainer } from "./harness.ts";

describe("standalone agent (no API server)", () => {
  const nodeName = uniqueName("dh-standalone");
  const dir = mkdtempSync(join(tmpdir(), "deckhand-standalone-"));
  const runtime = connectRuntime("docker");
  let agent: StandaloneAgent | undefined;

  afterAll(async () => {
    await agent?.stop();
    await removeNodeObjects(runtime, nodeName);
    await runtime.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("runs its static pods and keeps them running", async () => {
    requireRuntime("docker");
    writeFileSync(
      join(manifestDir(dir), "solo.yaml"),
      stringifyYaml({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "solo" },
        spec: { terminationGracePeriodSeconds: 1, containers: [shContainer("main", SLEEP_FOREVER)] },
      }),
    );
    const started = await startStandaloneAgent({ nodeName, dir });
    agent = started;
    const running = await waitFor(
      async () => {
        const { containers } = await nodeObjects(runtime, nodeName);
        return containers.find(
          (c) => c.labels[RuntimeLabels.podName] === `solo-${nodeName}` && c.state === "running",
        );
      },
      { what: "the static pod to run", timeoutMs: 90_000 },
    ).catch((error: Error) => {
      throw new Error(`${error.message}\nagent log:\n${started.log().slice(-800)}`);
    });
    expect(running.metadata.name).toBe("main");
    expect(started.log()).toContain("standalone node");
    expect(started.child.exitCode).toBeNull();
  });
});
