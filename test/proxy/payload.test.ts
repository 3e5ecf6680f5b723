// chainText: the joined text a payload writes for a chain, with the digest read from it, must agree with
// chainDigest over the rules one by one (what the save parser compares with).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { chainDigest, chainText } from "../../src/proxy/payload.ts";

describe("chainText", () => {
  it("joins the rules and digests them as chainDigest does", () => {
    const cases: string[][] = [
      [],
      ["-A KUBE-SEP-ABCDEFGHIJKLMNOP -s 10.0.0.1/32 -j KUBE-MARK-MASQ"],
      [
        "-A KUBE-SVC-ABCDEFGHIJKLMNOP -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-A",
        "-A KUBE-SVC-ABCDEFGHIJKLMNOP -j KUBE-SEP-B",
      ],
      ["", "-A X"],
      ["-A X", ""],
      ["not a rule", "-A  double space"],
    ];
    for (const rules of cases) {
      const { text, digest } = chainText(rules);
      expect(text).toBe(rules.join("\n"));
      expect(digest, JSON.stringify(rules)).toBe(chainDigest(rules));
    }
  });

  it("agrees with chainDigest on any rules without newlines", () => {
    const rule = fc.oneof(
      fc.string({ unit: fc.constantFrom("-", "A", " ", "K", "x", "1", '"') }),
      fc.string().map((s) => `-A CHAIN ${s.replaceAll("\n", " ")}`),
    );
    fc.assert(
      fc.property(fc.array(rule.map((r) => r.replaceAll("\n", " "))), (rules) => {
        expect(chainText(rules).digest).toBe(chainDigest(rules));
      }),
    );
  });
});
