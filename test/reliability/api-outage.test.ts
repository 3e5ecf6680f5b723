// The API server unreachable for a while (DECKHAND_OUTAGE_SECONDS, 20 s in CI; the 2 minutes with
// DECKHAND_OUTAGE_SECONDS=120) under a running agent on Docker.
// "Nothing lost" here: the pods keep running through the outage (same container IDs, no restarts), a pod
// that exits during the outage has its new state in the API once it returns, the Node is Ready again, and
// the agent reconnects without a request storm: its pod watch retries during the outage are few (bounded
// by exponential backoff, not one per tick) and their waits grow and are jittered (read from the agent's
// "pod watch failed; retrying" log lines and their retryInMs: counts and values, not timings).
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { SLEEP_FOREVER, shContainer, useE2E } from "../agent/e2e/harness.ts";
import { waitForNodeReady } from "../support/agent.ts";

const OUTAGE_SECONDS = Number(process.env.DECKHAND_OUTAGE_SECONDS ?? "20");

/** The most retries exponential backoff from 800 ms allows in `seconds` (doubling, jitter only lengthens). */
function maxRetries(seconds: number): number {
  let n = 0;
  for (let total = 0, wait = 800; total < seconds * 1000; total += Math.min(wait, 30_000), wait *= 2) n++;
  return n + 2;
}

describe("API server unreachable under a running agent", () => {
  const env = useE2E("docker");

  it(`${OUTAGE_SECONDS} s outage: pods keep running, status converges, reconnects back off with jitter`, async () => {
    const e = env();
    await e.createPod("steady", { containers: [shContainer("app", SLEEP_FOREVER)] });
    // Exits once /tmp/stop exists: a change that happens while the API is away.
    await e.createPod("changes", {
      restartPolicy: "Never",
      containers: [shContainer("app", "while [ ! -f /tmp/stop ]; do sleep 1; done; exit 3")],
    });
    const steady = await e.waitRunning("steady");
    const changes = await e.waitRunning("changes");
    const steadyId = e.containerId(steady, "app");
    const logBefore = e.agent.logs().length;

    await e.cp.kill();
    await e.exec(changes, "app", ["touch", "/tmp/stop"]);
    await sleep(OUTAGE_SECONDS * 1000);
    expect((await e.runtime.containerStatus(steadyId)).state).toBe("running");
    const outageLog = e.agent.logs().slice(logBefore);
    await e.cp.start();

    await waitForNodeReady(e.cp, e.agent);
    const after = await e.waitRunning("steady");
    expect(e.containerId(after, "app")).toBe(steadyId);
    expect(after.status?.containerStatuses?.[0]?.restartCount).toBe(0);
    const exited = await e.waitPod(
      "changes",
      (p) =>
        p.status?.phase === "Failed" && p.status.containerStatuses?.[0]?.state?.terminated?.exitCode === 3,
      "phase Failed with exit code 3 (it exited during the outage)",
    );
    expect(exited.status?.containerStatuses?.[0]?.state?.terminated?.exitCode).toBe(3);

    const retries = outageLog
      .split("\n")
      .filter((line) => line.includes('"pod watch failed; retrying"'))
      .map((line) => (JSON.parse(line) as { retryInMs: number }).retryInMs);
    console.log(
      `API outage ${OUTAGE_SECONDS} s: ${retries.length} pod watch retries (bound ${maxRetries(OUTAGE_SECONDS)}), waits ${retries.join(", ")} ms; pods kept running, status converged`,
    );
    expect(retries.length).toBeGreaterThan(0);
    expect(retries.length).toBeLessThanOrEqual(maxRetries(OUTAGE_SECONDS));
    // Backoff: the waits grow (each at least the previous base delay); jitter: they are not bare powers of two.
    for (let i = 1; i < retries.length; i++) {
      expect(retries[i] as number).toBeGreaterThanOrEqual(
        Math.min((retries[i - 1] as number) / 2, 30_000) - 1,
      );
    }
    expect(retries.some((ms) => !Number.isInteger(Math.log2(ms / 800)))).toBe(true);
  }, 300_000);
});
