// The SQLite backend against real SQLite files in temporary directories: the shared storage contract, then
// what only an embedded store has to prove itself (crash durability, reopening, exclusive use).

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterEach, describe, expect, it } from "vitest";
import { openStorage } from "../../../src/controlplane/storage/index.ts";
import { SQLITE_FILE_NAME, SqliteStorage } from "../../../src/controlplane/storage/sqlite.ts";
import { StorageError } from "../../../src/controlplane/storage/types.ts";
import { describeStorage } from "./storage-suite.ts";
import { rejection, WatchReader } from "./watch-reader.ts";

const temps: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "deckhand-sqlite-"));
  temps.push(dir);
  return dir;
}

describeStorage("sqlite", async () => {
  const dir = tempDir();
  return {
    open: async () => SqliteStorage.open(dir, { progressIntervalMs: 200 }),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

describe("sqlite storage: durability and ownership of the file", () => {
  const open: SqliteStorage[] = [];
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
    for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  function openAt(dir: string, options?: Parameters<typeof SqliteStorage.open>[1]): SqliteStorage {
    const storage = SqliteStorage.open(dir, options);
    open.push(storage);
    return storage;
  }

  it("keeps every acknowledged write when the writing process is killed with SIGKILL", async () => {
    const dir = tempDir();
    const script = join(import.meta.dirname, "fixtures", "sqlite-writer.ts");
    const child = spawn(process.execPath, [script, dir, "16"], { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.once("exit", (_, signal) => resolve(signal)),
    );
    const acked = new Map<string, number>();
    const lines = createInterface({ input: child.stdout });
    let killed = false;
    for await (const line of lines) {
      const [key, revision] = line.split(" ");
      if (key && revision) acked.set(key, Number(revision));
      // Kill mid-burst, with writes certainly in flight.
      if (!killed && acked.size >= 2000) {
        killed = true;
        child.kill("SIGKILL");
      }
    }
    expect(await exited, `the writer did not die by SIGKILL; stderr: ${stderr}`).toBe("SIGKILL");
    expect(acked.size).toBeGreaterThanOrEqual(2000);

    const reopened = openAt(dir);
    const stored = new Map((await reopened.list("/durable/")).items.map((kv) => [kv.key, kv]));
    const missing = [...acked.keys()].filter((key) => !stored.has(key));
    expect(missing, `${missing.length} of ${acked.size} acknowledged writes are missing`).toEqual([]);
    for (const [key, revision] of acked) expect(stored.get(key)?.modRevision).toBe(revision);
    // The event log agrees with the state: replaying it yields exactly the stored writes, in order.
    const replay = new WatchReader(reopened, "/durable/", 0);
    const replayed = await replay.changesUntil(stored.size, "the replay of every stored write");
    replay.stop();
    expect(replayed.map((e) => e.kv.modRevision)).toEqual(
      [...stored.values()].map((kv) => kv.modRevision).sort((a, b) => a - b),
    );
    // The revision counter survived with the data: the next write goes after everything stored.
    const maxStored = Math.max(...[...stored.values()].map((kv) => kv.modRevision));
    expect(await reopened.currentRevision()).toBe(maxStored);
    expect((await reopened.create("/durable/after", "x")).modRevision).toBe(maxStored + 1);
  });

  it("reopening keeps data, the revision, history for watches and the compaction floor", async () => {
    const dir = tempDir();
    const first = SqliteStorage.open(dir);
    const a1 = await first.create("/r/a", "1");
    const a2 = await first.update("/r/a", "2", a1.modRevision);
    const b1 = await first.create("/r/b", "3");
    await first.compact(a2.modRevision);
    await first.close();

    const second = openAt(dir);
    expect(await second.currentRevision()).toBe(b1.modRevision);
    expect(await second.get("/r/a")).toEqual(a2);
    const gone = await rejection(second.list("/r/", { revision: a1.modRevision }));
    expect((gone as StorageError).code).toBe("STORAGE_GONE");
    const reader = new WatchReader(second, "/r/", a2.modRevision);
    expect(await reader.changesUntil(1)).toEqual([{ type: "put", kv: b1 }]);
    reader.stop();
  });

  it("refuses a second open of the same store while the first holds it", async () => {
    const dir = tempDir();
    openAt(dir);
    const error = await rejection(openStorage("sqlite", dir));
    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).code).toBe("STORAGE_UNAVAILABLE");
    expect((error as StorageError).message).toContain(join(dir, SQLITE_FILE_NAME));
    expect((error as StorageError).message).toMatch(/using it/);
  });

  it("reports an unusable data directory as STORAGE_UNAVAILABLE naming the file", async () => {
    const parent = tempDir();
    const notADir = join(parent, "file");
    writeFileSync(notADir, "");
    const error = await rejection(openStorage("sqlite", join(notADir, "data")));
    expect((error as StorageError).code).toBe("STORAGE_UNAVAILABLE");
    expect((error as StorageError).message).toContain(join(notADir, "data", SQLITE_FILE_NAME));
  });

  it("a consumer that falls behind the live queue still receives every event once, in order", async () => {
    const dir = tempDir();
    const storage = openAt(dir, { watchQueueLimit: 50 });
    const start = await storage.currentRevision();
    const reader = new WatchReader(storage, "/lag/", start);
    await storage.create("/lag/first", "0");
    await reader.changesUntil(1);
    // The watch is live now; write far more than its queue holds without reading.
    const writes = await Promise.all(
      Array.from({ length: 500 }, (_, i) => storage.create(`/lag/k${i}`, `${i}`)),
    );
    const events = await reader.changesUntil(501);
    expect(events.slice(1).map((e) => e.kv.modRevision)).toEqual(
      writes.map((kv) => kv.modRevision).sort((a, b) => a - b),
    );
    reader.stop();
  });

  it("closing the store ends its watches with STORAGE_UNAVAILABLE and refuses further calls", async () => {
    const dir = tempDir();
    const storage = SqliteStorage.open(dir);
    const reader = new WatchReader(storage, "/c/", await storage.currentRevision());
    const pending = reader.next("the watch to fail on close");
    const write = storage.create("/c/a", "1");
    await storage.close();
    // A write queued before close is committed, not dropped.
    expect((await write).key).toBe("/c/a");
    const error = await rejection(pending.then(() => reader.next("the watch to fail on close")));
    expect((error as StorageError).code).toBe("STORAGE_UNAVAILABLE");
    expect(((await rejection(storage.get("/c/a"))) as StorageError).code).toBe("STORAGE_UNAVAILABLE");
    const reopened = openAt(dir);
    expect((await reopened.get("/c/a"))?.value).toBe("1");
  });
});
