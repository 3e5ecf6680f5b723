// Subresources other than status: scale (autoscaling/v1 Scale), pods/binding, namespaces/finalize and the
// streaming ones handed to the StreamingBackend.

import type { KubeObject } from "../../../api/resource.ts";
import { decodeObjectBody, readBody } from "../body.ts";
import { badRequest, conflict, invalid, successStatus } from "../errors.ts";
import { formatTime, metaOf } from "../metadata.ts";
import { bodyMediaType } from "../negotiation.ts";
import type { ServedResource } from "../resources.ts";
import { writeObject } from "../response.ts";
import { type LabelSelectorObject, selectorFromMap, selectorFromObject } from "../selectors.ts";
import { streamObjectName } from "../streaming.ts";
import { checkTypeMeta } from "./decode.ts";
import { parseBoolean, parseDryRun, parseFieldManager } from "./query.ts";
import type { RequestScope } from "./scope.ts";

// Scale ------------------------------------------------------------------------------------------------------

function getPath(obj: unknown, path: string): unknown {
  let cur = obj;
  for (const part of path.split(".")) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split(".");
  let cur = obj;
  for (const part of parts.slice(0, -1)) {
    if (cur[part] === null || typeof cur[part] !== "object") cur[part] = {};
    cur = cur[part] as Record<string, unknown>;
  }
  cur[parts[parts.length - 1] as string] = value;
}

function scaleSelector(served: ServedResource, obj: KubeObject): string {
  const binding = served.def.scale;
  if (!binding) return "";
  if (binding.labelSelector) {
    return selectorFromObject(
      getPath(obj, binding.labelSelector) as LabelSelectorObject | undefined,
    ).toString();
  }
  // ReplicationController: spec.selector is a plain map.
  return selectorFromMap(getPath(obj, "spec.selector") as Record<string, string> | undefined).toString();
}

export function toScale(served: ServedResource, obj: KubeObject): KubeObject {
  const binding = served.def.scale;
  const meta = obj.metadata ?? {};
  const status: Record<string, unknown> = {
    replicas: Number(getPath(obj, binding?.statusReplicas ?? "") ?? 0),
  };
  const selector = scaleSelector(served, obj);
  if (selector) status.selector = selector;
  const scaleMeta: Record<string, unknown> = {
    name: meta.name,
    uid: meta.uid,
    resourceVersion: meta.resourceVersion,
    creationTimestamp: meta.creationTimestamp,
  };
  if (meta.namespace) scaleMeta.namespace = meta.namespace;
  return {
    kind: "Scale",
    apiVersion: "autoscaling/v1",
    metadata: scaleMeta,
    spec: { replicas: Number(getPath(obj, binding?.specReplicas ?? "") ?? 0) },
    status,
  };
}

function requireScale(scope: RequestScope): NonNullable<ServedResource["def"]["scale"]> {
  const binding = scope.served.def.scale;
  if (!binding) throw badRequest(`${scope.served.plural} have no scale subresource`);
  return binding;
}

export async function getScale(scope: RequestScope): Promise<void> {
  requireScale(scope);
  const obj = await scope.store.get(scope.info.namespace, scope.info.name);
  writeObject(scope.res, 200, toScale(scope.served, obj), { encoding: scope.format.encoding });
}

/** PUT or PATCH of …/scale: the change is computed on the Scale, then written to spec.replicas. */
export async function updateScale(scope: RequestScope, patch: boolean): Promise<void> {
  const binding = requireScale(scope);
  parseFieldManager(scope.query);
  const dryRun = parseDryRun(scope.query);
  const bytes = await readBody(scope.req);
  const text = bytes.toString("utf8");
  const contentType = bodyMediaType(scope.req.headers["content-type"]);
  let requested: KubeObject | undefined;
  if (!patch) {
    const raw = decodeObjectBody(bytes, scope.req.headers["content-type"]);
    checkTypeMeta(raw, "autoscaling/v1", "Scale");
    requested = raw as KubeObject;
  }
  const result = await scope.store.update(
    scope.info.namespace,
    scope.info.name,
    (current) => {
      const obj = current as KubeObject;
      let scale = requested;
      if (patch) {
        const live = toScale(scope.served, obj);
        scale = scope.ctx.patch.patch({
          contentType,
          live,
          body: text,
          resource: scope.served,
          name: scope.info.name,
          subresource: "scale",
          fieldManager: scope.query.get("fieldManager") || undefined,
          userAgent: scope.req.headers["user-agent"],
          force: parseBoolean(scope.query, "force"),
          now: new Date(scope.ctx.clock.now()),
        });
      }
      const replicas = (scale as { spec?: { replicas?: unknown } }).spec?.replicas;
      if (
        replicas !== undefined &&
        (typeof replicas !== "number" || !Number.isInteger(replicas) || replicas < 0)
      ) {
        throw invalid("autoscaling", "Scale", scope.info.name, [
          {
            reason: "FieldValueInvalid",
            field: "spec.replicas",
            message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`,
          },
        ]);
      }
      const pinned = scale?.metadata?.resourceVersion;
      if (!patch && pinned && pinned !== obj.metadata?.resourceVersion)
        throw conflict(scope.served.qualified, scope.info.name);
      setPath(obj as Record<string, unknown>, binding.specReplicas, replicas ?? 0);
      if (patch || !pinned) delete metaOf(obj).resourceVersion;
      return obj;
    },
    { user: scope.user, dryRun, subresource: "scale" },
    { mode: "main" },
  );
  writeObject(scope.res, 200, toScale(scope.served, result.object), { encoding: scope.format.encoding });
}

// Binding ------------------------------------------------------------------------------------------------------

interface PodLike extends KubeObject {
  spec?: { nodeName?: string };
  status?: {
    conditions?: Array<{
      type: string;
      status: string;
      lastTransitionTime?: string | null;
      lastProbeTime?: string | null;
    }>;
  };
}

/**
 * POST pods/x/binding (or POST bindings, naming the pod in the Binding's metadata): assigns the pod to a
 * node exactly once (409 if it already has one).
 */
export async function bindPod(scope: RequestScope): Promise<void> {
  const dryRun = parseDryRun(scope.query);
  const raw = decodeObjectBody(await readBody(scope.req), scope.req.headers["content-type"]);
  checkTypeMeta(raw, "v1", "Binding");
  const binding = raw as {
    metadata?: { name?: string; namespace?: string };
    target?: { kind?: string; name?: string };
  };
  const name = scope.info.name || binding.metadata?.name || "";
  if (name === "") {
    throw invalid("", "Binding", "", [
      {
        reason: "FieldValueRequired",
        field: "metadata.name",
        message: "Required value: name or generateName is required",
      },
    ]);
  }
  if (binding.metadata?.name && binding.metadata.name !== name) {
    throw badRequest(
      `the name of the binding (${binding.metadata.name}) does not match the name on the URL (${name})`,
    );
  }
  const target = binding.target?.name ?? "";
  if (target === "") {
    throw invalid("", "Binding", name, [
      { reason: "FieldValueRequired", field: "target.name", message: "Required value" },
    ]);
  }
  if (binding.target?.kind && binding.target.kind !== "Node") {
    throw invalid("", "Binding", name, [
      {
        reason: "FieldValueNotSupported",
        field: "target.kind",
        message: `Unsupported value: "${binding.target.kind}": supported values: "Node"`,
      },
    ]);
  }
  const bindingResource = { group: "", resource: "pods/binding" };
  const pods = scope.ctx.registry.lookup("", "v1", "pods");
  const podStore = pods ? scope.ctx.stores.get(pods) : undefined;
  if (!podStore) throw badRequest("this server serves no pods to bind");
  await podStore.update(
    scope.info.namespace,
    name,
    (current) => {
      const pod = current as PodLike;
      if (pod.metadata?.deletionTimestamp) {
        throw conflict(bindingResource, name, `pod ${name} is being deleted, cannot be assigned to a host`);
      }
      if (pod.spec?.nodeName) {
        throw conflict(
          bindingResource,
          name,
          `pod ${name} is already assigned to node "${pod.spec.nodeName}"`,
        );
      }
      pod.spec = { ...(pod.spec ?? {}), nodeName: target };
      const conditions = (pod.status?.conditions ?? []).filter((c) => c.type !== "PodScheduled");
      conditions.push({
        type: "PodScheduled",
        status: "True",
        lastProbeTime: null,
        lastTransitionTime: formatTime(new Date(scope.ctx.clock.now())),
      });
      pod.status = { ...(pod.status ?? {}), conditions };
      // The binding is an unconditional assignment; a concurrent write just retries.
      delete metaOf(pod).resourceVersion;
      return pod;
    },
    { user: scope.user, dryRun, subresource: "binding" },
    { mode: "internal" },
  );
  writeObject(scope.res, 201, successStatus(), { encoding: scope.format.encoding });
}

// Namespace finalize ---------------------------------------------------------------------------------------------

/** PUT namespaces/x/finalize: only spec.finalizers change. */
export async function finalizeNamespace(scope: RequestScope): Promise<void> {
  const dryRun = parseDryRun(scope.query);
  const raw = decodeObjectBody(await readBody(scope.req), scope.req.headers["content-type"]);
  checkTypeMeta(raw, "v1", "Namespace");
  const finalizers = (raw as { spec?: { finalizers?: unknown } }).spec?.finalizers;
  if (
    finalizers !== undefined &&
    (!Array.isArray(finalizers) || finalizers.some((f) => typeof f !== "string"))
  ) {
    throw badRequest("spec.finalizers must be a list of strings");
  }
  const pinned = (raw as KubeObject).metadata?.resourceVersion;
  const result = await scope.store.update(
    "",
    scope.info.name,
    (current) => {
      const ns = current as KubeObject & { spec?: { finalizers?: string[] } };
      ns.spec = { ...(ns.spec ?? {}), finalizers: [...((finalizers as string[] | undefined) ?? [])] };
      if (pinned) metaOf(ns).resourceVersion = pinned;
      else delete metaOf(ns).resourceVersion;
      return ns;
    },
    { user: scope.user, dryRun, subresource: "finalize" },
    { mode: "internal" },
  );
  writeObject(scope.res, 200, result.object, { encoding: scope.format.encoding });
}

// Streaming --------------------------------------------------------------------------------------------------------

export async function connect(scope: RequestScope): Promise<void> {
  const stored = streamObjectName(scope.served.plural, scope.info.subresource, scope.info.name);
  const obj = await scope.store.get(scope.info.namespace, stored);
  await scope.ctx.streaming.handle(
    {
      resource: scope.served,
      subresource: scope.info.subresource,
      namespace: scope.info.namespace,
      name: scope.info.name,
      object: obj,
      query: scope.query,
      rest: scope.info.rest,
    },
    scope.req,
    scope.res,
  );
}
