// The etcd backend against private etcd 3.4 processes (Debian's etcd-server) on free loopback ports: the
// shared storage contract, then crash durability and unavailability.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EtcdStorage } from "../../../src/controlplane/storage/etcd.ts";
import { openStorage } from "../../../src/controlplane/storage/index.ts";
import { type KeyValue, StorageError } from "../../../src/controlplane/storage/types.ts";
import { type EtcdServer, freePort, startEtcd } from "../../support/etcd.ts";
import { waitFor } from "../../support/wait.ts";
import { describeStorage } from "./storage-suite.ts";
import { rejection, WatchReader } from "./watch-reader.ts";

describeStorage("etcd", async () => {
  const etcd = await startEtcd();
  return {
    open: () => openStorage(etcd.storeSpec, "/nonexistent-unused-by-etcd"),
    cleanup: () => etcd.stop(),
  };
});

describe("etcd storage: crashes and unavailability", () => {
  let etcd: EtcdServer;
  let storage: EtcdStorage;

  beforeAll(async () => {
    etcd = await startEtcd();
    storage = await EtcdStorage.open([etcd.endpoint], {
      callTimeoutMs: 5000,
      watchReconnectTimeoutMs: 60_000,
    });
  });

  afterAll(async () => {
    await storage?.close();
    await etcd?.stop();
  });

  it("keeps every acknowledged write when etcd is killed with SIGKILL mid-burst, and a watch resumes across the restart", async () => {
    const start = await storage.currentRevision();
    const reader = new WatchReader(storage, "/burst/", start);
    const acked = new Map<string, KeyValue>();
    const failures: unknown[] = [];
    let next = 0;
    let stop = false;
    const writer = async (): Promise<void> => {
      while (!stop) {
        const key = `/burst/k${String(next++).padStart(8, "0")}`;
        try {
          const kv = await storage.create(key, JSON.stringify({ key, pad: "e".repeat(2000) }));
          acked.set(key, kv);
        } catch (error) {
          failures.push(error);
          return;
        }
      }
    };
    const writers = Array.from({ length: 32 }, writer);
    await waitFor(() => acked.size >= 300, { what: "300 acknowledged writes before the crash" });
    await etcd.kill();
    await Promise.all(writers);
    stop = true;

    // Writes in flight at the crash fail as unavailable, naming the endpoint.
    expect(failures.length).toBeGreaterThan(0);
    for (const failure of failures) {
      expect(failure).toBeInstanceOf(StorageError);
      expect((failure as StorageError).code, (failure as StorageError).message).toBe("STORAGE_UNAVAILABLE");
      expect((failure as StorageError).message).toContain(etcd.endpoint);
    }
    const down = await rejection(storage.get("/burst/k00000000"));
    expect((down as StorageError).code).toBe("STORAGE_UNAVAILABLE");
    expect((down as StorageError).message).toContain(etcd.endpoint);

    await etcd.restart();
    // The same client reconnects once etcd is back.
    const listed = await waitFor(() => storage.list("/burst/"), { what: "a list after etcd restarted" });
    const stored = new Map(listed.items.map((kv) => [kv.key, kv]));
    const missing = [...acked.keys()].filter((key) => !stored.has(key));
    expect(missing, `${missing.length} of ${acked.size} acknowledged writes are missing`).toEqual([]);
    for (const [key, kv] of acked) expect(stored.get(key)).toEqual(kv);

    // The watch opened before the crash reconnects and delivers every stored write exactly once, in order,
    // and then the writes made after the restart.
    const after = await storage.create("/burst/after-restart", "x");
    const expected = [...listed.items.map((kv) => kv.modRevision), after.modRevision].sort((a, b) => a - b);
    const events = await reader.changesUntil(expected.length);
    expect(events.map((e) => e.kv.modRevision)).toEqual(expected);
    reader.stop();
  });

  it("rejects opening an endpoint where no etcd listens with STORAGE_UNAVAILABLE naming it", async () => {
    const port = await freePort();
    const error = await rejection(
      openStorage(`etcd://127.0.0.1:${port}`, "/unused", { etcd: { callTimeoutMs: 2000 } }),
    );
    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).code).toBe("STORAGE_UNAVAILABLE");
    expect((error as StorageError).message).toContain(`127.0.0.1:${port}`);
  });
});
