import { createServer, type Server } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "../support/etcd.ts";

const held: Server[] = [];
afterAll(() => Promise.all(held.map((s) => new Promise((r) => s.close(r)))));

function hold(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
    held.push(server);
  });
}

describe("freePort", () => {
  it("hands out distinct ports below the kernel's ephemeral range, from this worker's block", async () => {
    const ports = [];
    for (let i = 0; i < 50; i++) ports.push(await freePort());
    expect(new Set(ports).size).toBe(50);
    const block = Number(process.env.VITEST_POOL_ID ?? 0) % 6;
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(20_000 + block * 1_600);
      expect(port).toBeLessThan(20_000 + (block + 1) * 1_600);
    }
  });

  it("skips a port something already listens on", async () => {
    const first = await freePort();
    const blockEnd = 20_000 + (Math.floor((first - 20_000) / 1_600) + 1) * 1_600;
    const next = first + 1 < blockEnd ? first + 1 : blockEnd - 1_600;
    await hold(next);
    const second = await freePort();
    expect(second).not.toBe(next);
    expect(second).not.toBe(first);
  });
});
