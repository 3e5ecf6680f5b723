// core/v1 namespaces: the "kubernetes" finalizer and Active phase on create, the metadata.name label.

import { child, type FieldError, index, invalid } from "../field-errors.ts";
import { defineKind } from "../kind.ts";
import { isQualifiedName, nameIsDNSLabel } from "../names.ts";
import { AGE_COLUMN, column, NAME_COLUMN, since } from "../printing.ts";
import { Namespace } from "./namespace-types.ts";

const NAME_LABEL = "kubernetes.io/metadata.name";

export const namespaces = defineKind<Namespace>({
  group: "",
  version: "v1",
  kind: "Namespace",
  plural: "namespaces",
  namespaced: false,
  shortNames: ["ns"],
  verbs: ["create", "delete", "get", "list", "patch", "update", "watch"],
  subresources: ["status"],
  schema: Namespace,
  nameValidator: nameIsDNSLabel,
  applyDefaults(ns) {
    const name = ns.metadata?.name;
    if (name) {
      ns.metadata ??= {};
      ns.metadata.labels = { ...(ns.metadata.labels ?? {}), [NAME_LABEL]: name };
    }
    ns.status ??= {};
    if (!ns.status.phase) ns.status.phase = "Active";
  },
  prepareForCreate(ns) {
    const finalizers = ns.spec?.finalizers ?? [];
    ns.spec = {
      ...ns.spec,
      finalizers: finalizers.includes("kubernetes") ? finalizers : [...finalizers, "kubernetes"],
    };
    ns.status = { phase: "Active" };
  },
  prepareForUpdate(ns, old) {
    ns.spec = { ...ns.spec };
    if (old.spec?.finalizers) ns.spec.finalizers = old.spec.finalizers;
    else delete ns.spec.finalizers;
  },
  validate(ns) {
    const errs: FieldError[] = [];
    (ns.spec?.finalizers ?? []).forEach((f, i) => {
      const p = index(child("spec", "finalizers"), i);
      if (!f.includes("/") && f !== "kubernetes") {
        errs.push(invalid(p, f, "name is neither a standard finalizer name nor is it fully qualified"));
      }
      for (const msg of isQualifiedName(f)) errs.push(invalid(p, f, msg));
    });
    return errs;
  },
  table: {
    columns: [NAME_COLUMN, column("Status", "The status of the namespace"), AGE_COLUMN],
    row: (ns, now = new Date()) => [
      ns.metadata?.name ?? "",
      ns.status?.phase ?? "",
      since(ns.metadata?.creationTimestamp, now),
    ],
  },
  fieldSelectors: { "status.phase": (ns) => ns.status?.phase ?? "" },
});
