// core/v1 pods and bindings: definition, strategy (status reset on create, QoS class), validation.

import { child, type FieldError, invalid, required } from "../field-errors.ts";
import { defineKind } from "../kind.ts";
import { nameIsDNSSubdomain } from "../names.ts";
import { quantityValue } from "../quantity.ts";
import { Binding, type BindingObject } from "./binding-types.ts";
import type { Container } from "./container.ts";
import { defaultPodSpec } from "./pod-defaults.ts";
import { podTable } from "./pod-table.ts";
import { Pod, type PodSpec } from "./pod-types.ts";
import { validatePodSpec, validatePodSpecUpdate } from "./pod-validation.ts";

/** Upstream's QoS class: Guaranteed, Burstable or BestEffort. */
export function qosClass(spec: PodSpec): "Guaranteed" | "Burstable" | "BestEffort" {
  const all: Container[] = [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
  let anySet = false;
  let guaranteed = true;
  for (const c of all) {
    const requests = c.resources?.requests ?? {};
    const limits = c.resources?.limits ?? {};
    for (const name of ["cpu", "memory"]) {
      const r = requests[name];
      const l = limits[name];
      if ((r !== undefined && quantityValue(r) !== 0) || (l !== undefined && quantityValue(l) !== 0))
        anySet = true;
      if (l === undefined || (r !== undefined && quantityValue(r) !== quantityValue(l))) guaranteed = false;
    }
  }
  if (!anySet) return "BestEffort";
  return guaranteed ? "Guaranteed" : "Burstable";
}

export const pods = defineKind<Pod>({
  group: "",
  version: "v1",
  kind: "Pod",
  plural: "pods",
  namespaced: true,
  shortNames: ["po"],
  categories: ["all"],
  subresources: ["status", "binding", "eviction", "log", "exec", "attach", "portforward", "proxy"],
  schema: Pod,
  nameValidator: nameIsDNSSubdomain,
  applyDefaults(pod) {
    pod.spec ??= { containers: [] };
    defaultPodSpec(pod.spec);
  },
  prepareForCreate(pod) {
    const spec = pod.spec ?? { containers: [] };
    // The ServiceAccount admission plugin's default.
    if (!spec.serviceAccountName) {
      spec.serviceAccountName = "default";
      spec.serviceAccount = "default";
    }
    pod.status = { phase: "Pending", qosClass: qosClass(spec) };
  },
  validate(pod, old) {
    const errs = validatePodSpec(pod.spec ?? { containers: [] }, "spec");
    if (old)
      errs.push(
        ...validatePodSpecUpdate(pod.spec ?? { containers: [] }, old.spec ?? { containers: [] }, "spec"),
      );
    return errs;
  },
  validateStatusUpdate(pod) {
    const errs: FieldError[] = [];
    for (const [i, s] of (pod.status?.containerStatuses ?? []).entries()) {
      if (!s.name) errs.push(required(child(`status.containerStatuses[${i}]`, "name")));
      if (s.restartCount < 0) {
        errs.push(
          invalid(
            child(`status.containerStatuses[${i}]`, "restartCount"),
            s.restartCount,
            "must be greater than or equal to 0",
          ),
        );
      }
    }
    return errs;
  },
  table: podTable,
  fieldSelectors: {
    "spec.nodeName": (p) => p.spec?.nodeName ?? "",
    "spec.restartPolicy": (p) => p.spec?.restartPolicy ?? "",
    "spec.schedulerName": (p) => p.spec?.schedulerName ?? "",
    "spec.serviceAccountName": (p) => p.spec?.serviceAccountName ?? "",
    "spec.hostNetwork": (p) => String(p.spec?.hostNetwork === true),
    "status.phase": (p) => p.status?.phase ?? "",
    "status.podIP": (p) => p.status?.podIP ?? "",
    "status.nominatedNodeName": (p) => p.status?.nominatedNodeName ?? "",
  },
});

export const bindings = defineKind<BindingObject>({
  group: "",
  version: "v1",
  kind: "Binding",
  plural: "bindings",
  namespaced: true,
  verbs: ["create"],
  schema: Binding,
  nameValidator: nameIsDNSSubdomain,
  validate(binding) {
    const errs: FieldError[] = [];
    if (!binding.target?.name) errs.push(required("target.name"));
    const kind = binding.target?.kind;
    if (kind && kind !== "Node") errs.push(invalid("target.kind", kind, "must be empty or 'Node'"));
    return errs;
  },
  table: { columns: [], row: () => [] },
});
