// Real kubectl against the discovery and OpenAPI v3 documents generated from our schemas: `explain` walks
// them, `apply` uses them for server-side field validation and strategic merge patches.

import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prepareForCreate, resourceDefinitions } from "../../src/api/schema/index.ts";
import { requirePrerequisite } from "../support/env.ts";
import { uniqueName } from "../support/names.ts";
import { run } from "../support/run.ts";
import { type FakeApiServer, type RecordedRequest, startFakeApiServer } from "./fake-apiserver.ts";

const KUBECTL_DIR = "/usr/lib/google-cloud-sdk/bin";
// kubectl 1.27 and 1.28 read /openapi/v2 (protobuf) for explain and apply; 1.29+ use /openapi/v3.
const VERSIONS = ["1.27", "1.28", "1.29", "1.30", "1.31", "1.32", "1.33"];

let server: FakeApiServer;
let dir: string;
const stored = new Map<string, Record<string, unknown>>();

function handle(req: RecordedRequest): { status: number; body: unknown } | undefined {
  const path = req.url.split("?")[0] as string;
  const pod = /^\/api\/v1\/namespaces\/([^/]+)\/pods(?:\/([^/]+))?$/.exec(path);
  if (!pod) return undefined;
  if (req.method === "GET" && pod[2]) {
    const obj = stored.get(pod[2]);
    return obj ? { status: 200, body: obj } : undefined;
  }
  if (req.method === "POST") {
    const pods = resourceDefinitions.find((d) => d.plural === "pods" && d.group === "");
    if (!pods) throw new Error("no pods definition");
    const result = prepareForCreate(pods, JSON.parse(req.body), { fieldValidation: "Strict" });
    if (result.badRequest || result.errors.length > 0) {
      return {
        status: 400,
        body: {
          kind: "Status",
          apiVersion: "v1",
          status: "Failure",
          message: result.badRequest ?? JSON.stringify(result.errors),
          code: 400,
        },
      };
    }
    const obj = result.obj as Record<string, unknown>;
    const meta = obj.metadata as Record<string, unknown>;
    meta.uid = "00000000-0000-0000-0000-000000000001";
    meta.resourceVersion = "1";
    meta.creationTimestamp = "2025-01-01T00:00:00Z";
    stored.set(meta.name as string, obj);
    return { status: 201, body: obj };
  }
  if (req.method === "PATCH" && pod[2]) {
    const obj = stored.get(pod[2]);
    return obj ? { status: 200, body: obj } : undefined;
  }
  return undefined;
}

function kubectl(version: string, args: string[], input?: string) {
  const kubeconfig = join(dir, "kubeconfig");
  return run(
    join(KUBECTL_DIR, `kubectl.${version}`),
    ["--kubeconfig", kubeconfig, "--cache-dir", join(dir, `cache-${version}`), ...args],
    {
      allowFailure: true,
      ...(input !== undefined ? { input } : {}),
    },
  );
}

beforeAll(async () => {
  for (const v of VERSIONS)
    requirePrerequisite(existsSync(join(KUBECTL_DIR, `kubectl.${v}`)), `kubectl ${v} in ${KUBECTL_DIR}`);
  server = await startFakeApiServer(resourceDefinitions, handle);
  dir = await mkdtemp(join(tmpdir(), "deckhand-kubectl-"));
  await writeFile(
    join(dir, "kubeconfig"),
    [
      "apiVersion: v1",
      "kind: Config",
      `clusters: [{name: c, cluster: {server: ${JSON.stringify(server.url)}}}]`,
      "users: [{name: u, user: {}}]",
      "contexts: [{name: x, context: {cluster: c, user: u, namespace: default}}]",
      "current-context: x",
      "",
    ].join("\n"),
  );
});

afterAll(async () => {
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe.each(VERSIONS)("kubectl %s explain", (version) => {
  it("explains pod.spec.containers from the OpenAPI v3 document", async () => {
    const r = await kubectl(version, ["explain", "pod.spec.containers"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("KIND:       Pod");
    expect(r.stdout).toContain("VERSION:    v1");
    expect(r.stdout).toMatch(/FIELD: containers <\[\]Container>/);
    expect(r.stdout).toContain("A single application container that you want to run within a pod.");
    expect(r.stdout).toMatch(/image\s+<string>/);
    expect(r.stdout).toMatch(/name\s+<string> -required-/);
    expect(r.stdout).toMatch(/ports\s+<\[\]ContainerPort>/);
    // Enum values are printed by the OpenAPI v3 explain of kubectl 1.30 and later.
    if (!["1.27", "1.28", "1.29"].includes(version))
      expect(r.stdout).toMatch(/imagePullPolicy\s+<string>\n\s+enum: Always, IfNotPresent, Never/);
  });

  it("explains a nested field of an apps/v1 kind", async () => {
    const r = await kubectl(version, ["explain", "deployment.spec.strategy.rollingUpdate.maxSurge"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("GROUP:      apps");
    expect(r.stdout).toContain("KIND:       Deployment");
    expect(r.stdout).toMatch(/FIELD: maxSurge <IntOrString>/);
  });

  it("explains recursively without errors", async () => {
    const r = await kubectl(version, ["explain", "svc", "--recursive"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/externalTrafficPolicy\s+<string>/);
  });
});

describe.each(["1.27", "1.30", "1.32", "1.33"])("kubectl %s apply", (version) => {
  it("creates with server-side field validation, then sends a strategic merge patch", async () => {
    const name = uniqueName("apply");
    const manifest = (image: string) =>
      [
        "apiVersion: v1",
        "kind: Pod",
        "metadata:",
        `  name: ${name}`,
        "  labels: {app: web}",
        "spec:",
        "  containers:",
        "  - name: main",
        `    image: ${image}`,
        "    ports: [{containerPort: 80}]",
        "    resources: {limits: {cpu: 500m, memory: 64Mi}}",
        "",
      ].join("\n");
    const file = join(dir, `${name}.yaml`);
    await writeFile(file, manifest("busybox:1.35"));
    const created = await kubectl(version, ["apply", "-f", file]);
    expect(created.stderr).toBe("");
    expect(created.stdout.trim()).toBe(`pod/${name} created`);
    const post = server.requests.find((r) => r.method === "POST" && r.body.includes(name));
    expect(post?.url).toContain("fieldValidation=Strict");
    const obj = stored.get(name) as {
      spec: { containers: { resources: unknown; imagePullPolicy: string }[] };
    };
    expect(obj.spec.containers[0]?.resources).toEqual({
      limits: { cpu: "500m", memory: "64Mi" },
      requests: { cpu: "500m", memory: "64Mi" },
    });
    expect(obj.spec.containers[0]?.imagePullPolicy).toBe("IfNotPresent");

    await writeFile(file, manifest("busybox:1.36"));
    const updated = await kubectl(version, ["apply", "-f", file]);
    expect(updated.stderr).toBe("");
    const patch = server.requests.find((r) => r.method === "PATCH" && r.url.includes(`/pods/${name}`));
    expect(patch?.contentType).toBe("application/strategic-merge-patch+json");
    expect(patch?.url).toContain("fieldValidation=Strict");
    const body = JSON.parse(patch?.body ?? "{}");
    expect(body.spec.$setElementOrder).toBeUndefined();
    expect(body.spec["$setElementOrder/containers"]).toEqual([{ name: "main" }]);
    expect(body.spec.containers).toEqual([{ image: "busybox:1.36", name: "main" }]);
  });

  it("rejects an unknown field with upstream's strict decoding message", async () => {
    const file = join(dir, `bad-${version}.yaml`);
    await writeFile(
      file,
      "apiVersion: v1\nkind: Pod\nmetadata: {name: bad}\nspec:\n  containers: [{name: c, image: x, imagePullPolcy: Always}]\n",
    );
    const r = await kubectl(version, ["apply", "-f", file]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      'Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec.containers[0].imagePullPolcy"',
    );
  });
});
