// Chains rendered as bytes (what a sync writes) must hold exactly the text rendered as strings (what the
// golden tests pin), with the digest chainDigest computes over the rules one by one (what the save parser
// compares with); a payload's encoding must be the bytes of its text.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ByteChains, type ChainSink, StringChains } from "../../src/proxy/chain-sink.ts";
import { chainDigest, PayloadBuilder } from "../../src/proxy/payload.ts";
import { renderContext, renderServicePortInto } from "../../src/proxy/render.ts";
import type { ServicePortInfo } from "../../src/proxy/types.ts";
import { EVERYTHING, syntheticState, TEST_CONFIG } from "./support/fixtures.ts";

/** What a ByteChains holds, as the string chains a StringChains holds. */
function asStrings(sink: ByteChains) {
  return sink.take().map((chain) => {
    const text = chain.bytes.toString("latin1", chain.start, chain.end);
    expect(text.endsWith("\n") || text === "").toBe(true);
    const rules = text === "" ? [] : text.slice(0, -1).split("\n");
    expect(chain.lines).toBe(rules.length);
    expect(chain.digest).toBe(chainDigest(rules));
    return { name: chain.name, rules };
  });
}

describe("ByteChains", () => {
  it("renders every service port as StringChains does, across chunk boundaries", () => {
    for (const chunk of [64, 1024, 1024 * 1024]) {
      for (const state of [EVERYTHING, syntheticState(40, 7)]) {
        const ctx = renderContext(TEST_CONFIG, state);
        const bytes = new ByteChains(chunk);
        for (const [key, svc] of state.ports) {
          const strings = new StringChains();
          const endpoints = state.endpoints.get(key) ?? [];
          const top = renderServicePortInto(svc as ServicePortInfo, endpoints, ctx, strings);
          expect(renderServicePortInto(svc as ServicePortInfo, endpoints, ctx, bytes)).toEqual(top);
          expect(asStrings(bytes)).toEqual(strings.chains);
        }
      }
    }
  });

  it("holds what any sequence of chains, lines and pieces makes of strings", () => {
    const ascii = fc.string({ unit: fc.integer({ min: 32, max: 126 }).map((c) => String.fromCharCode(c)) });
    const rule = fc.oneof(
      ascii.map((text) => ({ kind: "line" as const, text: `-A X ${text}` })),
      fc.array(ascii, { maxLength: 4 }).map((pieces) => ({ kind: "pieces" as const, pieces })),
    );
    const chains = fc.array(fc.tuple(fc.constantFrom("KUBE-SVC-A", "KUBE-SEP-B", "X"), fc.array(rule)));
    fc.assert(
      fc.property(chains, fc.integer({ min: 8, max: 200 }), (plan, chunk) => {
        const drive = (sink: ChainSink) => {
          for (const [name, rules] of plan) {
            sink.chain(name);
            for (const r of rules) {
              if (r.kind === "line") sink.line(r.text);
              else {
                sink.begin();
                for (const piece of r.pieces) sink.put(piece);
                sink.end();
              }
            }
          }
        };
        const strings = new StringChains();
        const bytes = new ByteChains(chunk);
        drive(strings);
        drive(bytes);
        expect(asStrings(bytes)).toEqual(strings.chains);
      }),
    );
  });

  it("refuses rule text that is not ASCII", () => {
    const sink = new ByteChains();
    sink.chain("KUBE-SEP-A");
    sink.line('-A KUBE-SEP-A -m comment --comment "café"');
    expect(() => sink.take()).toThrow(/not ASCII/);
  });
});

describe("PayloadBuilder.encode", () => {
  function sample(): PayloadBuilder {
    const sink = new ByteChains();
    sink.chain("KUBE-SVC-A");
    sink.line("-A KUBE-SVC-A -j KUBE-SEP-A");
    sink.line("-A KUBE-SVC-A -j KUBE-SEP-B");
    sink.chain("KUBE-SEP-B");
    const [svc, empty] = sink.take();
    const payload = new PayloadBuilder();
    if (!svc || !empty) throw new Error("two chains rendered");
    payload.writeChain("nat", "KUBE-SVC-A", svc);
    payload.writeChain("nat", "KUBE-SEP-A", ["-A KUBE-SEP-A -j DNAT --to-destination 10.0.0.1:80"]);
    payload.writeChain("nat", "KUBE-SEP-B", empty);
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
    expect(payload.text()).toContain("-A KUBE-SVC-A -j KUBE-SEP-B\n-A KUBE-SEP-A -j DNAT");
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
