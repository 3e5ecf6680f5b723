// k8s.io.apimachinery: meta/v1 (ObjectMeta, LabelSelector, Time, DeleteOptions …), util/intstr (IntOrString)
// and api/resource (Quantity). Numbers and names as in apimachinery's generated.proto files.

import {
  bool,
  bytes,
  int32,
  int64,
  type MessageDef,
  obj,
  objs,
  ptr,
  str,
  stringMap,
  strs,
} from "../fields.ts";

export const META: Record<string, MessageDef> = {
  // Special JSON forms (see decode.ts): Time/MicroTime → RFC 3339, FieldsV1 → the JSON it carries,
  // Quantity → its string, IntOrString → a number or a string.
  Time: { 1: int64("seconds"), 2: int32("nanos") },
  MicroTime: { 1: int64("seconds"), 2: int32("nanos") },
  FieldsV1: { 1: bytes("Raw") },
  Quantity: { 1: str("string") },
  IntOrString: { 1: int64("type"), 2: int32("intVal"), 3: str("strVal") },

  ObjectMeta: {
    1: str("name"),
    2: str("generateName"),
    3: str("namespace"),
    4: str("selfLink"),
    5: str("uid"),
    6: str("resourceVersion"),
    7: int64("generation"),
    8: obj("creationTimestamp", "Time"),
    9: ptr(obj("deletionTimestamp", "Time")),
    10: ptr(int64("deletionGracePeriodSeconds")),
    11: stringMap("labels"),
    12: stringMap("annotations"),
    13: objs("ownerReferences", "OwnerReference"),
    14: strs("finalizers"),
    17: objs("managedFields", "ManagedFieldsEntry"),
  },
  OwnerReference: {
    1: str("kind"),
    3: str("name"),
    4: str("uid"),
    5: str("apiVersion"),
    6: ptr(bool("controller")),
    7: ptr(bool("blockOwnerDeletion")),
  },
  ManagedFieldsEntry: {
    1: str("manager"),
    2: str("operation"),
    3: str("apiVersion"),
    4: ptr(obj("time", "Time")),
    6: str("fieldsType"),
    7: ptr(obj("fieldsV1", "FieldsV1")),
    8: str("subresource"),
  },
  LabelSelector: {
    1: stringMap("matchLabels"),
    2: objs("matchExpressions", "LabelSelectorRequirement"),
  },
  LabelSelectorRequirement: { 1: str("key"), 2: str("operator"), 3: strs("values") },
  Condition: {
    1: str("type"),
    2: str("status"),
    3: int64("observedGeneration"),
    4: obj("lastTransitionTime", "Time"),
    5: str("reason"),
    6: str("message"),
  },
  Preconditions: { 1: ptr(str("uid")), 2: ptr(str("resourceVersion")) },
  DeleteOptions: {
    1: ptr(int64("gracePeriodSeconds")),
    2: ptr(obj("preconditions", "Preconditions")),
    3: ptr(bool("orphanDependents")),
    4: ptr(str("propagationPolicy")),
    5: strs("dryRun"),
    6: ptr(bool("ignoreStoreReadErrorWithClusterBreakingPotential")),
  },
};
