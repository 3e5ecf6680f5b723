// Field tables of the Kubernetes protobuf messages this server decodes. Field names and numbers match
// upstream's generated.proto (k8s.io/api, k8s.io/apimachinery); names are the JSON names. Only the kinds
// that typed clients (kubectl create namespace/configmap/secret/serviceaccount, bindings, evictions)
// send as protobuf are covered.

export type Scalar = "string" | "bool" | "int32" | "int64" | "bytes";

export type FieldType = Scalar | { message: string } | { map: "string" | "bytes" };

export interface FieldDef {
  name: string;
  type: FieldType;
  repeated?: boolean;
}

export type MessageDef = Record<number, FieldDef>;

const msg = (message: string) => ({ message });
const s = (name: string): FieldDef => ({ name, type: "string" });
const strings = (name: string): FieldDef => ({ name, type: "string", repeated: true });

/** Messages whose JSON form is not an object (they are converted specially). */
export const SPECIAL = new Set(["Time", "MicroTime", "FieldsV1", "RawExtension", "IntOrString", "Quantity"]);

export const MESSAGES: Record<string, MessageDef> = {
  // k8s.io.apimachinery.pkg.apis.meta.v1
  Time: { 1: { name: "seconds", type: "int64" }, 2: { name: "nanos", type: "int32" } },
  MicroTime: { 1: { name: "seconds", type: "int64" }, 2: { name: "nanos", type: "int32" } },
  FieldsV1: { 1: { name: "Raw", type: "bytes" } },
  ObjectMeta: {
    1: s("name"),
    2: s("generateName"),
    3: s("namespace"),
    4: s("selfLink"),
    5: s("uid"),
    6: s("resourceVersion"),
    7: { name: "generation", type: "int64" },
    8: { name: "creationTimestamp", type: msg("Time") },
    9: { name: "deletionTimestamp", type: msg("Time") },
    10: { name: "deletionGracePeriodSeconds", type: "int64" },
    11: { name: "labels", type: { map: "string" } },
    12: { name: "annotations", type: { map: "string" } },
    13: { name: "ownerReferences", type: msg("OwnerReference"), repeated: true },
    14: strings("finalizers"),
    17: { name: "managedFields", type: msg("ManagedFieldsEntry"), repeated: true },
  },
  OwnerReference: {
    1: s("kind"),
    3: s("name"),
    4: s("uid"),
    5: s("apiVersion"),
    6: { name: "controller", type: "bool" },
    7: { name: "blockOwnerDeletion", type: "bool" },
  },
  ManagedFieldsEntry: {
    1: s("manager"),
    2: s("operation"),
    3: s("apiVersion"),
    4: { name: "time", type: msg("Time") },
    6: s("fieldsType"),
    7: { name: "fieldsV1", type: msg("FieldsV1") },
    8: s("subresource"),
  },
  Preconditions: { 1: s("uid"), 2: s("resourceVersion") },
  DeleteOptions: {
    1: { name: "gracePeriodSeconds", type: "int64" },
    2: { name: "preconditions", type: msg("Preconditions") },
    3: { name: "orphanDependents", type: "bool" },
    4: s("propagationPolicy"),
    5: strings("dryRun"),
  },
  // k8s.io.api.core.v1
  Namespace: {
    1: { name: "metadata", type: msg("ObjectMeta") },
    2: { name: "spec", type: msg("NamespaceSpec") },
    3: { name: "status", type: msg("NamespaceStatus") },
  },
  NamespaceSpec: { 1: strings("finalizers") },
  NamespaceStatus: {
    1: s("phase"),
    2: { name: "conditions", type: msg("NamespaceCondition"), repeated: true },
  },
  NamespaceCondition: {
    1: s("type"),
    2: s("status"),
    4: { name: "lastTransitionTime", type: msg("Time") },
    5: s("reason"),
    6: s("message"),
  },
  ConfigMap: {
    1: { name: "metadata", type: msg("ObjectMeta") },
    2: { name: "data", type: { map: "string" } },
    3: { name: "binaryData", type: { map: "bytes" } },
    4: { name: "immutable", type: "bool" },
  },
  Secret: {
    1: { name: "metadata", type: msg("ObjectMeta") },
    2: { name: "data", type: { map: "bytes" } },
    3: s("type"),
    4: { name: "stringData", type: { map: "string" } },
    5: { name: "immutable", type: "bool" },
  },
  ServiceAccount: {
    1: { name: "metadata", type: msg("ObjectMeta") },
    2: { name: "secrets", type: msg("ObjectReference"), repeated: true },
    3: { name: "imagePullSecrets", type: msg("LocalObjectReference"), repeated: true },
    4: { name: "automountServiceAccountToken", type: "bool" },
  },
  ObjectReference: {
    1: s("kind"),
    2: s("namespace"),
    3: s("name"),
    4: s("uid"),
    5: s("apiVersion"),
    6: s("resourceVersion"),
    7: s("fieldPath"),
  },
  LocalObjectReference: { 1: s("name") },
  Binding: {
    1: { name: "metadata", type: msg("ObjectMeta") },
    2: { name: "target", type: msg("ObjectReference") },
  },
  // k8s.io.api.policy.v1
  Eviction: {
    1: { name: "metadata", type: msg("ObjectMeta") },
    2: { name: "deleteOptions", type: msg("DeleteOptions") },
  },
};

/** Top-level kinds accepted as protobuf bodies, by "apiVersion/Kind". */
export const TOP_LEVEL: Record<string, string> = {
  "v1/Namespace": "Namespace",
  "v1/ConfigMap": "ConfigMap",
  "v1/Secret": "Secret",
  "v1/ServiceAccount": "ServiceAccount",
  "v1/Binding": "Binding",
  "policy/v1/Eviction": "Eviction",
  "meta.k8s.io/v1/DeleteOptions": "DeleteOptions",
  "v1/DeleteOptions": "DeleteOptions",
};
