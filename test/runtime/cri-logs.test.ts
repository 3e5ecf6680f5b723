// The CRI log file reader on files this test writes itself in the CRI format (the format containerd writes;
// cri-driver.test.ts reads real container logs).
import { appendFile, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseCriLogLine, readCriLog } from "../../src/runtime/cri/logs.ts";
import type { LogLine, LogOptions } from "../../src/runtime/types.ts";
import { waitFor } from "../support/wait.ts";

const record = (time: string, stream: string, tag: string, content: string) =>
  `${time} ${stream} ${tag} ${content}\n`;

async function read(path: string, options: LogOptions = {}): Promise<LogLine[]> {
  const out: LogLine[] = [];
  for await (const line of readCriLog(path, options)) out.push(line);
  return out;
}

const text = (lines: LogLine[]) =>
  lines.map((l) => `${l.stream}:${l.content.toString()}${l.partial ? "…" : ""}`);

describe("parseCriLogLine", () => {
  it.each([
    [
      "2016-10-06T00:17:09.669794202Z stdout F log content 1",
      { time: "2016-10-06T00:17:09.669794202Z", stream: "stdout", content: "log content 1", partial: false },
    ],
    [
      "2016-10-06T00:17:09.669794203Z stderr P part of a long line",
      {
        time: "2016-10-06T00:17:09.669794203Z",
        stream: "stderr",
        content: "part of a long line",
        partial: true,
      },
    ],
    ["2016-10-06T00:17:10Z stdout F ", { stream: "stdout", content: "", partial: false }],
    ["2016-10-06T00:17:10Z stdout F", { stream: "stdout", content: "", partial: false }],
    ["2016-10-06T00:17:10Z stdout F  two  spaces ", { content: " two  spaces " }],
    ["2016-10-06T02:17:10.5+02:00 stdout F:x tagged", { content: "tagged", partial: false }],
  ])("parses %j", (raw, expected) => {
    const line = parseCriLogLine(Buffer.from(raw));
    expect(line).toBeDefined();
    const { content, ...rest } = line as LogLine;
    const { content: wantContent, ...wantRest } = expected as { content?: string };
    expect(rest).toMatchObject(wantRest);
    if (wantContent !== undefined) expect(content.toString()).toBe(wantContent);
  });

  it("converts the nanosecond timestamp to milliseconds, keeping the original text", () => {
    const line = parseCriLogLine(Buffer.from("2016-10-06T00:17:09.669794202Z stdout F x"));
    expect(line?.timestampMs).toBe(Date.UTC(2016, 9, 6, 0, 17, 9, 669));
    const offset = parseCriLogLine(Buffer.from("2016-10-06T02:17:09.669Z stdout F x"));
    const zoned = parseCriLogLine(Buffer.from("2016-10-06T04:17:09.669+02:00 stdout F x"));
    expect(zoned?.timestampMs).toBe(offset?.timestampMs);
  });

  it.each(["", "garbage", "not-a-time stdout F x", "2016-10-06T00:17:09Z stdin F x", "2016-10-06T00:17:09Z"])(
    "rejects %j",
    (raw) => {
      expect(parseCriLogLine(Buffer.from(raw))).toBeUndefined();
    },
  );
});

describe("readCriLog", () => {
  let dir = "";
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "deckhand-cri-logs-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const sample = [
    record("2024-01-01T00:00:01.000000001Z", "stdout", "F", "one"),
    record("2024-01-01T00:00:02.000000001Z", "stderr", "F", "two"),
    record("2024-01-01T00:00:03.000000001Z", "stdout", "P", "three-a"),
    record("2024-01-01T00:00:03.000000002Z", "stdout", "F", "three-b"),
    "this line is not in the CRI format\n",
    record("2024-01-01T00:00:04.000000001Z", "stderr", "F", "four"),
  ].join("");

  it("reads every record in order, with partial lines marked, skipping malformed ones", async () => {
    const path = join(dir, "0.log");
    await writeFile(path, sample);
    expect(text(await read(path))).toEqual([
      "stdout:one",
      "stderr:two",
      "stdout:three-a…",
      "stdout:three-b",
      "stderr:four",
    ]);
  });

  it("selects streams, counts tail from the end of the file and applies since after tail", async () => {
    const path = join(dir, "0.log");
    await writeFile(path, sample);
    expect(text(await read(path, { stdout: false }))).toEqual(["stderr:two", "stderr:four"]);
    expect(text(await read(path, { stderr: false }))).toEqual([
      "stdout:one",
      "stdout:three-a…",
      "stdout:three-b",
    ]);
    // The malformed line counts as a line of the file, as it does for kubelet.
    expect(text(await read(path, { tail: 2 }))).toEqual(["stderr:four"]);
    expect(text(await read(path, { tail: 3 }))).toEqual(["stdout:three-b", "stderr:four"]);
    expect(text(await read(path, { tail: 0 }))).toEqual([]);
    expect(await read(path, { tail: 1000 })).toHaveLength(5);
    const since = Date.UTC(2024, 0, 1, 0, 0, 3);
    expect(text(await read(path, { sinceMs: since }))).toEqual([
      "stdout:three-a…",
      "stdout:three-b",
      "stderr:four",
    ]);
    expect(text(await read(path, { sinceMs: since, tail: 2 }))).toEqual(["stderr:four"]);
  });

  it("finds the tail across read chunks in a large file", async () => {
    const path = join(dir, "big.log");
    const lines = Array.from({ length: 20_000 }, (_, i) =>
      record(
        `2024-01-01T00:00:00.${String(i).padStart(9, "0")}Z`,
        "stdout",
        "F",
        `line ${i} ${"x".repeat(20)}`,
      ),
    );
    await writeFile(path, lines.join(""));
    const tail = await read(path, { tail: 3 });
    expect(tail.map((l) => l.content.toString().split(" ").slice(0, 2).join(" "))).toEqual([
      "line 19997",
      "line 19998",
      "line 19999",
    ]);
    expect(await read(path)).toHaveLength(20_000);
  });

  it("yields nothing for a missing file", async () => {
    expect(await read(join(dir, "absent.log"))).toEqual([]);
  });

  it("follows appends, keeps an unfinished record until its newline, survives rotation, ends when told", async () => {
    const path = join(dir, "0.log");
    await writeFile(path, record("2024-01-01T00:00:01Z", "stdout", "F", "first"));
    let running = true;
    const seen: string[] = [];
    const done = (async () => {
      for await (const line of readCriLog(
        path,
        { follow: true, signal: AbortSignal.timeout(60_000) },
        { isRunning: async () => running, checkIntervalMs: 50 },
      )) {
        seen.push(line.content.toString());
      }
    })();
    await waitFor(() => seen.length === 1, { what: "the first line" });
    // Half a record: nothing until the newline arrives.
    await appendFile(path, "2024-01-01T00:00:02Z stdout F sec");
    await appendFile(path, "ond\n");
    await waitFor(() => seen.length === 2, { what: "the appended line" });
    // Rotation: the file is renamed and a new one appears at the same path.
    await appendFile(path, record("2024-01-01T00:00:03Z", "stdout", "F", "last of the old file"));
    await rename(path, `${path}.1`);
    await writeFile(path, record("2024-01-01T00:00:04Z", "stdout", "F", "new file"));
    await waitFor(() => seen.length === 4, { what: "the lines around the rotation" });
    await appendFile(path, record("2024-01-01T00:00:05Z", "stderr", "F", "final"));
    running = false;
    await done;
    expect(seen).toEqual(["first", "second", "last of the old file", "new file", "final"]);
  });

  it("stops following quietly when the signal aborts", async () => {
    const path = join(dir, "0.log");
    await writeFile(path, record("2024-01-01T00:00:01Z", "stdout", "F", "only"));
    const controller = new AbortController();
    const seen: string[] = [];
    for await (const line of readCriLog(
      path,
      { follow: true, signal: controller.signal },
      { isRunning: async () => true, checkIntervalMs: 60_000 },
    )) {
      seen.push(line.content.toString());
      controller.abort();
    }
    expect(seen).toEqual(["only"]);
  });

  it("ends a follow with the error isRunning throws", async () => {
    const path = join(dir, "0.log");
    await writeFile(path, "");
    const follow = read(path, { follow: true });
    // Without a control, follow degrades to a single read.
    expect(await follow).toEqual([]);
    const failing = (async () => {
      for await (const _ of readCriLog(
        path,
        { follow: true },
        {
          isRunning: async () => {
            throw new Error("runtime unreachable");
          },
          checkIntervalMs: 10,
        },
      )) {
        // nothing is logged
      }
    })();
    await expect(failing).rejects.toThrow("runtime unreachable");
  });
});
