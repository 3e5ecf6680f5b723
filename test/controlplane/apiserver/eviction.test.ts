// pods/eviction: policy/v1 Eviction deletes the pod unless a PodDisruptionBudget covering it allows no
// disruption (429, as kube-apiserver), and `kubectl drain` evicts every pod of a node.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ResourceDefinition } from "../../../src/api/resource.ts";
import { resourceDefinitions } from "../../../src/api/schema/index.ts";
import { podDisruptionBudgets } from "../../../src/api/schema/policy/pdb.ts";
import { uniqueName } from "../../support/names.ts";
import { waitFor } from "../../support/wait.ts";
import { call } from "./http.ts";
import { type InProcessServer, startInProcess } from "./in-process.ts";

const MERGE = { "Content-Type": "application/merge-patch+json" };

function pod(name: string, labels: Record<string, string> = {}, nodeName?: string) {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, labels },
    spec: { containers: [{ name: "c", image: "busybox" }], ...(nodeName ? { nodeName } : {}) },
  };
}

function eviction(name: string, extra: Record<string, unknown> = {}) {
  return { apiVersion: "policy/v1", kind: "Eviction", metadata: { name }, ...extra };
}

describe("pods/eviction", () => {
  let api: InProcessServer;
  const ns = uniqueName("evict");
  const base = `/api/v1/namespaces/${ns}/pods`;

  async function runningReady(name: string) {
    const res = await call(
      api,
      "PATCH",
      `${base}/${name}/status`,
      {
        status: { phase: "Running", conditions: [{ type: "Ready", status: "True" }] },
      },
      MERGE,
    );
    expect(res.status).toBe(200);
  }

  async function budget(name: string, selector: Record<string, string>, status: Record<string, unknown>) {
    const path = `/apis/policy/v1/namespaces/${ns}/poddisruptionbudgets`;
    const created = await call(api, "POST", path, {
      metadata: { name },
      spec: { minAvailable: 1, selector: { matchLabels: selector } },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const res = await call(
      api,
      "PATCH",
      `${path}/${name}/status`,
      {
        status: { observedGeneration: 1, ...status },
      },
      MERGE,
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  }

  beforeAll(async () => {
    api = await startInProcess({
      definitions: [...resourceDefinitions, podDisruptionBudgets as unknown as ResourceDefinition],
    });
    expect((await call(api, "POST", "/api/v1/namespaces", { metadata: { name: ns } })).status).toBe(201);
  });
  afterAll(async () => {
    await api?.stop();
  });

  it("is listed in discovery as a policy/v1 Eviction create-only subresource of pods", async () => {
    const res = await call<{ resources: Array<Record<string, unknown>> }>(api, "GET", "/api/v1");
    expect(res.body.resources.find((r) => r.name === "pods/eviction")).toMatchObject({
      group: "policy",
      version: "v1",
      kind: "Eviction",
      verbs: ["create"],
    });
  });

  it("deletes a pod no budget covers and answers 201 Success", async () => {
    expect((await call(api, "POST", base, pod("free"))).status).toBe(201);
    const res = await call(api, "POST", `${base}/free/eviction`, eviction("free"));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ kind: "Status", status: "Success" });
    expect((await call(api, "GET", `${base}/free`)).status).toBe(404);
  });

  it("rejects a name mismatch (400), a missing pod (404) and a wrong kind (400)", async () => {
    expect((await call(api, "POST", base, pod("named"))).status).toBe(201);
    const mismatch = await call(api, "POST", `${base}/named/eviction`, eviction("other"));
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.message).toBe("name in URL does not match name in Eviction object");
    expect((await call(api, "POST", `${base}/nope/eviction`, eviction("nope"))).status).toBe(404);
    const wrongKind = await call(api, "POST", `${base}/named/eviction`, {
      apiVersion: "policy/v1",
      kind: "Pod",
    });
    expect(wrongKind.status).toBe(400);
    expect((await call(api, "GET", `${base}/named`)).status).toBe(200);
  });

  it("dryRun=All evicts nothing", async () => {
    expect((await call(api, "POST", base, pod("dry"))).status).toBe(201);
    const res = await call(api, "POST", `${base}/dry/eviction?dryRun=All`, eviction("dry"));
    expect(res.status).toBe(201);
    expect((await call(api, "GET", `${base}/dry`)).status).toBe(200);
  });

  it("answers 429 when the budget allows no disruption, and leaves the pod", async () => {
    expect((await call(api, "POST", base, pod("guarded", { app: "guarded" }))).status).toBe(201);
    await runningReady("guarded");
    await budget(
      "guarded",
      { app: "guarded" },
      { disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 1, expectedPods: 1 },
    );
    const res = await call(api, "POST", `${base}/guarded/eviction`, eviction("guarded"));
    expect(res.status).toBe(429);
    expect(res.body).toMatchObject({
      reason: "TooManyRequests",
      message: "Cannot evict pod as it would violate the pod's disruption budget.",
      details: {
        causes: [
          {
            reason: "DisruptionBudget",
            message: "The disruption budget guarded needs 1 healthy pods and has 1 currently",
          },
        ],
      },
    });
    expect((await call(api, "GET", `${base}/guarded`)).status).toBe(200);
  });

  it("spends one disruption per eviction and records the pod in status.disruptedPods", async () => {
    for (const name of ["spend-a", "spend-b"]) {
      expect((await call(api, "POST", base, pod(name, { app: "spend" }))).status).toBe(201);
      await runningReady(name);
    }
    await budget(
      "spend",
      { app: "spend" },
      { disruptionsAllowed: 1, currentHealthy: 2, desiredHealthy: 1, expectedPods: 2 },
    );
    expect((await call(api, "POST", `${base}/spend-a/eviction`, eviction("spend-a"))).status).toBe(201);
    const pdb = await call<{ status: { disruptionsAllowed: number; disruptedPods: Record<string, string> } }>(
      api,
      "GET",
      `/apis/policy/v1/namespaces/${ns}/poddisruptionbudgets/spend`,
    );
    expect(pdb.body.status.disruptionsAllowed).toBe(0);
    expect(Object.keys(pdb.body.status.disruptedPods)).toEqual(["spend-a"]);
    expect((await call(api, "POST", `${base}/spend-b/eviction`, eviction("spend-b"))).status).toBe(429);
  });

  it("lets a pending pod go whatever its budget says, and refuses a budget the server has not processed", async () => {
    expect((await call(api, "POST", base, pod("pending", { app: "pend" }))).status).toBe(201);
    await budget("pend", { app: "pend" }, { disruptionsAllowed: 0 });
    expect((await call(api, "POST", `${base}/pending/eviction`, eviction("pending"))).status).toBe(201);

    expect((await call(api, "POST", base, pod("fresh", { app: "fresh" }))).status).toBe(201);
    await runningReady("fresh");
    const path = `/apis/policy/v1/namespaces/${ns}/poddisruptionbudgets`;
    await call(api, "POST", path, {
      metadata: { name: "fresh" },
      spec: { maxUnavailable: 1, selector: { matchLabels: { app: "fresh" } } },
    });
    const res = await call(api, "POST", `${base}/fresh/eviction`, eviction("fresh"));
    expect(res.status).toBe(429);
    expect(JSON.stringify(res.body)).toContain(
      "The disruption budget fresh is still being processed by the server.",
    );
  });

  it("kubectl drain cordons a node and evicts its pods", async () => {
    const node = uniqueName("drain-node");
    expect((await call(api, "POST", "/api/v1/nodes", { metadata: { name: node } })).status).toBe(201);
    for (const name of ["d1", "d2"]) {
      expect((await call(api, "POST", base, pod(`${name}-${node}`, {}, node))).status).toBe(201);
    }
    // No agent runs for this node: grace 0 deletes at once instead of waiting for the node to confirm.
    const result = await api.kubectl(["drain", node, "--force", "--grace-period=0", "--timeout=60s"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`evicting pod ${ns}/d1-${node}`);
    expect(result.stdout).toContain(`node/${node} drained`);
    const nodeObj = await call<{ spec: { unschedulable?: boolean } }>(api, "GET", `/api/v1/nodes/${node}`);
    expect(nodeObj.body.spec.unschedulable).toBe(true);
    await waitFor(
      async () =>
        (await call<{ items: unknown[] }>(api, "GET", `/api/v1/pods?fieldSelector=spec.nodeName=${node}`))
          .body.items.length === 0,
      { what: "the drained node's pods to be gone" },
    );
  });
});
