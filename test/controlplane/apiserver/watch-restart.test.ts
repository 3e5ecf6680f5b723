// A watch client sees every change, in order, across a restart of the control plane: it resumes from the
// last resourceVersion it saw, and the server replays what happened while it was away.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startControlPlane, type TestControlPlane } from "../../support/controlplane.ts";
import { uniqueName } from "../../support/names.ts";
import { waitFor } from "../../support/wait.ts";
import { call, type WatchEventLine } from "./http.ts";

/** Watches `path` from `rv`, reconnecting from the last resourceVersion after any disconnect. */
function resumingWatch(cp: TestControlPlane, path: string, rv: string) {
  const events: WatchEventLine[] = [];
  const errors: string[] = [];
  let last = rv;
  let stopped = false;
  let controller = new AbortController();
  const loop = async () => {
    while (!stopped) {
      controller = new AbortController();
      try {
        const res = await cp.fetch(`${path}?watch=true&allowWatchBookmarks=true&resourceVersion=${last}`, {
          signal: controller.signal,
        });
        if (!res.body) throw new Error(`watch answered ${res.status}`);
        const decoder = new TextDecoder();
        let buffer = "";
        for await (const chunk of res.body) {
          buffer += decoder.decode(chunk as Uint8Array, { stream: true });
          for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
            const line = buffer.slice(0, nl).trim();
            buffer = buffer.slice(nl + 1);
            if (!line) continue;
            const event = JSON.parse(line) as WatchEventLine;
            if (event.type === "ERROR") errors.push(JSON.stringify(event.object));
            if (event.type !== "BOOKMARK" && event.type !== "ERROR") events.push(event);
            last = event.object.metadata?.resourceVersion ?? last;
          }
        }
      } catch {
        // Connection refused or reset while the server restarts: try again from `last`.
      }
      if (!stopped) await new Promise((r) => setTimeout(r, 100));
    }
  };
  const done = loop();
  return {
    events,
    errors,
    async stop() {
      stopped = true;
      controller.abort();
      await done;
    },
  };
}

describe.each(["sqlite", "etcd"] as const)("watch across a restart on %s", (store) => {
  let cp: TestControlPlane;
  let ns: string;

  beforeAll(async () => {
    cp = await startControlPlane({ store, controllers: false });
    ns = uniqueName("wr");
    expect((await call(cp, "POST", "/api/v1/namespaces", { metadata: { name: ns } })).status).toBe(201);
  });

  afterAll(async () => {
    await cp?.stop();
  });

  it("delivers every change in order, resuming by resourceVersion", async () => {
    const base = `/api/v1/namespaces/${ns}/configmaps`;
    const list = await call<{ metadata: { resourceVersion: string } }>(cp, "GET", base);
    const watch = resumingWatch(cp, base, list.body.metadata.resourceVersion);
    const expected: Array<[string, string]> = [];
    const write = async (method: string, name: string, body?: unknown) => {
      const path = method === "POST" ? base : `${base}/${name}`;
      const res = await call(cp, method, path, body);
      expect(res.status, `${method} ${name}: ${JSON.stringify(res.body)}`).toBeLessThan(300);
      expected.push([method === "POST" ? "ADDED" : method === "DELETE" ? "DELETED" : "MODIFIED", name]);
    };
    const writeAll = async (tag: string) => {
      for (let i = 0; i < 4; i++)
        await write("POST", `${tag}-${i}`, { metadata: { name: `${tag}-${i}` }, data: { i: "0" } });
      await write("PUT", `${tag}-1`, { metadata: { name: `${tag}-1` }, data: { i: "1" } });
      await write("DELETE", `${tag}-2`);
      const patched = await call(cp, "PATCH", `${base}/${tag}-3`, JSON.stringify({ data: { i: "3" } }), {
        "Content-Type": "application/merge-patch+json",
      });
      expect(patched.status).toBe(200);
      expected.push(["MODIFIED", `${tag}-3`]);
    };

    await writeAll("before");
    await waitFor(() => watch.events.length >= expected.length, { what: "the events before the restart" });
    await cp.restart();
    // Changes made right after the restart, before the client has reconnected, are replayed to it.
    await writeAll("after");
    await waitFor(() => watch.events.length >= expected.length, {
      what: "the events after the restart",
      timeoutMs: 30_000,
    });
    await watch.stop();

    expect(watch.errors).toEqual([]);
    expect(watch.events.map((e) => [e.type, e.object.metadata?.name])).toEqual(expected);
    const versions = watch.events.map((e) => Number(e.object.metadata?.resourceVersion));
    for (let i = 1; i < versions.length; i++) expect(versions[i]).toBeGreaterThan(versions[i - 1] as number);
  });
});
