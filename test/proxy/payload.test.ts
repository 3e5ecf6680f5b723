// chainText: the joined text a payload writes for a chain, with the digest read from it, must agree with
// chainDigest over the rules one by one (what the save parser compares with). A payload's encoding must be
// the bytes of its text.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { chainDigest, chainText, PayloadBuilder } from "../../src/proxy/payload.ts";

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

describe("PayloadBuilder.encode", () => {
  function sample(): PayloadBuilder {
    const payload = new PayloadBuilder();
    payload.writeChain(
      "nat",
      "KUBE-SVC-A",
      chainText(["-A KUBE-SVC-A -j KUBE-SEP-A", "-A KUBE-SVC-A -j KUBE-SEP-B"]),
    );
    payload.writeChain("nat", "KUBE-SEP-A", ["-A KUBE-SEP-A -j DNAT --to-destination 10.0.0.1:80"]);
    payload.writeChain("nat", "KUBE-SEP-B", chainText([]));
    payload.addRule(
      "nat",
      '-A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m comment --comment "ns/a" -j KUBE-SVC-A',
      true,
    );
    payload.writeChain("filter", "KUBE-FORWARD", []);
    payload.removeChain("nat", "KUBE-SVC-OLD");
    return payload;
  }
  const linesOf = (text: string) => text.split("\n").length - 1;

  it("writes the bytes of text() and counts its lines", () => {
    const payload = sample();
    const { bytes, lines } = payload.encode();
    expect(Buffer.from(bytes).toString("utf8")).toBe(payload.text());
    expect(lines).toBe(linesOf(payload.text()));
  });

  it("falls back to UTF-8 for text from the kernel that is not ASCII, one byte or two per character", () => {
    for (const comment of ["café", "ſ-long-s", "日本"]) {
      const payload = sample();
      payload.deleteRule("nat", `-A KUBE-SERVICES -m comment --comment "${comment}" -j ACCEPT`);
      const { bytes, lines } = payload.encode();
      expect(Buffer.from(bytes).toString("utf8")).toBe(payload.text());
      expect(lines).toBe(linesOf(payload.text()));
    }
    const chain = new PayloadBuilder();
    chain.removeChain("nat", "KUBE-SEP-Ü");
    expect(Buffer.from(chain.encode().bytes).toString("utf8")).toBe(chain.text());
  });
});
