import { describe, expect, it } from "vitest";
import { cpuMillis, formatCpu, formatKi, parseQuantity, wholeUnits } from "../../src/api/quantity.ts";
import { formatDuration, parseDuration } from "../../src/util/duration.ts";

describe("quantities", () => {
  it.each([
    ["500m", 0.5],
    ["2", 2],
    ["1.5", 1.5],
    ["128Mi", 128 * 2 ** 20],
    ["1Gi", 2 ** 30],
    ["1G", 1e9],
    ["100k", 1e5],
    ["2e3", 2000],
    [".5", 0.5],
  ])("parses %s", (text, value) => {
    expect(parseQuantity(text)).toBeCloseTo(value);
  });

  it.each(["", "abc", "1.2.3", "5 Mi", "1mi", "--1"])("rejects %j", (text) => {
    expect(parseQuantity(text)).toBeUndefined();
  });

  it("converts CPU to millicores and bytes to whole units, rounding up", () => {
    expect(cpuMillis("100m")).toBe(100);
    expect(cpuMillis("0.1")).toBe(100);
    expect(cpuMillis("1")).toBe(1000);
    expect(cpuMillis("1.0005")).toBe(1001);
    expect(wholeUnits("1.5Ki")).toBe(1536);
    expect(formatKi(2 ** 30)).toBe("1048576Ki");
    expect(formatCpu(2000)).toBe("2");
    expect(formatCpu(250)).toBe("250m");
  });
});

describe("durations", () => {
  it.each([
    ["10s", 10_000],
    ["5m", 300_000],
    ["1m30s", 90_000],
    ["250ms", 250],
    ["1h", 3_600_000],
    ["0", 0],
    ["1.5s", 1500],
  ])("parses %s", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(["", "10", "s", "1x", "1s2"])("rejects %j", (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it("formats", () => {
    expect(formatDuration(300_000)).toBe("5m");
    expect(formatDuration(10_000)).toBe("10s");
    expect(formatDuration(250)).toBe("250ms");
  });
});
