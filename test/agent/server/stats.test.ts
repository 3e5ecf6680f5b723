// Unit tests of the /stats/summary building blocks: /proc parsing, CPU rates between samples, disk usage.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CpuRates, diskUsage, parseMeminfo, parseProcStat } from "../../../src/agent/server/stats.ts";

describe("stats summary parts", () => {
  it("reads the machine's busy CPU time from /proc/stat (USER_HZ 100)", () => {
    const text = "cpu  100 5 50 1000 20 3 2 1 0 0\ncpu0 50 2 25 500 10 1 1 0 0 0\n";
    // user+nice+system+irq+softirq+steal = 100+5+50+3+2+1 jiffies of 10 ms.
    expect(parseProcStat(text)).toBe(161 * 10_000_000);
    expect(() => parseProcStat("intr 1 2 3\n")).toThrow("no aggregate cpu line");
  });

  it("reads node memory from /proc/meminfo like cAdvisor's root cgroup", () => {
    const text =
      "MemTotal:       1000 kB\nMemFree:         200 kB\nMemAvailable:    600 kB\nInactive(file):  300 kB\n";
    expect(parseMeminfo(text)).toEqual({
      usageBytes: 800 * 1024,
      workingSetBytes: 500 * 1024,
      availableBytes: 600 * 1024,
    });
  });

  it("turns two cumulative CPU samples into nano-cores", () => {
    const rates = new CpuRates();
    expect(rates.rate("c1", 1000, 0)).toBeUndefined();
    // 0.5 s of CPU over 1 s: half a core.
    expect(rates.rate("c1", 2000, 500_000_000)).toBe(500_000_000);
    // A counter that went backwards (a restarted container) starts over.
    expect(rates.rate("c1", 3000, 1)).toBeUndefined();
    rates.retain(new Set());
    expect(rates.rate("c1", 4000, 10)).toBeUndefined();
  });

  it("adds up a directory's blocks and inodes, skipping the named top-level entries", async () => {
    const dir = mkdtempSync(join(tmpdir(), "deckhand-du-"));
    try {
      mkdirSync(join(dir, "volumes", "v1"), { recursive: true });
      writeFileSync(join(dir, "volumes", "v1", "data"), Buffer.alloc(64 * 1024, 1));
      mkdirSync(join(dir, "logs"));
      writeFileSync(join(dir, "logs", "big"), Buffer.alloc(256 * 1024, 1));
      const usage = await diskUsage(dir, { skip: ["logs"] });
      expect(usage.inodes).toBe(3);
      expect(usage.bytes).toBeGreaterThanOrEqual(64 * 1024);
      expect(usage.bytes).toBeLessThan(256 * 1024);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
