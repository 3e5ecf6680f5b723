// apimachinery's shared types: object and list metadata, selectors, owner references, times, quantities,
// int-or-string, Status, DeleteOptions, Table, WatchEvent and discovery lists.

import {
  always,
  atomicList,
  bool,
  int32,
  int64,
  mapList,
  named,
  opt,
  req,
  type Static,
  setList,
  str,
  stringMap,
  struct,
  Type,
  typeMetaFields,
} from "./dsl.ts";

const META = "io.k8s.apimachinery.pkg.apis.meta.v1";

export const Time = named(
  `${META}.Time`,
  Type.String({
    format: "date-time",
    description:
      "Time is a wrapper around time.Time which supports correct marshaling to YAML and JSON. It is serialized as RFC 3339 with second precision.",
  }),
);

export const MicroTime = named(
  `${META}.MicroTime`,
  Type.String({
    format: "date-time",
    description: "MicroTime is a version of Time with microsecond level precision.",
  }),
);

/** Resource quantities ("100m", "1Gi", 2); decoding turns numbers into their canonical string form. */
export const Quantity = named(
  "io.k8s.apimachinery.pkg.api.resource.Quantity",
  Type.Unsafe<string>({
    description:
      'Quantity is a fixed-point representation of a number, serialized as a string: a signed number followed by an optional suffix — binary SI (Ki, Mi, Gi, Ti, Pi, Ei), decimal SI (n, u, m, "", k, M, G, T, P, E) or a decimal exponent (e3, E6). Examples: 100m, 0.5, 128Mi, 1G.',
    oneOf: [{ type: "string" }, { type: "number" }],
  }),
);

export const IntOrString = named(
  "io.k8s.apimachinery.pkg.util.intstr.IntOrString",
  Type.Unsafe<number | string>({
    description:
      "IntOrString is a type that can hold an int32 or a string. When used in JSON or YAML marshalling and unmarshalling, it produces or consumes the inner type.",
    format: "int-or-string",
    "x-kubernetes-int-or-string": true,
    oneOf: [{ type: "integer" }, { type: "string" }],
  }),
);

export const FieldsV1 = named(
  `${META}.FieldsV1`,
  Type.Unsafe<Record<string, unknown>>({
    type: "object",
    description:
      "FieldsV1 stores a set of fields in a data structure like a Trie, in JSON format. Each key is either a '.' representing the field itself, 'f:<name>', 'v:<value>', 'k:<keys>' or 'i:<index>'.",
  }),
);

export const RawExtension = named(
  "io.k8s.apimachinery.pkg.runtime.RawExtension",
  Type.Unsafe<Record<string, unknown>>({
    type: "object",
    description: "RawExtension holds an embedded object (any JSON object with apiVersion and kind).",
  }),
);

export const ManagedFieldsEntry = named(
  `${META}.ManagedFieldsEntry`,
  struct(
    "ManagedFieldsEntry is a workflow-id, a FieldSet and the group version of the resource that the fieldset applies to.",
    {
      manager: opt(str(), "Manager is an identifier of the workflow managing these fields."),
      operation: opt(
        str(),
        "Operation is the type of operation which lead to this ManagedFieldsEntry being created. The only valid values for this field are 'Apply' and 'Update'.",
      ),
      apiVersion: opt(
        str(),
        "APIVersion defines the version of this resource that this field set applies to.",
      ),
      time: opt(Time, "Time is the timestamp of when the ManagedFields entry was added."),
      fieldsType: opt(
        str(),
        'FieldsType is the discriminator for the different fields format. The only valid value is "FieldsV1".',
      ),
      fieldsV1: opt(
        FieldsV1,
        'FieldsV1 holds the first JSON version format as described in the "FieldsV1" type.',
      ),
      subresource: opt(
        str(),
        "Subresource is the name of the subresource used to update that object, or empty string if the object was updated through the main resource.",
      ),
    },
  ),
);

export const OwnerReference = named(
  `${META}.OwnerReference`,
  Type.Object(
    {
      apiVersion: req(str(), "API version of the referent."),
      kind: req(str(), "Kind of the referent."),
      name: req(str(), "Name of the referent."),
      uid: req(str(), "UID of the referent."),
      controller: opt(bool(), "If true, this reference points to the managing controller."),
      blockOwnerDeletion: opt(
        bool(),
        'If true, AND if the owner has the "foregroundDeletion" finalizer, then the owner cannot be deleted from the key-value store until this reference is removed.',
      ),
    },
    {
      description:
        "OwnerReference contains enough information to let you identify an owning object. An owning object must be in the same namespace as the dependent, or be cluster-scoped, so there is no namespace field.",
      "x-kubernetes-map-type": "atomic",
    },
  ),
);

export const ObjectMeta = named(
  `${META}.ObjectMeta`,
  struct(
    "ObjectMeta is metadata that all persisted resources must have, which includes all objects users must create.",
    {
      name: opt(
        str(),
        "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Cannot be updated.",
      ),
      generateName: opt(
        str(),
        "GenerateName is an optional prefix, used by the server, to generate a unique name ONLY IF the Name field has not been provided. The server appends a random suffix to it.",
      ),
      namespace: opt(
        str(),
        'Namespace defines the space within which each name must be unique. An empty namespace is equivalent to the "default" namespace. Cluster-scoped objects have no namespace. Cannot be updated.',
      ),
      selfLink: opt(
        str(),
        "Deprecated: selfLink is a legacy read-only field that is no longer populated by the system.",
      ),
      uid: opt(
        str(),
        "UID is the unique in time and space value for this object. It is generated by the server on successful creation of a resource and is not allowed to change on PUT operations. Read-only.",
      ),
      resourceVersion: opt(
        str(),
        "An opaque value that represents the internal version of this object that can be used by clients to determine when objects have changed; used for optimistic concurrency, change detection, and the watch operation. Read-only.",
      ),
      generation: opt(
        int64(),
        "A sequence number representing a specific generation of the desired state. Read-only.",
      ),
      creationTimestamp: opt(
        Time,
        "CreationTimestamp is a timestamp representing the server time when this object was created. Set by the system. Read-only.",
      ),
      deletionTimestamp: opt(
        Time,
        "DeletionTimestamp is the RFC 3339 date and time at which this resource will be deleted. Set by the server when a graceful deletion is requested by the user. Read-only.",
      ),
      deletionGracePeriodSeconds: opt(
        int64(),
        "Number of seconds allowed for this object to gracefully terminate before it will be removed from the system. Only set when deletionTimestamp is also set. Read-only.",
      ),
      labels: opt(
        stringMap(),
        "Map of string keys and values that can be used to organize and categorize (scope and select) objects. May match selectors of replication controllers and services.",
      ),
      annotations: opt(
        stringMap(),
        "Annotations is an unstructured key value map stored with a resource that may be set by external tools to store and retrieve arbitrary metadata. They are not queryable.",
      ),
      ownerReferences: opt(
        mapList(OwnerReference, ["uid"], "uid"),
        "List of objects depended by this object. If ALL objects in the list have been deleted, this object will be garbage collected. If this object is managed by a controller, then an entry in this list will point to this controller, with the controller field set to true.",
      ),
      finalizers: opt(
        setList(str()),
        "Must be empty before the object is deleted from the registry. Each entry is an identifier for the responsible component that will remove the entry from the list.",
        { patchStrategy: "merge" },
      ),
      managedFields: opt(
        atomicList(ManagedFieldsEntry),
        "ManagedFields maps workflow-id and version to the set of fields that are managed by that workflow. This is mostly for internal housekeeping.",
      ),
    },
  ),
);
export type ObjectMeta = Static<typeof ObjectMeta>;

export const ListMeta = named(
  `${META}.ListMeta`,
  struct(
    "ListMeta describes metadata that synthetic resources must have, including lists and various status objects.",
    {
      selfLink: opt(
        str(),
        "Deprecated: selfLink is a legacy read-only field that is no longer populated by the system.",
      ),
      resourceVersion: opt(
        str(),
        "String that identifies the server's internal version of this object that can be used by clients to determine when objects have changed. Read-only.",
      ),
      continue: opt(
        str(),
        "continue may be set if the user set a limit on the number of items returned, and indicates that the server has more data available.",
      ),
      remainingItemCount: opt(
        int64(),
        "remainingItemCount is the number of subsequent items in the list which are not included in this list response.",
      ),
    },
  ),
);

export const LabelSelectorRequirement = named(
  `${META}.LabelSelectorRequirement`,
  struct(
    "A label selector requirement is a selector that contains values, a key, and an operator that relates the key and values.",
    {
      key: req(str(), "key is the label key that the selector applies to."),
      operator: req(
        str(),
        "operator represents a key's relationship to a set of values. Valid operators are In, NotIn, Exists and DoesNotExist.",
      ),
      values: opt(
        atomicList(str()),
        "values is an array of string values. If the operator is In or NotIn, the values array must be non-empty. If the operator is Exists or DoesNotExist, the values array must be empty.",
      ),
    },
  ),
);
export type LabelSelectorRequirement = Static<typeof LabelSelectorRequirement>;

export const LabelSelector = named(
  `${META}.LabelSelector`,
  Type.Object(
    {
      matchLabels: opt(
        stringMap(),
        'matchLabels is a map of {key,value} pairs. A single {key,value} in the matchLabels map is equivalent to an element of matchExpressions, whose key field is "key", the operator is "In", and the values array contains only "value". The requirements are ANDed.',
      ),
      matchExpressions: opt(
        atomicList(LabelSelectorRequirement),
        "matchExpressions is a list of label selector requirements. The requirements are ANDed.",
      ),
    },
    {
      description:
        "A label selector is a label query over a set of resources. The result of matchLabels and matchExpressions are ANDed. An empty label selector matches all objects. A null label selector matches no objects.",
      "x-kubernetes-map-type": "atomic",
    },
  ),
);
export type LabelSelector = Static<typeof LabelSelector>;

export const Preconditions = named(
  `${META}.Preconditions`,
  struct("Preconditions must be fulfilled before an operation (update, delete, etc.) is carried out.", {
    resourceVersion: opt(str(), "Specifies the target ResourceVersion"),
    uid: opt(str(), "Specifies the target UID."),
  }),
);

export const DeleteOptions = named(
  `${META}.DeleteOptions`,
  struct("DeleteOptions may be provided when deleting an API object.", {
    ...typeMetaFields(),
    gracePeriodSeconds: opt(
      int64(),
      "The duration in seconds before the object should be deleted. Value must be non-negative integer. The value zero indicates delete immediately. If unset, the default grace period for the specified type is used.",
    ),
    preconditions: opt(
      Preconditions,
      "Must be fulfilled before a deletion is carried out. If not possible, a 409 Conflict status will be returned.",
    ),
    orphanDependents: opt(
      bool(),
      "Deprecated: please use the PropagationPolicy. Should the dependent objects be orphaned.",
    ),
    propagationPolicy: opt(
      str(),
      "Whether and how garbage collection will be performed: 'Orphan', 'Background' or 'Foreground'.",
    ),
    dryRun: opt(
      atomicList(str()),
      "When present, indicates that modifications should not be persisted. Valid values are: - All: all dry run stages will be processed",
    ),
  }),
);
export type DeleteOptions = Static<typeof DeleteOptions>;

export const StatusCause = named(
  `${META}.StatusCause`,
  struct(
    "StatusCause provides more information about an api.Status failure, including cases when multiple errors are encountered.",
    {
      reason: opt(str(), "A machine-readable description of the cause of the error."),
      message: opt(str(), "A human-readable description of the cause of the error."),
      field: opt(
        str(),
        'The field of the resource that has caused this error, as named by its JSON serialization, e.g. "spec.containers[0].image".',
      ),
    },
  ),
);

export const StatusDetails = named(
  `${META}.StatusDetails`,
  struct(
    "StatusDetails is a set of additional properties that MAY be set by the server to provide additional information about a response.",
    {
      name: opt(
        str(),
        "The name attribute of the resource associated with the status StatusReason (when there is a single name).",
      ),
      group: opt(str(), "The group attribute of the resource associated with the status StatusReason."),
      kind: opt(str(), "The kind attribute of the resource associated with the status StatusReason."),
      uid: opt(str(), "UID of the resource (when there is a single resource which can be described)."),
      causes: opt(
        atomicList(StatusCause),
        "The Causes array includes more details associated with the StatusReason failure.",
      ),
      retryAfterSeconds: opt(
        int32(),
        "If specified, the time in seconds before the operation should be retried.",
      ),
    },
  ),
);

export const Status = named(
  `${META}.Status`,
  struct("Status is a return value for calls that don't return other objects.", {
    ...typeMetaFields(),
    metadata: always(ListMeta, "Standard list metadata."),
    status: opt(str(), 'Status of the operation. One of: "Success" or "Failure".'),
    message: opt(str(), "A human-readable description of the status of this operation."),
    reason: opt(str(), 'A machine-readable description of why this operation is in the "Failure" status.'),
    details: opt(StatusDetails, "Extended data associated with the reason."),
    code: opt(int32(), "Suggested HTTP return code for this status, 0 if not set."),
  }),
);
export type Status = Static<typeof Status>;

export const WatchEvent = named(
  `${META}.WatchEvent`,
  struct("Event represents a single event to a watched resource.", {
    type: req(str(), "ADDED, MODIFIED, DELETED, BOOKMARK or ERROR."),
    object: req(
      RawExtension,
      "Object is: * If Type is Added or Modified: the new state of the object. * If Type is Deleted: the state of the object immediately before deletion. * If Type is Error: *Status is recommended.",
    ),
  }),
);

export const Patch = named(
  `${META}.Patch`,
  Type.Unsafe<Record<string, unknown>>({
    type: "object",
    description: "Patch is provided to give a concrete name and type to the Kubernetes PATCH request body.",
  }),
);

export const APIResource = named(
  `${META}.APIResource`,
  struct("APIResource specifies the name of a resource and whether it is namespaced.", {
    name: req(str(), "name is the plural name of the resource."),
    singularName: req(str(), "singularName is the singular name of the resource."),
    namespaced: req(bool(), "namespaced indicates if a resource is namespaced or not."),
    group: opt(str(), "group is the preferred group of the resource."),
    version: opt(str(), "version is the preferred version of the resource."),
    kind: req(str(), "kind is the kind for the resource (e.g. 'Foo' is the kind for a resource 'foo')"),
    verbs: req(Type.Array(str()), "verbs is a list of supported kube verbs."),
    shortNames: opt(atomicList(str()), "shortNames is a list of suggested short names of the resource."),
    categories: opt(
      atomicList(str()),
      "categories is a list of the grouped resources this resource belongs to (e.g. 'all')",
    ),
    storageVersionHash: opt(str(), "The hash value of the storage version."),
  }),
);

export const APIResourceList = named(
  `${META}.APIResourceList`,
  struct(
    "APIResourceList is a list of APIResource, the resources supported in a specific group and version.",
    {
      ...typeMetaFields(),
      groupVersion: req(str(), "groupVersion is the group and version this APIResourceList is for."),
      resources: req(
        atomicList(APIResource),
        "resources contains the name of the resources and if they are namespaced.",
      ),
    },
  ),
);

export const TableColumnDefinition = named(
  `${META}.TableColumnDefinition`,
  struct("TableColumnDefinition contains information about a column returned in the Table.", {
    name: req(str(), "name is a human readable name for the column."),
    type: req(
      str(),
      "type is an OpenAPI type definition for this column, such as number, integer, string, or array.",
    ),
    format: req(str(), "format is an optional OpenAPI type modifier for this column, such as name or date."),
    description: req(str(), "description is a human readable description of this column."),
    priority: req(
      int32(),
      "priority is an integer defining the relative importance of this column compared to others; 0 is the highest priority (shown by default).",
    ),
  }),
);

export const TableRowCondition = named(
  `${META}.TableRowCondition`,
  struct("TableRowCondition allows a row to be marked with additional information.", {
    type: req(str(), "Type of row condition. The only defined value is 'Completed'."),
    status: req(str(), "Status of the condition, one of True, False, Unknown."),
    reason: opt(str(), "(brief) machine readable reason for the condition's last transition."),
    message: opt(str(), "Human readable message indicating details about last transition."),
  }),
);

export const TableRow = named(
  `${META}.TableRow`,
  struct("TableRow is an individual row in a table.", {
    cells: req(
      atomicList(Type.Unsafe<unknown>({ type: "object" })),
      "cells will be as wide as the column definitions array and may contain strings, numbers, booleans, simple maps, lists, or null.",
    ),
    conditions: opt(atomicList(TableRowCondition), "conditions describe additional status of a row."),
    object: opt(RawExtension, "This field contains the requested additional information about each object."),
  }),
);

export const Table = named(
  `${META}.Table`,
  struct("Table is a tabular representation of a set of API resources.", {
    ...typeMetaFields(),
    metadata: always(ListMeta, "Standard list metadata."),
    columnDefinitions: req(
      atomicList(TableColumnDefinition),
      "columnDefinitions describes each column in the returned items array.",
    ),
    rows: req(atomicList(TableRow), "rows is the list of items in the table."),
  }),
);

export const Condition = named(
  `${META}.Condition`,
  struct("Condition contains details for one aspect of the current state of this API Resource.", {
    type: req(str(), "type of condition in CamelCase or in foo.example.com/CamelCase."),
    status: req(str(), "status of the condition, one of True, False, Unknown."),
    observedGeneration: opt(
      int64(),
      "observedGeneration represents the .metadata.generation that the condition was set based upon.",
    ),
    lastTransitionTime: req(
      Time,
      "lastTransitionTime is the last time the condition transitioned from one status to another.",
    ),
    reason: req(
      str(),
      "reason contains a programmatic identifier indicating the reason for the condition's last transition.",
    ),
    message: req(
      str(),
      "message is a human readable message indicating details about the transition. This may be an empty string.",
    ),
  }),
);
