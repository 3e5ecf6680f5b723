import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../../src/api/resource.ts";
import {
  applyPatch,
  isPatchError,
  NO_SCHEMA,
  type PatchContext,
  PatchError,
  type PatchResult,
  patchTypeOf,
} from "../../../src/controlplane/apiserver/patch/index.ts";
import type { JsonObject } from "../../../src/controlplane/apiserver/patch/json-value.ts";
import { deploymentConfig, GVKS, liveConfigMap, livePod, NOW, schemaFor } from "./fixtures.ts";

const podCtx = (extra: Partial<PatchContext> = {}): PatchContext => ({
  schema: schemaFor("Pod"),
  gvk: GVKS.Pod,
  now: NOW,
  userAgent: "kubectl/v1.32.4 (linux/amd64) kubernetes/59526cd",
  ...extra,
});

function ok(result: PatchResult | PatchError): PatchResult {
  if (isPatchError(result)) throw new Error(`unexpected ${result.code}: ${result.message}`);
  return result;
}

function failed(result: PatchResult | PatchError): PatchError {
  if (!isPatchError(result)) throw new Error("expected a PatchError");
  return result;
}

const labels = (o: KubeObject) => o.metadata?.labels;
const managers = (o: KubeObject) =>
  (o.metadata?.managedFields as JsonObject[] | undefined)?.map((m) => m.manager);

describe("content types", () => {
  it.each([
    ["application/json-patch+json", "json"],
    ["application/merge-patch+json", "merge"],
    ["application/strategic-merge-patch+json", "strategic"],
    ["application/strategic-merge-patch+json; charset=utf-8", "strategic"],
    ["Application/Apply-Patch+YAML", "apply"],
    ["application/json", undefined],
    [undefined, undefined],
  ])("%s → %s", (contentType, type) => {
    expect(patchTypeOf(contentType)).toBe(type);
  });

  it("an unknown content type is upstream's 415", () => {
    const error = failed(applyPatch("application/json", livePod() as KubeObject, "{}", podCtx()));
    expect(error.code).toBe(415);
    expect(error.reason).toBe("UnsupportedMediaType");
    expect(error.message).toBe(
      "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml",
    );
  });
});

describe("the three client-side patch types", () => {
  const live = livePod() as KubeObject;
  it.each([
    ["application/json-patch+json", '[{"op":"add","path":"/metadata/labels/x","value":"1"}]'],
    ["application/merge-patch+json", '{"metadata":{"labels":{"x":"1"}}}'],
    ["application/strategic-merge-patch+json", '{"metadata":{"labels":{"x":"1"}}}'],
  ])("%s patches and records the manager", (contentType, body) => {
    const result = ok(
      applyPatch(contentType, live, Buffer.from(body), podCtx({ fieldManager: "kubectl-label" })),
    );
    expect(labels(result.object)).toEqual({ app: "web", tier: "frontend", x: "1" });
    expect(managers(result.object)).toEqual(["kubectl-label"]);
    expect((result.object.metadata?.managedFields ?? [])[0]).toMatchObject({
      manager: "kubectl-label",
      operation: "Update",
      apiVersion: "v1",
      time: "2025-06-01T12:00:00Z",
      fieldsV1: { "f:metadata": { "f:labels": { "f:x": {} } } },
    });
  });

  it("without fieldManager the manager comes from the user agent", () => {
    const result = ok(
      applyPatch("application/merge-patch+json", live, '{"metadata":{"labels":{"y":"2"}}}', podCtx()),
    );
    expect(managers(result.object)).toEqual(["kubectl"]);
  });

  it("managedFields tracking can be switched off", () => {
    const result = ok(
      applyPatch(
        "application/merge-patch+json",
        live,
        '{"metadata":{"labels":{"y":"2"}}}',
        podCtx({ trackManagedFields: false }),
      ),
    );
    expect(result.object.metadata?.managedFields).toBeUndefined();
  });

  it("a patch of something that does not exist is a 404", () => {
    const error = failed(
      applyPatch(
        "application/merge-patch+json",
        undefined,
        "{}",
        podCtx({ target: { resource: "pods", name: "web" } }),
      ),
    );
    expect([error.code, error.reason, error.message]).toEqual([404, "NotFound", 'pods "web" not found']);
  });

  it("a JSON patch that turns the object into an array is a 422 naming the patch", () => {
    const error = failed(
      applyPatch("application/json-patch+json", live, '[{"op":"replace","path":"","value":[1]}]', podCtx()),
    );
    expect(error.code).toBe(422);
    expect(error.details?.causes?.[0]?.field).toBe("patch");
  });

  it("force is forbidden outside apply", () => {
    const error = failed(applyPatch("application/merge-patch+json", live, "{}", podCtx({ force: false })));
    expect(error.code).toBe(422);
    expect(error.message).toBe(
      'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch',
    );
    expect(error.details).toEqual({
      name: "",
      group: "meta.k8s.io",
      kind: "PatchOptions",
      causes: [
        {
          reason: "FieldValueForbidden",
          message: "Forbidden: may not be specified for non-apply patch",
          field: "force",
        },
      ],
    });
  });

  it.each([
    ["application/json-patch+json", "{"],
    ["application/merge-patch+json", "{"],
    ["application/strategic-merge-patch+json", "[]"],
    ["application/apply-patch+yaml", "a: [\n"],
  ])("%s with an undecodable body is a 400", (contentType, body) => {
    const error = failed(applyPatch(contentType, live, body, podCtx({ fieldManager: "m" })));
    expect([error.code, error.reason]).toEqual([400, "BadRequest"]);
  });
});

describe("apply", () => {
  const ctx = (extra: Partial<PatchContext> = {}): PatchContext => ({
    schema: schemaFor("Deployment"),
    gvk: GVKS.Deployment,
    now: NOW,
    fieldManager: "kubectl",
    ...extra,
  });
  const yaml = [
    "apiVersion: apps/v1",
    "kind: Deployment",
    "metadata:",
    "  name: web",
    "  labels: {app: web}",
    "spec:",
    "  replicas: 2",
    "  selector: {matchLabels: {app: web}}",
    "  template:",
    "    metadata: {labels: {app: web}}",
    "    spec:",
    "      containers:",
    "      - name: web",
    "        image: nginx:1.25",
    "        ports: [{containerPort: 80}]",
    "        env: [{name: A, value: '1'}, {name: B, value: '2'}]",
    "      - name: sidecar",
    "        image: busybox:1.35",
    "        args: [sleep, '3600']",
    "",
  ].join("\n");

  it("creates from YAML when nothing exists", () => {
    const result = ok(applyPatch("application/apply-patch+yaml", undefined, yaml, ctx()));
    const { managedFields, ...metadata } = result.object.metadata ?? {};
    expect({ ...result.object, metadata }).toEqual(deploymentConfig());
    expect((managedFields as JsonObject[]).map((m) => [m.manager, m.operation])).toEqual([
      ["kubectl", "Apply"],
    ]);
  });

  it("needs a fieldManager (upstream's 422)", () => {
    const error = failed(
      applyPatch("application/apply-patch+yaml", undefined, yaml, ctx({ fieldManager: undefined })),
    );
    expect(error.code).toBe(422);
    expect(error.message).toBe(
      'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
    );
  });

  it("rejects a field manager over 128 bytes", () => {
    const error = failed(
      applyPatch("application/apply-patch+yaml", undefined, yaml, ctx({ fieldManager: "m".repeat(129) })),
    );
    expect(error.message).toBe(
      'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Too long: may not be more than 128 bytes',
    );
  });

  it("conflicts are 409 and force resolves them", () => {
    const created = ok(applyPatch("application/apply-patch+yaml", undefined, yaml, ctx())).object;
    const changed = yaml.replace("replicas: 2", "replicas: 4");
    const conflict = failed(
      applyPatch("application/apply-patch+yaml", created, changed, ctx({ fieldManager: "ci" })),
    );
    expect(conflict.code).toBe(409);
    expect(conflict.toStatus().details?.causes?.[0]).toEqual({
      reason: "FieldManagerConflict",
      message: 'conflict with "kubectl"',
      field: ".spec.replicas",
    });
    const forced = ok(
      applyPatch("application/apply-patch+yaml", created, changed, ctx({ fieldManager: "ci", force: true })),
    );
    expect((forced.object.spec as JsonObject).replicas).toBe(4);
  });

  it("works without a schema (generic rules)", () => {
    const result = ok(
      applyPatch(
        "application/apply-patch+yaml",
        liveConfigMap() as KubeObject,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {mode: slow}\n",
        { schema: NO_SCHEMA, gvk: GVKS.ConfigMap, now: NOW, fieldManager: "ci", force: true },
      ),
    );
    expect((result.object as JsonObject).data).toEqual({ "app.properties": "color=blue\n", mode: "slow" });
  });

  it("returns PatchError instances that carry a Status", () => {
    const error = failed(
      applyPatch("application/apply-patch+yaml", undefined, "kind: Pod\napiVersion: v1\n", ctx()),
    );
    expect(error).toBeInstanceOf(PatchError);
    expect(error.toStatus()).toEqual({
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: "invalid object type: /v1, Kind=Pod",
      reason: "BadRequest",
      code: 400,
    });
  });
});
