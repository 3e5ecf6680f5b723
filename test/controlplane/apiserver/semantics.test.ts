// Upstream metadata and API semantics over HTTP: generation, status and main endpoints, graceful pod
// deletion, binding, finalizers, deletion propagation, paging, selectors, tables and watch filtering.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startControlPlane, type TestControlPlane } from "../../support/controlplane.ts";
import { uniqueName } from "../../support/names.ts";
import { waitFor } from "../../support/wait.ts";
import { call, readWatch } from "./http.ts";

type Obj = {
  metadata: {
    name: string;
    uid: string;
    resourceVersion: string;
    generation?: number;
    creationTimestamp?: string;
    deletionTimestamp?: string;
    deletionGracePeriodSeconds?: number;
    finalizers?: string[];
    ownerReferences?: Array<{ uid: string }>;
    labels?: Record<string, string>;
  };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
};

const TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";

describe("API semantics", () => {
  let cp: TestControlPlane;
  let ns: string;

  const pod = (name: string, extra: Record<string, unknown> = {}) => ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, labels: { app: name } },
    spec: { containers: [{ name: "main", image: "busybox:1.35" }], ...extra },
  });
  const podsPath = () => `/api/v1/namespaces/${ns}/pods`;
  const get = async (path: string) => call<Obj>(cp, "GET", path);

  beforeAll(async () => {
    cp = await startControlPlane({ controllers: false });
    ns = uniqueName("sem");
    expect((await call(cp, "POST", "/api/v1/namespaces", { metadata: { name: ns } })).status).toBe(201);
  });

  afterAll(async () => {
    await cp?.stop();
  });

  it("fills in uid, resourceVersion, creationTimestamp, generateName and generation", async () => {
    const created = await call<Obj>(cp, "POST", `/apis/apps/v1/namespaces/${ns}/deployments`, {
      metadata: { generateName: "gen-" },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: "gen" } },
        template: {
          metadata: { labels: { app: "gen" } },
          spec: { containers: [{ name: "main", image: "busybox:1.35" }] },
        },
      },
    });
    expect(created.status).toBe(201);
    const meta = created.body.metadata;
    expect(meta.name).toMatch(/^gen-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(meta.uid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(meta.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(Number(meta.resourceVersion)).toBeGreaterThan(0);
    expect(meta.generation).toBe(1);
    const path = `/apis/apps/v1/namespaces/${ns}/deployments/${meta.name}`;
    const labelled = await call<Obj>(
      cp,
      "PATCH",
      path,
      JSON.stringify({ metadata: { labels: { x: "y" } } }),
      {
        "Content-Type": "application/merge-patch+json",
      },
    );
    expect(labelled.body.metadata.generation).toBe(1);
    const scaled = await call<Obj>(cp, "PATCH", path, JSON.stringify({ spec: { replicas: 2 } }), {
      "Content-Type": "application/merge-patch+json",
    });
    expect(scaled.body.metadata.generation).toBe(2);
    expect(Number(scaled.body.metadata.resourceVersion)).toBeGreaterThan(
      Number(labelled.body.metadata.resourceVersion),
    );
    expect(scaled.body.metadata.uid).toBe(meta.uid);
    // An update that changes nothing does not write: same resourceVersion.
    const same = await call<Obj>(cp, "PUT", path, scaled.body);
    expect(same.body.metadata.resourceVersion).toBe(scaled.body.metadata.resourceVersion);
  });

  it("keeps status out of main updates and spec out of status updates", async () => {
    const name = uniqueName("status");
    const created = await call<Obj>(cp, "POST", podsPath(), pod(name));
    expect(created.body.status).toMatchObject({ phase: "Pending", qosClass: "BestEffort" });
    const statusUpdate = await call<Obj>(cp, "PUT", `${podsPath()}/${name}/status`, {
      ...created.body,
      spec: { ...created.body.spec, activeDeadlineSeconds: 5 },
      status: { phase: "Running", podIP: "10.244.0.7" },
    });
    expect(statusUpdate.status).toBe(200);
    expect(statusUpdate.body.status).toMatchObject({ phase: "Running", podIP: "10.244.0.7" });
    expect(statusUpdate.body.spec?.activeDeadlineSeconds).toBeUndefined();
    const mainUpdate = await call<Obj>(cp, "PUT", `${podsPath()}/${name}`, {
      ...statusUpdate.body,
      spec: { ...statusUpdate.body.spec, activeDeadlineSeconds: 30 },
      status: { phase: "Failed" },
    });
    expect(mainUpdate.status).toBe(200);
    expect(mainUpdate.body.spec?.activeDeadlineSeconds).toBe(30);
    expect(mainUpdate.body.status?.phase).toBe("Running");
  });

  it("binds a pod once, and deletes a scheduled pod gracefully until the node confirms", async () => {
    const name = uniqueName("bound");
    await call(cp, "POST", podsPath(), pod(name, { terminationGracePeriodSeconds: 20 }));
    const bind = await call(cp, "POST", `${podsPath()}/${name}/binding`, {
      apiVersion: "v1",
      kind: "Binding",
      metadata: { name },
      target: { apiVersion: "v1", kind: "Node", name: "node-a" },
    });
    expect(bind.status).toBe(201);
    const bound = await get(`${podsPath()}/${name}`);
    expect(bound.body.spec?.nodeName).toBe("node-a");
    expect(bound.body.status?.conditions).toEqual([
      expect.objectContaining({ type: "PodScheduled", status: "True" }),
    ]);
    const again = await call<{ message: string; reason: string }>(
      cp,
      "POST",
      `${podsPath()}/${name}/binding`,
      {
        metadata: { name },
        target: { kind: "Node", name: "node-b" },
      },
    );
    expect(again.status).toBe(409);
    expect(again.body.message).toBe(
      `Operation cannot be fulfilled on pods/binding "${name}": pod ${name} is already assigned to node "node-a"`,
    );
    const byNode = await call<{ items: Obj[] }>(
      cp,
      "GET",
      `${podsPath()}?fieldSelector=spec.nodeName%3Dnode-a`,
    );
    expect(byNode.body.items.map((p) => p.metadata.name)).toEqual([name]);

    const graceful = await call<Obj>(cp, "DELETE", `${podsPath()}/${name}`);
    expect(graceful.status).toBe(200);
    expect(graceful.body.metadata.deletionGracePeriodSeconds).toBe(20);
    expect(graceful.body.metadata.deletionTimestamp).toBeDefined();
    expect((await get(`${podsPath()}/${name}`)).status).toBe(200);
    // The node's confirmation: grace 0 with the pod's UID as precondition.
    const confirm = await call<Obj>(cp, "DELETE", `${podsPath()}/${name}`, {
      gracePeriodSeconds: 0,
      preconditions: { uid: bound.body.metadata.uid },
    });
    expect(confirm.status).toBe(200);
    expect((await get(`${podsPath()}/${name}`)).status).toBe(404);

    const unscheduled = uniqueName("unsched");
    await call(cp, "POST", podsPath(), pod(unscheduled));
    expect((await call(cp, "DELETE", `${podsPath()}/${unscheduled}`)).status).toBe(200);
    expect((await get(`${podsPath()}/${unscheduled}`)).status).toBe(404);
  });

  it("keeps an object with finalizers until the last one is removed", async () => {
    const name = uniqueName("fin");
    const path = `/api/v1/namespaces/${ns}/configmaps/${name}`;
    await call(cp, "POST", `/api/v1/namespaces/${ns}/configmaps`, {
      metadata: { name, finalizers: ["example.com/hold"] },
    });
    const deleting = await call<Obj>(cp, "DELETE", path);
    expect(deleting.status).toBe(200);
    expect(deleting.body.metadata.deletionTimestamp).toBeDefined();
    expect(deleting.body.metadata.deletionGracePeriodSeconds).toBe(0);
    expect((await get(path)).body.metadata.finalizers).toEqual(["example.com/hold"]);
    const removed = await call(cp, "PATCH", path, JSON.stringify({ metadata: { finalizers: null } }), {
      "Content-Type": "application/merge-patch+json",
    });
    expect(removed.status).toBe(200);
    expect((await get(path)).status).toBe(404);
  });

  it("propagates deletion to dependents: background, orphan and foreground", async () => {
    const owner = async (policy: string) => {
      const name = uniqueName(policy.toLowerCase());
      const rs = await call<Obj>(cp, "POST", `/apis/apps/v1/namespaces/${ns}/replicasets`, {
        metadata: { name },
        spec: {
          replicas: 0,
          selector: { matchLabels: { owner: name } },
          template: {
            metadata: { labels: { owner: name } },
            spec: { containers: [{ name: "main", image: "busybox:1.35" }] },
          },
        },
      });
      expect(rs.status).toBe(201);
      const refs = [
        {
          apiVersion: "apps/v1",
          kind: "ReplicaSet",
          name,
          uid: rs.body.metadata.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ];
      for (const i of [1, 2]) {
        const child = await call(cp, "POST", podsPath(), {
          ...pod(`${name}-${i}`),
          metadata: { name: `${name}-${i}`, labels: { owner: name }, ownerReferences: refs },
        });
        expect(child.status).toBe(201);
      }
      return name;
    };
    const children = async (name: string) =>
      (await call<{ items: Obj[] }>(cp, "GET", `${podsPath()}?labelSelector=owner%3D${name}`)).body.items;

    const background = await owner("Background");
    await call(cp, "DELETE", `/apis/apps/v1/namespaces/${ns}/replicasets/${background}`, {
      propagationPolicy: "Background",
    });
    await waitFor(async () => (await children(background)).length === 0, {
      what: "background deletion of the pods",
    });

    const orphan = await owner("Orphan");
    await call(cp, "DELETE", `/apis/apps/v1/namespaces/${ns}/replicasets/${orphan}`, {
      propagationPolicy: "Orphan",
    });
    await waitFor(
      async () => (await get(`/apis/apps/v1/namespaces/${ns}/replicasets/${orphan}`)).status === 404,
      {
        what: "the orphaning owner to go",
      },
    );
    const orphans = await children(orphan);
    expect(orphans).toHaveLength(2);
    for (const o of orphans) expect(o.metadata.ownerReferences).toBeUndefined();

    const foreground = await owner("Foreground");
    const deleting = await call<Obj>(
      cp,
      "DELETE",
      `/apis/apps/v1/namespaces/${ns}/replicasets/${foreground}`,
      {
        propagationPolicy: "Foreground",
      },
    );
    expect(deleting.body.metadata.finalizers).toContain("foregroundDeletion");
    await waitFor(
      async () => (await get(`/apis/apps/v1/namespaces/${ns}/replicasets/${foreground}`)).status === 404,
      {
        what: "foreground deletion of the owner",
      },
    );
    expect(await children(foreground)).toHaveLength(0);
  });

  it("pages lists with limit/continue at one resourceVersion and filters by label and field", async () => {
    const tag = uniqueName("page");
    for (let i = 0; i < 7; i++) {
      await call(cp, "POST", `/api/v1/namespaces/${ns}/configmaps`, {
        metadata: {
          name: `${tag}-${i}`,
          labels: { tag, parity: i % 2 === 0 ? "even" : "odd", ...(i === 3 ? { special: "" } : {}) },
        },
      });
    }
    const names: string[] = [];
    let cont = "";
    let rv = "";
    let pages = 0;
    do {
      const page = await call<{ metadata: { continue?: string; resourceVersion: string }; items: Obj[] }>(
        cp,
        "GET",
        `/api/v1/namespaces/${ns}/configmaps?labelSelector=tag%3D${tag}&limit=3${cont ? `&continue=${cont}` : ""}`,
      );
      expect(page.status).toBe(200);
      if (rv) expect(page.body.metadata.resourceVersion).toBe(rv);
      rv = page.body.metadata.resourceVersion;
      names.push(...page.body.items.map((i) => i.metadata.name));
      cont = page.body.metadata.continue ?? "";
      pages++;
      // A write between pages does not show up in the paged result.
      if (pages === 1)
        await call(cp, "POST", `/api/v1/namespaces/${ns}/configmaps`, {
          metadata: { name: `${tag}-late`, labels: { tag } },
        });
    } while (cont);
    expect(pages).toBe(3);
    expect(names).toEqual([0, 1, 2, 3, 4, 5, 6].map((i) => `${tag}-${i}`));

    const select = async (selector: string) =>
      (
        await call<{ items: Obj[] }>(
          cp,
          "GET",
          `/api/v1/namespaces/${ns}/configmaps?labelSelector=${encodeURIComponent(selector)}`,
        )
      ).body.items.map((i) => i.metadata.name.slice(tag.length + 1));
    expect(await select(`tag=${tag},parity==odd`)).toEqual(["1", "3", "5"]);
    expect(await select(`tag=${tag},parity!=odd`)).toEqual(["0", "2", "4", "6", "late"]);
    expect(await select(`tag in (${tag}),parity notin (even)`)).toEqual(["1", "3", "5", "late"]);
    expect(await select(`tag=${tag},special`)).toEqual(["3"]);
    expect(await select(`tag=${tag},!parity`)).toEqual(["late"]);
    const byName = await call<{ items: Obj[] }>(
      cp,
      "GET",
      `/api/v1/namespaces/${ns}/configmaps?fieldSelector=metadata.name%3D${tag}-4`,
    );
    expect(byName.body.items.map((i) => i.metadata.name)).toEqual([`${tag}-4`]);
    const notName = await call<{ items: Obj[] }>(
      cp,
      "GET",
      `/api/v1/namespaces/${ns}/configmaps?labelSelector=tag%3D${tag}&fieldSelector=metadata.name!%3D${tag}-4,metadata.namespace%3D${ns}`,
    );
    expect(notName.body.items).toHaveLength(7);
    const old = await call(
      cp,
      "GET",
      `/api/v1/namespaces/${ns}/configmaps?resourceVersion=${Number(rv) + 100000}`,
    );
    expect(old.status).toBe(504);
    // resourceVersionMatch=Exact reads the state as it was at that revision.
    const path = `/api/v1/namespaces/${ns}/configmaps/${tag}-0`;
    const before = await get(path);
    await call(cp, "PATCH", path, JSON.stringify({ data: { changed: "yes" } }), {
      "Content-Type": "application/merge-patch+json",
    });
    const at = (match: string) =>
      call<{ metadata: { resourceVersion: string }; items: Array<{ data?: unknown }> }>(
        cp,
        "GET",
        `/api/v1/namespaces/${ns}/configmaps?fieldSelector=metadata.name%3D${tag}-0&resourceVersion=${before.body.metadata.resourceVersion}&resourceVersionMatch=${match}`,
      );
    const exact = await at("Exact");
    expect(exact.body.metadata.resourceVersion).toBe(before.body.metadata.resourceVersion);
    expect(exact.body.items[0]?.data).toBeUndefined();
    expect((await at("NotOlderThan")).body.items[0]?.data).toEqual({ changed: "yes" });
    expect(
      (await call(cp, "GET", `/api/v1/namespaces/${ns}/configmaps?resourceVersionMatch=Exact`)).status,
    ).toBe(400);
  });

  it("serves Tables with kubectl's columns, wide columns and row metadata, also on watches", async () => {
    const name = uniqueName("table");
    const created = await call<Obj>(cp, "POST", podsPath(), pod(name));
    const table = await call<{
      kind: string;
      columnDefinitions: Array<{ name: string; priority: number }>;
      rows: Array<{
        cells: unknown[];
        object: { kind: string; metadata: { name: string; labels: Record<string, string> } };
      }>;
    }>(cp, "GET", `${podsPath()}?labelSelector=app%3D${name}`, undefined, { Accept: TABLE });
    expect(table.body.kind).toBe("Table");
    expect(table.body.columnDefinitions.filter((c) => c.priority === 0).map((c) => c.name)).toEqual([
      "Name",
      "Ready",
      "Status",
      "Restarts",
      "Age",
    ]);
    expect(table.body.columnDefinitions.filter((c) => c.priority === 1).map((c) => c.name)).toEqual(
      expect.arrayContaining(["IP", "Node"]),
    );
    expect(table.body.rows[0]?.cells.slice(0, 4)).toEqual([name, "0/1", "Pending", "0"]);
    expect(table.body.rows[0]?.object).toMatchObject({
      kind: "PartialObjectMetadata",
      metadata: { name, labels: { app: name } },
    });

    const events = readWatch(
      cp,
      `${podsPath()}?watch=true&labelSelector=app%3D${name}&resourceVersion=${created.body.metadata.resourceVersion}`,
      (e) => e.length >= 2,
      { Accept: TABLE },
    );
    await new Promise((r) => setTimeout(r, 200));
    await call(
      cp,
      "PATCH",
      `${podsPath()}/${name}`,
      JSON.stringify({ metadata: { annotations: { a: "1" } } }),
      {
        "Content-Type": "application/merge-patch+json",
      },
    );
    await call(
      cp,
      "PATCH",
      `${podsPath()}/${name}`,
      JSON.stringify({ metadata: { annotations: { a: "2" } } }),
      {
        "Content-Type": "application/merge-patch+json",
      },
    );
    const [first, second] = (await events) as Array<{
      type: string;
      object: { columnDefinitions: unknown[] | null };
    }>;
    expect(first?.type).toBe("MODIFIED");
    expect(first?.object).toMatchObject({ kind: "Table", rows: [{ cells: expect.arrayContaining([name]) }] });
    expect(first?.object.columnDefinitions?.length).toBeGreaterThan(0);
    // Only the first event carries the column definitions, as upstream.
    expect(second?.object.columnDefinitions).toBeNull();
  });

  it("turns changes that leave or enter a watch's selection into DELETED and ADDED", async () => {
    const name = uniqueName("sel");
    const created = await call<Obj>(cp, "POST", podsPath(), {
      ...pod(name),
      metadata: { name, labels: { stage: "a" } },
    });
    const path = `${podsPath()}?watch=true&labelSelector=stage%3Db&resourceVersion=${created.body.metadata.resourceVersion}`;
    const events = readWatch(cp, path, (e) => e.length >= 2);
    await new Promise((r) => setTimeout(r, 200));
    const patch = (stage: string) =>
      call(cp, "PATCH", `${podsPath()}/${name}`, JSON.stringify({ metadata: { labels: { stage } } }), {
        "Content-Type": "application/merge-patch+json",
      });
    await patch("b");
    await patch("c");
    const seen = await events;
    expect(seen.map((e) => [e.type, e.object.metadata?.name])).toEqual([
      ["ADDED", name],
      ["DELETED", name],
    ]);
  });

  it("ends a watch after timeoutSeconds", async () => {
    const started = Date.now();
    const events = await readWatch(cp, `${podsPath()}?watch=true&timeoutSeconds=1`, () => false);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(events.every((e) => e.type === "ADDED")).toBe(true);
  });

  it("lists events by involvedObject fields and deletes a namespace with its content", async () => {
    const victim = uniqueName("victim");
    await call(cp, "POST", "/api/v1/namespaces", { metadata: { name: victim } });
    await call(cp, "POST", `/api/v1/namespaces/${victim}/configmaps`, { metadata: { name: "c" } });
    await call(cp, "POST", `/api/v1/namespaces/${victim}/events`, {
      metadata: { name: "e1" },
      involvedObject: { kind: "ConfigMap", name: "c", namespace: victim },
      reason: "Testing",
      message: "hello",
      type: "Normal",
    });
    const found = await call<{ items: Obj[] }>(
      cp,
      "GET",
      `/api/v1/namespaces/${victim}/events?fieldSelector=involvedObject.name%3Dc,involvedObject.kind%3DConfigMap`,
    );
    expect(found.body.items.map((e) => e.metadata.name)).toEqual(["e1"]);
    const deleting = await call<Obj>(cp, "DELETE", `/api/v1/namespaces/${victim}`);
    expect(deleting.status).toBe(200);
    expect(deleting.body.status?.phase).toBe("Terminating");
    await waitFor(async () => (await get(`/api/v1/namespaces/${victim}`)).status === 404, {
      what: "the namespace to be emptied and removed",
    });
    const immortal = await call<{ reason: string; message: string }>(
      cp,
      "DELETE",
      "/api/v1/namespaces/default",
    );
    expect(immortal.status).toBe(403);
    expect(immortal.body.message).toContain("this namespace may not be deleted");
  });
});
