import { describe, expect, it } from "vitest";
import { PatchError } from "../../../src/controlplane/apiserver/patch/errors.ts";
import {
  applyJsonPatch,
  decodeJsonPatch,
  MAX_JSON_PATCH_OPERATIONS,
} from "../../../src/controlplane/apiserver/patch/json-patch.ts";
import {
  formatJsonPointer,
  parseJsonPointer,
} from "../../../src/controlplane/apiserver/patch/json-pointer.ts";
import type { JsonObject, JsonValue } from "../../../src/controlplane/apiserver/patch/json-value.ts";
import { livePod } from "./fixtures.ts";

function patch(doc: JsonValue, ops: JsonValue): JsonValue {
  return applyJsonPatch(doc, decodeJsonPatch(JSON.stringify(ops)));
}

function failure(doc: JsonValue, ops: JsonValue): PatchError {
  try {
    patch(doc, ops);
  } catch (error) {
    if (error instanceof PatchError) return error;
    throw error;
  }
  throw new Error("expected the patch to fail");
}

describe("RFC 6901 pointers", () => {
  it.each([
    ["", []],
    ["/", [""]],
    ["/foo", ["foo"]],
    ["/foo/0", ["foo", "0"]],
    ["/a~1b", ["a/b"]],
    ["/m~0n", ["m~n"]],
    ["/~01", ["~1"]],
    [
      "/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration",
      ["metadata", "annotations", "kubectl.kubernetes.io/last-applied-configuration"],
    ],
  ])("%j parses to %j and formats back", (pointer, tokens) => {
    expect(parseJsonPointer(pointer)).toEqual(tokens);
    expect(formatJsonPointer(tokens)).toBe(pointer);
  });

  it("rejects a pointer without a leading slash", () => {
    expect(parseJsonPointer("a/b")).toBeUndefined();
  });
});

describe("RFC 6902 appendix A examples", () => {
  const cases: [string, JsonValue, JsonValue, JsonValue][] = [
    [
      "A.1 add an object member",
      { foo: "bar" },
      [{ op: "add", path: "/baz", value: "qux" }],
      { baz: "qux", foo: "bar" },
    ],
    [
      "A.2 add an array element",
      { foo: ["bar", "baz"] },
      [{ op: "add", path: "/foo/1", value: "qux" }],
      { foo: ["bar", "qux", "baz"] },
    ],
    [
      "A.3 remove an object member",
      { baz: "qux", foo: "bar" },
      [{ op: "remove", path: "/baz" }],
      { foo: "bar" },
    ],
    [
      "A.4 remove an array element",
      { foo: ["bar", "qux", "baz"] },
      [{ op: "remove", path: "/foo/1" }],
      { foo: ["bar", "baz"] },
    ],
    [
      "A.5 replace a value",
      { baz: "qux", foo: "bar" },
      [{ op: "replace", path: "/baz", value: "boo" }],
      { baz: "boo", foo: "bar" },
    ],
    [
      "A.6 move a value",
      { foo: { bar: "baz", waldo: "fred" }, qux: { corge: "grault" } },
      [{ op: "move", from: "/foo/waldo", path: "/qux/thud" }],
      { foo: { bar: "baz" }, qux: { corge: "grault", thud: "fred" } },
    ],
    [
      "A.7 move an array element",
      { foo: ["all", "grass", "cows", "eat"] },
      [{ op: "move", from: "/foo/1", path: "/foo/3" }],
      { foo: ["all", "cows", "eat", "grass"] },
    ],
    [
      "A.8 test a value (success)",
      { baz: "qux", foo: ["a", 2, "c"] },
      [
        { op: "test", path: "/baz", value: "qux" },
        { op: "test", path: "/foo/1", value: 2 },
      ],
      { baz: "qux", foo: ["a", 2, "c"] },
    ],
    [
      "A.10 add a nested member object",
      { foo: "bar" },
      [{ op: "add", path: "/child", value: { grandchild: {} } }],
      { foo: "bar", child: { grandchild: {} } },
    ],
    [
      "A.11 ignore unrecognized elements",
      { foo: "bar" },
      [{ op: "add", path: "/baz", value: "qux", xyz: 123 }],
      { foo: "bar", baz: "qux" },
    ],
    [
      "A.14 ~ escape ordering",
      { "/": 9, "~1": 10 },
      [{ op: "test", path: "/~01", value: 10 }],
      { "/": 9, "~1": 10 },
    ],
    [
      "A.16 add an array value",
      { foo: ["bar"] },
      [{ op: "add", path: "/foo/-", value: ["abc", "def"] }],
      { foo: ["bar", ["abc", "def"]] },
    ],
  ];
  it.each(cases)("%s", (_name, doc, ops, expected) => {
    expect(patch(doc, ops)).toEqual(expected);
  });

  it("A.9 test a value (error)", () => {
    expect(
      failure({ baz: "qux" }, [{ op: "test", path: "/baz", value: "bar" }]).details?.causes?.[0]?.message,
    ).toBe("testing value /baz failed: test failed");
  });

  it("A.12 adding to a nonexistent target", () => {
    expect(
      failure({ foo: "bar" }, [{ op: "add", path: "/baz/bat", value: "qux" }]).details?.causes?.[0]?.message,
    ).toBe('add operation does not apply: doc is missing path: "/baz/bat": missing value');
  });

  it("A.15 comparing strings and numbers", () => {
    expect(failure({ "/": 9, "~1": 10 }, [{ op: "test", path: "/~01", value: "10" }]).code).toBe(422);
  });
});

describe("operations on a Pod", () => {
  const cases: [string, JsonValue, (pod: JsonObject) => void][] = [
    [
      "add a label with an escaped key",
      [{ op: "add", path: "/metadata/labels/example.com~1role", value: "db" }],
      (p) => {
        (p.metadata as JsonObject).labels = {
          ...((p.metadata as JsonObject).labels as JsonObject),
          "example.com/role": "db",
        };
      },
    ],
    [
      "append a finalizer with -",
      [{ op: "add", path: "/metadata/finalizers/-", value: "example.com/c" }],
      (p) => {
        ((p.metadata as JsonObject).finalizers as string[]).push("example.com/c");
      },
    ],
    [
      "insert a container at index 0",
      [{ op: "add", path: "/spec/containers/0", value: { name: "init", image: "busybox" } }],
      (p) => {
        ((p.spec as JsonObject).containers as JsonValue[]).unshift({ name: "init", image: "busybox" });
      },
    ],
    [
      "replace an image after testing the resourceVersion",
      [
        { op: "test", path: "/metadata/resourceVersion", value: "42" },
        { op: "replace", path: "/spec/containers/1/image", value: "busybox:1.36" },
      ],
      (p) => {
        (((p.spec as JsonObject).containers as JsonValue[])[1] as JsonObject).image = "busybox:1.36";
      },
    ],
    [
      "remove a label",
      [{ op: "remove", path: "/metadata/labels/tier" }],
      (p) => {
        delete ((p.metadata as JsonObject).labels as JsonObject).tier;
      },
    ],
    [
      "copy an env var into the sidecar",
      [{ op: "copy", from: "/spec/containers/0/env", path: "/spec/containers/1/env" }],
      (p) => {
        const containers = (p.spec as JsonObject).containers as JsonObject[];
        (containers[1] as JsonObject).env = structuredClone((containers[0] as JsonObject).env as JsonValue);
      },
    ],
    [
      "move an annotation to a label",
      [{ op: "move", from: "/metadata/annotations/example.com~1owner", path: "/metadata/labels/owner" }],
      (p) => {
        const m = p.metadata as JsonObject;
        delete (m.annotations as JsonObject)["example.com/owner"];
        (m.labels as JsonObject).owner = "team-a";
      },
    ],
    [
      "remove the last finalizer with a negative index (as upstream)",
      [{ op: "remove", path: "/metadata/finalizers/-1" }],
      (p) => {
        ((p.metadata as JsonObject).finalizers as string[]).pop();
      },
    ],
    [
      "replace of a missing member adds it (as upstream)",
      [{ op: "replace", path: "/spec/serviceAccountName", value: "builder" }],
      (p) => {
        (p.spec as JsonObject).serviceAccountName = "builder";
      },
    ],
    [
      "add without a value adds null (as upstream)",
      [{ op: "add", path: "/metadata/labels/x" }],
      (p) => {
        ((p.metadata as JsonObject).labels as JsonObject).x = null;
      },
    ],
  ];
  it.each(cases)("%s", (_name, ops, edit) => {
    const live = livePod();
    const expected = livePod();
    edit(expected);
    expect(patch(live, ops)).toEqual(expected);
    expect(live).toEqual(livePod());
  });

  it("a null patch changes nothing", () => {
    expect(applyJsonPatch(livePod(), decodeJsonPatch("null"))).toEqual(livePod());
  });

  it('replacing the whole document with path ""', () => {
    expect(patch(livePod(), [{ op: "replace", path: "", value: { kind: "Pod" } }])).toEqual({ kind: "Pod" });
  });
});

describe("failures: 422, upstream's messages, nothing applied", () => {
  const cases: [JsonValue, string][] = [
    [
      [{ op: "test", path: "/metadata/name", value: "other" }],
      "testing value /metadata/name failed: test failed",
    ],
    [
      [{ op: "test", path: "/metadata/nope", value: "x" }],
      "testing value /metadata/nope failed: test failed",
    ],
    [
      [{ op: "test", path: "/metadata/nope/x", value: "x" }],
      "test operation does not apply: is missing path: /metadata/nope/x: missing value",
    ],
    [
      [{ op: "test", path: "/metadata/finalizers/5", value: "x" }],
      "error in test for path: '/metadata/finalizers/5': Unable to access invalid index: 5: invalid index referenced",
    ],
    [
      [{ op: "remove", path: "/metadata/nope" }],
      "error in remove for path: '/metadata/nope': Unable to remove nonexistent key: nope: missing value",
    ],
    [
      [{ op: "remove", path: "/spec/containers/5" }],
      "error in remove for path: '/spec/containers/5': Unable to access invalid index: 5: invalid index referenced",
    ],
    [[{ op: "remove", path: "" }], 'remove operation does not apply: doc is missing path: "": missing value'],
    [
      [{ op: "add", path: "/metadata/nope/x", value: 1 }],
      'add operation does not apply: doc is missing path: "/metadata/nope/x": missing value',
    ],
    [
      [{ op: "add", path: "", value: {} }],
      'add operation does not apply: doc is missing path: "": missing value',
    ],
    [
      [{ op: "add", path: "/metadata/finalizers/9", value: "x" }],
      "error in add for path: '/metadata/finalizers/9': Unable to access invalid index: 9: invalid index referenced",
    ],
    [
      [{ op: "add", path: "/metadata/finalizers/x", value: "x" }],
      "error in add for path: '/metadata/finalizers/x': value was not a proper array index: 'x': strconv.Atoi: parsing \"x\": invalid syntax",
    ],
    [
      [{ op: "replace", path: "/metadata/finalizers/7", value: "x" }],
      "replace operation does not apply: doc is missing key: /metadata/finalizers/7: missing value",
    ],
    [
      [{ op: "replace", path: "/metadata/nope/x", value: "x" }],
      "replace operation does not apply: doc is missing path: /metadata/nope/x: missing value",
    ],
    [
      [{ op: "move", from: "/metadata/labels", path: "/metadata/labels/x" }],
      "move operation does not apply: doc is missing destination path: /metadata/labels/x: missing value",
    ],
    [
      [{ op: "move", from: "/metadata/nope/x", path: "/a" }],
      "move operation does not apply: doc is missing from path: /metadata/nope/x: missing value",
    ],
    [
      [{ op: "copy", from: "/metadata/nope", path: "/a" }],
      "copy operation does not apply: doc is missing from path: /metadata/nope: missing value",
    ],
    [
      [{ op: "copy", from: "/metadata/name", path: "/x/y" }],
      "copy operation does not apply: doc is missing destination path: /x/y: missing value",
    ],
    [[{ op: "bogus", path: "/a" }], "Unexpected kind: bogus"],
    [[{ path: "/a" }], "Unexpected kind: unknown"],
    [[{ op: "add", value: 1 }], "add operation failed to decode path: missing value"],
    [
      [{ op: "replace", value: 1 }],
      "replace operation failed to decode path: operation missing path field: missing value",
    ],
    [
      [{ op: "move", path: "/a" }],
      "move operation failed to decode from: operation, missing from field: missing value",
    ],
    [
      [{ op: "replace", path: 5, value: 1 }],
      "replace operation failed to decode path: json: cannot unmarshal number into Go value of type string",
    ],
    [
      [{ op: "add", path: "metadata/name", value: "x" }],
      'add operation does not apply: path "metadata/name" is not a JSON pointer (it must be empty or start with "/")',
    ],
  ];
  it.each(cases)("%j → %s", (ops, explanation) => {
    const live = livePod();
    const error = failure(live, ops);
    expect(error.code).toBe(422);
    expect(error.reason).toBe("Invalid");
    expect(error.message).toBe("the server rejected our request due to an error in our request");
    expect(error.details?.causes).toEqual([{ message: explanation }]);
    expect(live).toEqual(livePod());
  });

  it("a later failure undoes earlier operations", () => {
    const live = livePod();
    failure(live, [
      { op: "replace", path: "/metadata/labels/app", value: "changed" },
      { op: "test", path: "/metadata/resourceVersion", value: "41" },
    ]);
    expect(live).toEqual(livePod());
  });

  it("toStatus gives a Kubernetes Status", () => {
    expect(failure(livePod(), [{ op: "test", path: "/kind", value: "Node" }]).toStatus()).toEqual({
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: "the server rejected our request due to an error in our request",
      reason: "Invalid",
      details: { causes: [{ message: "testing value /kind failed: test failed" }] },
      code: 422,
    });
  });
});

describe("decoding", () => {
  const cases: [string, number, string][] = [
    ['{"op":"add"}', 400, "json: cannot unmarshal object into Go value of type jsonpatch.Patch"],
    ['["x"]', 400, "json: cannot unmarshal string into Go value of type jsonpatch.Operation"],
    ["[1]", 400, "json: cannot unmarshal number into Go value of type jsonpatch.Operation"],
  ];
  it.each(cases)("%s → %i %s", (body, code, message) => {
    try {
      decodeJsonPatch(body);
      throw new Error("expected a failure");
    } catch (error) {
      expect(error).toBeInstanceOf(PatchError);
      expect((error as PatchError).code).toBe(code);
      expect((error as PatchError).message).toBe(message);
    }
  });

  it("malformed JSON is a 400 BadRequest", () => {
    expect(() => decodeJsonPatch("[{")).toThrow(PatchError);
    try {
      decodeJsonPatch("[{");
    } catch (error) {
      expect((error as PatchError).code).toBe(400);
      expect((error as PatchError).reason).toBe("BadRequest");
    }
  });

  it(`more than ${MAX_JSON_PATCH_OPERATIONS} operations is a 413`, () => {
    const ops = Array.from({ length: MAX_JSON_PATCH_OPERATIONS + 1 }, () => ({
      op: "test",
      path: "/kind",
      value: "Pod",
    }));
    try {
      decodeJsonPatch(JSON.stringify(ops));
      throw new Error("expected a failure");
    } catch (error) {
      expect((error as PatchError).code).toBe(413);
      expect((error as PatchError).message).toBe(
        "Request entity too large: The allowed maximum operations in a JSON patch is 10000, got 10001",
      );
    }
    expect(decodeJsonPatch(JSON.stringify(ops.slice(1)))).toHaveLength(MAX_JSON_PATCH_OPERATIONS);
  });
});
