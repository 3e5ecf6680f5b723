import { describe, expect, it } from "vitest";
import type { JsonObject } from "../../../src/controlplane/apiserver/patch/json-value.ts";
import {
  decodeManagedFields,
  encodeManagedFields,
  managerFromRequest,
  recordUpdate,
  type UpdateOwnershipOptions,
} from "../../../src/controlplane/apiserver/patch/managed-fields.ts";
import { LATER, liveConfigMap, livePod, NOW, schemaFor } from "./fixtures.ts";

const opts = (manager: string, extra: Partial<UpdateOwnershipOptions> = {}): UpdateOwnershipOptions => ({
  schema: schemaFor("Pod"),
  manager,
  apiVersion: "v1",
  now: NOW,
  ...extra,
});
const meta = (o: JsonObject) => o.metadata as JsonObject;
const managed = (o: JsonObject) => (meta(o).managedFields ?? []) as JsonObject[];
const fieldsOf = (o: JsonObject, manager: string) => managed(o).find((m) => m.manager === manager)?.fieldsV1;

describe("recordUpdate on create", () => {
  it("the creator owns every field it set (system metadata and status excluded)", () => {
    const created = recordUpdate(undefined, liveConfigMap(), opts("kubectl-create"));
    expect(managed(created)).toEqual([
      {
        manager: "kubectl-create",
        operation: "Update",
        apiVersion: "v1",
        time: "2025-06-01T12:00:00Z",
        fieldsType: "FieldsV1",
        fieldsV1: { "f:data": { ".": {}, "f:app.properties": {}, "f:mode": {} } },
      },
    ]);
  });

  it("list elements and maps that appear are owned with '.', always-present structs and required lists are not", () => {
    const created = recordUpdate(undefined, livePod(), opts("creator", { resetFields: [["status"]] }));
    const fields = fieldsOf(created, "creator") as JsonObject;
    const specFields = fields["f:spec"] as JsonObject;
    expect(Object.keys(fields).sort()).toEqual(["f:metadata", "f:spec"]);
    expect(Object.hasOwn(specFields, ".")).toBe(false);
    expect(Object.hasOwn(specFields["f:containers"] as JsonObject, ".")).toBe(false);
    expect(specFields["f:volumes"]).toEqual({
      ".": {},
      'k:{"name":"data"}': { ".": {}, "f:emptyDir": {}, "f:name": {} },
    });
    expect(specFields["f:tolerations"]).toEqual({});
    expect((fields["f:metadata"] as JsonObject)["f:finalizers"]).toEqual({
      ".": {},
      'v:"example.com/a"': {},
      'v:"example.com/b"': {},
    });
  });
});

describe("recordUpdate on update", () => {
  const created = () => recordUpdate(undefined, livePod(), opts("creator", { resetFields: [["status"]] }));

  it("a label change moves that field to the updater and keeps the creator's other fields", () => {
    const live = created();
    const next = structuredClone(live);
    (meta(next).labels as JsonObject).app = "api";
    const updated = recordUpdate(live, next, opts("kubectl-label", { now: LATER }));
    expect(managed(updated).map((m) => [m.manager, m.time])).toEqual([
      ["creator", "2025-06-01T12:00:00Z"],
      ["kubectl-label", "2025-06-01T12:05:00Z"],
    ]);
    expect(fieldsOf(updated, "kubectl-label")).toEqual({ "f:metadata": { "f:labels": { "f:app": {} } } });
    expect(JSON.stringify(fieldsOf(updated, "creator"))).not.toContain("f:app");
    expect(JSON.stringify(fieldsOf(updated, "creator"))).toContain("f:tier");
  });

  it("a removed field is owned by nobody afterwards", () => {
    const live = created();
    const next = structuredClone(live);
    delete (meta(next).labels as JsonObject).tier;
    const updated = recordUpdate(live, next, opts("kubectl-label", { now: LATER }));
    expect(JSON.stringify(managed(updated))).not.toContain("f:tier");
    expect(managed(updated).map((m) => m.manager)).toEqual(["creator"]);
  });

  it("an update that changes nothing leaves managedFields alone", () => {
    const live = created();
    expect(recordUpdate(live, structuredClone(live), opts("other", { now: LATER }))).toEqual(live);
  });

  it("a client that drops managedFields does not erase them", () => {
    const live = created();
    const next = structuredClone(live);
    delete meta(next).managedFields;
    expect(managed(recordUpdate(live, next, opts("other")))).toEqual(managed(live));
  });

  it("an explicit empty list resets them", () => {
    const live = created();
    const next = structuredClone(live);
    meta(next).managedFields = [];
    expect(meta(recordUpdate(live, next, opts("other"))).managedFields).toBeUndefined();
  });

  it("a subresource request keeps the live ones and records its subresource", () => {
    const live = created();
    const next = structuredClone(live);
    meta(next).managedFields = [];
    (next.status as JsonObject).phase = "Succeeded";
    const updated = recordUpdate(
      live,
      next,
      opts("kubelet", { subresource: "status", resetFields: [["spec"], ["metadata"]] }),
    );
    expect(managed(updated).map((m) => [m.manager, m.subresource])).toEqual([
      ["creator", undefined],
      ["kubelet", "status"],
    ]);
    expect(fieldsOf(updated, "kubelet")).toEqual({ "f:status": { "f:phase": {} } });
  });
});

describe("managedFields encoding", () => {
  it("round-trips and sorts Apply before Update, then by time", () => {
    const entries = [
      {
        manager: "b",
        operation: "Update",
        apiVersion: "v1",
        time: "2025-01-02T00:00:00Z",
        fieldsType: "FieldsV1",
        fieldsV1: { "f:data": {} },
      },
      {
        manager: "a",
        operation: "Update",
        apiVersion: "v1",
        time: "2025-01-01T00:00:00Z",
        fieldsType: "FieldsV1",
        fieldsV1: { "f:x": {} },
      },
      {
        manager: "z",
        operation: "Apply",
        apiVersion: "v1",
        time: "2025-01-03T00:00:00Z",
        fieldsType: "FieldsV1",
        fieldsV1: { "f:y": {} },
      },
    ];
    const decoded = decodeManagedFields(entries);
    expect(decoded?.size).toBe(3);
    expect(encodeManagedFields(decoded as NonNullable<typeof decoded>).map((e) => e.manager)).toEqual([
      "z",
      "a",
      "b",
    ]);
  });

  it("rejects what is not managedFields", () => {
    expect(decodeManagedFields("x")).toBeUndefined();
    expect(decodeManagedFields([{ manager: "m", operation: "Delete" }])).toBeUndefined();
    expect(
      decodeManagedFields([{ manager: "m", operation: "Update", fieldsType: "FieldsV2" }]),
    ).toBeUndefined();
  });
});

describe("managerFromRequest", () => {
  it.each([
    ["kubectl-edit", "kubectl/v1.32.0 (linux/amd64) kubernetes/abc", "kubectl-edit"],
    [undefined, "kubectl/v1.32.0 (linux/amd64) kubernetes/abc", "kubectl"],
    [undefined, "deckhand-agent/0.1.0", "deckhand-agent"],
    [undefined, undefined, ""],
    [undefined, `${"x".repeat(200)}/1`, "x".repeat(128)],
  ])("fieldManager %s, user agent %s → %s", (fieldManager, userAgent, expected) => {
    expect(managerFromRequest(fieldManager, userAgent)).toBe(expected);
  });
});
