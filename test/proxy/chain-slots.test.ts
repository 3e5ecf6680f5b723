// The chain-slot index on its own: found by the name's hash bits straight from save text, consistent with a
// plain Map through any sequence of claims and releases (backward-shift deletion keeps every run findable).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { endpointChainName, servicePortChains } from "../../src/proxy/chain-names.ts";
import { ChainSlots, NO_RULES } from "../../src/proxy/chain-slots.ts";

const names = Array.from({ length: 300 }, (_, i) =>
  i % 3 === 0
    ? endpointChainName(`ns/svc${i}:http`, "TCP", `10.0.${i >> 8}.${i & 255}:80`)
    : Object.values(servicePortChains(`ns/svc${i}:http`, "TCP"))[i % 4],
) as string[];

describe("ChainSlots", () => {
  it("agrees with a Map through random claims and releases", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: names.length - 1 })), { maxLength: 2000 }),
        (ops) => {
          const slots = new ChainSlots();
          const reference = new Map<string, number>();
          for (const [claim, i] of ops) {
            const name = names[i] as string;
            if (claim) {
              const id = slots.claim(name);
              if (reference.has(name)) expect(id).toBe(reference.get(name));
              else expect([...reference.values()]).not.toContain(id);
              reference.set(name, id);
            } else {
              slots.release(name);
              reference.delete(name);
            }
          }
          expect(slots.size).toBe(reference.size);
          for (const name of names) {
            expect(slots.idOf(name) !== undefined).toBe(reference.has(name));
            expect(slots.slotAt(Buffer.from(`-A ${name} -j ACCEPT`), 3, 99)).toBe(reference.get(name));
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it("reuses released slots and shrinks back when the top ones are released, leaving no trace of churn", () => {
    const slots = new ChainSlots();
    const ids = names.slice(0, 10).map((name) => slots.claim(name));
    expect(ids).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    slots.release(names[3] as string);
    slots.release(names[6] as string);
    expect(slots.claim(names[20] as string)).toBe(3);
    expect(slots.claim(names[21] as string)).toBe(6);
    for (const i of [9, 0, 20, 5, 1, 2, 8, 21, 4, 7]) slots.release(names[i] as string);
    expect(slots.size).toBe(0);
    expect(slots.claim(names[30] as string)).toBe(0);
  });

  it("reads names from save lines, and forgets what the previous save had", () => {
    const slots = new ChainSlots();
    const [a, b] = names as [string, string];
    const ida = slots.claim(a);
    const idb = slots.claim(b);
    slots.beginSave();
    expect(slots.slotAt(Buffer.from(`:${a} - [0:0]`), 1, 99)).toBe(ida);
    expect(slots.slotAt(Buffer.from(`:${a}X - [0:0]`), 1, 99)).toBeUndefined();
    expect(slots.slotAt(Buffer.from(":KUBE-SERVICES - [0:0]"), 1, 99)).toBeUndefined();
    expect(slots.slotAt(Buffer.from(`:${a.slice(0, -1)}1 - [0:0]`), 1, 99)).toBeUndefined();
    // A name read in place from a larger text ends at the line's end as well as at a space.
    const text = `:${b}\n:${a}X\n`;
    expect(slots.slotAt(Buffer.from(text), 1, 1 + b.length)).toBe(idb);
    expect(slots.slotAt(Buffer.from(text), b.length + 3, text.length - 1)).toBeUndefined();
    slots.declared(ida);
    slots.rules(idb, 42);
    expect(slots.kernelDigest(ida)).toBe(NO_RULES);
    expect(slots.kernelDigest(idb)).toBe(42);
    slots.beginSave();
    expect(slots.kernelDigest(ida)).toBeUndefined();
    expect(slots.kernelDigest(idb)).toBeUndefined();
    expect(() => slots.claim("KUBE-SERVICES")).toThrow(/not a per-service chain/);
  });
});

describe("ChainSlots names", () => {
  it("tells the five kinds apart by their prefix, and takes no other name", () => {
    const slots = new ChainSlots();
    const hash = "ABCDEFGHIJKLMNOP";
    const kinds = ["KUBE-SVC-", "KUBE-SVL-", "KUBE-EXT-", "KUBE-SEP-", "KUBE-FW-"].map((p) => p + hash);
    const ids = kinds.map((name) => slots.claim(name));
    expect(new Set(ids).size).toBe(5);
    for (const [i, name] of kinds.entries())
      expect(slots.slotAt(Buffer.from(`-A ${name} -j RETURN`), 3, 99)).toBe(ids[i]);
    for (const near of [
      "KUBE-SVX-",
      "KUBE-SEX-",
      "KUBE-EXX-",
      "KUBE-FWX-",
      "KUBE-FW--",
      "KUBE-SVCX",
      "KUBX-SVC-",
      "KUBE_SVC-",
      "KUBE-XYZ-",
    ]) {
      expect(slots.idOf(near + hash), near).toBeUndefined();
      expect(slots.slotAt(Buffer.from(`:${near}${hash} - [0:0]`), 1, 99), near).toBeUndefined();
    }
    // A character outside ASCII is no base32 digit, whatever its low byte ("Ł" is U+0141).
    slots.claim(`KUBE-SEP-${hash.slice(0, -1)}A`);
    expect(slots.idOf(`KUBE-SEP-${hash.slice(0, -1)}\u0141`)).toBeUndefined();
  });
});

describe("ChainSlots.reserve", () => {
  it("keeps every slot when the table grows ahead of a large claim", () => {
    const slots = new ChainSlots();
    const names = Array.from({ length: 3000 }, (_, i) =>
      endpointChainName(`ns/svc${i}:http`, "tcp", `10.0.${i >> 8}.${i & 255}:80`),
    );
    const before = names.slice(0, 100).map((name) => slots.claim(name));
    slots.reserve(names.length);
    expect(names.slice(0, 100).map((name) => slots.idOf(name))).toEqual(before);
    const after = names.map((name) => slots.claim(name));
    expect(new Set(after).size).toBe(names.length);
    expect(names.map((name) => slots.idOf(name))).toEqual(after);
  });
});
