// A hand-written fragment of upstream's OpenAPI v3 for the kinds the patch tests use, carrying the same
// strategic-merge and apply extensions upstream publishes (k8s.io/api struct tags): containers,
// initContainers, env, volumes, imagePullSecrets by name; ports by containerPort (+protocol for apply);
// volumeMounts by mountPath; ownerReferences by uid; conditions by type; finalizers a set; tolerations,
// args, command atomic; Service ports by port (+protocol). References use both `$ref` and upstream's
// `allOf: [{$ref}]` form so the resolver's two paths are exercised.

import { type PatchSchema, schemaFromDocument } from "../../../src/controlplane/apiserver/patch/index.ts";
import type { JsonObject } from "../../../src/controlplane/apiserver/patch/json-value.ts";

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const wrapped = (name: string, extra: Record<string, unknown> = {}) => ({ allOf: [ref(name)], ...extra });
const string = { type: "string" };
const integer = { type: "integer", format: "int32" };
const stringMap = { type: "object", additionalProperties: { type: "string", default: "" } };
const atomicStrings = {
  type: "array",
  items: { type: "string", default: "" },
  "x-kubernetes-list-type": "atomic",
};
const mapList = (item: string, keys: string[], patch?: { key: string; strategy: string }) => ({
  type: "array",
  items: wrapped(item, { default: {} }),
  "x-kubernetes-list-type": "map",
  "x-kubernetes-list-map-keys": keys,
  ...(patch
    ? { "x-kubernetes-patch-merge-key": patch.key, "x-kubernetes-patch-strategy": patch.strategy }
    : {}),
});
const intOrString = { "x-kubernetes-int-or-string": true, anyOf: [{ type: "integer" }, { type: "string" }] };

const N = {
  meta: "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
  owner: "io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference",
  managed: "io.k8s.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry",
  selector: "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector",
  requirement: "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement",
  pod: "io.k8s.api.core.v1.Pod",
  podSpec: "io.k8s.api.core.v1.PodSpec",
  podStatus: "io.k8s.api.core.v1.PodStatus",
  podCondition: "io.k8s.api.core.v1.PodCondition",
  container: "io.k8s.api.core.v1.Container",
  port: "io.k8s.api.core.v1.ContainerPort",
  env: "io.k8s.api.core.v1.EnvVar",
  mount: "io.k8s.api.core.v1.VolumeMount",
  volume: "io.k8s.api.core.v1.Volume",
  toleration: "io.k8s.api.core.v1.Toleration",
  localRef: "io.k8s.api.core.v1.LocalObjectReference",
  resources: "io.k8s.api.core.v1.ResourceRequirements",
  template: "io.k8s.api.core.v1.PodTemplateSpec",
  service: "io.k8s.api.core.v1.Service",
  serviceSpec: "io.k8s.api.core.v1.ServiceSpec",
  servicePort: "io.k8s.api.core.v1.ServicePort",
  configMap: "io.k8s.api.core.v1.ConfigMap",
  deployment: "io.k8s.api.apps.v1.Deployment",
  deploymentSpec: "io.k8s.api.apps.v1.DeploymentSpec",
  strategy: "io.k8s.api.apps.v1.DeploymentStrategy",
  rolling: "io.k8s.api.apps.v1.RollingUpdateDeployment",
};

const schemas: Record<string, unknown> = {
  [N.meta]: {
    type: "object",
    properties: {
      name: string,
      generateName: string,
      namespace: string,
      uid: string,
      resourceVersion: string,
      generation: { type: "integer", format: "int64" },
      creationTimestamp: string,
      deletionTimestamp: string,
      labels: stringMap,
      annotations: stringMap,
      finalizers: {
        type: "array",
        items: { type: "string", default: "" },
        "x-kubernetes-list-type": "set",
        "x-kubernetes-patch-strategy": "merge",
      },
      ownerReferences: mapList(N.owner, ["uid"], { key: "uid", strategy: "merge" }),
      managedFields: { type: "array", items: wrapped(N.managed, { default: {} }) },
    },
  },
  [N.owner]: {
    type: "object",
    required: ["apiVersion", "kind", "name", "uid"],
    properties: {
      apiVersion: string,
      kind: string,
      name: string,
      uid: string,
      controller: { type: "boolean" },
      blockOwnerDeletion: { type: "boolean" },
    },
    "x-kubernetes-map-type": "atomic",
  },
  [N.managed]: {
    type: "object",
    properties: {
      manager: string,
      operation: string,
      apiVersion: string,
      time: string,
      fieldsType: string,
      fieldsV1: { type: "object" },
      subresource: string,
    },
  },
  [N.selector]: {
    type: "object",
    properties: {
      matchLabels: stringMap,
      matchExpressions: {
        type: "array",
        items: wrapped(N.requirement, { default: {} }),
        "x-kubernetes-list-type": "atomic",
      },
    },
    "x-kubernetes-map-type": "atomic",
  },
  [N.requirement]: {
    type: "object",
    properties: { key: string, operator: string, values: atomicStrings },
  },
  [N.pod]: {
    type: "object",
    properties: {
      apiVersion: string,
      kind: string,
      metadata: wrapped(N.meta, { default: {} }),
      spec: wrapped(N.podSpec, { default: {} }),
      status: wrapped(N.podStatus, { default: {} }),
    },
  },
  [N.podSpec]: {
    type: "object",
    required: ["containers"],
    properties: {
      containers: mapList(N.container, ["name"], { key: "name", strategy: "merge" }),
      initContainers: mapList(N.container, ["name"], { key: "name", strategy: "merge" }),
      volumes: mapList(N.volume, ["name"], { key: "name", strategy: "merge,retainKeys" }),
      imagePullSecrets: mapList(N.localRef, ["name"], { key: "name", strategy: "merge" }),
      tolerations: {
        type: "array",
        items: wrapped(N.toleration, { default: {} }),
        "x-kubernetes-list-type": "atomic",
      },
      nodeSelector: { ...stringMap, "x-kubernetes-map-type": "atomic" },
      nodeName: string,
      restartPolicy: { ...string, default: "Always" },
      serviceAccountName: string,
      terminationGracePeriodSeconds: { type: "integer", format: "int64" },
      dnsPolicy: string,
    },
  },
  [N.podStatus]: {
    type: "object",
    properties: {
      phase: string,
      podIP: string,
      conditions: mapList(N.podCondition, ["type"], { key: "type", strategy: "merge" }),
    },
  },
  [N.podCondition]: {
    type: "object",
    properties: { type: string, status: string, reason: string, lastTransitionTime: string },
  },
  [N.container]: {
    type: "object",
    required: ["name"],
    properties: {
      name: string,
      image: string,
      imagePullPolicy: string,
      command: atomicStrings,
      args: atomicStrings,
      workingDir: string,
      ports: mapList(N.port, ["containerPort", "protocol"], { key: "containerPort", strategy: "merge" }),
      env: mapList(N.env, ["name"], { key: "name", strategy: "merge" }),
      volumeMounts: mapList(N.mount, ["mountPath"], { key: "mountPath", strategy: "merge" }),
      resources: wrapped(N.resources, { default: {} }),
      terminationMessagePath: string,
    },
  },
  [N.port]: {
    type: "object",
    required: ["containerPort"],
    properties: {
      name: string,
      hostPort: integer,
      containerPort: integer,
      protocol: { type: "string", default: "TCP" },
      hostIP: string,
    },
  },
  [N.env]: {
    type: "object",
    required: ["name"],
    properties: { name: string, value: string, valueFrom: { type: "object" } },
  },
  [N.mount]: {
    type: "object",
    properties: { name: string, mountPath: string, readOnly: { type: "boolean" }, subPath: string },
  },
  [N.volume]: {
    type: "object",
    required: ["name"],
    properties: {
      name: string,
      emptyDir: { type: "object", properties: { medium: string, sizeLimit: string } },
      configMap: { type: "object", properties: { name: string, defaultMode: integer } },
      secret: { type: "object", properties: { secretName: string } },
      hostPath: { type: "object", properties: { path: string, type: string } },
    },
  },
  [N.toleration]: {
    type: "object",
    properties: { key: string, operator: string, value: string, effect: string, tolerationSeconds: integer },
  },
  [N.localRef]: {
    type: "object",
    properties: { name: { ...string, default: "" } },
    "x-kubernetes-map-type": "atomic",
  },
  [N.resources]: {
    type: "object",
    properties: {
      limits: { type: "object", additionalProperties: intOrString },
      requests: { type: "object", additionalProperties: intOrString },
    },
  },
  [N.template]: {
    type: "object",
    properties: { metadata: wrapped(N.meta, { default: {} }), spec: wrapped(N.podSpec, { default: {} }) },
  },
  [N.deployment]: {
    type: "object",
    properties: {
      apiVersion: string,
      kind: string,
      metadata: wrapped(N.meta, { default: {} }),
      spec: wrapped(N.deploymentSpec, { default: {} }),
      status: { type: "object", properties: { replicas: integer, observedGeneration: integer } },
    },
  },
  [N.deploymentSpec]: {
    type: "object",
    properties: {
      replicas: integer,
      selector: ref(N.selector),
      template: wrapped(N.template, { default: {} }),
      strategy: wrapped(N.strategy, {
        default: {},
        "x-kubernetes-patch-strategy": "retainKeys",
      }),
      minReadySeconds: integer,
      revisionHistoryLimit: integer,
      progressDeadlineSeconds: integer,
    },
  },
  [N.strategy]: {
    type: "object",
    properties: { type: string, rollingUpdate: wrapped(N.rolling) },
  },
  [N.rolling]: { type: "object", properties: { maxUnavailable: intOrString, maxSurge: intOrString } },
  [N.service]: {
    type: "object",
    properties: {
      apiVersion: string,
      kind: string,
      metadata: wrapped(N.meta, { default: {} }),
      spec: wrapped(N.serviceSpec, { default: {} }),
      status: { type: "object" },
    },
  },
  [N.serviceSpec]: {
    type: "object",
    properties: {
      ports: mapList(N.servicePort, ["port", "protocol"], { key: "port", strategy: "merge" }),
      selector: { ...stringMap, "x-kubernetes-map-type": "atomic" },
      type: string,
      clusterIP: string,
      clusterIPs: atomicStrings,
      sessionAffinity: string,
    },
  },
  [N.servicePort]: {
    type: "object",
    required: ["port"],
    properties: {
      name: string,
      protocol: { type: "string", default: "TCP" },
      port: integer,
      targetPort: intOrString,
      nodePort: integer,
    },
  },
  [N.configMap]: {
    type: "object",
    properties: {
      apiVersion: string,
      kind: string,
      metadata: wrapped(N.meta, { default: {} }),
      data: stringMap,
      binaryData: { type: "object", additionalProperties: { type: "string", format: "byte" } },
      immutable: { type: "boolean" },
    },
  },
};

export const openApiDocument = { openapi: "3.0.0", components: { schemas } };

export type FixtureKind = "Pod" | "Deployment" | "Service" | "ConfigMap";

const ROOTS: Record<FixtureKind, string> = {
  Pod: N.pod,
  Deployment: N.deployment,
  Service: N.service,
  ConfigMap: N.configMap,
};

export const GVKS = {
  Pod: { group: "", version: "v1", kind: "Pod" },
  Deployment: { group: "apps", version: "v1", kind: "Deployment" },
  Service: { group: "", version: "v1", kind: "Service" },
  ConfigMap: { group: "", version: "v1", kind: "ConfigMap" },
} as const;

export function schemaFor(kind: FixtureKind): PatchSchema {
  return schemaFromDocument(openApiDocument, `#/components/schemas/${ROOTS[kind]}`);
}

/** A live two-container Pod as the server stores it (defaulted). */
export function livePod(): JsonObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: "web",
      namespace: "default",
      uid: "6f1f3c0e-0000-4000-8000-000000000001",
      resourceVersion: "42",
      creationTimestamp: "2025-01-01T00:00:00Z",
      labels: { app: "web", tier: "frontend" },
      annotations: { "example.com/owner": "team-a" },
      finalizers: ["example.com/a", "example.com/b"],
      ownerReferences: [
        { apiVersion: "apps/v1", kind: "ReplicaSet", name: "web-1", uid: "rs-uid-1", controller: true },
      ],
    },
    spec: {
      containers: [
        {
          name: "web",
          image: "nginx:1.25",
          ports: [
            { containerPort: 80, protocol: "TCP", name: "http" },
            { containerPort: 443, protocol: "TCP", name: "https" },
          ],
          env: [
            { name: "A", value: "1" },
            { name: "B", value: "2" },
          ],
          volumeMounts: [{ name: "data", mountPath: "/data" }],
          resources: {},
          imagePullPolicy: "IfNotPresent",
        },
        {
          name: "sidecar",
          image: "busybox:1.35",
          args: ["sleep", "3600"],
          resources: {},
          imagePullPolicy: "IfNotPresent",
        },
      ],
      volumes: [{ name: "data", emptyDir: {} }],
      tolerations: [{ key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute" }],
      imagePullSecrets: [{ name: "regcred" }],
      restartPolicy: "Always",
      nodeName: "node-1",
    },
    status: {
      phase: "Running",
      conditions: [
        { type: "Initialized", status: "True" },
        { type: "Ready", status: "True" },
      ],
    },
  };
}

/** A live Deployment with two containers, as `kubectl apply` created it (annotation included). */
export function liveDeployment(): JsonObject {
  const config = deploymentConfig();
  return {
    ...config,
    metadata: {
      ...(config.metadata as JsonObject),
      namespace: "default",
      uid: "d-uid",
      resourceVersion: "7",
      generation: 1,
      creationTimestamp: "2025-01-01T00:00:00Z",
      annotations: {
        "kubectl.kubernetes.io/last-applied-configuration": `${JSON.stringify(config)}\n`,
      },
    },
    spec: {
      ...(config.spec as JsonObject),
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "25%", maxSurge: "25%" } },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
    },
  };
}

/** The manifest a user applies for the Deployment above. */
export function deploymentConfig(): JsonObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", labels: { app: "web" } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: "web" } },
      template: {
        metadata: { labels: { app: "web" } },
        spec: {
          containers: [
            {
              name: "web",
              image: "nginx:1.25",
              ports: [{ containerPort: 80 }],
              env: [
                { name: "A", value: "1" },
                { name: "B", value: "2" },
              ],
            },
            { name: "sidecar", image: "busybox:1.35", args: ["sleep", "3600"] },
          ],
        },
      },
    },
  };
}

export function liveService(): JsonObject {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: {
      name: "web",
      namespace: "default",
      uid: "s-uid",
      resourceVersion: "9",
      labels: { app: "web" },
    },
    spec: {
      type: "NodePort",
      selector: { app: "web" },
      clusterIP: "10.96.0.10",
      clusterIPs: ["10.96.0.10"],
      sessionAffinity: "None",
      ports: [
        { name: "http", protocol: "TCP", port: 80, targetPort: 8080, nodePort: 30080 },
        { name: "dns", protocol: "UDP", port: 53, targetPort: 53, nodePort: 30053 },
      ],
    },
  };
}

export function liveConfigMap(): JsonObject {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "settings", namespace: "default", uid: "c-uid", resourceVersion: "3" },
    data: { "app.properties": "color=blue\n", mode: "fast" },
  };
}

/** The same clock instant every test uses. */
export const NOW = new Date("2025-06-01T12:00:00.000Z");
export const LATER = new Date("2025-06-01T12:05:00.000Z");
