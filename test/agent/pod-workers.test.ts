import { describe, expect, it } from "vitest";
import { PodWorkers } from "../../src/agent/pod-workers.ts";

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe("PodWorkers", () => {
  it("never overlaps syncs of one pod and coalesces updates to the newest desired state", async () => {
    const calls: string[] = [];
    let active = 0;
    let maxActive = 0;
    const gate = deferred();
    const workers = new PodWorkers<string>({
      sync: async (uid, desired, reasons) => {
        active++;
        maxActive = Math.max(maxActive, active);
        calls.push(`${uid}:${desired}:${reasons.join("+")}`);
        if (desired === "v1") await gate.promise;
        active--;
      },
    });
    workers.update({ uid: "a", desired: "v1", reason: "add" });
    workers.update({ uid: "a", desired: "v2", reason: "update" });
    workers.update({ uid: "a", desired: "v3", reason: "update" });
    workers.update({ uid: "a", desired: undefined, reason: "pleg" });
    gate.resolve();
    await workers.whenIdle();
    expect(calls).toEqual(["a:v1:add", "a:v3:update+update+pleg"]);
    expect(maxActive).toBe(1);
  });

  it("syncs different pods concurrently", async () => {
    const gate = deferred();
    const started: string[] = [];
    const workers = new PodWorkers<string>({
      sync: async (uid) => {
        started.push(uid);
        await gate.promise;
      },
    });
    workers.update({ uid: "a", desired: "x", reason: "add" });
    workers.update({ uid: "b", desired: "y", reason: "add" });
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual(["a", "b"]);
    gate.resolve();
    await workers.whenIdle();
  });

  it("ignores a resync for a pod it has no desired state for, and keeps going after a failed sync", async () => {
    const errors: string[] = [];
    let attempts = 0;
    const workers = new PodWorkers<string>({
      sync: async () => {
        attempts++;
        if (attempts === 1) throw new Error("runtime down");
      },
      onError: (uid, error) => errors.push(`${uid}: ${(error as Error).message}`),
    });
    workers.update({ uid: "ghost", desired: undefined, reason: "pleg" });
    await workers.whenIdle();
    expect(attempts).toBe(0);
    // No worker is kept for it either (PLEG events of a removed pod arrive after it was forgotten).
    expect(workers.known()).toEqual([]);
    workers.update({ uid: "a", desired: "v1", reason: "add" });
    await workers.whenIdle();
    workers.update({ uid: "a", desired: undefined, reason: "resync" });
    await workers.whenIdle();
    expect(errors).toEqual(["a: runtime down"]);
    expect(attempts).toBe(2);
  });

  it("aborts an in-flight sync of a forgotten pod", async () => {
    let seen: AbortSignal | undefined;
    const gate = deferred();
    const workers = new PodWorkers<string>({
      sync: async (_uid, _d, _r, signal) => {
        seen = signal;
        await gate.promise;
      },
    });
    workers.update({ uid: "a", desired: "v1", reason: "add" });
    await new Promise((r) => setImmediate(r));
    workers.forget("a");
    expect(seen?.aborted).toBe(true);
    expect(workers.known()).toEqual([]);
    gate.resolve();
    await workers.whenIdle();
  });

  it("keeps no worker for a forgotten pod that later events name", async () => {
    const workers = new PodWorkers<string>({ sync: async () => {} });
    workers.update({ uid: "gone", desired: "v1", reason: "remove" });
    await workers.whenIdle();
    workers.forget("gone");
    workers.update({ uid: "gone", desired: undefined, reason: "pleg" });
    workers.update({ uid: "gone", desired: undefined, reason: "readiness probe" });
    expect(workers.known()).toEqual([]);
  });
});
