// Reading iptables-save's output file line by line in fixed-size steps: lines split across steps, a line
// longer than a step, a last line without a newline, and bytes a consumer holds on to from an earlier step.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readLines } from "../../src/proxy/iptables.ts";

describe("reading iptables-save output in steps", () => {
  const dir = mkdtempSync(join(tmpdir(), "deckhand-save-lines-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const read = async (text: string, chunkSize: number) => {
    const path = join(dir, `out-${chunkSize}-${text.length}`);
    writeFileSync(path, text);
    const file = await open(path, "r");
    const lines: string[] = [];
    const held: Array<{ bytes: Buffer; start: number; end: number; text: string }> = [];
    try {
      await readLines(
        file,
        (bytes, start, end) => {
          const line = bytes.toString("utf8", start, end);
          lines.push(line);
          held.push({ bytes, start, end, text: line });
        },
        chunkSize,
      );
    } finally {
      await file.close();
    }
    // Every line's bytes are still intact after the whole file was read (no buffer was reused).
    for (const h of held) expect(h.bytes.toString("utf8", h.start, h.end)).toBe(h.text);
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
