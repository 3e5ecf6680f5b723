// A tiny set of resource definitions for the API server's unit tests, independent of the real schemas.

import type { KubeObject, ResourceDefinition } from "../../../src/api/resource.ts";

const VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

const metadataSchema = {
  type: "object",
  properties: {
    name: { type: "string" },
    generateName: { type: "string" },
    namespace: { type: "string" },
    uid: { type: "string" },
    resourceVersion: { type: "string" },
    generation: { type: "integer" },
    creationTimestamp: { type: "string" },
    deletionTimestamp: { type: "string" },
    deletionGracePeriodSeconds: { type: "integer" },
    labels: { type: "object", additionalProperties: { type: "string" } },
    annotations: { type: "object", additionalProperties: { type: "string" } },
    ownerReferences: { type: "array", items: { type: "object" } },
    finalizers: { type: "array", items: { type: "string" } },
    managedFields: { type: "array", items: { type: "object" } },
  },
};

function schema(extra: Record<string, unknown>) {
  return {
    type: "object",
    properties: {
      apiVersion: { type: "string" },
      kind: { type: "string" },
      metadata: metadataSchema,
      ...extra,
    },
  };
}

function age(obj: KubeObject): string {
  const t = obj.metadata?.creationTimestamp;
  return t ? `${Math.max(0, Math.round((Date.now() - Date.parse(t)) / 1000))}s` : "<unknown>";
}

function def(
  o: Partial<ResourceDefinition> &
    Pick<ResourceDefinition, "group" | "version" | "kind" | "plural" | "namespaced">,
): ResourceDefinition {
  return {
    singular: o.kind.toLowerCase(),
    shortNames: [],
    categories: [],
    verbs: VERBS,
    subresources: [],
    schema: schema({ spec: { type: "object" }, status: { type: "object" } }),
    applyDefaults: () => {},
    validate: () => [],
    table: {
      columns: [
        { name: "Name", type: "string", format: "name", description: "name", priority: 0 },
        { name: "Age", type: "string", description: "age", priority: 0 },
      ],
      row: (obj) => [obj.metadata?.name, age(obj)],
    },
    fieldSelectors: {},
    ...o,
  };
}

export const stubDefinitions: ResourceDefinition[] = [
  def({
    group: "",
    version: "v1",
    kind: "Namespace",
    plural: "namespaces",
    namespaced: false,
    shortNames: ["ns"],
    subresources: ["status"],
  }),
  def({
    group: "",
    version: "v1",
    kind: "Pod",
    plural: "pods",
    namespaced: true,
    shortNames: ["po"],
    categories: ["all"],
    subresources: ["status", "binding", "log", "exec", "attach", "portforward"],
    validate: (obj) => {
      const containers = (obj as { spec?: { containers?: Array<{ name?: string; image?: string }> } }).spec
        ?.containers;
      if (!containers || containers.length === 0) {
        return [{ reason: "FieldValueRequired", field: "spec.containers", message: "Required value" }];
      }
      return containers.flatMap((c, i) =>
        c.image
          ? []
          : [
              {
                reason: "FieldValueRequired",
                field: `spec.containers[${i}].image`,
                message: "Required value",
              },
            ],
      );
    },
    fieldSelectors: {
      "spec.nodeName": (o) => (o as { spec?: { nodeName?: string } }).spec?.nodeName,
      "status.phase": (o) => (o as { status?: { phase?: string } }).status?.phase,
    },
  }),
  def({
    group: "",
    version: "v1",
    kind: "ConfigMap",
    plural: "configmaps",
    namespaced: true,
    shortNames: ["cm"],
    schema: schema({ data: { type: "object", additionalProperties: { type: "string" } } }),
  }),
  def({
    group: "",
    version: "v1",
    kind: "Service",
    plural: "services",
    namespaced: true,
    shortNames: ["svc"],
    subresources: ["status"],
  }),
  def({
    group: "",
    version: "v1",
    kind: "Endpoints",
    plural: "endpoints",
    namespaced: true,
    shortNames: ["ep"],
  }),
  def({
    group: "",
    version: "v1",
    kind: "Event",
    plural: "events",
    namespaced: true,
    shortNames: ["ev"],
    schema: schema({
      involvedObject: { type: "object" },
      reason: { type: "string" },
      message: { type: "string" },
    }),
  }),
  def({
    group: "apps",
    version: "v1",
    kind: "ReplicaSet",
    plural: "replicasets",
    namespaced: true,
    shortNames: ["rs"],
    subresources: ["status", "scale"],
    scale: {
      specReplicas: "spec.replicas",
      statusReplicas: "status.replicas",
      labelSelector: "spec.selector",
    },
  }),
];
