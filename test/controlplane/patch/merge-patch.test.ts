import { describe, expect, it } from "vitest";
import { PatchError } from "../../../src/controlplane/apiserver/patch/errors.ts";
import type { JsonObject, JsonValue } from "../../../src/controlplane/apiserver/patch/json-value.ts";
import { applyMergePatch, decodeMergePatch } from "../../../src/controlplane/apiserver/patch/merge-patch.ts";
import { liveConfigMap, livePod } from "./fixtures.ts";

describe("RFC 7386 appendix A", () => {
  const cases: [JsonValue, JsonValue, JsonValue][] = [
    [{ a: "b" }, { a: "c" }, { a: "c" }],
    [{ a: "b" }, { b: "c" }, { a: "b", b: "c" }],
    [{ a: "b" }, { a: null }, {}],
    [{ a: "b", b: "c" }, { a: null }, { b: "c" }],
    [{ a: ["b"] }, { a: "c" }, { a: "c" }],
    [{ a: "c" }, { a: ["b"] }, { a: ["b"] }],
    [{ a: { b: "c" } }, { a: { b: "d", c: null } }, { a: { b: "d" } }],
    [{ a: [{ b: "c" }] }, { a: [1] }, { a: [1] }],
    [
      ["a", "b"],
      ["c", "d"],
      ["c", "d"],
    ],
    [{ a: "b" }, ["c"], ["c"]],
    [{ a: "foo" }, null, null],
    [{ a: "foo" }, "bar", "bar"],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: "b", c: null }, { a: "b" }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];
  it.each(cases)("%j + %j = %j", (target, patch, expected) => {
    expect(applyMergePatch(target, patch)).toEqual(expected);
  });
});

describe("on Kubernetes objects", () => {
  it("scales by patching spec.replicas (what kubectl scale sends to /scale)", () => {
    const scale = {
      apiVersion: "autoscaling/v1",
      kind: "Scale",
      metadata: { name: "web" },
      spec: { replicas: 1 },
    };
    expect(applyMergePatch(scale, { spec: { replicas: 3 } })).toEqual({ ...scale, spec: { replicas: 3 } });
  });

  it("removes a label with null and leaves the rest of the Pod alone", () => {
    const live = livePod();
    const out = applyMergePatch(live, { metadata: { labels: { tier: null } } }) as JsonObject;
    const expected = livePod();
    delete ((expected.metadata as JsonObject).labels as JsonObject).tier;
    expect(out).toEqual(expected);
    expect(live).toEqual(livePod());
  });

  it("replaces lists wholesale (containers are not merged by name)", () => {
    const out = applyMergePatch(livePod(), {
      spec: { containers: [{ name: "only", image: "x" }] },
    }) as JsonObject;
    expect((out.spec as JsonObject).containers).toEqual([{ name: "only", image: "x" }]);
  });

  it("drops nulls inside inserted values", () => {
    const out = applyMergePatch(liveConfigMap(), { binaryData: { a: null, b: "Zm9v" } }) as JsonObject;
    expect(out.binaryData).toEqual({ b: "Zm9v" });
  });
});

describe("decoding", () => {
  it("a null patch is upstream's 400 Invalid JSON Patch", () => {
    try {
      decodeMergePatch("null");
      throw new Error("expected a failure");
    } catch (error) {
      expect(error).toBeInstanceOf(PatchError);
      expect((error as PatchError).code).toBe(400);
      expect((error as PatchError).message).toBe("Invalid JSON Patch");
    }
  });

  it("malformed JSON is a 400 naming the parse error", () => {
    try {
      decodeMergePatch("{");
      throw new Error("expected a failure");
    } catch (error) {
      expect((error as PatchError).code).toBe(400);
      expect((error as PatchError).message).toMatch(/^error decoding patch: /);
    }
  });
});
