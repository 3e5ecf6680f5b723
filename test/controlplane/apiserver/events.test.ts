// events.k8s.io/v1 Events are the core/v1 Events seen through upstream's field mapping (one store), and
// events expire after the event TTL.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lastWriteOf } from "../../../src/controlplane/apiserver/event-ttl.ts";
import { uniqueName } from "../../support/names.ts";
import { waitFor } from "../../support/wait.ts";
import { call, readWatch } from "./http.ts";
import { type InProcessServer, startInProcess } from "./in-process.ts";

type Obj = Record<string, unknown> & { metadata: Record<string, unknown> };

describe("events.k8s.io/v1 as a view of core/v1 events", () => {
  let api: InProcessServer;
  const ns = uniqueName("events");
  const core = `/api/v1/namespaces/${ns}/events`;
  const v1 = `/apis/events.k8s.io/v1/namespaces/${ns}/events`;
  const now = new Date();
  const micro = now.toISOString().replace(/Z$/, "000Z");
  const seconds = `${now.toISOString().slice(0, 19)}Z`;

  beforeAll(async () => {
    api = await startInProcess();
    expect((await call(api, "POST", "/api/v1/namespaces", { metadata: { name: ns } })).status).toBe(201);
  });
  afterAll(async () => {
    await api?.stop();
  });

  it("shows a core event in events.k8s.io/v1 form", async () => {
    const created = await call(api, "POST", core, {
      metadata: { name: "from-core" },
      involvedObject: { kind: "Pod", namespace: ns, name: "web", uid: "u-1" },
      reason: "Started",
      message: "Started container web",
      source: { component: "kubelet", host: "node-a" },
      firstTimestamp: seconds,
      lastTimestamp: seconds,
      count: 3,
      type: "Normal",
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const seen = await call<Obj>(api, "GET", `${v1}/from-core`);
    expect(seen.status).toBe(200);
    expect(seen.body).toMatchObject({
      apiVersion: "events.k8s.io/v1",
      kind: "Event",
      metadata: { name: "from-core", namespace: ns, uid: (created.body.metadata as Obj["metadata"]).uid },
      regarding: { kind: "Pod", namespace: ns, name: "web", uid: "u-1" },
      reason: "Started",
      note: "Started container web",
      deprecatedSource: { component: "kubelet", host: "node-a" },
      deprecatedFirstTimestamp: seconds,
      deprecatedLastTimestamp: seconds,
      deprecatedCount: 3,
      type: "Normal",
    });
    expect(seen.body.metadata.resourceVersion).toBe(
      (created.body.metadata as Obj["metadata"]).resourceVersion,
    );
    expect(seen.body).not.toHaveProperty("message");
    expect(seen.body).not.toHaveProperty("involvedObject");
  });

  it("stores an events.k8s.io/v1 event as a core event", async () => {
    const created = await call<Obj>(api, "POST", v1, {
      apiVersion: "events.k8s.io/v1",
      kind: "Event",
      metadata: { name: "from-v1" },
      eventTime: micro,
      series: { count: 2, lastObservedTime: micro },
      reportingController: "example.com/controller",
      reportingInstance: "controller-1",
      action: "Scaling",
      reason: "ScaledUp",
      regarding: { apiVersion: "apps/v1", kind: "Deployment", namespace: ns, name: "api" },
      note: "scaled up to 3",
      type: "Normal",
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ apiVersion: "events.k8s.io/v1", note: "scaled up to 3" });
    const seen = await call<Obj>(api, "GET", `${core}/from-v1`);
    expect(seen.body).toMatchObject({
      apiVersion: "v1",
      kind: "Event",
      involvedObject: { apiVersion: "apps/v1", kind: "Deployment", namespace: ns, name: "api" },
      message: "scaled up to 3",
      reason: "ScaledUp",
      action: "Scaling",
      reportingComponent: "example.com/controller",
      reportingInstance: "controller-1",
      eventTime: micro,
      series: { count: 2, lastObservedTime: micro },
      type: "Normal",
    });
    // Validation is the version's own: events.k8s.io/v1 requires what upstream requires.
    const invalid = await call<Obj>(api, "POST", v1, {
      metadata: { name: "bad" },
      regarding: { kind: "Pod" },
    });
    expect(invalid.status).toBe(422);
    expect(JSON.stringify(invalid.body)).toContain("reportingController");
  });

  it("lists, selects and watches the same objects through both APIs", async () => {
    const coreList = await call<{ items: Obj[] }>(api, "GET", core);
    const v1List = await call<{ items: Obj[] }>(api, "GET", v1);
    expect(v1List.body.items.map((e) => e.metadata.name).sort()).toEqual(
      coreList.body.items.map((e) => e.metadata.name).sort(),
    );
    const byRegarding = await call<{ items: Obj[] }>(api, "GET", `${v1}?fieldSelector=regarding.name=api`);
    expect(byRegarding.body.items.map((e) => e.metadata.name)).toEqual(["from-v1"]);
    const byInvolved = await call<{ items: Obj[] }>(
      api,
      "GET",
      `${core}?fieldSelector=involvedObject.name=web`,
    );
    expect(byInvolved.body.items.map((e) => e.metadata.name)).toEqual(["from-core"]);

    const rv = (v1List.body as unknown as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
    const watching = readWatch(api, `${v1}?watch=true&resourceVersion=${rv}`, (events) => events.length >= 2);
    await call(api, "POST", core, {
      metadata: { name: "watched" },
      involvedObject: { kind: "Node", name: "n1" },
      reason: "Ready",
      message: "node is ready",
    });
    expect((await call(api, "DELETE", `${v1}/watched`)).status).toBe(200);
    const events = await watching;
    expect(events.map((e) => e.type)).toEqual(["ADDED", "DELETED"]);
    expect(events[0]?.object).toMatchObject({ apiVersion: "events.k8s.io/v1", note: "node is ready" });
    expect((await call(api, "GET", `${core}/watched`)).status).toBe(404);
  });

  it("kubectl get events, kubectl events and kubectl get events.events.k8s.io show them", async () => {
    const get = await api.kubectl(["get", "events", "-n", ns]);
    expect(get.code, get.stderr).toBe(0);
    expect(get.stdout).toMatch(/Started container web/);
    expect(get.stdout).toMatch(/deployment\/api\s+scaled up to 3/);
    const events = await api.kubectl(["events", "-n", ns]);
    expect(events.code, events.stderr).toBe(0);
    expect(events.stdout).toMatch(/ScaledUp\s+Deployment\/api\s+scaled up to 3/);
    const grouped = await api.kubectl(["get", "events.v1.events.k8s.io", "-n", ns, "-o", "name"]);
    expect(grouped.code, grouped.stderr).toBe(0);
    expect(grouped.stdout.trim().split("\n").sort()).toEqual([
      "event.events.k8s.io/from-core",
      "event.events.k8s.io/from-v1",
    ]);
  });
});

describe("event TTL", () => {
  it("the last write is the latest time an event records", () => {
    expect(
      lastWriteOf({
        metadata: {
          creationTimestamp: "2026-01-01T00:00:00Z",
          managedFields: [{ time: "2026-01-01T00:05:00Z" } as never],
        },
        lastTimestamp: "2026-01-01T00:03:00Z",
      } as never),
    ).toBe(Date.parse("2026-01-01T00:05:00Z"));
    expect(
      lastWriteOf({ metadata: {}, series: { lastObservedTime: "2026-01-01T01:00:00.000000Z" } } as never),
    ).toBe(Date.parse("2026-01-01T01:00:00Z"));
    expect(lastWriteOf({ metadata: {} })).toBe(0);
  });

  it("deletes events once the TTL has passed since their last write, through both APIs", async () => {
    const api = await startInProcess({ extra: { eventTtlMs: 2000 } });
    try {
      const ns = uniqueName("event-ttl");
      expect((await call(api, "POST", "/api/v1/namespaces", { metadata: { name: ns } })).status).toBe(201);
      const core = `/api/v1/namespaces/${ns}/events`;
      const created = await call(api, "POST", core, {
        metadata: { name: "short-lived" },
        involvedObject: { kind: "Pod", namespace: ns, name: "p" },
        reason: "Test",
        message: "expires",
      });
      expect(created.status).toBe(201);
      const otherObjects = await call(api, "POST", `/api/v1/namespaces/${ns}/configmaps`, {
        metadata: { name: "stays" },
      });
      expect(otherObjects.status).toBe(201);
      await waitFor(async () => (await call(api, "GET", `${core}/short-lived`)).status === 404, {
        what: "the event to expire",
        timeoutMs: 20_000,
      });
      expect(
        (await call(api, "GET", `/apis/events.k8s.io/v1/namespaces/${ns}/events/short-lived`)).status,
      ).toBe(404);
      expect((await call(api, "GET", `/api/v1/namespaces/${ns}/configmaps/stays`)).status).toBe(200);
    } finally {
      await api.stop();
    }
  });
});
