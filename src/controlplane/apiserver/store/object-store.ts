// The generic object store of one resource (upstream's genericregistry.Store): CRUD with Kubernetes
// metadata semantics on top of the revisioned key-value Storage. resourceVersion is the key's modRevision;
// writes are compare-and-swap, retried only when the client did not pin a resourceVersion. Nothing is
// written until every check has passed, so a failed request leaves no trace.

import { randomUUID } from "node:crypto";
import type { FieldError, KubeObject } from "../../../api/resource.ts";
import { asKindDefinition } from "../../../api/schema/kind.ts";
import { validateObjectMeta, validateObjectMetaUpdate } from "../../../api/schema/meta-validation.ts";
import { validateEnums } from "../../../api/schema/validate.ts";
import type { Clock } from "../../../util/clock.ts";
import { isConflict, isExists, isGone, isNotFound, isUnavailable } from "../../storage/errors.ts";
import type { KeyValue, Storage } from "../../storage/types.ts";
import {
  ApiError,
  alreadyExists,
  badRequest,
  conflict,
  expired,
  internalError,
  invalid,
  notFound,
  serviceUnavailable,
} from "../errors.ts";
import {
  carryOverSystemMetadata,
  formatTime,
  generateName,
  jsonEqual,
  metaOf,
  nameValidatorFor,
} from "../metadata.ts";
import type { AdmissionAttributes, AdmissionChain } from "../pipeline/admission.ts";
import type { UserInfo } from "../pipeline/authentication.ts";
import type { ServedResource } from "../resources.ts";
import type { FieldSelector, LabelSelector } from "../selectors.ts";
import { matchFields } from "../selectors.ts";
import type { DeleteOptions, PropagationPolicy, Strategy } from "../strategies/types.ts";
import { decodeContinue, encodeContinue } from "./continue-token.ts";

export interface WriteContext {
  user: UserInfo;
  dryRun: boolean;
  /** Subresource the request came through ("" for the object itself), for admission. */
  subresource?: string;
}

/**
 * How an update treats the client's object:
 * - "main": the object endpoint — status is kept from the stored object;
 * - "status": the status endpoint — only status (and labels/annotations) change;
 * - "approval": CertificateSigningRequests' approval endpoint — only the Approved/Denied conditions change;
 * - "internal": a server component's own change (finalizers, owner references, binding) taken as is.
 */
export type UpdateMode = "main" | "status" | "approval" | "internal";

export interface UpdateOptions {
  mode: UpdateMode;
  /** For PUT/PATCH of a missing object where the resource or the patch type allows creating it. */
  createIfMissing?: boolean;
}

export interface ListRequest {
  labelSelector?: LabelSelector;
  fieldSelector?: FieldSelector;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: string;
}

export interface ListResponse {
  items: KubeObject[];
  resourceVersion: string;
  continue?: string;
}

/** Computes the new object from the stored one (undefined when missing and creation is allowed). */
export type TryUpdate = (current: KubeObject | undefined) => KubeObject | Promise<KubeObject>;

const MAX_GENERATE_NAME_ATTEMPTS = 8;
const MAX_UPDATE_ATTEMPTS = 32;

/** Upstream's storage.NewTooLargeResourceVersionError: 504 Timeout, retried by clients after a second. */
function tooLargeResourceVersion(requested: number, current: number): ApiError {
  return new ApiError(504, "Timeout", `Too large resource version: ${requested}, current: ${current}`, {
    causes: [{ reason: "ResourceVersionTooLarge", message: "Too large resource version" }],
    retryAfterSeconds: 1,
  });
}

function storageError(error: unknown, what: string): ApiError {
  if (error instanceof ApiError) return error;
  if (isUnavailable(error))
    return serviceUnavailable(`the storage backend is unavailable (${what}): ${(error as Error).message}`);
  return internalError(`${what}: ${(error as Error).message ?? String(error)}`);
}

export function parseResourceVersion(value: string, what = "resourceVersion"): number {
  if (!/^\d+$/.test(value))
    throw badRequest(`${what}: Invalid value: "${value}": must be a non-negative integer`);
  return Number(value);
}

export class ObjectStore {
  readonly resource: ServedResource;
  readonly strategy: Strategy;
  private readonly storage: Storage;
  private readonly admission: AdmissionChain;
  private readonly clock: Clock;

  constructor(deps: {
    resource: ServedResource;
    strategy: Strategy;
    storage: Storage;
    admission: AdmissionChain;
    clock: Clock;
  }) {
    this.resource = deps.resource;
    this.strategy = deps.strategy;
    this.storage = deps.storage;
    this.admission = deps.admission;
    this.clock = deps.clock;
  }

  // Encoding ---------------------------------------------------------------------------------------------

  key(namespace: string, name: string): string {
    return this.resource.namespaced
      ? `${this.resource.keyPrefix}${namespace}/${name}`
      : `${this.resource.keyPrefix}${name}`;
  }

  /** The prefix of a list: one namespace, or every object of the resource. */
  listPrefix(namespace: string): string {
    return this.resource.namespaced && namespace !== ""
      ? `${this.resource.keyPrefix}${namespace}/`
      : this.resource.keyPrefix;
  }

  /**
   * Stored JSON carries no resourceVersion: it is the key's revision, set on every read. A resource stored
   * as another one's objects (ServedResource.def.storedAs) converts on the way in and out.
   */
  encode(obj: KubeObject): string {
    const storedAs = this.resource.def.storedAs;
    const stored = storedAs ? storedAs.toStored(obj) : obj;
    const meta = stored.metadata;
    if (meta?.resourceVersion === undefined) return JSON.stringify(stored);
    const { resourceVersion: _rv, ...rest } = meta;
    return JSON.stringify({ ...stored, metadata: rest });
  }

  decode(kv: KeyValue): KubeObject {
    const stored = JSON.parse(kv.value) as KubeObject;
    const obj = this.resource.def.storedAs ? this.resource.def.storedAs.fromStored(stored) : stored;
    metaOf(obj).resourceVersion = String(kv.modRevision);
    return obj;
  }

  private now(): Date {
    return new Date(this.clock.now());
  }

  private invalid(obj: KubeObject, errors: FieldError[]): ApiError {
    return invalid(this.resource.group, this.resource.kind, obj.metadata?.name ?? "", errors);
  }

  private attributes(
    operation: AdmissionAttributes["operation"],
    namespace: string,
    name: string,
    ctx: WriteContext,
    object?: KubeObject,
    oldObject?: KubeObject,
  ): AdmissionAttributes {
    const attrs: AdmissionAttributes = {
      operation,
      resource: this.resource,
      subresource: ctx.subresource ?? "",
      namespace,
      name,
      user: ctx.user,
      dryRun: ctx.dryRun,
    };
    if (object) attrs.object = object;
    if (oldObject) attrs.oldObject = oldObject;
    return attrs;
  }

  /**
   * The ObjectMeta rules every kind shares, the schema's enums, then the kind's own validation (of the
   * status for status updates; none for the server's internal writes, like upstream's binding), de-duplicated.
   */
  private validate(obj: KubeObject, old: KubeObject | undefined, mode: UpdateMode | "create"): FieldError[] {
    const def = this.resource.def;
    const nameFn = nameValidatorFor(def);
    const errors = [
      ...(old
        ? validateObjectMetaUpdate(obj, old, this.resource.namespaced, nameFn)
        : validateObjectMeta(obj, this.resource.namespaced, nameFn)),
      ...validateEnums(def.schema, obj),
    ];
    if (mode === "status" || mode === "approval") {
      errors.push(...(asKindDefinition(def)?.validateStatusUpdate?.(obj, old as KubeObject) ?? []));
    } else if (mode !== "internal") {
      errors.push(...def.validate(obj, old));
    }
    if (old && mode !== "internal" && this.strategy.validateUpdate) {
      errors.push(...this.strategy.validateUpdate(obj, old));
    }
    const seen = new Set<string>();
    return errors.filter((e) => {
      const id = `${e.field}\u0000${e.reason}`;
      if (seen.has(id)) return false;
      seen.add(id);
      return true;
    });
  }

  // Reads ------------------------------------------------------------------------------------------------

  async tryGet(namespace: string, name: string): Promise<{ object: KubeObject; kv: KeyValue } | undefined> {
    let kv: KeyValue | undefined;
    try {
      kv = await this.storage.get(this.key(namespace, name));
    } catch (error) {
      throw storageError(error, `get ${this.key(namespace, name)}`);
    }
    return kv ? { object: this.decode(kv), kv } : undefined;
  }

  async get(namespace: string, name: string): Promise<KubeObject> {
    const found = await this.tryGet(namespace, name);
    if (!found) throw notFound(this.resource.qualified, name);
    return found.object;
  }

  /** Whether `obj` passes the label and field selectors. */
  matches(obj: KubeObject, labels?: LabelSelector, fields?: FieldSelector): boolean {
    if (labels && !labels.empty && !labels.matches(obj.metadata?.labels)) return false;
    if (fields && !fields.empty && !matchFields(fields, (f) => this.fieldValue(obj, f))) return false;
    return true;
  }

  fieldValue(obj: KubeObject, field: string): string | undefined {
    if (field === "metadata.name") return obj.metadata?.name ?? "";
    if (field === "metadata.namespace") return obj.metadata?.namespace ?? "";
    const fn = this.resource.def.fieldSelectors[field];
    return fn ? (fn(obj) ?? "") : undefined;
  }

  /** Rejects field selectors on fields this resource does not support (400, like upstream). */
  checkFieldSelector(fields: FieldSelector | undefined): void {
    for (const r of fields?.requirements ?? []) {
      if (r.field === "metadata.name" || r.field === "metadata.namespace") continue;
      if (!Object.hasOwn(this.resource.def.fieldSelectors, r.field)) {
        throw badRequest(`field label not supported: ${r.field}`);
      }
    }
  }

  async list(namespace: string, request: ListRequest): Promise<ListResponse> {
    this.checkFieldSelector(request.fieldSelector);
    const prefix = this.listPrefix(namespace);
    const limit = request.limit && request.limit > 0 ? request.limit : 0;
    let revision: number | undefined;
    let startAfter: string | undefined;
    let minRevision = 0;
    if (request.continue) {
      if (request.resourceVersion && request.resourceVersion !== "0") {
        throw badRequest("specifying resource version is not allowed when using continue");
      }
      const token = decodeContinue(request.continue);
      revision = token.rv;
      startAfter = prefix + token.start;
    } else if (request.resourceVersion !== undefined && request.resourceVersion !== "") {
      const rv = parseResourceVersion(request.resourceVersion);
      const match = request.resourceVersionMatch ?? "";
      if (match !== "" && match !== "Exact" && match !== "NotOlderThan") {
        throw badRequest(
          `resourceVersionMatch: Unsupported value: "${match}": supported values: "Exact", "NotOlderThan"`,
        );
      }
      // Legacy semantics: a limit with a non-zero resourceVersion and no match reads exactly there.
      const exact = match === "Exact" || (match === "" && limit > 0 && rv !== 0);
      if (exact) {
        if (rv === 0) throw badRequest(`resourceVersionMatch "Exact" is forbidden for resourceVersion "0"`);
        revision = rv;
      } else {
        minRevision = rv;
      }
    } else if (request.resourceVersionMatch) {
      throw badRequest("resourceVersionMatch is forbidden unless resourceVersion is provided");
    }

    const items: KubeObject[] = [];
    let more = false;
    let lastKey: string | undefined;
    const filtering = !(request.labelSelector?.empty ?? true) || !(request.fieldSelector?.empty ?? true);
    for (;;) {
      let page: Awaited<ReturnType<Storage["list"]>>;
      try {
        const options: { limit?: number; startAfter?: string; revision?: number } = {};
        if (limit > 0) options.limit = filtering ? Math.max(limit, 100) : limit - items.length;
        if (startAfter !== undefined) options.startAfter = startAfter;
        if (revision !== undefined) options.revision = revision;
        page = await this.storage.list(prefix, options);
      } catch (error) {
        if (isGone(error)) {
          throw request.continue
            ? expired(
                "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.",
              )
            : expired(`The resourceVersion for the provided list is too old.`);
        }
        // An exact read ahead of the store: upstream answers 504 "Too large resource version" (etcd's
        // ErrFutureRev), which clients retry, rather than 503.
        if (isUnavailable(error) && revision !== undefined) {
          const current = await this.storage
            .list(prefix, { limit: 1 })
            .then((p) => p.revision)
            .catch(() => undefined);
          if (current !== undefined && current < revision) throw tooLargeResourceVersion(revision, current);
        }
        throw storageError(error, `list ${prefix}`);
      }
      revision ??= page.revision;
      if (page.revision < minRevision) throw tooLargeResourceVersion(minRevision, page.revision);
      let consumed = 0;
      for (const kv of page.items) {
        consumed++;
        lastKey = kv.key;
        const obj = this.decode(kv);
        if (filtering && !this.matches(obj, request.labelSelector, request.fieldSelector)) continue;
        items.push(obj);
        if (limit > 0 && items.length >= limit) break;
      }
      if (limit > 0 && items.length >= limit) {
        more = consumed < page.items.length || page.more;
        break;
      }
      if (!page.more || page.items.length === 0) break;
      startAfter = lastKey;
    }
    const response: ListResponse = { items, resourceVersion: String(revision) };
    if (more && lastKey !== undefined) {
      response.continue = encodeContinue({ rv: revision as number, start: lastKey.slice(prefix.length) });
    }
    return response;
  }

  // Create -----------------------------------------------------------------------------------------------

  /**
   * Creates `obj` (a decoded request object, owned by the store from here on) in `namespace`. Runs
   * defaulting, mutating admission, the strategy, validation and validating admission, then one storage
   * create; nothing is written if any step fails.
   */
  async create(namespace: string, obj: KubeObject, ctx: WriteContext): Promise<KubeObject> {
    const r = this.resource;
    const meta = metaOf(obj);
    if (r.namespaced) {
      if (meta.namespace && namespace && meta.namespace !== namespace) {
        throw badRequest(
          "the namespace of the provided object does not match the namespace sent on the request",
        );
      }
      if (namespace) meta.namespace = namespace;
    } else {
      delete meta.namespace;
    }
    if (meta.resourceVersion) throw badRequest("resourceVersion should not be set on objects to be created");
    obj.apiVersion = r.apiVersion;
    obj.kind = r.kind;
    const generated = !meta.name && !!meta.generateName;
    if (generated) meta.name = generateName(meta.generateName as string);
    // The UID exists before defaulting and the strategy run, as upstream's: a Job's selector is built from it.
    meta.uid = randomUUID();

    r.def.applyDefaults(obj);
    await this.admission.admit(this.attributes("CREATE", meta.namespace ?? "", meta.name ?? "", ctx, obj));
    this.strategy.prepareForCreate(obj, ctx.user);
    meta.creationTimestamp = formatTime(this.now());
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    delete (meta as Record<string, unknown>).selfLink;
    if (this.strategy.tracksGeneration) meta.generation = 1;
    else delete meta.generation;
    const errors = this.validate(obj, undefined, "create");
    if (errors.length > 0) throw this.invalid(obj, errors);
    await this.admission.validate(this.attributes("CREATE", meta.namespace ?? "", meta.name ?? "", ctx, obj));

    const reservation = this.strategy.reserve?.(obj, undefined, ctx.dryRun);
    if (ctx.dryRun) return obj;
    for (let attempt = 1; ; attempt++) {
      try {
        const kv = await this.storage.create(
          this.key(meta.namespace ?? "", meta.name as string),
          this.encode(obj),
        );
        reservation?.commit();
        meta.resourceVersion = String(kv.modRevision);
        return obj;
      } catch (error) {
        if (isExists(error) && generated && attempt < MAX_GENERATE_NAME_ATTEMPTS) {
          meta.name = generateName(meta.generateName as string);
          continue;
        }
        reservation?.rollback();
        if (isExists(error)) throw alreadyExists(r.qualified, meta.name as string);
        throw storageError(error, `create ${this.key(meta.namespace ?? "", meta.name as string)}`);
      }
    }
  }

  // Update -----------------------------------------------------------------------------------------------

  /**
   * Read-modify-write with compare-and-swap. `tryUpdate` gets the stored object and returns the desired
   * one; a resourceVersion in the desired object is a precondition (409 when stale), otherwise a
   * concurrent write makes the whole function run again on the new state.
   */
  async update(
    namespace: string,
    name: string,
    tryUpdate: TryUpdate,
    ctx: WriteContext,
    options: UpdateOptions,
  ): Promise<{ object: KubeObject; created: boolean }> {
    const r = this.resource;
    const key = this.key(namespace, name);
    for (let attempt = 1; attempt <= MAX_UPDATE_ATTEMPTS; attempt++) {
      const found = await this.tryGet(namespace, name);
      if (!found) {
        if (!options.createIfMissing && !this.strategy.allowCreateOnUpdate) throw notFound(r.qualified, name);
        const desired = await tryUpdate(undefined);
        const meta = metaOf(desired);
        if (meta.name && meta.name !== name) {
          throw badRequest(
            `the name of the object (${meta.name}) does not match the name on the URL (${name})`,
          );
        }
        meta.name = name;
        delete meta.resourceVersion;
        try {
          return { object: await this.create(namespace, desired, ctx), created: true };
        } catch (error) {
          // Lost a race with another creator: update what is there now.
          if (error instanceof ApiError && error.reason === "AlreadyExists") continue;
          throw error;
        }
      }
      const { object: current, kv } = found;
      const desired = await tryUpdate(structuredClone(current));
      const meta = metaOf(desired);
      if (meta.name !== undefined && meta.name !== "" && meta.name !== name) {
        throw badRequest(
          `the name of the object (${meta.name}) does not match the name on the URL (${name})`,
        );
      }
      if (r.namespaced && meta.namespace && meta.namespace !== namespace) {
        throw badRequest(
          "the namespace of the provided object does not match the namespace sent on the request",
        );
      }
      const pinned = meta.resourceVersion;
      if (pinned !== undefined && pinned !== "" && pinned !== current.metadata?.resourceVersion) {
        parseResourceVersion(pinned, "metadata.resourceVersion");
        throw conflict(r.qualified, name);
      }
      if ((pinned === undefined || pinned === "") && !this.strategy.allowUnconditionalUpdate) {
        throw this.invalid(desired, [
          {
            reason: "FieldValueInvalid",
            field: "metadata.resourceVersion",
            message: "Invalid value: 0x0: must be specified for an update",
          },
        ]);
      }
      const next = await this.prepareUpdate(desired, current, namespace, name, ctx, options.mode);
      const unchanged = jsonEqual(
        { ...next, metadata: { ...next.metadata, resourceVersion: undefined } },
        { ...current, metadata: { ...current.metadata, resourceVersion: undefined } },
      );
      if (unchanged) return { object: current, created: false };

      const reservation = this.strategy.reserve?.(next, current, ctx.dryRun);
      if (ctx.dryRun) return { object: next, created: false };
      try {
        if (this.shouldDeleteAfterUpdate(next)) {
          await this.storage.delete(key, kv.modRevision);
          reservation?.commit();
          this.strategy.released?.(next);
          return { object: next, created: false };
        }
        const written = await this.storage.update(key, this.encode(next), kv.modRevision);
        reservation?.commit();
        metaOf(next).resourceVersion = String(written.modRevision);
        return { object: next, created: false };
      } catch (error) {
        reservation?.rollback();
        if (isConflict(error)) {
          if (pinned) throw conflict(r.qualified, name);
          continue;
        }
        if (isNotFound(error)) throw notFound(r.qualified, name);
        throw storageError(error, `update ${key}`);
      }
    }
    throw conflict(r.qualified, name, "too many concurrent writers; please try again");
  }

  private async prepareUpdate(
    desired: KubeObject,
    current: KubeObject,
    namespace: string,
    name: string,
    ctx: WriteContext,
    mode: UpdateMode,
  ): Promise<KubeObject> {
    const r = this.resource;
    const next = desired;
    const meta = metaOf(next);
    next.apiVersion = r.apiVersion;
    next.kind = r.kind;
    meta.name = name;
    if (r.namespaced) meta.namespace = namespace;
    else delete meta.namespace;
    carryOverSystemMetadata(next, current);
    if (mode !== "internal") r.def.applyDefaults(next);
    if (mode !== "internal") {
      await this.admission.admit(this.attributes("UPDATE", namespace, name, ctx, next, current));
    }
    if (mode === "main") this.strategy.prepareForUpdate(next, current);
    else if (mode === "status") this.strategy.prepareForStatusUpdate(next, current);
    else if (mode === "approval") {
      if (!this.strategy.prepareForApprovalUpdate)
        throw badRequest(`${r.plural} have no approval subresource`);
      this.strategy.prepareForApprovalUpdate(next, current);
    }
    if (mode === "main" && this.strategy.tracksGeneration && !jsonEqual(next.spec, current.spec)) {
      meta.generation = (current.metadata?.generation ?? 0) + 1;
    }
    const errors = this.validate(next, current, mode);
    if (errors.length > 0) throw this.invalid(next, errors);
    if (mode !== "internal") {
      await this.admission.validate(this.attributes("UPDATE", namespace, name, ctx, next, current));
    }
    return next;
  }

  /** An object being deleted whose last finalizer just went away disappears with that update. */
  private shouldDeleteAfterUpdate(obj: KubeObject): boolean {
    const meta = obj.metadata ?? {};
    if (!meta.deletionTimestamp) return false;
    if ((meta.finalizers ?? []).length > 0) return false;
    if (this.strategy.holdsDeletion?.(obj)) return false;
    return (meta.deletionGracePeriodSeconds ?? 0) === 0;
  }

  // Delete -----------------------------------------------------------------------------------------------

  resolvePropagation(options: DeleteOptions): PropagationPolicy {
    if (options.propagationPolicy) return options.propagationPolicy;
    if (options.orphanDependents === true) return "Orphan";
    if (options.orphanDependents === false) return "Background";
    return this.strategy.defaultPropagation;
  }

  /**
   * Deletes the object, gracefully where the strategy says so and through finalizers where the
   * propagation policy or the object asks for it. `deleted` says whether it is gone from storage.
   */
  async delete(
    namespace: string,
    name: string,
    options: DeleteOptions,
    ctx: WriteContext,
  ): Promise<{ object: KubeObject; deleted: boolean }> {
    const r = this.resource;
    const key = this.key(namespace, name);
    let admitted = false;
    for (let attempt = 1; attempt <= MAX_UPDATE_ATTEMPTS; attempt++) {
      const found = await this.tryGet(namespace, name);
      if (!found) throw notFound(r.qualified, name);
      const { object: current, kv } = found;
      const meta = current.metadata ?? {};
      const pre = options.preconditions;
      if (pre?.uid !== undefined && pre.uid !== meta.uid) {
        throw conflict(
          r.qualified,
          name,
          `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${meta.uid}`,
        );
      }
      if (pre?.resourceVersion !== undefined && pre.resourceVersion !== meta.resourceVersion) {
        throw conflict(
          r.qualified,
          name,
          `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${meta.resourceVersion}`,
        );
      }
      if (!admitted) {
        await this.admission.validate(this.attributes("DELETE", namespace, name, ctx, undefined, current));
        admitted = true;
      }

      const propagation = this.resolvePropagation(options);
      const grace = this.strategy.gracePeriod ? this.strategy.gracePeriod(current, options) : 0;
      const finalizers = new Set(meta.finalizers ?? []);
      const alreadyDeleting = meta.deletionTimestamp !== undefined;
      if (!alreadyDeleting) {
        if (propagation === "Orphan") finalizers.add("orphan");
        if (propagation === "Foreground") finalizers.add("foregroundDeletion");
      }
      const next = structuredClone(current);
      const nextMeta = metaOf(next);
      const now = this.now();
      const stays = finalizers.size > 0 || grace > 0 || (this.strategy.holdsDeletion?.(current) ?? false);
      let changed = false;
      if (alreadyDeleting) {
        const existingGrace = meta.deletionGracePeriodSeconds ?? 0;
        if (grace < existingGrace) {
          // A shorter grace period than the one in progress wins (kubelet's final grace-0 delete, --now).
          nextMeta.deletionGracePeriodSeconds = grace;
          nextMeta.deletionTimestamp = formatTime(new Date(now.getTime() + grace * 1000));
          changed = true;
        }
        if (!stays) changed = false;
        else if (!changed) return { object: current, deleted: false };
      } else if (stays) {
        nextMeta.deletionTimestamp = formatTime(new Date(now.getTime() + grace * 1000));
        nextMeta.deletionGracePeriodSeconds = grace;
        if (finalizers.size > 0) nextMeta.finalizers = [...finalizers];
        if ((nextMeta.generation ?? 0) > 0) nextMeta.generation = (nextMeta.generation as number) + 1;
        this.strategy.markDeleting?.(next);
        changed = true;
      }
      if (stays && changed) {
        if (ctx.dryRun) return { object: next, deleted: false };
        try {
          const written = await this.storage.update(key, this.encode(next), kv.modRevision);
          nextMeta.resourceVersion = String(written.modRevision);
          return { object: next, deleted: false };
        } catch (error) {
          if (isConflict(error)) continue;
          if (isNotFound(error)) throw notFound(r.qualified, name);
          throw storageError(error, `delete ${key}`);
        }
      }
      if (ctx.dryRun) return { object: current, deleted: true };
      try {
        await this.storage.delete(key, kv.modRevision);
      } catch (error) {
        if (isConflict(error)) continue;
        if (isNotFound(error)) throw notFound(r.qualified, name);
        throw storageError(error, `delete ${key}`);
      }
      this.strategy.released?.(current);
      return { object: current, deleted: true };
    }
    throw conflict(r.qualified, name, "too many concurrent writers; please try again");
  }
}
