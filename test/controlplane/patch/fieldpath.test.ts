import { describe, expect, it } from "vitest";
import {
  comparePathElements,
  FieldSet,
  keyElement,
  type PathElement,
  parsePathElement,
  pathString,
  serializePathElement,
} from "../../../src/controlplane/apiserver/patch/fieldpath.ts";

const f = (field: string): PathElement => ({ field });

describe("path elements", () => {
  const cases: [PathElement, string, string][] = [
    [f("spec"), "f:spec", ".spec"],
    [keyElement([["name", "web"]]), 'k:{"name":"web"}', '[name="web"]'],
    [
      keyElement([
        ["protocol", "TCP"],
        ["containerPort", 80],
      ]),
      'k:{"containerPort":80,"protocol":"TCP"}',
      '[containerPort=80,protocol="TCP"]',
    ],
    [{ value: "example.com/a" }, 'v:"example.com/a"', '[="example.com/a"]'],
    [{ value: 3 }, "v:3", "[=3]"],
    [{ index: 2 }, "i:2", "[2]"],
  ];
  it.each(cases)("%j serializes to %s and reads as %s", (pe, serialized, human) => {
    expect(serializePathElement(pe)).toBe(serialized);
    expect(parsePathElement(serialized)).toEqual(pe);
    expect(pathString([pe])).toBe(human);
  });

  it("orders fields, then keys, then values, then indices (upstream's Compare)", () => {
    const elements: PathElement[] = [
      { index: 0 },
      { value: "b" },
      { value: 1 },
      keyElement([["name", "a"]]),
      f("z"),
      f("a"),
    ];
    expect(elements.sort(comparePathElements).map(serializePathElement)).toEqual([
      "f:a",
      "f:z",
      'k:{"name":"a"}',
      "v:1",
      'v:"b"',
      "i:0",
    ]);
  });

  it("unknown element kinds are ignored, as upstream", () => {
    expect(parsePathElement("x:whatever")).toBeUndefined();
  });

  it("prints a whole path like upstream's conflict messages", () => {
    expect(
      pathString([
        f("spec"),
        f("template"),
        f("spec"),
        f("containers"),
        keyElement([["name", "web"]]),
        f("image"),
      ]),
    ).toBe('.spec.template.spec.containers[name="web"].image');
  });
});

describe("FieldSet", () => {
  const web = keyElement([["name", "web"]]);
  const set = FieldSet.of([
    [f("metadata"), f("labels"), f("app")],
    [f("spec"), f("containers"), web],
    [f("spec"), f("containers"), web, f("image")],
    [f("spec"), f("replicas")],
  ]);

  it("serializes to FieldsV1 with '.' for nodes that are members", () => {
    expect(set.toFieldsV1()).toEqual({
      "f:metadata": { "f:labels": { "f:app": {} } },
      "f:spec": {
        "f:containers": { 'k:{"name":"web"}': { "f:image": {}, ".": {} } },
        "f:replicas": {},
      },
    });
  });

  it("round-trips through FieldsV1", () => {
    const back = FieldSet.fromFieldsV1(set.toFieldsV1());
    expect(back.equals(set)).toBe(true);
    expect(back.has([f("spec"), f("containers"), web])).toBe(true);
    expect(back.has([f("spec"), f("containers")])).toBe(false);
  });

  it("set algebra", () => {
    const other = FieldSet.of([
      [f("spec"), f("replicas")],
      [f("spec"), f("paused")],
    ]);
    expect(set.intersection(other).paths().map(pathString)).toEqual([".spec.replicas"]);
    expect(set.difference(other).paths().map(pathString)).toEqual([
      ".metadata.labels.app",
      '.spec.containers[name="web"]',
      '.spec.containers[name="web"].image',
    ]);
    expect(set.union(other).paths()).toHaveLength(5);
    expect(
      set
        .withoutSubtrees([[f("spec")]])
        .paths()
        .map(pathString),
    ).toEqual([".metadata.labels.app"]);
  });

  it("rejects malformed FieldsV1", () => {
    expect(() => FieldSet.fromFieldsV1(["f:a"])).toThrow();
    expect(() => FieldSet.fromFieldsV1({ "f:a": 1 })).toThrow();
  });
});
