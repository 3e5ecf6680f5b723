// Conformance: container logs with streams, timestamps, tail, since, follow and abort.
import { describe, expect, it } from "vitest";
import type { LogLine } from "../../../src/runtime/types.ts";
import type { SuiteContext } from "./context.ts";
import { collect, waitForState } from "./fixtures.ts";

const text = (lines: LogLine[]) => lines.map((l) => l.content.toString());

export function logTests(ctx: SuiteContext): void {
  describe("logs", () => {
    it("returns stdout and stderr lines with timestamps and honours the stream selection", async () => {
      await ctx.withPod("logs-streams", async (pod) => {
        const rt = ctx.runtime();
        const before = Date.now();
        const { containerId } = await pod.runPod("echo one; echo two >&2; echo three; echo four >&2");
        await waitForState(rt, containerId, "exited");
        const lines = await collect(rt.containerLogs(containerId, { timestamps: true }));
        expect(text(lines.filter((l) => l.stream === "stdout"))).toEqual(["one", "three"]);
        expect(text(lines.filter((l) => l.stream === "stderr"))).toEqual(["two", "four"]);
        for (const line of lines) {
          expect(line.partial).toBe(false);
          expect(line.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
          expect(line.timestampMs).toBe(Math.floor(Date.parse(line.time)));
          // Same clock, same host: a log line cannot predate the test (1 s allowance for clock rounding).
          expect(line.timestampMs).toBeGreaterThanOrEqual(before - 1000);
        }
        expect(text(await collect(rt.containerLogs(containerId, { stderr: false })))).toEqual([
          "one",
          "three",
        ]);
        expect(text(await collect(rt.containerLogs(containerId, { stdout: false })))).toEqual([
          "two",
          "four",
        ]);
      });
    });

    it("honours tail and since", async () => {
      await ctx.withPod("logs-tail", async (pod) => {
        const rt = ctx.runtime();
        // The pause only makes the two groups' timestamps differ, so that `since` can split them.
        const { containerId } = await pod.runPod(
          "for i in 1 2 3; do echo early-$i; done; sleep 1; for i in 4 5; do echo late-$i; done",
        );
        await waitForState(rt, containerId, "exited");
        const all = await collect(rt.containerLogs(containerId));
        expect(text(all)).toEqual(["early-1", "early-2", "early-3", "late-4", "late-5"]);
        expect(text(await collect(rt.containerLogs(containerId, { tail: 2 })))).toEqual(["late-4", "late-5"]);
        expect(text(await collect(rt.containerLogs(containerId, { tail: 0 })))).toEqual([]);
        const since = all[3]?.timestampMs ?? 0;
        expect(text(await collect(rt.containerLogs(containerId, { sinceMs: since })))).toEqual([
          "late-4",
          "late-5",
        ]);
      });
    });

    it("follows logs until the container exits", async () => {
      await ctx.withPod("logs-follow", async (pod) => {
        const rt = ctx.runtime();
        const { containerId } = await pod.runPod(
          "echo start; while [ ! -f /tmp/go ]; do sleep 0.2; done; echo end; exit 0",
        );
        const seen: string[] = [];
        for await (const line of rt.containerLogs(containerId, {
          follow: true,
          signal: AbortSignal.timeout(60_000),
        })) {
          seen.push(line.content.toString());
          if (line.content.toString() === "start") {
            const r = await rt.execSync(containerId, ["touch", "/tmp/go"], 10);
            expect(r.exitCode).toBe(0);
          }
        }
        expect(seen).toEqual(["start", "end"]);
        expect((await rt.containerStatus(containerId)).state).toBe("exited");
      });
    });

    it("stops following when the caller aborts", async () => {
      await ctx.withPod("logs-abort", async (pod) => {
        const rt = ctx.runtime();
        const { containerId } = await pod.runPod(
          "echo hello; trap 'exit 0' TERM; while :; do sleep 1 & wait $!; done",
        );
        const controller = new AbortController();
        const seen: string[] = [];
        for await (const line of rt.containerLogs(containerId, { follow: true, signal: controller.signal })) {
          seen.push(line.content.toString());
          controller.abort();
        }
        expect(seen).toEqual(["hello"]);
        expect((await rt.containerStatus(containerId)).state).toBe("running");
      });
    });
  });
}
