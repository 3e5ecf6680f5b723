// Server-side printing: objects as meta.k8s.io Tables (what `kubectl get` asks for) and as
// PartialObjectMetadata. Columns and cells come from the kind's ResourceDefinition.

import type { KubeObject } from "../../api/resource.ts";
import { badRequest } from "./errors.ts";
import type { ServedResource } from "./resources.ts";

export type IncludeObject = "None" | "Metadata" | "Object";

export interface TableOptions {
  includeObject: IncludeObject;
  /** Omit column definitions (watch events after the first). */
  noHeaders: boolean;
}

export function parseIncludeObject(value: string | null): IncludeObject {
  if (value === null || value === "" || value === "Metadata") return "Metadata";
  if (value === "None" || value === "Object") return value;
  throw badRequest(`Unable to convert to Table as requested: unrecognized includeObject value: "${value}"`);
}

export interface ListMeta {
  resourceVersion?: string;
  continue?: string;
  remainingItemCount?: number;
}

export function partialObjectMetadata(obj: KubeObject, version: string): KubeObject {
  return {
    kind: "PartialObjectMetadata",
    apiVersion: `meta.k8s.io/${version}`,
    metadata: obj.metadata ?? {},
  };
}

function rowOf(r: ServedResource, obj: KubeObject, options: TableOptions, version: string) {
  const row: { cells: unknown[]; object?: unknown } = { cells: r.def.table.row(obj) };
  if (options.includeObject === "Metadata") row.object = partialObjectMetadata(obj, version);
  else if (options.includeObject === "Object") row.object = obj;
  return row;
}

export function toTable(
  r: ServedResource,
  objects: readonly KubeObject[],
  options: TableOptions,
  version: string,
  listMeta: ListMeta,
): Record<string, unknown> {
  const table: Record<string, unknown> = {
    kind: "Table",
    apiVersion: `meta.k8s.io/${version}`,
    metadata: listMeta,
    // Upstream leaves the column definitions out (null) when headers are not wanted.
    columnDefinitions: options.noHeaders
      ? null
      : r.def.table.columns.map((c) => ({
          name: c.name,
          type: c.type,
          format: c.format ?? "",
          description: c.description,
          priority: c.priority,
        })),
    rows: objects.map((o) => rowOf(r, o, options, version)),
  };
  return table;
}
