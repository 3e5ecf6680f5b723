// The strategy most kinds use. The kind's own hooks (KindDefinition.prepareForCreate/prepareForUpdate,
// tracksGeneration) come from its schema module; this adds what the store itself decides: status belongs
// to the status endpoint, everything else to the main endpoint.

import type { KubeObject } from "../../../api/resource.ts";
import type { KindDefinition } from "../../../api/schema/kind.ts";
import type { PropagationPolicy, Strategy } from "./types.ts";

export interface GenericStrategyOptions {
  hasStatus: boolean;
  /** The kind's hooks, when its definition comes from the schema module. */
  kind?: KindDefinition | undefined;
  tracksGeneration?: boolean;
  returnDeletedObject?: boolean;
  allowCreateOnUpdate?: boolean;
  defaultPropagation?: PropagationPolicy;
  /** Without kind hooks: keep a client-supplied status on create (nodes register with theirs). */
  keepStatusOnCreate?: boolean;
}

/** Metadata a status write cannot change (upstream's status strategies keep them from the stored object). */
const STATUS_KEPT_METADATA = [
  "labels",
  "annotations",
  "finalizers",
  "ownerReferences",
  "deletionTimestamp",
  "deletionGracePeriodSeconds",
  "generation",
] as const;

/** Status update: everything but the status comes from the stored object. */
export function keepAllButStatus(to: KubeObject, from: KubeObject): void {
  for (const key of Object.keys(to)) {
    if (key !== "metadata" && key !== "status" && key !== "apiVersion" && key !== "kind") delete to[key];
  }
  for (const [key, value] of Object.entries(from)) {
    if (key !== "metadata" && key !== "status" && key !== "apiVersion" && key !== "kind")
      to[key] = structuredClone(value);
  }
  if (to.metadata === undefined) to.metadata = {};
  const meta = to.metadata as Record<string, unknown>;
  const oldMeta = (from.metadata ?? {}) as Record<string, unknown>;
  for (const field of STATUS_KEPT_METADATA) {
    if (oldMeta[field] === undefined) delete meta[field];
    else meta[field] = structuredClone(oldMeta[field]);
  }
}

/** Main-resource update: the stored status is kept. */
export function keepStatus(to: KubeObject, from: KubeObject): void {
  if (from.status === undefined) delete to.status;
  else to.status = structuredClone(from.status);
}

export function genericStrategy(options: GenericStrategyOptions): Strategy {
  const kind = options.kind;
  return {
    tracksGeneration: kind?.tracksGeneration || (options.tracksGeneration ?? false),
    returnDeletedObject: options.returnDeletedObject ?? false,
    allowCreateOnUpdate: options.allowCreateOnUpdate ?? false,
    allowUnconditionalUpdate: true,
    defaultPropagation: options.defaultPropagation ?? "Background",
    prepareForCreate(obj) {
      if (kind) kind.prepareForCreate?.(obj);
      else if (options.hasStatus && !options.keepStatusOnCreate) obj.status = {};
    },
    prepareForUpdate(obj, old) {
      if (options.hasStatus) keepStatus(obj, old);
      kind?.prepareForUpdate?.(obj, old);
    },
    prepareForStatusUpdate(obj, old) {
      keepAllButStatus(obj, old);
    },
  };
}
