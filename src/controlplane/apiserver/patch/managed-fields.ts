// Field ownership in `metadata.managedFields`, as kube-apiserver's field manager keeps it
// (apimachinery/pkg/util/managedfields): one entry per manager and operation, with the fields it owns in
// FieldsV1 form. Updates (create, update, every patch but apply) take ownership of what they changed and
// take it away from everybody else; apply (server-side-apply.ts) owns exactly what it applied.

import { type FieldPath, FieldSet } from "./fieldpath.ts";
import { isJsonObject, type JsonObject, type JsonValue } from "./json-value.ts";
import type { PatchSchema } from "./schema.ts";
import { type Comparison, compareValues } from "./structured.ts";

/** kubectl's client-side apply annotation. */
export const LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration";

/** Upstream's limit on a field manager name (validation.FieldManagerMaxLength). */
export const FIELD_MANAGER_MAX_LENGTH = 128;

export type ManagedOperation = "Apply" | "Update";

export interface ManagerEntry {
  manager: string;
  operation: ManagedOperation;
  /** The group/version the fields were written in ("apps/v1", "v1"). */
  apiVersion: string;
  /** Set when the fields were written through a subresource ("status", "scale"). */
  subresource?: string;
  /** RFC 3339 time of the last change this manager made; absent until it changes something. */
  time?: string;
  fields: FieldSet;
}

/** Managers by identity: name + operation + subresource, and the apiVersion for updaters (as upstream). */
export type Managers = Map<string, ManagerEntry>;

export function managerIdentity(
  entry: Pick<ManagerEntry, "manager" | "operation" | "apiVersion" | "subresource">,
): string {
  return JSON.stringify([
    entry.manager,
    entry.operation,
    entry.operation === "Update" ? entry.apiVersion : "",
    entry.subresource ?? "",
  ]);
}

/** How upstream names a manager in conflict messages: `"kubectl-client-side-apply" using apps/v1`. */
export function describeManager(entry: ManagerEntry): string {
  let text = JSON.stringify(entry.manager);
  if (entry.subresource) text += ` with subresource ${JSON.stringify(entry.subresource)}`;
  if (entry.operation === "Update") text += ` using ${entry.apiVersion}`;
  return text;
}

/** Reads `metadata.managedFields`; undefined if it is malformed (callers then fall back as upstream does). */
export function decodeManagedFields(value: unknown): Managers | undefined {
  const managers: Managers = new Map();
  if (value === undefined || value === null) return managers;
  if (!Array.isArray(value)) return undefined;
  for (const raw of value) {
    if (!isJsonObject(raw)) return undefined;
    const { manager, operation, apiVersion, subresource, time, fieldsType, fieldsV1 } = raw;
    if (typeof manager !== "string" || (operation !== "Apply" && operation !== "Update")) return undefined;
    if (fieldsType !== undefined && fieldsType !== "FieldsV1") return undefined;
    let fields: FieldSet;
    try {
      fields = fieldsV1 === undefined || fieldsV1 === null ? new FieldSet() : FieldSet.fromFieldsV1(fieldsV1);
    } catch {
      return undefined;
    }
    const entry: ManagerEntry = {
      manager,
      operation,
      apiVersion: typeof apiVersion === "string" ? apiVersion : "",
      fields,
    };
    if (typeof subresource === "string" && subresource !== "") entry.subresource = subresource;
    if (typeof time === "string") entry.time = time;
    const key = managerIdentity(entry);
    const previous = managers.get(key);
    if (previous) previous.fields = previous.fields.union(fields);
    else managers.set(key, entry);
  }
  return managers;
}

/** Writes managers as upstream orders them: Apply before Update, then by time, manager, apiVersion. */
export function encodeManagedFields(managers: Managers): JsonObject[] {
  const seconds = (e: ManagerEntry) => (e.time ? Math.floor(Date.parse(e.time) / 1000) : 0);
  const entries = [...managers.values()].filter((e) => !e.fields.isEmpty());
  entries.sort(
    (a, b) =>
      cmp(a.operation, b.operation) ||
      seconds(a) - seconds(b) ||
      cmp(a.manager, b.manager) ||
      cmp(a.apiVersion, b.apiVersion) ||
      cmp(a.subresource ?? "", b.subresource ?? ""),
  );
  return entries.map((e) => {
    const out: JsonObject = { manager: e.manager, operation: e.operation, apiVersion: e.apiVersion };
    if (e.time) out.time = e.time;
    out.fieldsType = "FieldsV1";
    out.fieldsV1 = e.fields.toFieldsV1();
    if (e.subresource) out.subresource = e.subresource;
    return out;
  });
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Upstream's timestamp format for managedFields (RFC 3339, whole seconds, UTC). */
export function managedFieldsTime(now: Date): string {
  return `${now.toISOString().slice(0, 19)}Z`;
}

/**
 * The manager name for a request: the fieldManager parameter, else the user agent up to its first "/"
 * (printable characters, at most 128 bytes), as upstream's managerOrUserAgent.
 */
export function managerFromRequest(fieldManager: string | undefined, userAgent: string | undefined): string {
  if (fieldManager) return fieldManager;
  const prefix = (userAgent ?? "").split("/")[0] ?? "";
  let out = "";
  for (const ch of prefix) {
    if (/\p{C}/u.test(ch)) continue;
    if (Buffer.byteLength(out + ch) > FIELD_MANAGER_MAX_LENGTH) break;
    out += ch;
  }
  return out;
}

/** Paths no manager ever owns (upstream's stripMeta set); removed as members only, not as subtrees. */
const STRIPPED: readonly FieldPath[] = [
  [{ field: "apiVersion" }],
  [{ field: "kind" }],
  [{ field: "metadata" }],
  ...[
    "name",
    "namespace",
    "creationTimestamp",
    "selfLink",
    "uid",
    "clusterName",
    "generation",
    "managedFields",
    "resourceVersion",
  ].map((name): FieldPath => [{ field: "metadata" }, { field: name }]),
];
const STRIPPED_SET = FieldSet.of(STRIPPED);

/** Ownership filter: drops stripped metadata fields and the reset subtrees (e.g. `status` on the main resource). */
export function ownableFields(set: FieldSet, resetFields: readonly FieldPath[]): FieldSet {
  if (set.isEmpty()) return new FieldSet();
  // difference() builds a new set, so the reset subtrees can go in place.
  return set.difference(STRIPPED_SET).deleteSubtrees(resetFields);
}

export function isStrippedPath(path: FieldPath): boolean {
  return STRIPPED_SET.has(path);
}

/** Converts dotted reset field names ("status", "spec.nodeName") into field paths. */
export function resetFieldPaths(resetFields: readonly (readonly string[])[] | undefined): FieldPath[] {
  return (resetFields ?? []).map((path) => path.map((field) => ({ field })));
}

/** Fields that changed between two objects, ready for ownership bookkeeping. */
export function ownershipChanges(
  schema: PatchSchema,
  before: JsonObject,
  after: JsonObject,
  resetFields: readonly FieldPath[],
): Comparison {
  const c = compareValues(schema, before, after);
  return {
    added: ownableFields(c.added, resetFields),
    modified: ownableFields(c.modified, resetFields),
    removed: ownableFields(c.removed, resetFields),
  };
}

/**
 * Upstream's Updater.update: every manager except `self` loses the fields that were removed, and those
 * that `self` changed (or added) unless it did so without `force`, in which case those are the conflicts.
 * Mutates `managers` only when there are no conflicts or `force` is set.
 */
export function takeOwnership(
  managers: Managers,
  changes: Comparison,
  self: string,
  force: boolean,
): Map<string, FieldSet> {
  if (managers.size === 0) return new Map();
  const changed = changes.modified.union(changes.added);
  const conflicts = new Map<string, FieldSet>();
  for (const [key, entry] of managers) {
    if (key === self) continue;
    const overlap = entry.fields.intersection(changed);
    if (!overlap.isEmpty()) conflicts.set(key, overlap);
  }
  if (conflicts.size > 0 && !force) return conflicts;
  for (const [key, entry] of managers) {
    if (key === self) continue;
    const overlap = conflicts.get(key);
    if (overlap) entry.fields = entry.fields.difference(overlap);
    entry.fields = entry.fields.difference(changes.removed);
  }
  for (const [key, entry] of managers) {
    if (entry.fields.isEmpty()) managers.delete(key);
  }
  return conflicts;
}

export interface UpdateOwnershipOptions {
  schema: PatchSchema;
  /** The manager name (see managerFromRequest). */
  manager: string;
  /** group/version of the request ("apps/v1", "v1"). */
  apiVersion: string;
  subresource?: string;
  now: Date;
  /** Fields the strategy resets for this endpoint, e.g. [["status"]] on a main resource. */
  resetFields?: readonly (readonly string[])[];
}

/** Managers from an object's metadata, without touching the object. */
export function managersOf(object: JsonObject | undefined): Managers | undefined {
  const metadata = object?.metadata;
  return decodeManagedFields(isJsonObject(metadata) ? metadata.managedFields : undefined);
}

/**
 * A copy without `metadata.managedFields`: the object and its metadata are new, everything else is shared
 * with the input (the engines never modify what they share).
 */
export function withoutManagedFields(object: JsonObject): JsonObject {
  const copy: JsonObject = { ...object };
  if (isJsonObject(object.metadata)) {
    const metadata: JsonObject = { ...object.metadata };
    delete metadata.managedFields;
    copy.metadata = metadata;
  }
  return copy;
}

/** Sets (or removes, when there are no managers) `metadata.managedFields` on `object`, giving it a new metadata object. */
export function setManagedFields(object: JsonObject, managers: Managers): void {
  const encoded = encodeManagedFields(managers);
  if (!isJsonObject(object.metadata)) {
    if (encoded.length > 0) object.metadata = { managedFields: encoded };
    return;
  }
  const metadata: JsonObject = { ...object.metadata };
  if (encoded.length === 0) delete metadata.managedFields;
  else metadata.managedFields = encoded;
  object.metadata = metadata;
}

/**
 * Records an Update (create, update, or any patch but apply) in `next`'s managedFields: the manager takes
 * ownership of every field it added or changed relative to `live` (undefined for a create), others lose
 * those and any removed field. Call it on the final object, after defaulting, as upstream does. Managed
 * fields the request set itself are honoured (an empty list resets them); a subresource request keeps the
 * live ones. Returns a new object; inputs are not modified.
 */
export function recordUpdate<T extends object>(
  liveObject: T | undefined,
  nextObject: T,
  options: UpdateOwnershipOptions,
): T {
  const live = liveObject as JsonObject | undefined;
  const next = nextObject as JsonObject;
  const managers = requestManagers(
    live,
    next,
    options.subresource !== undefined && options.subresource !== "",
  );
  const before = live ? withoutManagedFields(live) : {};
  const after = withoutManagedFields(next);
  const resetFields = resetFieldPaths(options.resetFields);
  const changes = ownershipChanges(options.schema, before, after, resetFields);
  const identity: Pick<ManagerEntry, "manager" | "operation" | "apiVersion" | "subresource"> = {
    manager: options.manager,
    operation: "Update",
    apiVersion: options.apiVersion,
  };
  if (options.subresource) identity.subresource = options.subresource;
  const self = managerIdentity(identity);
  // The request itself acts as a fresh manager (upstream's "current-operation"), so the named manager's own
  // earlier fields follow the same rules as everybody else's before the new ones are added back.
  takeOwnership(managers, changes, "", true);
  // The change sets are this function's own, so one of them can serve as the union when the other is empty.
  const taken = changes.modified.isEmpty() ? changes.added : changes.modified.union(changes.added);
  if (!taken.isEmpty()) {
    const previous = managers.get(self);
    managers.set(self, {
      ...identity,
      time: managedFieldsTime(options.now),
      fields: previous ? previous.fields.union(taken) : taken,
    });
  }
  setManagedFields(after, managers);
  return after as T;
}

/**
 * Upstream's decodeLiveOrNew: the managedFields the request carries win (`[]` or `[{}]` reset them), unless
 * they are absent, empty or malformed, or this is a subresource request; then the live ones are used.
 * Malformed live ones start over empty.
 */
function requestManagers(live: JsonObject | undefined, next: JsonObject, subresource: boolean): Managers {
  const liveManagers = () => managersOf(live) ?? new Map();
  if (subresource) return liveManagers();
  const metadata = next.metadata;
  const requested: JsonValue | undefined = isJsonObject(metadata) ? metadata.managedFields : undefined;
  if (Array.isArray(requested)) {
    if (requested.length === 0) return new Map();
    if (requested.length === 1 && isJsonObject(requested[0]) && Object.keys(requested[0]).length === 0) {
      return new Map();
    }
  }
  const fromRequest = decodeManagedFields(requested);
  if (!fromRequest || fromRequest.size === 0) return liveManagers();
  return fromRequest;
}
