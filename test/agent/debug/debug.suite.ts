// `deckhand debug` against a real agent on one runtime, through the real command: the root-only socket,
// pods/containers/pod/probes/logs/config as tables and JSON, answers while the API server is down, and
// precise errors (no such pod, no service proxy, no agent at the socket).
import { statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Pod } from "../../../src/api/schema/core/pod-types.ts";
import type { AgentRuntimeKind } from "../../support/agent.ts";
import { run } from "../../support/run.ts";
import { SLEEP_FOREVER, shContainer, useE2E } from "../e2e/harness.ts";

const CLI = join(import.meta.dirname, "..", "..", "..", "src", "cli", "main.ts");
const status = (pod: Pod, name: string) => pod.status?.containerStatuses?.find((c) => c.name === name);

// biome-ignore lint/suspicious/noExplicitAny: the command's JSON output.
type Json = any;
/** Per-test bound on a hang (each command is a Node start, slow on a heavily loaded machine). */
const HANG = 600_000;

export function debugSuite(kind: AgentRuntimeKind): void {
  describe(`deckhand debug on ${kind}`, () => {
    const env = useE2E(kind);
    const debug = (...args: string[]) =>
      run(process.execPath, [CLI, "debug", ...args, "--socket", env().agent.debugSocket], {
        allowFailure: true,
        timeoutMs: 180_000,
      });
    const json = async (...args: string[]): Promise<Json> => {
      const result = await debug(...args, "-o", "json");
      expect(result.stderr).toBe("");
      expect(
        result.code,
        `deckhand debug ${args.join(" ")} exited ${result.code} (a run() timeout is 1)`,
      ).toBe(0);
      return JSON.parse(result.stdout);
    };

    it(
      "shows pods, containers, a pod's story, probes, logs and config from the agent's own view",
      async () => {
        const e = env();
        const socket = statSync(e.agent.debugSocket);
        expect(socket.isSocket()).toBe(true);
        expect(socket.mode & 0o777).toBe(0o600);

        await e.createPod("dbg", {
          restartPolicy: "Always",
          containers: [
            shContainer("app", `echo hello from app; ${SLEEP_FOREVER}`, {
              readinessProbe: {
                exec: { command: ["sh", "-c", "echo not yet; exit 1"] },
                periodSeconds: 1,
                // Generous: an exec can take seconds on a loaded machine, and its output is what is checked.
                timeoutSeconds: 10,
                failureThreshold: 1,
              },
            }),
            shContainer("crash", "echo bye; exit 3"),
          ],
        });
        const pod = await e.waitPod(
          "dbg",
          (p) =>
            (status(p, "crash")?.restartCount ?? 0) >= 1 && status(p, "app")?.state?.running !== undefined,
          "app running and crash restarted once",
        );
        const uid = pod.metadata?.uid;
        await e.waitEvent("dbg", (ev) => ev.reason === "Unhealthy", "a failed readiness probe");

        const pods: Json[] = await json("pods");
        const row = pods.find((p) => p.name === "dbg");
        expect(row).toMatchObject({
          namespace: e.ns,
          uid,
          source: "api",
          containers: 2,
          ip: pod.status?.podIP,
        });
        expect(row.restarts).toBeGreaterThanOrEqual(1);
        expect(row.sandboxState).toBe("ready");
        const podsTable = (await debug("pods")).stdout.split("\n");
        expect(podsTable[0]).toMatch(
          /^NAMESPACE\s+NAME\s+SOURCE\s+RUNNING\s+RESTARTS\s+SANDBOX\s+STATE\s+IP/,
        );
        expect(podsTable.find((l) => l.includes(" dbg "))).toContain(e.ns);

        const containers: Json[] = await json("containers");
        const crashed = containers.find((c) => c.pod === "dbg" && c.name === "crash" && c.state === "exited");
        expect(crashed).toMatchObject({ namespace: e.ns, exitCode: 3, reason: "Error" });
        expect(crashed.id).toMatch(/^[0-9a-f]{64}$/);
        const app = containers.find((c) => c.pod === "dbg" && c.name === "app");
        expect(app.id).toBe(e.containerId(pod, "app"));
        expect(app.specHash).not.toBe("");

        const story: Json = await json("pod", `${e.ns}/dbg`);
        expect(story.pod.uid).toBe(uid);
        expect(story.sandboxes[0]).toMatchObject({ state: "ready", ip: pod.status?.podIP });
        const readiness = story.probes.find((p: Json) => p.container === "app" && p.type === "readiness");
        expect(readiness).toMatchObject({
          ok: false,
          lastOutcome: "failure",
          handler: "exec sh -c echo not yet; exit 1",
        });
        expect(readiness.history.at(-1)).toMatchObject({ outcome: "failure", message: "not yet\n" });
        const reasons = story.events.map((ev: Json) => ev.reason);
        expect(reasons).toEqual(expect.arrayContaining(["Created", "Started", "Unhealthy"]));
        expect(story.sync.syncs).toBeGreaterThan(0);
        const described = (await debug("pod", "dbg", "-n", e.ns)).stdout;
        expect(described).toContain(`Pod:        ${e.ns}/dbg`);
        expect(described).toMatch(
          /Probes:\n {2}app readiness: exec sh -c echo not yet; exit 1 every 1s — failing/,
        );
        expect(described).toContain("Readiness probe failed: not yet");

        const probes = (await debug("probes")).stdout;
        expect(probes.split("\n").find((l) => l.includes("dbg") && l.includes("readiness"))).toMatch(
          /app\s+readiness\s+exec sh -c echo not yet; exit 1\s+failing\s+failure/,
        );

        expect((await debug("logs", `${e.ns}/dbg`, "app")).stdout).toBe("hello from app\n");
        expect((await debug("logs", "dbg", "crash", "-n", e.ns, "--tail", "1")).stdout).toBe("bye\n");
        expect((await debug("logs", app.id.slice(0, 12))).stdout).toBe("hello from app\n");

        const config: Json = await json("config");
        expect(config).toMatchObject({ nodeName: e.agent.nodeName, debugSocket: e.agent.debugSocket });
      },
      HANG,
    );

    it(
      "still answers while the API server is down",
      async () => {
        const e = env();
        await e.createPod("offline", { containers: [shContainer("app", SLEEP_FOREVER)] });
        await e.waitRunning("offline");
        await e.cp.kill();
        try {
          const pods: Json[] = await json("pods");
          expect(pods.find((p) => p.name === "offline")).toMatchObject({ namespace: e.ns, running: 1 });
        } finally {
          await e.cp.start();
        }
      },
      HANG,
    );

    it(
      "errors name the problem: unknown pod, no service proxy, unknown view, no agent at the socket",
      async () => {
        const e = env();
        const missing = await debug("pod", "no-such-pod", "-n", e.ns);
        expect(missing.code).toBe(1);
        expect(missing.stderr).toBe(`deckhand debug: pod ${e.ns}/no-such-pod is not known on this node\n`);
        const services = await debug("services");
        expect(services.code).toBe(1);
        expect(services.stderr).toContain("the service proxy is not running on this node");
        const badOutput = await debug("pods", "-o", "yaml");
        expect(badOutput.code).not.toBe(0);
        expect(badOutput.stderr).toContain('--output must be "table" or "json"');
        const nowhere = await run(
          process.execPath,
          [CLI, "debug", "pods", "--socket", `${e.agent.debugSocket}.missing`],
          { allowFailure: true, timeoutMs: 180_000 },
        );
        expect(nowhere.code).toBe(1);
        expect(nowhere.stderr).toContain(`cannot reach the agent at ${e.agent.debugSocket}.missing: ENOENT`);
      },
      HANG,
    );
  });
}
