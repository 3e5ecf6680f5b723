// Field paths and field sets in upstream's server-side-apply vocabulary (sigs.k8s.io/structured-merge-diff
// fieldpath): a path element selects a struct or map member (`f:name`), a list element by its key fields
// (`k:{"name":"web"}`), a set element by value (`v:"finalizer"`) or an atomic list element by index (`i:0`).
// A FieldSet is a tree of such elements whose members are the owned fields; it serializes to the FieldsV1
// JSON stored in `metadata.managedFields`, with upstream's element order and `.` marking a node that is
// itself owned.

import { compareStrings, isJsonObject, type JsonObject, type JsonValue } from "./json-value.ts";

export type PathElement =
  | { readonly field: string }
  | { readonly key: ReadonlyArray<readonly [string, JsonValue]> }
  | { readonly value: JsonValue }
  | { readonly index: number };

export type FieldPath = readonly PathElement[];

/** A key path element from a list element's key fields (sorted by name, as upstream). */
export function keyElement(fields: Iterable<readonly [string, JsonValue]>): PathElement {
  return { key: [...fields].sort((a, b) => compareStrings(a[0], b[0])) };
}

/** Serialized forms, per element object (paths share their elements, so each is serialized once). */
const serialized = new WeakMap<PathElement, string>();

/** `f:name` per field name: field elements are made afresh on every walk, their names repeat. */
const fieldKeys = new Map<string, string>();

/** The FieldsV1 form of an element: `f:name`, `k:{"name":"x"}`, `v:"x"`, `i:0`. */
export function serializePathElement(pe: PathElement): string {
  if ("field" in pe) {
    let key = fieldKeys.get(pe.field);
    if (key === undefined) {
      key = `f:${pe.field}`;
      // Bounded: field names come from schemas and objects; free-form map keys could be many.
      if (fieldKeys.size < 10_000) fieldKeys.set(pe.field, key);
    }
    return key;
  }
  let text = serialized.get(pe);
  if (text === undefined) {
    if ("key" in pe) {
      const fields = pe.key.map(([name, value]) => `${JSON.stringify(name)}:${JSON.stringify(value)}`);
      text = `k:{${fields.join(",")}}`;
    } else if ("value" in pe) {
      text = `v:${JSON.stringify(pe.value)}`;
    } else {
      text = `i:${pe.index}`;
    }
    serialized.set(pe, text);
  }
  return text;
}

/** Parses a FieldsV1 key; undefined for element types this version does not know (upstream ignores them). */
export function parsePathElement(text: string): PathElement | undefined {
  const colon = text.indexOf(":");
  if (colon < 0) return undefined;
  const kind = text.slice(0, colon);
  const rest = text.slice(colon + 1);
  switch (kind) {
    case "f":
      return { field: rest };
    case "k": {
      const parsed: unknown = JSON.parse(rest);
      if (!isJsonObject(parsed)) throw new Error(`key path element ${text} is not a JSON object`);
      return keyElement(Object.entries(parsed));
    }
    case "v":
      return { value: JSON.parse(rest) as JsonValue };
    case "i": {
      const index = Number(rest);
      if (!Number.isInteger(index)) throw new Error(`index path element ${text} is not an integer`);
      return { index };
    }
    default:
      return undefined;
  }
}

/** Upstream's human form, used in conflict messages: `.spec`, `[name="web"]`, `[="x"]`, `[0]`. */
export function pathElementString(pe: PathElement): string {
  if ("field" in pe) return `.${pe.field}`;
  if ("key" in pe) return `[${pe.key.map(([name, value]) => `${name}=${valueString(value)}`).join(",")}]`;
  if ("value" in pe) return `[=${valueString(pe.value)}]`;
  return `[${pe.index}]`;
}

export function pathString(path: FieldPath): string {
  return path.map(pathElementString).join("");
}

function valueString(value: JsonValue): string {
  if (value === null) return "null";
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(valueString).join(",")}]`;
  if (typeof value === "object") {
    return `{${Object.keys(value)
      .sort(compareStrings)
      .map((k) => `${JSON.stringify(k)}:${valueString(value[k] as JsonValue)}`)
      .join(",")}}`;
  }
  return String(value);
}

/** Upstream's total order on path elements: fields, then keys, then values, then indices. */
export function comparePathElements(a: PathElement, b: PathElement): number {
  const rank = (pe: PathElement) => ("field" in pe ? 0 : "key" in pe ? 1 : "value" in pe ? 2 : 3);
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  if ("field" in a && "field" in b) return compareStrings(a.field, b.field);
  if ("key" in a && "key" in b) {
    for (let i = 0; ; i++) {
      const left = a.key[i];
      const right = b.key[i];
      if (!left && !right) return 0;
      if (!left) return -1;
      if (!right) return 1;
      const byName = compareStrings(left[0], right[0]);
      if (byName !== 0) return byName;
      const byValue = compareValues(left[1], right[1]);
      if (byValue !== 0) return byValue;
    }
  }
  if ("value" in a && "value" in b) return compareValues(a.value, b.value);
  if ("index" in a && "index" in b) return a.index - b.index;
  return 0;
}

/** Upstream's value order: numbers, strings, booleans, lists, maps, null. */
export function compareValues(a: JsonValue, b: JsonValue): number {
  const rank = (v: JsonValue) =>
    typeof v === "number"
      ? 0
      : typeof v === "string"
        ? 1
        : typeof v === "boolean"
          ? 2
          : Array.isArray(v)
            ? 3
            : v === null
              ? 5
              : 4;
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  if (typeof a === "number" && typeof b === "number") return a - b;
  if (typeof a === "string" && typeof b === "string") return compareStrings(a, b);
  if (typeof a === "boolean" && typeof b === "boolean") return Number(a) - Number(b);
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      if (i >= a.length) return -1;
      if (i >= b.length) return 1;
      const c = compareValues(a[i] as JsonValue, b[i] as JsonValue);
      if (c !== 0) return c;
    }
    return 0;
  }
  if (isJsonObject(a) && isJsonObject(b)) {
    return compareStrings(JSON.stringify(sortKeys(a)), JSON.stringify(sortKeys(b)));
  }
  return 0;
}

function sortKeys(o: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const key of Object.keys(o).sort(compareStrings)) out[key] = o[key] as JsonValue;
  return out;
}

/** A set of field paths, stored as a tree keyed by serialized path elements. */
export class FieldSet {
  /** Owned elements at this level. */
  private readonly members = new Map<string, PathElement>();
  /** Elements with owned descendants. */
  private readonly children = new Map<string, { pe: PathElement; set: FieldSet }>();

  static of(paths: Iterable<FieldPath>): FieldSet {
    const set = new FieldSet();
    for (const path of paths) set.insert(path);
    return set;
  }

  insert(path: FieldPath): void {
    if (path.length === 0) return;
    let node: FieldSet = this;
    for (let i = 0; i < path.length - 1; i++) node = node.descend(path[i] as PathElement);
    const last = path[path.length - 1] as PathElement;
    node.members.set(serializePathElement(last), last);
  }

  /** Whether `path` itself is a member. */
  has(path: FieldPath): boolean {
    if (path.length === 0) return false;
    const parent = this.at(path.slice(0, -1));
    return parent?.members.has(serializePathElement(path[path.length - 1] as PathElement)) ?? false;
  }

  /** The subtree under `path` (its descendants), if any. */
  at(path: FieldPath): FieldSet | undefined {
    let node: FieldSet | undefined = this;
    for (const pe of path) {
      node = node?.children.get(serializePathElement(pe))?.set;
      if (!node) return undefined;
    }
    return node;
  }

  /** Whether the element is a member here. */
  hasMember(pe: PathElement): boolean {
    return this.members.has(serializePathElement(pe));
  }

  /** The subtree under one element. */
  child(pe: PathElement): FieldSet | undefined {
    return this.children.get(serializePathElement(pe))?.set;
  }

  /** Every element at this level (members and parents), in upstream's order. */
  elements(): PathElement[] {
    const all = new Map<string, PathElement>(this.members);
    for (const [key, { pe }] of this.children) all.set(key, pe);
    return [...all.values()].sort(comparePathElements);
  }

  isEmpty(): boolean {
    if (this.members.size > 0) return false;
    for (const { set } of this.children.values()) {
      if (!set.isEmpty()) return false;
    }
    return true;
  }

  /** Every member path, in upstream's order. */
  paths(): FieldPath[] {
    const out: FieldPath[] = [];
    this.collect([], out);
    return out;
  }

  private collect(prefix: PathElement[], out: FieldPath[]): void {
    for (const pe of this.elements()) {
      const key = serializePathElement(pe);
      if (this.members.has(key)) out.push([...prefix, pe]);
      this.children.get(key)?.set.collect([...prefix, pe], out);
    }
  }

  union(other: FieldSet): FieldSet {
    const out = this.clone();
    out.addAll(other);
    return out;
  }

  /** Members of this set that are not members of `other` (subtrees compared element by element). */
  difference(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [key, pe] of this.members) {
      if (!other.members.has(key)) out.members.set(key, pe);
    }
    for (const [key, { pe, set }] of this.children) {
      const otherChild = other.children.get(key)?.set;
      const rest = otherChild ? set.difference(otherChild) : set.clone();
      if (!rest.isEmpty()) out.children.set(key, { pe, set: rest });
    }
    return out;
  }

  intersection(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [key, pe] of this.members) {
      if (other.members.has(key)) out.members.set(key, pe);
    }
    for (const [key, { pe, set }] of this.children) {
      const otherChild = other.children.get(key)?.set;
      if (!otherChild) continue;
      const both = set.intersection(otherChild);
      if (!both.isEmpty()) out.children.set(key, { pe, set: both });
    }
    return out;
  }

  /** This set without the given paths and everything under them. */
  withoutSubtrees(paths: readonly FieldPath[]): FieldSet {
    return this.clone().deleteSubtrees(paths);
  }

  /** Removes the given paths and everything under them from this set, in place; returns it. */
  deleteSubtrees(paths: readonly FieldPath[]): this {
    for (const path of paths) this.removeSubtree(path);
    return this;
  }

  clone(): FieldSet {
    const out = new FieldSet();
    out.addAll(this);
    return out;
  }

  equals(other: FieldSet): boolean {
    return this.difference(other).isEmpty() && other.difference(this).isEmpty();
  }

  /** FieldsV1 JSON: `{"f:spec":{"f:replicas":{}}, …}`, `.` marking a node that is itself a member. */
  toFieldsV1(): JsonObject {
    return this.emit(false);
  }

  private emit(includeSelf: boolean): JsonObject {
    const out: JsonObject = {};
    for (const pe of this.elements()) {
      const key = serializePathElement(pe);
      const child = this.children.get(key)?.set;
      out[key] = child && !child.isEmpty() ? child.emit(this.members.has(key)) : {};
    }
    if (includeSelf && Object.keys(out).length > 0) out["."] = {};
    return out;
  }

  /** Parses FieldsV1 JSON; throws on malformed input (unknown element kinds are skipped, as upstream). */
  static fromFieldsV1(value: JsonValue): FieldSet {
    if (!isJsonObject(value)) throw new Error("fieldsV1 must be a JSON object");
    const set = new FieldSet();
    set.read(value);
    return set;
  }

  private read(value: JsonObject): void {
    for (const [key, sub] of Object.entries(value)) {
      if (key === ".") continue;
      const pe = parsePathElement(key);
      if (!pe) continue;
      if (!isJsonObject(sub)) throw new Error(`fieldsV1 entry ${key} must be a JSON object`);
      const subKeys = Object.keys(sub);
      const isMember = subKeys.length === 0 || subKeys.includes(".");
      if (isMember) this.members.set(key, pe);
      if (subKeys.some((k) => k !== ".")) {
        const child = this.descend(pe);
        child.read(sub);
      }
    }
  }

  private descend(pe: PathElement): FieldSet {
    const key = serializePathElement(pe);
    let entry = this.children.get(key);
    if (!entry) {
      entry = { pe, set: new FieldSet() };
      this.children.set(key, entry);
    }
    return entry.set;
  }

  private addAll(other: FieldSet): void {
    for (const [key, pe] of other.members) this.members.set(key, pe);
    for (const [key, { pe, set }] of other.children) {
      const mine = this.children.get(key);
      if (mine) mine.set.addAll(set);
      else this.children.set(key, { pe, set: set.clone() });
    }
  }

  private removeSubtree(path: FieldPath): void {
    if (path.length === 0) return;
    const parent = path.length === 1 ? this : this.at(path.slice(0, -1));
    if (!parent) return;
    const key = serializePathElement(path[path.length - 1] as PathElement);
    parent.members.delete(key);
    parent.children.delete(key);
  }
}
