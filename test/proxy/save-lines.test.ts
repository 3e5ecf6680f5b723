// Reading iptables-save's output file line by line in fixed-size steps, through one reused buffer: lines
// split across steps, a line longer than a step, a last line without a newline.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { endpointChainName, servicePortChains } from "../../src/proxy/chain-names.ts";
import { ChainSlots } from "../../src/proxy/chain-slots.ts";
import { readLines } from "../../src/proxy/iptables.ts";
import { chainDigest } from "../../src/proxy/payload.ts";
import { SaveParser } from "../../src/proxy/save-parser.ts";

describe("reading iptables-save output in steps", () => {
  const dir = mkdtempSync(join(tmpdir(), "deckhand-save-lines-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const read = async (text: string, chunkSize: number) => {
    const path = join(dir, `out-${chunkSize}-${text.length}`);
    writeFileSync(path, text);
    const file = await open(path, "r");
    const lines: string[] = [];
    try {
      await readLines(
        file,
        (bytes, start, end) => {
          lines.push(bytes.toString("utf8", start, end));
        },
        chunkSize,
      );
    } finally {
      await file.close();
    }
    return lines;
  };

  const text = [
    "*nat",
    ":KUBE-SERVICES - [0:0]",
    `-A KUBE-SERVICES -m comment --comment "${"x".repeat(40)}" -j KUBE-SVC-ABCDEFGHIJKLMNOP`,
    "",
    "-A KUBE-SEP-Ä -j DNAT --to-destination 10.0.0.1:80",
    "COMMIT",
  ].join("\n");

  it.each([1, 2, 7, 16, 64, 1 << 20])("gives every line exactly once in steps of %i bytes", async (step) => {
    expect(await read(`${text}\n`, step)).toEqual(text.split("\n"));
  });

  it("gives a last line without a newline too, and nothing for an empty file", async () => {
    expect(await read(text, 5)).toEqual(text.split("\n"));
    expect(await read("", 5)).toEqual([]);
  });
});

describe("the save parser over reused read buffers", () => {
  const dir = mkdtempSync(join(tmpdir(), "deckhand-save-parse-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("digests each per-service chain's rules the same whatever the step (its name is copied, not held)", async () => {
    const chains = servicePortChains("ns/web:http", "TCP");
    const sep = endpointChainName("ns/web:http", "tcp", "10.0.0.1:80");
    const svcRules = [
      `-A ${chains.cluster} -m comment --comment "ns/web:http -> 10.0.0.1:80" -j ${sep}`,
      `-A ${chains.cluster} -m comment --comment "${"y".repeat(50)}" -j KUBE-MARK-MASQ`,
    ];
    const sepRules = [
      `-A ${sep} -s 10.0.0.1/32 -m comment --comment ns/web:http -j KUBE-MARK-MASQ`,
      `-A ${sep} -p tcp -m comment --comment ns/web:http -m tcp -j DNAT --to-destination 10.0.0.1:80`,
    ];
    const text = [
      "*nat",
      ":PREROUTING ACCEPT [0:0]",
      `:${chains.cluster} - [0:0]`,
      `:${sep} - [0:0]`,
      "-A PREROUTING -m comment --comment kubernetes -j KUBE-SERVICES",
      ...svcRules,
      ...sepRules,
      "COMMIT",
      "",
    ].join("\n");
    const path = join(dir, "save");
    writeFileSync(path, text);
    for (const step of [3, 7, 40, 1 << 20]) {
      const slots = new ChainSlots();
      const svcSlot = slots.claim(chains.cluster);
      const sepSlot = slots.claim(sep);
      const parser = new SaveParser({ keepRules: () => true, owned: () => false, slots });
      const file = await open(path, "r");
      try {
        await readLines(file, (bytes, start, end) => parser.line(bytes, start, end), step);
      } finally {
        await file.close();
      }
      const table = parser.done();
      expect(slots.kernelDigest(svcSlot), `step ${step}`).toBe(chainDigest(svcRules));
      expect(slots.kernelDigest(sepSlot), `step ${step}`).toBe(chainDigest(sepRules));
      expect(table.rules.get("PREROUTING")).toEqual([
        "-A PREROUTING -m comment --comment kubernetes -j KUBE-SERVICES",
      ]);
    }
  });
});
