// Unit tests of the container log options (kubelet's PodLogOptions) and how lines are written.

import type { ServerResponse } from "node:http";
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { formatLogLine, parseLogOptions, writeLogLines } from "../../../src/agent/server/logs.ts";
import type { LogLine } from "../../../src/runtime/types.ts";

const line = (text: string, partial = false): LogLine => ({
  timestampMs: Date.parse("2026-01-02T03:04:05.123456789Z"),
  time: "2026-01-02T03:04:05.123456789Z",
  stream: "stdout",
  content: Buffer.from(text),
  partial,
});

describe("container log options", () => {
  const now = Date.parse("2026-01-02T03:00:00Z");

  it("reads kubelet's PodLogOptions", () => {
    expect(
      parseLogOptions(
        new URLSearchParams("follow=true&previous=1&timestamps=true&tailLines=5&limitBytes=10"),
        now,
      ),
    ).toEqual({
      follow: true,
      previous: true,
      timestamps: true,
      tailLines: 5,
      limitBytes: 10,
      sinceMs: undefined,
    });
    expect(parseLogOptions(new URLSearchParams("sinceSeconds=60"), now).sinceMs).toBe(now - 60_000);
    expect(parseLogOptions(new URLSearchParams("sinceTime=2026-01-01T00:00:00Z"), now).sinceMs).toBe(
      Date.parse("2026-01-01T00:00:00Z"),
    );
    // kubelet's legacy `tail` parameter; "all" means no limit.
    expect(parseLogOptions(new URLSearchParams("tail=3"), now).tailLines).toBe(3);
    expect(parseLogOptions(new URLSearchParams("tail=all"), now).tailLines).toBeUndefined();
  });

  it.each([
    ["tailLines=-1", "tailLines=-1: must be greater than or equal to 0"],
    ["limitBytes=0", "limitBytes=0: must be greater than or equal to 1"],
    ["sinceSeconds=0", "sinceSeconds=0: must be greater than or equal to 1"],
    ["sinceSeconds=5&sinceTime=2026-01-01T00:00:00Z", "at most one of sinceTime or sinceSeconds"],
    ["sinceTime=yesterday", "must be an RFC 3339 time"],
    ["follow=maybe", "must be true or false"],
    ["tailLines=1.5", "must be an integer"],
  ])("rejects %s with 422", (query, message) => {
    expect(() => parseLogOptions(new URLSearchParams(query), now)).toThrow(message);
    try {
      parseLogOptions(new URLSearchParams(query), now);
    } catch (error) {
      expect((error as { status: number }).status).toBe(422);
    }
  });

  it("writes lines with their newline, partial lines without, timestamps as the runtime recorded them", () => {
    expect(formatLogLine(line("a"), false).toString()).toBe("a\n");
    expect(formatLogLine(line("a", true), false).toString()).toBe("a");
    expect(formatLogLine(line("a"), true).toString()).toBe("2026-01-02T03:04:05.123456789Z a\n");
  });

  it("stops at limitBytes, cutting the last line", async () => {
    const sink = new PassThrough();
    const chunks: Buffer[] = [];
    sink.on("data", (c: Buffer) => chunks.push(c));
    async function* lines() {
      yield line("first");
      yield line("second");
      throw new Error("must not be read: the limit was reached");
    }
    await writeLogLines(
      lines(),
      sink as unknown as ServerResponse,
      {
        follow: false,
        previous: false,
        timestamps: false,
        sinceMs: undefined,
        tailLines: undefined,
        limitBytes: 9,
      },
      new AbortController().signal,
    );
    expect(Buffer.concat(chunks).toString()).toBe("first\nsec");
  });
});
