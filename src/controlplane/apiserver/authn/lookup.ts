import type { KubeObject } from "../../../api/resource.ts";

/** Reads one object the way authenticators need it: from the watch cache, else from storage. */
export type ObjectLookup = (
  resource: { group: string; version: string; plural: string },
  namespace: string,
  name: string,
) => Promise<KubeObject | undefined>;
