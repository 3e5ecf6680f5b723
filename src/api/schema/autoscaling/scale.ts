// Builds the autoscaling/v1 Scale view of a workload (GET …/scale) and applies one back (PUT/PATCH …/scale),
// driven by the definition's `scale` binding.

import type { KubeObject, ResourceDefinition } from "../../resource.ts";
import type { LabelSelector } from "../meta.ts";
import { formatLabelSelector } from "../meta-validation.ts";
import { formatMapSelector } from "../printing.ts";
import type { Scale } from "./scale-types.ts";

function get(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split(".")) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function set(obj: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split(".");
  let cur = obj;
  for (const part of parts.slice(0, -1)) {
    if (cur[part] === null || typeof cur[part] !== "object") cur[part] = {};
    cur = cur[part] as Record<string, unknown>;
  }
  cur[parts[parts.length - 1] as string] = value;
}

/** The Scale object for `obj`; throws if the resource has no scale subresource. */
export function toScale(def: ResourceDefinition, obj: KubeObject): Scale {
  const binding = def.scale;
  if (!binding) throw new Error(`${def.plural} has no scale subresource`);
  const meta = obj.metadata ?? {};
  const selector = binding.labelSelector
    ? formatLabelSelector(get(obj, binding.labelSelector) as LabelSelector | undefined)
    : formatMapSelector(get(obj, "spec.selector") as Record<string, string> | undefined);
  const scale: Scale = {
    kind: "Scale",
    apiVersion: "autoscaling/v1",
    metadata: {
      name: meta.name,
      namespace: meta.namespace,
      uid: meta.uid,
      resourceVersion: meta.resourceVersion,
      creationTimestamp: meta.creationTimestamp,
    },
    spec: { replicas: (get(obj, binding.specReplicas) as number | undefined) ?? 0 },
    status: { replicas: (get(obj, binding.statusReplicas) as number | undefined) ?? 0 },
  };
  if (selector !== "<none>" && scale.status) scale.status.selector = selector;
  return scale;
}

/** A copy of `obj` with spec replicas taken from `scale`. */
export function applyScale(def: ResourceDefinition, obj: KubeObject, scale: Scale): KubeObject {
  const binding = def.scale;
  if (!binding) throw new Error(`${def.plural} has no scale subresource`);
  const out = structuredClone(obj) as Record<string, unknown>;
  set(out, binding.specReplicas, scale.spec?.replicas ?? 0);
  return out as KubeObject;
}
