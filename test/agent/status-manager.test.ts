import { describe, expect, it } from "vitest";
import { StatusManager, type StatusWriter } from "../../src/agent/status-manager.ts";
import { ApiError } from "../../src/api/client/errors.ts";
import { flushMicrotasks, ManualClock } from "../support/manual-clock.ts";

class RecordingWriter implements StatusWriter {
  readonly calls: string[] = [];
  failuresLeft = 0;
  async patch<T>(ref: { name?: string; subresource?: string }, _type: "merge", patch: unknown): Promise<T> {
    if (this.failuresLeft > 0) {
      this.failuresLeft--;
      throw new ApiError("API_UNREACHABLE", "connect ECONNREFUSED");
    }
    this.calls.push(
      `patch ${ref.name}/${ref.subresource} ${JSON.stringify((patch as { status: unknown }).status)}`,
    );
    return {} as T;
  }
  async delete(ref: { name?: string }, options: { gracePeriodSeconds: number }): Promise<unknown> {
    this.calls.push(`delete ${ref.name} grace=${options.gracePeriodSeconds}`);
    return {};
  }
}

const key = { namespace: "ns", name: "web", uid: "u1" };

describe("StatusManager", () => {
  it("writes several pods' statuses at once, and one pod's writes in order", async () => {
    const gates: Array<() => void> = [];
    const calls: string[] = [];
    const writer: StatusWriter = {
      async patch<T>(ref: { name?: string }, _type: "merge", patch: unknown): Promise<T> {
        calls.push(`${ref.name} ${JSON.stringify((patch as { status: unknown }).status)}`);
        await new Promise<void>((resolve) => gates.push(resolve));
        return {} as T;
      },
      delete: async () => ({}),
    };
    const manager = new StatusManager({ client: writer, clock: new ManualClock() });
    const abort = new AbortController();
    const done = manager.run(abort.signal);
    for (const n of [1, 2, 3])
      manager.setPodStatus({ namespace: "ns", name: `p${n}`, uid: `u${n}` }, { phase: "Pending" });
    await flushMicrotasks();
    expect(calls).toEqual(['p1 {"phase":"Pending"}', 'p2 {"phase":"Pending"}', 'p3 {"phase":"Pending"}']);
    // A newer status of p1 while its first write is in flight waits for that write (and the batch).
    manager.setPodStatus({ namespace: "ns", name: "p1", uid: "u1" }, { phase: "Running" });
    await flushMicrotasks();
    expect(calls).toHaveLength(3);
    for (const open of gates.splice(0)) open();
    for (let i = 0; i < 10 && calls.length < 4; i++) await flushMicrotasks();
    expect(calls.slice(3)).toEqual(['p1 {"phase":"Running"}']);
    for (const open of gates.splice(0)) open();
    await manager.whenIdle();
    abort.abort();
    await done;
  });

  it("keeps a pod's first start time when a later status carries another", async () => {
    const writer = new RecordingWriter();
    const manager = new StatusManager({ client: writer, clock: new ManualClock() });
    const abort = new AbortController();
    const done = manager.run(abort.signal);
    manager.setPodStatus(key, { phase: "Pending", startTime: "2026-01-01T00:00:01Z" });
    await manager.whenIdle();
    // Generated from an informer copy that has not seen the first write yet.
    manager.setPodStatus(key, { phase: "Running", startTime: "2026-01-01T00:00:02Z" });
    await manager.whenIdle();
    expect(writer.calls).toEqual([
      'patch web/status {"phase":"Pending","startTime":"2026-01-01T00:00:01Z"}',
      'patch web/status {"phase":"Running","startTime":"2026-01-01T00:00:01Z"}',
    ]);
    expect(manager.status("u1")?.startTime).toBe("2026-01-01T00:00:01Z");
    abort.abort();
    await done;
  });

  it("writes a status once, and again only when it changes", async () => {
    const writer = new RecordingWriter();
    const manager = new StatusManager({ client: writer, clock: new ManualClock() });
    const abort = new AbortController();
    const done = manager.run(abort.signal);
    manager.setPodStatus(key, { phase: "Pending" });
    await manager.whenIdle();
    manager.setPodStatus(key, { phase: "Pending" });
    await manager.whenIdle();
    manager.setPodStatus(key, { phase: "Running" });
    await manager.whenIdle();
    expect(writer.calls).toEqual([
      'patch web/status {"phase":"Pending"}',
      'patch web/status {"phase":"Running"}',
    ]);
    abort.abort();
    await done;
  });

  it("keeps only the newest status while the API is unreachable and catches up when it returns", async () => {
    const writer = new RecordingWriter();
    writer.failuresLeft = 3;
    const clock = new ManualClock();
    const errors: string[] = [];
    const manager = new StatusManager({
      client: writer,
      clock,
      onError: (_k, e) => errors.push((e as Error).message),
    });
    const abort = new AbortController();
    const done = manager.run(abort.signal);
    manager.setPodStatus(key, { phase: "Pending" });
    await flushMicrotasks();
    manager.setPodStatus(key, { phase: "Running" });
    for (let i = 0; i < 5; i++) await clock.advance(60_000);
    await manager.whenIdle();
    expect(errors).toHaveLength(3);
    expect(writer.calls).toEqual(['patch web/status {"phase":"Running"}']);
    abort.abort();
    await done;
  });

  it("finishes a graceful deletion with a grace-0 delete after the final status", async () => {
    const writer = new RecordingWriter();
    const manager = new StatusManager({ client: writer, clock: new ManualClock() });
    const abort = new AbortController();
    const done = manager.run(abort.signal);
    manager.setPodStatus(key, { phase: "Succeeded" });
    manager.finishDeletion(key);
    await manager.whenIdle();
    manager.finishDeletion(key);
    await manager.whenIdle();
    expect(writer.calls).toEqual(['patch web/status {"phase":"Succeeded"}', "delete web grace=0"]);
    abort.abort();
    await done;
  });
});
