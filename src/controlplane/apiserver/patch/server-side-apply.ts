// Server-side apply (`application/apply-patch+yaml`), as kube-apiserver's field manager does it for
// `kubectl apply --server-side`: the applied configuration is merged into the live object by the schema's
// list and map types; the manager then owns exactly the fields it applied; fields it applied before, no
// longer applies and nobody else owns are removed; changing a field another manager owns is a conflict
// (409) unless `force`, which takes the field over. Also as upstream:
// - an object without managedFields is first attributed to "before-first-apply";
// - manager "kubectl" may take over fields recorded in kubectl's last-applied-configuration annotation
//   (client-side apply → server-side apply), and keeps that annotation in step when it exists.

import { parseYamlStrict } from "../../../util/yaml.ts";
import { type ApplyConflict, applyConflicts, badRequest, unprocessable } from "./errors.ts";
import { type FieldPath, FieldSet, type PathElement, pathString, serializePathElement } from "./fieldpath.ts";
import {
  cloneJson,
  deepEqual,
  goJsonEncode,
  isJsonObject,
  type JsonObject,
  type JsonValue,
} from "./json-value.ts";
import {
  describeManager,
  isStrippedPath,
  LAST_APPLIED_ANNOTATION,
  type ManagerEntry,
  type Managers,
  managedFieldsTime,
  managerIdentity,
  managersOf,
  ownableFields,
  ownershipChanges,
  recordUpdate,
  resetFieldPaths,
  setManagedFields,
  takeOwnership,
  withoutManagedFields,
} from "./managed-fields.ts";
import type { PatchSchema } from "./schema.ts";
import { compareValues, mergeApplied, pruneUnowned, toFieldSet } from "./structured.ts";

/** The kind an endpoint serves; an applied configuration must name exactly this. */
export interface GroupVersionKind {
  /** "" for the core group. */
  group: string;
  version: string;
  kind: string;
}

export function groupVersion(gvk: Pick<GroupVersionKind, "group" | "version">): string {
  return gvk.group ? `${gvk.group}/${gvk.version}` : gvk.version;
}

export interface ApplyOptions {
  schema: PatchSchema;
  gvk: GroupVersionKind;
  /** The fieldManager parameter (required for apply; validated by the caller or index.ts). */
  manager: string;
  force: boolean;
  now: Date;
  subresource?: string;
  /** Fields the strategy resets for this endpoint, e.g. [["status"]] on a main resource. */
  resetFields?: readonly (readonly string[])[];
}

/** The manager whose applies are linked to kubectl's client-side apply annotation (as upstream). */
const KUBECTL_MANAGER = "kubectl";

/** Parses an apply body (YAML or JSON) into an object; 400 with upstream's wording otherwise. */
export function decodeApplyPatch(body: string): JsonObject {
  let decoded: unknown;
  try {
    decoded = parseYamlStrict(body);
  } catch (error) {
    throw badRequest(`error decoding YAML: ${(error as Error).message}`);
  }
  if (decoded === null || decoded === undefined) return {};
  if (!isJsonObject(decoded)) {
    const kind = Array.isArray(decoded) ? "array" : typeof decoded === "boolean" ? "bool" : typeof decoded;
    throw badRequest(
      `error decoding YAML: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal ${kind} into Go value of type map[string]interface {}`,
    );
  }
  return decoded as JsonObject;
}

/**
 * Applies `config` for `options.manager` to `live` (undefined: the object does not exist yet, and the result
 * is what to create). Returns the new object with updated managedFields; inputs are not modified. Throws a
 * PatchError: 400 for a configuration of another kind or carrying managedFields, 409 for conflicts, 422 for
 * lists the schema cannot key.
 */
export function serverSideApply(
  live: JsonObject | undefined,
  config: JsonObject,
  options: ApplyOptions,
): JsonObject {
  checkConfig(config, options.gvk);
  const liveObject = live ? withoutManagedFields(live) : {};
  let managers = (live ? managersOf(live) : undefined) ?? new Map();
  if (live && managers.size === 0) {
    const attributed = recordUpdate(undefined, liveObject, {
      schema: options.schema,
      manager: "before-first-apply",
      apiVersion: groupVersion(options.gvk),
      now: options.now,
      ...(options.resetFields ? { resetFields: options.resetFields } : {}),
    });
    managers = managersOf(attributed) ?? new Map();
  }

  let outcome = applyOnce(liveObject, config, managers, options, options.force);
  if ("conflicts" in outcome && options.manager === KUBECTL_MANAGER) {
    const allowed = allowedFromLastApplied(liveObject, options);
    const remaining = outcome.conflicts.filter((c) => !allowed?.has(c.path));
    if (remaining.length === 0) outcome = applyOnce(liveObject, config, managers, options, true);
    else outcome = { conflicts: remaining };
  }
  if ("conflicts" in outcome) {
    throw applyConflicts(
      outcome.conflicts.map((c): ApplyConflict => ({ manager: c.manager, field: pathString(c.path) })),
    );
  }

  const result = outcome.object;
  if (options.manager === KUBECTL_MANAGER && lastAppliedOf(liveObject) !== undefined) {
    setLastApplied(result, config);
  }
  setManagedFields(result, outcome.managers);
  return result;
}

interface Applied {
  object: JsonObject;
  managers: Managers;
}

interface Conflicted {
  conflicts: { manager: string; path: FieldPath }[];
}

function applyOnce(
  live: JsonObject,
  config: JsonObject,
  liveManagers: Managers,
  options: ApplyOptions,
  force: boolean,
): Applied | Conflicted {
  const { schema } = options;
  const resetFields = resetFieldPaths(options.resetFields);
  const managers: Managers = new Map(
    [...liveManagers].map(([key, entry]): [string, ManagerEntry] => [
      key,
      { ...entry, fields: entry.fields.clone() },
    ]),
  );
  const identity: Pick<ManagerEntry, "manager" | "operation" | "apiVersion" | "subresource"> = {
    manager: options.manager,
    operation: "Apply",
    apiVersion: groupVersion(options.gvk),
  };
  if (options.subresource) identity.subresource = options.subresource;
  const self = managerIdentity(identity);

  const applied = ownableFields(toFieldSet(schema, config, { strict: true }), resetFields);
  // A private copy: pruning edits it in place, and the merge shares untouched subtrees with the live object.
  const merged = cloneJson((mergeApplied(schema, live, config) ?? {}) as JsonObject);
  const previous = managers.get(self);
  const entry: ManagerEntry = { ...identity, fields: applied };
  if (previous?.time) entry.time = previous.time;
  managers.set(self, entry);

  if (previous && !previous.fields.isEmpty()) {
    let owned = new FieldSet();
    for (const m of managers.values()) owned = owned.union(m.fields);
    pruneUnowned(schema, merged, previous.fields, owned, {
      keep: isMetadataRoot,
      leave: (path) =>
        (isStrippedPath(path) && !isMetadataRoot(path)) ||
        resetFields.some((reset) => startsWith(path, reset)),
    });
  }

  const changes = ownershipChanges(schema, live, merged, resetFields);
  const conflicts = takeOwnership(managers, changes, self, force);
  if (conflicts.size > 0 && !force) {
    const list: Conflicted["conflicts"] = [];
    for (const [key, fields] of [...conflicts].sort((a, b) => compareManagers(managers, a[0], b[0]))) {
      const owner = managers.get(key) as ManagerEntry;
      for (const path of fields.paths()) list.push({ manager: describeManager(owner), path });
    }
    return { conflicts: list };
  }
  if (!deepEqual(merged, live)) {
    const mine = managers.get(self);
    if (mine) mine.time = managedFieldsTime(options.now);
  }
  return { object: merged, managers };
}

function compareManagers(managers: Managers, a: string, b: string): number {
  const x = managers.get(a)?.manager ?? "";
  const y = managers.get(b)?.manager ?? "";
  return x < y ? -1 : x > y ? 1 : 0;
}

/** `metadata` itself is never removed (the server owns its system fields), only fields inside it. */
function isMetadataRoot(path: FieldPath): boolean {
  return path.length === 1 && serializePathElement(path[0] as PathElement) === "f:metadata";
}

function startsWith(path: FieldPath, prefix: FieldPath): boolean {
  if (prefix.length > path.length) return false;
  return prefix.every((pe, i) => serializePathElement(pe) === serializePathElement(path[i] as PathElement));
}

/** Upstream's version check and the rule that an applied configuration carries no managedFields. */
function checkConfig(config: JsonObject, gvk: GroupVersionKind): void {
  const apiVersion = typeof config.apiVersion === "string" ? config.apiVersion : "";
  const kind = typeof config.kind === "string" ? config.kind : "";
  const slash = apiVersion.lastIndexOf("/");
  const group = slash >= 0 ? apiVersion.slice(0, slash) : "";
  const version = slash >= 0 ? apiVersion.slice(slash + 1) : apiVersion;
  if (group !== gvk.group || version !== gvk.version || kind !== gvk.kind) {
    throw badRequest(`invalid object type: ${group}/${version}, Kind=${kind}`);
  }
  const metadata = config.metadata;
  if (isJsonObject(metadata) && metadata.managedFields !== undefined && metadata.managedFields !== null) {
    throw badRequest("metadata.managedFields must be nil");
  }
  if (metadata !== undefined && metadata !== null && !isJsonObject(metadata)) {
    throw unprocessable("metadata: must be an object");
  }
}

function lastAppliedOf(object: JsonObject): string | undefined {
  const annotations = isJsonObject(object.metadata) ? object.metadata.annotations : undefined;
  const value = isJsonObject(annotations) ? annotations[LAST_APPLIED_ANNOTATION] : undefined;
  return typeof value === "string" && value !== "" ? value : undefined;
}

/**
 * Fields kubectl's last client-side apply recorded and the live object still has with the same values:
 * manager "kubectl" may take those over without a conflict (upstream's lastAppliedManager).
 */
function allowedFromLastApplied(live: JsonObject, options: ApplyOptions): FieldSet | undefined {
  const text = lastAppliedOf(live);
  if (text === undefined) return undefined;
  let lastApplied: JsonValue;
  try {
    lastApplied = JSON.parse(text) as JsonValue;
  } catch {
    return undefined;
  }
  if (!isJsonObject(lastApplied) || lastApplied.apiVersion !== groupVersion(options.gvk)) return undefined;
  try {
    const recorded = toFieldSet(options.schema, lastApplied);
    const drift = compareValues(options.schema, lastApplied, live);
    return recorded.difference(drift.modified).difference(drift.added).difference(drift.removed);
  } catch {
    return undefined;
  }
}

/** Keeps kubectl's client-side annotation equal to what was applied server-side (upstream's lastAppliedUpdater). */
function setLastApplied(object: JsonObject, config: JsonObject): void {
  const recorded = cloneJson(config);
  if (isJsonObject(recorded.metadata) && isJsonObject(recorded.metadata.annotations)) {
    delete recorded.metadata.annotations[LAST_APPLIED_ANNOTATION];
  }
  const metadata: JsonObject = isJsonObject(object.metadata) ? { ...object.metadata } : {};
  const annotations = isJsonObject(metadata.annotations) ? metadata.annotations : {};
  metadata.annotations = { ...annotations, [LAST_APPLIED_ANNOTATION]: goJsonEncode(recorded) };
  object.metadata = metadata;
}
