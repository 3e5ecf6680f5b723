import { describe, expect, it } from "vitest";
import { LastKnownReads } from "../../src/agent/last-known.ts";
import { ApiError } from "../../src/api/client/errors.ts";

const unreachable = () =>
  new ApiError("API_UNREACHABLE", "GET /api/v1/services: cannot reach http://127.0.0.1:1");
const status = (httpStatus: number) => new ApiError("API_STATUS", `HTTP ${httpStatus}`, { httpStatus });

describe("LastKnownReads", () => {
  it("returns the fresh answer and remembers it, including not-found (undefined)", async () => {
    const reads = new LastKnownReads();
    expect(await reads.read("a", async () => 1)).toBe(1);
    expect(await reads.read("a", async () => 2)).toBe(2);
    expect(await reads.read("gone", async () => undefined)).toBeUndefined();
    expect(await reads.read("gone", () => Promise.reject(unreachable()))).toBeUndefined();
  });

  it.each([
    ["unreachable", unreachable()],
    ["timeout", new ApiError("API_TIMEOUT", "timed out")],
    ["503", status(503)],
    ["429", status(429)],
  ])("serves the last answer when the API fails transiently (%s)", async (_what, error) => {
    const reads = new LastKnownReads();
    await reads.read("k", async () => "v1");
    expect(await reads.read("k", () => Promise.reject(error))).toBe("v1");
  });

  it("rethrows without a remembered answer, and for answers from the server", async () => {
    const reads = new LastKnownReads();
    await expect(reads.read("k", () => Promise.reject(unreachable()))).rejects.toThrow(/cannot reach/);
    await reads.read("k", async () => "v1");
    await expect(reads.read("k", () => Promise.reject(status(403)))).rejects.toThrow(/403/);
    await expect(reads.read("k", () => Promise.reject(new Error("bug")))).rejects.toThrow("bug");
  });

  it("forgets the least recently answered key beyond its capacity", async () => {
    const reads = new LastKnownReads(2);
    await reads.read("a", async () => "a");
    await reads.read("b", async () => "b");
    await reads.read("a", async () => "a2");
    await reads.read("c", async () => "c");
    expect(reads.size).toBe(2);
    await expect(reads.read("b", () => Promise.reject(unreachable()))).rejects.toThrow();
    expect(await reads.read("a", () => Promise.reject(unreachable()))).toBe("a2");
  });

  it("shares one request among overlapping reads of a key, and asks again once it answered", async () => {
    const reads = new LastKnownReads();
    let fetches = 0;
    let answer!: (value: string) => void;
    const slow = () => {
      fetches++;
      return new Promise<string>((resolve) => {
        answer = resolve;
      });
    };
    const first = reads.read("k", slow);
    const second = reads.read("k", slow);
    const other = reads.read("other", async () => "o");
    answer("v1");
    expect(await Promise.all([first, second, other])).toEqual(["v1", "v1", "o"]);
    expect(fetches).toBe(1);
    expect(await reads.read("k", async () => "v2")).toBe("v2");
  });

  it("gives every overlapping reader the failure of the shared request", async () => {
    const reads = new LastKnownReads();
    let fail!: (error: Error) => void;
    const failing = () =>
      new Promise<string>((_resolve, reject) => {
        fail = reject;
      });
    const both = [reads.read("k", failing), reads.read("k", failing)];
    fail(status(403));
    for (const read of both) await expect(read).rejects.toThrow(/403/);
  });
});
