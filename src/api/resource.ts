// What the API server needs to know about one served resource. Every kind has exactly one definition, built
// from one schema (src/api/schema/), from which its TypeScript type, validation, defaulting, the OpenAPI
// document and discovery all derive.

/** The parts of ObjectMeta every stored object has; kinds carry the full ObjectMeta from the schema. */
export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  managedFields?: unknown[];
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  [field: string]: unknown;
}

/** One invalid field, as it appears in a 422 Status's details.causes. */
export interface FieldError {
  /** Upstream reasons: FieldValueRequired, FieldValueInvalid, FieldValueNotSupported, FieldValueDuplicate, FieldValueForbidden, FieldValueTooLong. */
  reason: string;
  /** JSON path in upstream's notation, e.g. "spec.containers[0].ports[1].containerPort". */
  field: string;
  message: string;
}

export type SubresourceName =
  | "status"
  | "approval"
  | "scale"
  | "binding"
  | "log"
  | "exec"
  | "attach"
  | "portforward"
  | "proxy"
  | "eviction"
  | "ephemeralcontainers"
  | "token";

export interface TableColumn {
  name: string;
  type: "string" | "integer" | "number" | "boolean" | "date";
  format?: "name" | string;
  description: string;
  /** 0 = shown by default; 1 = only with -o wide (upstream's priority). */
  priority: 0 | 1;
}

export interface ScaleBinding {
  /** Dotted paths into the object. */
  specReplicas: string;
  statusReplicas: string;
  /** Path of a LabelSelector object, or absent for ReplicationController's map selector (handled by name). */
  labelSelector?: string;
}

export interface ResourceDefinition<T extends KubeObject = KubeObject> {
  /** "" for the core group. */
  group: string;
  version: string;
  kind: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  verbs: string[];
  subresources: SubresourceName[];
  /** JSON Schema (OpenAPI 3 compatible) of the whole object; the single source of truth for the kind. */
  schema: Record<string, unknown>;
  /** Applies upstream's defaults in place (after schema defaults), e.g. pod restartPolicy=Always. */
  applyDefaults(obj: T): void;
  /** Semantic validation beyond the schema's structure; `old` is set on update. */
  validate(obj: T, old?: T): FieldError[];
  /** Columns for `kubectl get` (Table responses) and a row per object, same order. */
  table: { columns: TableColumn[]; row(obj: T): unknown[] };
  /** Field selectors this resource supports beyond metadata.name/metadata.namespace. */
  fieldSelectors: Record<string, (obj: T) => string | undefined>;
  scale?: ScaleBinding;
  /**
   * Set when this resource is another one's objects in a different form (events.k8s.io/v1 events are the
   * core/v1 events): where those are stored, and the conversions between the stored form and this one.
   */
  storedAs?: StoredAs<T>;
}

export interface StoredAs<T extends KubeObject = KubeObject> {
  group: string;
  plural: string;
  toStored(obj: T): KubeObject;
  fromStored(obj: KubeObject): T;
}
