import { describe, expect, it } from "vitest";
import { canonicalQuantity, quantityValue } from "../../src/api/schema/quantity.ts";

describe("canonicalQuantity", () => {
  it.each([
    ["1", "1"],
    ["0", "0"],
    ["0.5", "500m"],
    ["1000m", "1"],
    ["1500m", "1500m"],
    ["100m", "100m"],
    ["1000", "1k"],
    ["1500", "1500"],
    ["2000", "2k"],
    ["1024Mi", "1Gi"],
    ["1536Mi", "1536Mi"],
    ["1.5Gi", "1536Mi"],
    ["0.5Gi", "512Mi"],
    ["512", "512"],
    ["1Ki", "1Ki"],
    ["64Mi", "64Mi"],
    ["1e3", "1e3"],
    ["1E6", "1e6"],
    ["128974848", "128974848"],
    ["129e6", "129e6"],
    ["1G", "1G"],
    ["-1", "-1"],
    ["+2", "2"],
    ["0.1n", "1n"],
    [".5", "500m"],
  ])("%s → %s", (input, expected) => {
    expect(canonicalQuantity(input)).toBe(expected);
  });

  it.each(["", "abc", "1.2.3", "1Qi", "1 Gi", "--1", "Mi"])("rejects %j", (input) => {
    expect(canonicalQuantity(input)).toBeUndefined();
  });

  it("computes values for comparisons", () => {
    expect(quantityValue("500m")).toBe(0.5);
    expect(quantityValue("1Gi")).toBe(1073741824);
    expect(quantityValue("2k")).toBe(2000);
    expect(quantityValue(2 as unknown as string)).toBe(2);
    // Not quantities at all (a malformed object that skipped decoding): no value, no exception.
    expect(quantityValue(null as unknown as string)).toBeUndefined();
    expect(quantityValue({} as unknown as string)).toBeUndefined();
  });
});
