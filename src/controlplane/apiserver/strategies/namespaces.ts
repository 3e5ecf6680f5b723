// Namespaces: created Active with the "kubernetes" finalizer in spec.finalizers; a delete marks them
// Terminating and they stay until the namespace finalizer (namespace-finalizer.ts) has removed their
// content and cleared spec.finalizers through the finalize subresource.

import type { KubeObject } from "../../../api/resource.ts";
import type { KindDefinition } from "../../../api/schema/kind.ts";
import { genericStrategy } from "./generic.ts";
import type { Strategy } from "./types.ts";

export const NAMESPACE_FINALIZER = "kubernetes";

interface NamespaceLike extends KubeObject {
  spec?: { finalizers?: string[] };
  status?: { phase?: string };
}

export function namespaceStrategy(kind?: KindDefinition): Strategy {
  const base = genericStrategy({ hasStatus: true, kind });
  return {
    ...base,
    prepareForCreate(obj) {
      if (kind?.prepareForCreate) {
        kind.prepareForCreate(obj);
        return;
      }
      const ns = obj as NamespaceLike;
      ns.status = { phase: "Active" };
      const finalizers = new Set(ns.spec?.finalizers ?? []);
      finalizers.add(NAMESPACE_FINALIZER);
      ns.spec = { ...(ns.spec ?? {}), finalizers: [...finalizers] };
    },
    prepareForUpdate(obj, old) {
      base.prepareForUpdate(obj, old);
      if (kind?.prepareForUpdate) return;
      // spec.finalizers changes only through the finalize subresource.
      const ns = obj as NamespaceLike;
      const oldFinalizers = (old as NamespaceLike).spec?.finalizers;
      ns.spec = { ...(ns.spec ?? {}) };
      if (oldFinalizers === undefined) delete ns.spec.finalizers;
      else ns.spec.finalizers = [...oldFinalizers];
    },
    holdsDeletion(obj) {
      return ((obj as NamespaceLike).spec?.finalizers ?? []).length > 0;
    },
    markDeleting(obj) {
      const ns = obj as NamespaceLike;
      ns.status = { ...(ns.status ?? {}), phase: "Terminating" };
    },
  };
}
