// The agent's root dir on a small tmpfs that the test fills up, under a running agent on Docker.
// "Nothing lost" here: the agent process keeps running throughout (no crash), the Node reports DiskPressure
// True with kubelet's reason while the disk is full, a pod created meanwhile fails with an error that says
// why (no space) rather than silently, and once space is freed DiskPressure goes back to False and the pod
// runs.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type E2E, SLEEP_FOREVER, shContainer, useE2E } from "../agent/e2e/harness.ts";
import { getNode, nodeCondition, waitForNodeReady } from "../support/agent.ts";
import { run } from "../support/run.ts";
import { waitFor } from "../support/wait.ts";

/** Starts the agent and waits for its "agent ready" line (the Node may still say Ready from before). */
async function startedAgain(e: E2E): Promise<void> {
  const readyBefore = (e.agent.logs().match(/"agent ready"/g) ?? []).length;
  await e.agent.start();
  await waitFor(
    () => (e.agent.logs().match(/"agent ready"/g) ?? []).length > readyBefore || !e.agent.running,
    {
      what: "the agent to log that it is ready",
      timeoutMs: 90_000,
    },
  );
  expect(e.agent.running, `the agent exited at start-up:\n${e.agent.tail(30)}`).toBe(true);
  await waitForNodeReady(e.cp, e.agent).catch(() => undefined);
}

/** Small enough to fill in an instant, big enough for the agent's own state files. */
const TMPFS_SIZE = "16m";

describe("disk full under the agent's root dir", () => {
  const env = useE2E("docker", { config: { evictionHard: { "nodefs.available": "10%" } } });

  it("DiskPressure while full, a precise error for new pods, no crash, recovery when space returns", async () => {
    const e = env();
    const root = e.agent.rootDir;
    // The agent starts again on a fresh tmpfs over its root dir (no pods yet, so nothing is hidden).
    await e.agent.kill9();
    // Unmounted by the harness: the agent helper's dispose unmounts whatever is mounted below its directory.
    await run("mount", ["-t", "tmpfs", "-o", `size=${TMPFS_SIZE}`, "deckhand-test-full", root]);
    await startedAgain(e);
    const fill = join(root, "fill");
    // dd stops with ENOSPC when the tmpfs is full; that is the point.
    await run("dd", ["if=/dev/zero", `of=${fill}`, "bs=1M"], { allowFailure: true });
    const pressure = await waitFor(
      async () => {
        const condition = nodeCondition(await getNode(e.cp, e.agent.nodeName), "DiskPressure");
        return condition?.status === "True" ? condition : undefined;
      },
      { what: "DiskPressure True on the node", timeoutMs: 60_000 },
    ).catch(async (error: Error) => {
      const node = await getNode(e.cp, e.agent.nodeName);
      const df = await run("df", ["-B1", root], { allowFailure: true });
      throw new Error(
        `${error.message}\nconditions: ${JSON.stringify(node?.status?.conditions)}\ndf: ${df.stdout}\nagent running: ${e.agent.running}\n${e.agent.tail(20)}`,
      );
    });
    expect(pressure.reason).toBe("KubeletHasDiskPressure");

    await e.createPod("starved", {
      volumes: [{ name: "scratch", emptyDir: {} }],
      containers: [
        shContainer("app", SLEEP_FOREVER, { volumeMounts: [{ name: "scratch", mountPath: "/s" }] }),
      ],
    });
    // The failure to set the pod up is reported with its cause: an event or the agent's log names ENOSPC.
    await waitFor(
      async () => {
        const events = await e.events("starved");
        const said = events.some((ev) => /ENOSPC|no space/i.test(ev.message ?? ""));
        return said || /ENOSPC|no space left/i.test(e.agent.logs());
      },
      { what: "an event or log line naming the lack of space", timeoutMs: 60_000 },
    );
    expect(e.agent.running, `the agent exited:\n${e.agent.tail(30)}`).toBe(true);

    // Restarting on the full disk: the agent comes up (found by this test: it used to exit writing its
    // serving certificate) and still reports the pressure.
    await e.agent.kill9();
    await startedAgain(e);
    expect(e.agent.running, `the agent exited at start-up on a full disk:\n${e.agent.tail(30)}`).toBe(true);
    expect(nodeCondition(await getNode(e.cp, e.agent.nodeName), "DiskPressure")?.status).toBe("True");

    rmSync(fill);
    await waitFor(
      async () => nodeCondition(await getNode(e.cp, e.agent.nodeName), "DiskPressure")?.status === "False",
      { what: "DiskPressure False once space is free", timeoutMs: 60_000 },
    );
    await e.waitRunning("starved");
    expect(e.agent.running).toBe(true);
    console.log(`disk full: DiskPressure raised and cleared, pod set-up error reported, agent never exited`);
  }, 300_000);
});
