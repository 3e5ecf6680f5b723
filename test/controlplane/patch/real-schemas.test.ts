// The engines against the schemas the API server actually serves (src/api/schema): the merge keys, list
// types and key defaults the engines rely on must be there.

import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../../src/api/resource.ts";
import { findResource } from "../../../src/api/schema/index.ts";
import {
  applyPatch,
  inlineSchema,
  isPatchError,
  type PatchContext,
  type PatchSchema,
} from "../../../src/controlplane/apiserver/patch/index.ts";
import type { JsonObject } from "../../../src/controlplane/apiserver/patch/json-value.ts";
import { livePod, liveService, NOW } from "./fixtures.ts";

function schemaOf(group: string, version: string, plural: string): PatchSchema {
  const definition = findResource(group, version, plural);
  if (!definition) throw new Error(`no resource definition for ${group}/${version} ${plural}`);
  return inlineSchema(definition.schema);
}

function patched(
  contentType: string,
  live: JsonObject | undefined,
  body: unknown,
  ctx: PatchContext,
): JsonObject {
  const result = applyPatch(contentType, live as KubeObject | undefined, JSON.stringify(body), ctx);
  if (isPatchError(result)) throw new Error(`${result.code} ${result.message}`);
  return result.object as JsonObject;
}

const podCtx = (): PatchContext => ({
  schema: schemaOf("", "v1", "pods"),
  gvk: { group: "", version: "v1", kind: "Pod" },
  now: NOW,
  fieldManager: "kubectl",
});

describe("pods", () => {
  it("strategic merge patch merges containers by name and finalizers as a set", () => {
    const out = patched(
      "application/strategic-merge-patch+json",
      livePod(),
      {
        metadata: { finalizers: ["example.com/z"] },
        spec: {
          "$setElementOrder/containers": [{ name: "web" }, { name: "sidecar" }],
          containers: [{ image: "nginx:1.27", name: "web" }],
        },
      },
      { ...podCtx(), fieldManager: "kubectl-client-side-apply" },
    );
    const containers = (out.spec as JsonObject).containers as JsonObject[];
    expect(containers.map((c) => [c.name, c.image])).toEqual([
      ["web", "nginx:1.27"],
      ["sidecar", "busybox:1.35"],
    ]);
    expect((containers[0] as JsonObject).env).toEqual([
      { name: "A", value: "1" },
      { name: "B", value: "2" },
    ]);
    // Upstream puts elements only the patch has first.
    expect((out.metadata as JsonObject).finalizers).toEqual([
      "example.com/z",
      "example.com/a",
      "example.com/b",
    ]);
  });

  it("apply keys container ports by containerPort and the defaulted protocol", () => {
    const out = patched(
      "application/apply-patch+yaml",
      undefined,
      {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "p" },
        spec: { containers: [{ name: "c", image: "i", ports: [{ containerPort: 80 }] }] },
      },
      podCtx(),
    );
    const managed = (out.metadata as JsonObject).managedFields as JsonObject[];
    expect(managed[0]?.fieldsV1).toEqual({
      "f:spec": {
        "f:containers": {
          'k:{"name":"c"}': {
            ".": {},
            "f:image": {},
            "f:name": {},
            "f:ports": { 'k:{"containerPort":80,"protocol":"TCP"}': { ".": {}, "f:containerPort": {} } },
          },
        },
      },
    });
  });
});

describe("services", () => {
  it("apply merges ports by port and protocol", () => {
    const out = patched(
      "application/apply-patch+yaml",
      liveService(),
      {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "web" },
        spec: { ports: [{ port: 53, protocol: "UDP", targetPort: 5300 }] },
      },
      {
        schema: schemaOf("", "v1", "services"),
        gvk: { group: "", version: "v1", kind: "Service" },
        now: NOW,
        fieldManager: "ci",
        force: true,
      },
    );
    expect(
      ((out.spec as JsonObject).ports as JsonObject[]).map((p) => [p.port, p.protocol, p.targetPort]),
    ).toEqual([
      [80, "TCP", 8080],
      [53, "UDP", 5300],
    ]);
  });
});
