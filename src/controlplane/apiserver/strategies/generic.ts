// The strategy most kinds use: status (when the kind has a status subresource) is owned by the status
// endpoint, everything else by the main endpoint.

import type { KubeObject } from "../../../api/resource.ts";
import type { PropagationPolicy, Strategy } from "./types.ts";

export interface GenericStrategyOptions {
  hasStatus: boolean;
  tracksGeneration?: boolean;
  returnDeletedObject?: boolean;
  allowCreateOnUpdate?: boolean;
  defaultPropagation?: PropagationPolicy;
  /** Keep a client-supplied status on create (nodes register with theirs). */
  keepStatusOnCreate?: boolean;
}

/** Copies every top-level field except metadata and status from `from` into `to`. */
export function copyAllButStatus(to: KubeObject, from: KubeObject): void {
  for (const key of Object.keys(to)) {
    if (key !== "metadata" && key !== "status" && key !== "apiVersion" && key !== "kind") delete to[key];
  }
  for (const [key, value] of Object.entries(from)) {
    if (key !== "metadata" && key !== "status" && key !== "apiVersion" && key !== "kind")
      to[key] = structuredClone(value);
  }
}

export function genericStrategy(options: GenericStrategyOptions): Strategy {
  return {
    tracksGeneration: options.tracksGeneration ?? false,
    returnDeletedObject: options.returnDeletedObject ?? false,
    allowCreateOnUpdate: options.allowCreateOnUpdate ?? false,
    allowUnconditionalUpdate: true,
    defaultPropagation: options.defaultPropagation ?? "Background",
    prepareForCreate(obj) {
      if (options.hasStatus && !options.keepStatusOnCreate) obj.status = {};
    },
    prepareForUpdate(obj, old) {
      if (!options.hasStatus) return;
      if (old.status === undefined) delete obj.status;
      else obj.status = structuredClone(old.status);
    },
    prepareForStatusUpdate(obj, old) {
      copyAllButStatus(obj, old);
    },
  };
}
