import { describe, expect, it } from "vitest";
import { groupVersionPath, openAPIDocument, openAPIDocuments, openAPIV2 } from "../../src/api/openapi.ts";
import { resourceDefinitions } from "../../src/api/schema/index.ts";

// biome-ignore lint/suspicious/noExplicitAny: walking arbitrary JSON documents
type Json = Record<string, any>;

const set = openAPIDocuments(resourceDefinitions);
const docs = new Map<string, Json>([...set.documents].map(([gv, d]) => [gv, JSON.parse(d.json)]));

function refs(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const n of node) refs(n, out);
  else if (node && typeof node === "object") {
    for (const [k, v] of Object.entries(node)) {
      if (k === "$ref" && typeof v === "string") out.push(v);
      else refs(v, out);
    }
  }
  return out;
}

/** Follows $ref / allOf like kubectl explain does. */
function resolve(doc: Json, schema: Json): Json {
  let s = schema;
  if (s.allOf) s = s.allOf[0];
  if (s.$ref) s = doc.components.schemas[s.$ref.replace("#/components/schemas/", "")];
  return s;
}

function walk(doc: Json, kindSchema: Json, path: string[]): Json {
  let s = kindSchema;
  for (const p of path) {
    s = resolve(doc, s);
    if (s.type === "array") s = resolve(doc, s.items);
    const next = s.properties?.[p];
    if (!next) throw new Error(`no field ${p} in ${path.join(".")}`);
    s = next;
  }
  return s;
}

describe("OpenAPI v3 root", () => {
  it("lists one document per served group-version with a content hash", () => {
    expect(Object.keys(set.root.paths as Json).sort()).toEqual([
      "api/v1",
      "apis/apps/v1",
      "apis/authentication.k8s.io/v1",
      "apis/authorization.k8s.io/v1",
      "apis/batch/v1",
      "apis/certificates.k8s.io/v1",
      "apis/coordination.k8s.io/v1",
      "apis/discovery.k8s.io/v1",
      "apis/events.k8s.io/v1",
      "apis/rbac.authorization.k8s.io/v1",
    ]);
    for (const [gv, entry] of Object.entries(set.root.paths as Json)) {
      expect(entry.serverRelativeURL).toBe(`/openapi/v3/${gv}?hash=${set.documents.get(gv)?.hash}`);
      expect(set.documents.get(gv)?.hash).toMatch(/^[0-9A-F]{128}$/);
    }
  });

  it("is deterministic", () => {
    expect(openAPIDocuments(resourceDefinitions).documents.get("api/v1")?.hash).toBe(
      set.documents.get("api/v1")?.hash,
    );
  });

  it("refuses a group-version nothing is served under", () => {
    expect(() => openAPIDocument(resourceDefinitions, "apis/nope/v1")).toThrow(
      "no resources are served under apis/nope/v1",
    );
  });
});

describe.each([...docs.keys()])("OpenAPI document %s", (gv) => {
  const doc = docs.get(gv) as Json;
  const served = resourceDefinitions.filter((d) => groupVersionPath(d.group, d.version) === gv);

  it("resolves every $ref", () => {
    const missing = refs(doc).filter((r) => !doc.components.schemas[r.replace("#/components/schemas/", "")]);
    expect(missing).toEqual([]);
  });

  it("names kinds like upstream and tags them with their group-version-kind", () => {
    for (const d of served) {
      const entry = Object.entries(doc.components.schemas as Json).find(([, s]) =>
        (s["x-kubernetes-group-version-kind"] ?? []).some(
          (g: Json) => g.group === d.group && g.version === d.version && g.kind === d.kind,
        ),
      );
      expect(entry, `${d.kind} in ${gv}`).toBeDefined();
      const [name] = entry as [string, Json];
      expect(name).toMatch(/^io\.k8s\.api\.[a-z]+\.v1\.[A-Z][A-Za-z]+$/);
      if (d.verbs.includes("list"))
        expect(doc.components.schemas[`${name}List`]["x-kubernetes-group-version-kind"][0].kind).toBe(
          `${d.kind}List`,
        );
    }
    expect(doc.components.schemas["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"]).toBeDefined();
  });

  it("declares fieldValidation on every PATCH operation, with the GVK and all patch content types", () => {
    const patches = Object.values(doc.paths as Json).flatMap((p: Json) => (p.patch ? [p.patch] : []));
    // Groups of create-only kinds (access reviews) have nothing to patch.
    expect(patches.length > 0).toBe(served.some((d) => d.verbs.includes("patch")));
    for (const op of patches) {
      expect(op.parameters.map((p: Json) => p.name)).toContain("fieldValidation");
      expect(op["x-kubernetes-group-version-kind"]).toMatchObject({
        version: expect.any(String),
        kind: expect.any(String),
      });
      expect(Object.keys(op.requestBody.content).sort()).toEqual([
        "application/apply-patch+yaml",
        "application/json-patch+json",
        "application/merge-patch+json",
        "application/strategic-merge-patch+json",
      ]);
    }
  });

  it("has list, create, read, replace, patch and delete paths for each resource", () => {
    for (const d of served) {
      const base = `/${gv}${d.namespaced ? "/namespaces/{namespace}" : ""}/${d.plural}`;
      if (d.verbs.includes("list")) expect(doc.paths[base]?.get?.["x-kubernetes-action"], base).toBe("list");
      if (d.verbs.includes("create"))
        expect(doc.paths[base]?.post?.["x-kubernetes-action"], base).toBe("post");
      if (d.verbs.includes("get"))
        expect(doc.paths[`${base}/{name}`]?.get?.["x-kubernetes-group-version-kind"]?.kind).toBe(d.kind);
      if (d.verbs.includes("patch")) expect(doc.paths[`${base}/{name}`]?.patch).toBeDefined();
      for (const sub of d.subresources)
        expect(doc.paths[`${base}/{name}/${sub}`], `${base}/${sub}`).toBeDefined();
    }
  });

  it("lists only declared properties as required", () => {
    for (const [name, s] of Object.entries(doc.components.schemas as Json)) {
      for (const r of s.required ?? []) expect(s.properties?.[r], `${name}.${r}`).toBeDefined();
    }
  });
});

describe("schema details kubectl relies on", () => {
  const core = docs.get("api/v1") as Json;
  const pod = core.components.schemas["io.k8s.api.core.v1.Pod"];

  it.each([
    [["spec", "containers"], "name", "merge", "map", ["name"]],
    [["spec", "containers", "ports"], "containerPort", "merge", "map", ["containerPort", "protocol"]],
    [["spec", "containers", "env"], "name", "merge", "map", ["name"]],
    [["spec", "containers", "volumeMounts"], "mountPath", "merge", "map", ["mountPath"]],
    [["spec", "volumes"], "name", "merge,retainKeys", "map", ["name"]],
    [["spec", "tolerations"], undefined, undefined, "atomic", undefined],
    [["status", "conditions"], "type", "merge", "map", ["type"]],
    [["metadata", "ownerReferences"], "uid", "merge", "map", ["uid"]],
    [["metadata", "finalizers"], undefined, "merge", "set", undefined],
  ])("%j carries strategic-merge and apply metadata", (path, mergeKey, strategy, listType, keys) => {
    const field = walk(core, pod, path);
    expect(field["x-kubernetes-patch-merge-key"]).toBe(mergeKey);
    expect(field["x-kubernetes-patch-strategy"]).toBe(strategy);
    expect(field["x-kubernetes-list-type"]).toBe(listType);
    expect(field["x-kubernetes-list-map-keys"]).toEqual(keys);
  });

  it("describes pod.spec.containers fields", () => {
    const container = core.components.schemas["io.k8s.api.core.v1.Container"];
    for (const [field, schema] of Object.entries(container.properties as Json)) {
      expect(schema.description, field).toMatch(/\w{3}/);
    }
    expect(container.required).toEqual(["name"]);
  });

  it("marks int-or-string and quantity like upstream", () => {
    expect(core.components.schemas["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]).toMatchObject({
      format: "int-or-string",
      "x-kubernetes-int-or-string": true,
      oneOf: [{ type: "integer" }, { type: "string" }],
    });
    expect(core.components.schemas["io.k8s.apimachinery.pkg.api.resource.Quantity"].oneOf).toEqual([
      { type: "string" },
      { type: "number" },
    ]);
    expect(core.components.schemas["io.k8s.apimachinery.pkg.apis.meta.v1.Time"]).toMatchObject({
      type: "string",
      format: "date-time",
    });
  });

  it("points scale subresources at autoscaling/v1 Scale", () => {
    const apps = docs.get("apis/apps/v1") as Json;
    const op = apps.paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"].patch;
    expect(op["x-kubernetes-group-version-kind"]).toEqual({
      group: "autoscaling",
      kind: "Scale",
      version: "v1",
    });
    expect(apps.components.schemas["io.k8s.api.autoscaling.v1.Scale"]).toBeDefined();
  });
});

describe("OpenAPI v2 (for kubectl 1.27 and 1.28)", () => {
  const v2 = openAPIV2(resourceDefinitions);
  const swagger = JSON.parse(v2.json) as Json;

  it("resolves every $ref against definitions", () => {
    const missing = refs(swagger).filter((r) => !swagger.definitions[r.replace("#/definitions/", "")]);
    expect(missing).toEqual([]);
    expect(refs(swagger).every((r) => r.startsWith("#/definitions/"))).toBe(true);
  });

  it("keeps kinds, extensions and the PATCH fieldValidation parameter", () => {
    expect(swagger.definitions["io.k8s.api.core.v1.Pod"]["x-kubernetes-group-version-kind"]).toEqual([
      { group: "", kind: "Pod", version: "v1" },
    ]);
    const containers = swagger.definitions["io.k8s.api.core.v1.PodSpec"].properties.containers;
    expect(containers).toMatchObject({
      type: "array",
      items: { $ref: "#/definitions/io.k8s.api.core.v1.Container" },
      "x-kubernetes-patch-merge-key": "name",
    });
    expect(swagger.definitions["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]).toMatchObject({
      type: "string",
      format: "int-or-string",
    });
    const patch = swagger.paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"].patch;
    expect(patch.parameters.map((p: Json) => p.name)).toContain("fieldValidation");
    expect(patch["x-kubernetes-group-version-kind"]).toEqual({
      group: "apps",
      kind: "Deployment",
      version: "v1",
    });
  });

  it("encodes a protobuf document", () => {
    expect(v2.protobuf.length).toBeGreaterThan(100_000);
    expect(v2.protobuf.subarray(0, 5).toString("latin1")).toBe("\n\u00032.0");
    expect(v2.hash).toMatch(/^[0-9A-F]{128}$/);
  });
});
