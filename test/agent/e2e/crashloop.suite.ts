// CrashLoopBackOff through the whole agent: a container that keeps failing is restarted at once the first
// time, then after 10 s, then 20 s (doubling), capped at the agent's maxContainerRestartPeriod (20 s here, so
// the cap shows within a minute). What the test asserts is the sequence upstream users see in the pod's
// status and events, never how long anything took.
import { describe, expect, it } from "vitest";
import type { Pod } from "../../../src/api/schema/core/pod-types.ts";
import type { AgentRuntimeKind } from "../../support/agent.ts";
import { shContainer, useE2E } from "./harness.ts";

const app = (pod: Pod) => pod.status?.containerStatuses?.find((c) => c.name === "app");

export function crashLoopSuite(kind: AgentRuntimeKind): void {
  describe(`agent CrashLoopBackOff on ${kind}`, () => {
    const env = useE2E(kind, { config: { maxContainerRestartPeriod: "20s" } });

    it("backs off 10s, then 20s, then stays at the configured cap; status and BackOff events show it", async () => {
      const e = env();
      await e.createPod("crash", { restartPolicy: "Always", containers: [shContainer("app", "exit 1")] });
      const uid = (await e.waitPod("crash", (p) => Boolean(p.metadata?.uid), "to exist")).metadata?.uid;
      const prefix = `restarting failed container=app pod=crash_${e.ns}(${uid})`;

      // Seen in order: restartCount 1 waiting 10s, restartCount 2 waiting 20s, restartCount 3 waiting 20s.
      const backoffs: Array<[number, string]> = [];
      for (const [restarts, delay] of [
        [1, "10s"],
        [2, "20s"],
        [3, "20s"],
      ] as const) {
        const pod = await e.waitPod(
          "crash",
          (p) => app(p)?.restartCount === restarts && app(p)?.state?.waiting?.reason === "CrashLoopBackOff",
          `restartCount ${restarts} and waiting in CrashLoopBackOff`,
        );
        const status = app(pod);
        backoffs.push([status?.restartCount ?? -1, status?.state?.waiting?.message ?? ""]);
        expect(status?.state?.waiting?.message).toBe(`back-off ${delay} ${prefix}`);
        expect(status?.lastState?.terminated).toMatchObject({ exitCode: 1, reason: "Error" });
        expect(status?.ready).toBe(false);
        // Upstream's getPhase: restartPolicy Always and a container that will be restarted is Running.
        expect(pod.status?.phase).toBe("Running");
        expect(pod.status?.conditions?.find((c) => c.type === "Ready")?.status).toBe("False");
      }
      expect(backoffs.map(([count]) => count)).toEqual([1, 2, 3]);

      const events = await e.events("crash");
      const backOff = events.filter((ev) => ev.reason === "BackOff");
      expect(backOff.length).toBeGreaterThan(0);
      for (const ev of backOff) {
        expect(ev.type).toBe("Warning");
        expect(ev.message).toBe(`Back-off restarting failed container app in pod crash_${e.ns}(${uid})`);
        expect(ev.involvedObject?.fieldPath).toBe("spec.containers{app}");
      }
      // Every restart was a real new container: Created/Started once per run (the recorder may aggregate).
      const count = (reason: string) =>
        events.filter((ev) => ev.reason === reason).reduce((sum, ev) => sum + (ev.count ?? 1), 0);
      expect(count("Started")).toBeGreaterThanOrEqual(4);
      expect(count("Created")).toBe(count("Started"));
    });
  });
}
