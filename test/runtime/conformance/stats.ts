// Conformance: CPU and memory statistics per container.
import { describe, expect, it } from "vitest";
import { waitForLogLine } from "./containers.ts";
import type { SuiteContext } from "./context.ts";

export function statsTests(ctx: SuiteContext): void {
  describe("stats", () => {
    it("reports cumulative CPU time and the memory working set of a container", async () => {
      await ctx.withPod("stats", async (pod) => {
        const rt = ctx.runtime();
        const { sandbox, containerId } = await pod.runPod(
          "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; x=$(head -c 4000000 /dev/zero | tr '\\0' a); echo ready; trap 'exit 0' TERM; while :; do sleep 1 & wait $!; done",
        );
        await waitForLogLine(rt, containerId, "ready");
        const stats = await rt.containerStats(containerId);
        expect(stats.containerId).toBe(containerId);
        expect(stats.name).toBe("main");
        expect(stats.cpuUsageCoreNanoSeconds).toBeGreaterThan(0);
        expect(stats.memoryWorkingSetBytes).toBeGreaterThan(0);
        expect(stats.timestampMs).toBeGreaterThan(0);
        const later = await rt.containerStats(containerId);
        expect(later.cpuUsageCoreNanoSeconds).toBeGreaterThanOrEqual(stats.cpuUsageCoreNanoSeconds);

        const listed = await rt.listContainerStats({ podSandboxId: sandbox.id });
        expect(listed.map((s) => s.containerId)).toEqual([containerId]);
        expect(listed[0]?.cpuUsageCoreNanoSeconds).toBeGreaterThan(0);
      });
    });
  });
}
