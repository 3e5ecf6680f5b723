// `deckhand debug` on a standalone node (no API server anywhere): the static pod, its containers and its
// story come from the agent's own state; events that could not go to any API server are still told.
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { stringify as stringifyYaml } from "yaml";
import { connectRuntime, removeNodeObjects, requireRuntime } from "../../support/agent.ts";
import { uniqueName } from "../../support/names.ts";
import { run } from "../../support/run.ts";
import {
  CLI,
  manifestDir,
  type StandaloneAgent,
  startStandaloneAgent,
} from "../../support/standalone-agent.ts";
import { waitFor } from "../../support/wait.ts";
import { SLEEP_FOREVER, shContainer } from "../e2e/harness.ts";

// biome-ignore lint/suspicious/noExplicitAny: the command's JSON output.
type Json = any;

describe("deckhand debug on a standalone node", () => {
  const nodeName = uniqueName("dh-debug-solo");
  const dir = mkdtempSync(join(tmpdir(), "deckhand-debug-solo-"));
  const socket = join(dir, "debug.sock");
  const runtime = connectRuntime("docker");
  let agent: StandaloneAgent | undefined;

  afterAll(async () => {
    await agent?.stop();
    await removeNodeObjects(runtime, nodeName);
    await runtime.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const debug = (...args: string[]) =>
    run(process.execPath, [CLI, "debug", ...args, "--socket", socket], {
      allowFailure: true,
      timeoutMs: 180_000,
    });
  const json = async (...args: string[]): Promise<Json> => {
    const result = await debug(...args, "-o", "json");
    if (result.code !== 0) throw new Error(`deckhand debug ${args.join(" ")}: ${result.stderr}`);
    return JSON.parse(result.stdout);
  };

  it("lists the static pod with source file and tells its story", async () => {
    requireRuntime("docker");
    writeFileSync(
      join(manifestDir(dir), "solo.yaml"),
      stringifyYaml({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "solo", namespace: "kube-system" },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [
            shContainer("main", `echo up; ${SLEEP_FOREVER}`, {
              // A generous timeout: on a loaded machine a docker exec can take longer than the default 1 s.
              livenessProbe: { exec: { command: ["true"] }, periodSeconds: 1, timeoutSeconds: 30 },
            }),
          ],
        },
      }),
    );
    const started = await startStandaloneAgent({
      nodeName,
      dir,
      config: { debugSocket: socket },
      extraArgs: ["--log-level", "debug"],
    });
    agent = started;
    const podName = `solo-${nodeName}`;
    const pod = await waitFor(
      async () => {
        const pods: Json[] = await json("pods");
        return pods.find((p) => p.name === podName && p.running === 1);
      },
      { what: "the static pod running, as deckhand debug pods tells", timeoutMs: 300_000, intervalMs: 500 },
    ).catch((error: Error) => {
      throw new Error(`${error.message}\nagent log:\n${started.log().slice(-4000)}`);
    });
    expect(pod).toMatchObject({ namespace: "kube-system", source: "file", sandboxState: "ready" });
    expect(statSync(socket).mode & 0o777).toBe(0o600);

    const story: Json = await waitFor(
      async () => {
        const s: Json = await json("pod", `kube-system/${podName}`);
        return s.probes[0]?.history.length >= 2 ? s : undefined;
      },
      { what: "two liveness results in the pod's story", timeoutMs: 180_000, intervalMs: 500 },
    );
    expect(story.probes[0], JSON.stringify(story.probes[0].history)).toMatchObject({
      container: "main",
      type: "liveness",
      ok: true,
      lastOutcome: "success",
    });
    // Started/Created events went nowhere (no API server), yet the story has them.
    expect(story.events.map((e: Json) => e.reason)).toEqual(expect.arrayContaining(["Created", "Started"]));
    expect((await debug("logs", `kube-system/${podName}`, "main")).stdout).toBe("up\n");
    const config2: Json = await json("config");
    expect(config2).toMatchObject({ nodeName, kubeconfig: "", debugSocket: socket });
    // A bound on a hang on a heavily loaded machine, not a speed assertion.
  }, 900_000);
});
