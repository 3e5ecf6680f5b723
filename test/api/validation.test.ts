import { describe, expect, it } from "vitest";
import type { FieldError } from "../../src/api/resource.ts";
import { invalidStatus } from "../../src/api/schema/index.ts";
import { created, createErrors, def, meta, podSpec, template, updateErrors } from "./helpers.ts";

const LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

type Case = [string, string, string, unknown, Partial<FieldError>];

const cases: Case[] = [
  [
    "pod name",
    "",
    "pods",
    { metadata: meta("Web_1"), spec: podSpec() },
    { field: "metadata.name", message: `Invalid value: "Web_1": ${SUBDOMAIN_MSG}` },
  ],
  [
    "name or generateName",
    "",
    "pods",
    { metadata: { namespace: "default" }, spec: podSpec() },
    {
      reason: "FieldValueRequired",
      field: "metadata.name",
      message: "Required value: name or generateName is required",
    },
  ],
  [
    "namespace required",
    "",
    "pods",
    { metadata: { name: "x" }, spec: podSpec() },
    { reason: "FieldValueRequired", field: "metadata.namespace" },
  ],
  [
    "no containers",
    "",
    "pods",
    { metadata: meta("x"), spec: {} },
    { reason: "FieldValueRequired", field: "spec.containers", message: "Required value" },
  ],
  [
    "image required",
    "",
    "pods",
    { metadata: meta("x"), spec: { containers: [{ name: "c" }] } },
    { reason: "FieldValueRequired", field: "spec.containers[0].image" },
  ],
  [
    "container name",
    "",
    "pods",
    { metadata: meta("x"), spec: { containers: [{ name: "Main", image: "i" }] } },
    { field: "spec.containers[0].name", message: `Invalid value: "Main": ${LABEL_MSG}` },
  ],
  [
    "duplicate container",
    "",
    "pods",
    {
      metadata: meta("x"),
      spec: {
        containers: [
          { name: "a", image: "i" },
          { name: "a", image: "i" },
        ],
      },
    },
    { reason: "FieldValueDuplicate", field: "spec.containers[1].name", message: 'Duplicate value: "a"' },
  ],
  [
    "init and app names clash",
    "",
    "pods",
    {
      metadata: meta("x"),
      spec: { initContainers: [{ name: "a", image: "i" }], containers: [{ name: "a", image: "i" }] },
    },
    { reason: "FieldValueDuplicate", field: "spec.containers[0].name" },
  ],
  [
    "port range",
    "",
    "pods",
    { metadata: meta("x"), spec: podSpec({ ports: [{ containerPort: 70000 }] }) },
    {
      field: "spec.containers[0].ports[0].containerPort",
      message: "Invalid value: 70000: must be between 1 and 65535, inclusive",
    },
  ],
  [
    "port required",
    "",
    "pods",
    { metadata: meta("x"), spec: podSpec({ ports: [{ name: "http" }] }) },
    { reason: "FieldValueRequired", field: "spec.containers[0].ports[0].containerPort" },
  ],
  [
    "protocol enum",
    "",
    "pods",
    { metadata: meta("x"), spec: podSpec({ ports: [{ containerPort: 80, protocol: "tcp" }] }) },
    {
      reason: "FieldValueNotSupported",
      field: "spec.containers[0].ports[0].protocol",
      message: 'Unsupported value: "tcp": supported values: "SCTP", "TCP", "UDP"',
    },
  ],
  [
    "restartPolicy enum",
    "",
    "pods",
    { metadata: meta("x"), spec: { ...podSpec(), restartPolicy: "Sometimes" } },
    {
      reason: "FieldValueNotSupported",
      field: "spec.restartPolicy",
      message: 'Unsupported value: "Sometimes": supported values: "Always", "Never", "OnFailure"',
    },
  ],
  [
    "imagePullPolicy enum",
    "",
    "pods",
    { metadata: meta("x"), spec: podSpec({ imagePullPolicy: "Sometimes" }) },
    { reason: "FieldValueNotSupported", field: "spec.containers[0].imagePullPolicy" },
  ],
  [
    "volume mount not found",
    "",
    "pods",
    { metadata: meta("x"), spec: podSpec({ volumeMounts: [{ name: "data", mountPath: "/d" }] }) },
    {
      reason: "FieldValueNotFound",
      field: "spec.containers[0].volumeMounts[0].name",
      message: 'Not found: "data"',
    },
  ],
  [
    "two volume sources",
    "",
    "pods",
    {
      metadata: meta("x"),
      spec: { ...podSpec(), volumes: [{ name: "v", emptyDir: {}, hostPath: { path: "/x" } }] },
    },
    {
      reason: "FieldValueForbidden",
      field: "spec.volumes[0].emptyDir",
      message: "Forbidden: may not specify more than 1 volume type",
    },
  ],
  [
    "probe handler",
    "",
    "pods",
    { metadata: meta("x"), spec: podSpec({ livenessProbe: { periodSeconds: 5 } }) },
    {
      reason: "FieldValueRequired",
      field: "spec.containers[0].livenessProbe",
      message: "Required value: must specify a handler type",
    },
  ],
  [
    "liveness successThreshold",
    "",
    "pods",
    {
      metadata: meta("x"),
      spec: podSpec({ livenessProbe: { exec: { command: ["true"] }, successThreshold: 2 } }),
    },
    { field: "spec.containers[0].livenessProbe.successThreshold", message: "Invalid value: 2: must be 1" },
  ],
  [
    "env name",
    "",
    "pods",
    { metadata: meta("x"), spec: podSpec({ env: [{ name: "1X", value: "y" }] }) },
    { field: "spec.containers[0].env[0].name" },
  ],
  [
    "env value and valueFrom",
    "",
    "pods",
    {
      metadata: meta("x"),
      spec: podSpec({
        env: [{ name: "X", value: "y", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }],
      }),
    },
    {
      field: "spec.containers[0].env[0].valueFrom",
      message: 'Invalid value: "": may not be specified when `value` is not empty',
    },
  ],
  [
    "requests above limits",
    "",
    "pods",
    { metadata: meta("x"), spec: podSpec({ resources: { requests: { cpu: "2" }, limits: { cpu: "1" } } }) },
    {
      field: "spec.containers[0].resources.requests[cpu]",
      message: 'Invalid value: "2": must be less than or equal to cpu limit of 1',
    },
  ],
  [
    "toleration operator",
    "",
    "pods",
    { metadata: meta("x"), spec: { ...podSpec(), tolerations: [{ key: "k", operator: "Maybe" }] } },
    {
      reason: "FieldValueNotSupported",
      field: "spec.tolerations[0].operator",
      message: 'Unsupported value: "Maybe": supported values: "Equal", "Exists"',
    },
  ],
  [
    "toleration without key",
    "",
    "pods",
    { metadata: meta("x"), spec: { ...podSpec(), tolerations: [{ operator: "Equal", value: "v" }] } },
    { field: "spec.tolerations[0].operator" },
  ],
  [
    "node affinity operator",
    "",
    "pods",
    {
      metadata: meta("x"),
      spec: {
        ...podSpec(),
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [{ matchExpressions: [{ key: "k", operator: "In" }] }],
            },
          },
        },
      },
    },
    {
      reason: "FieldValueRequired",
      field:
        "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values",
    },
  ],
  [
    "dnsPolicy None",
    "",
    "pods",
    { metadata: meta("x"), spec: { ...podSpec(), dnsPolicy: "None" } },
    { reason: "FieldValueRequired", field: "spec.dnsConfig" },
  ],
  [
    "label value",
    "",
    "pods",
    { metadata: { ...meta("x"), labels: { app: "a b" } }, spec: podSpec() },
    { field: "metadata.labels[app]" },
  ],
  [
    "label key",
    "",
    "configmaps",
    { metadata: { ...meta("x"), labels: { "-bad": "v" } } },
    { field: "metadata.labels" },
  ],
  [
    "namespace name",
    "",
    "namespaces",
    { metadata: { name: "Team.A" } },
    { field: "metadata.name", message: `Invalid value: "Team.A": ${LABEL_MSG}` },
  ],
  [
    "service name is DNS-1035",
    "",
    "services",
    { metadata: meta("1web"), spec: { ports: [{ port: 80 }] } },
    { field: "metadata.name" },
  ],
  [
    "service ports required",
    "",
    "services",
    { metadata: meta("web"), spec: {} },
    { reason: "FieldValueRequired", field: "spec.ports" },
  ],
  [
    "service port names",
    "",
    "services",
    { metadata: meta("web"), spec: { ports: [{ port: 80 }, { port: 443 }] } },
    { reason: "FieldValueRequired", field: "spec.ports[0].name" },
  ],
  [
    "service type enum",
    "",
    "services",
    { metadata: meta("web"), spec: { type: "Internal", ports: [{ port: 80 }] } },
    { reason: "FieldValueNotSupported", field: "spec.type" },
  ],
  [
    "nodePort on ClusterIP",
    "",
    "services",
    { metadata: meta("web"), spec: { ports: [{ port: 80, nodePort: 30080 }] } },
    {
      reason: "FieldValueForbidden",
      field: "spec.ports[0].nodePort",
      message: "Forbidden: may not be used when `type` is 'ClusterIP'",
    },
  ],
  ["configmap key", "", "configmaps", { metadata: meta("c"), data: { "a/b": "x" } }, { field: "data[a/b]" }],
  [
    "tls secret keys",
    "",
    "secrets",
    { metadata: meta("s"), type: "kubernetes.io/tls", data: { "tls.crt": "eA==" } },
    { reason: "FieldValueRequired", field: "data[tls.key]" },
  ],
  [
    "selector must match template",
    "apps",
    "deployments",
    {
      metadata: meta("d"),
      spec: { selector: { matchLabels: { app: "a" } }, template: template({ app: "b" }) },
    },
    {
      field: "spec.template.metadata.labels",
      message: 'Invalid value: {"app":"b"}: `selector` does not match template `labels`',
    },
  ],
  [
    "selector required",
    "apps",
    "deployments",
    { metadata: meta("d"), spec: { template: template({ app: "b" }) } },
    { reason: "FieldValueRequired", field: "spec.selector" },
  ],
  [
    "deployment restartPolicy",
    "apps",
    "deployments",
    {
      metadata: meta("d"),
      spec: {
        selector: { matchLabels: { app: "a" } },
        template: template({ app: "a" }, { restartPolicy: "Never" }),
      },
    },
    {
      reason: "FieldValueNotSupported",
      field: "spec.template.spec.restartPolicy",
      message: 'Unsupported value: "Never": supported values: "Always"',
    },
  ],
  [
    "negative replicas",
    "apps",
    "replicasets",
    {
      metadata: meta("r"),
      spec: { replicas: -1, selector: { matchLabels: { app: "a" } }, template: template({ app: "a" }) },
    },
    { field: "spec.replicas", message: "Invalid value: -1: must be greater than or equal to 0" },
  ],
  [
    "rolling update zero",
    "apps",
    "deployments",
    {
      metadata: meta("d"),
      spec: {
        selector: { matchLabels: { app: "a" } },
        template: template({ app: "a" }),
        strategy: { rollingUpdate: { maxSurge: 0, maxUnavailable: "0%" } },
      },
    },
    {
      field: "spec.strategy.rollingUpdate.maxUnavailable",
      message: 'Invalid value: "0%": may not be 0 when `maxSurge` is 0',
    },
  ],
  [
    "job restartPolicy",
    "batch",
    "jobs",
    { metadata: { ...meta("j"), uid: "u1" }, spec: { template: { spec: podSpec() } } },
    {
      reason: "FieldValueNotSupported",
      field: "spec.template.spec.restartPolicy",
      message: 'Unsupported value: "Always": supported values: "OnFailure", "Never"',
    },
  ],
  [
    "rc selector mismatch",
    "",
    "replicationcontrollers",
    { metadata: meta("rc"), spec: { selector: { app: "x" }, template: template({ app: "y" }) } },
    { field: "spec.template.metadata.labels" },
  ],
  [
    "lease duration",
    "coordination.k8s.io",
    "leases",
    { metadata: meta("l"), spec: { leaseDurationSeconds: 0 } },
    { field: "spec.leaseDurationSeconds" },
  ],
  [
    "endpointslice address",
    "discovery.k8s.io",
    "endpointslices",
    { metadata: meta("s"), addressType: "IPv4", endpoints: [{ addresses: ["10.0.0.300"] }] },
    { field: "endpoints[0].addresses[0]" },
  ],
  [
    "event type",
    "",
    "events",
    { metadata: meta("e"), involvedObject: { kind: "Pod", name: "p", namespace: "default" }, type: "Bad" },
    { reason: "FieldValueNotSupported", field: "type" },
  ],
];

describe("validation on create", () => {
  it.each(cases)("%s", (_name, group, plural, obj, expected) => {
    const errors = createErrors(group, plural, obj);
    expect(errors).toContainEqual(expect.objectContaining(expected));
  });

  it("accepts the seed-style manifests", () => {
    created("", "pods", {
      metadata: { ...meta("two"), labels: { app: "two" } },
      spec: {
        containers: [
          { name: "a", image: "busybox", command: ["sleep", "3600"] },
          { name: "b", image: "busybox", ports: [{ name: "http", containerPort: 8080 }] },
        ],
      },
    });
    created("apps", "replicasets", {
      metadata: meta("rs"),
      spec: {
        replicas: 2,
        selector: { matchExpressions: [{ key: "tier", operator: "In", values: ["frontend"] }] },
        template: template({ tier: "frontend" }),
      },
    });
    created("", "replicationcontrollers", {
      metadata: meta("rc"),
      spec: { replicas: 1, selector: { app: "rc" }, template: template({ app: "rc" }) },
    });
    created("", "namespaces", { metadata: { name: "team-b" } });
  });

  it("accepts legacy in-tree volume sources as opaque objects", () => {
    const pod = created("", "pods", {
      metadata: meta("legacy"),
      spec: {
        ...podSpec(),
        volumes: [{ name: "v", awsElasticBlockStore: { volumeID: "vol-1", fsType: "ext4" } }],
      },
    });
    expect(pod.spec.volumes[0]).toEqual({
      name: "v",
      awsElasticBlockStore: { volumeID: "vol-1", fsType: "ext4" },
    });
  });

  it("validates the generateName prefix when no name is given", () => {
    const errors = createErrors("", "pods", {
      metadata: { generateName: "web-", namespace: "default" },
      spec: podSpec(),
    });
    expect(errors).toEqual([]);
    const bad = createErrors("", "pods", {
      metadata: { generateName: "Web-", namespace: "default" },
      spec: podSpec(),
    });
    expect(bad).toContainEqual(expect.objectContaining({ field: "metadata.generateName" }));
  });

  it("builds upstream's 422 Status", () => {
    const errors = createErrors("", "pods", { metadata: meta("x"), spec: { containers: [{ name: "c" }] } });
    expect(invalidStatus(def("", "pods"), "x", errors)).toEqual({
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: 'Pod "x" is invalid: spec.containers[0].image: Required value',
      reason: "Invalid",
      details: {
        name: "x",
        kind: "Pod",
        causes: [
          { reason: "FieldValueRequired", message: "Required value", field: "spec.containers[0].image" },
        ],
      },
      code: 422,
    });
  });
});

describe("validation on update", () => {
  const pod = created("", "pods", {
    metadata: meta("p"),
    spec: { ...podSpec(), activeDeadlineSeconds: 100, tolerations: [{ key: "a", operator: "Exists" }] },
  });

  it("allows image changes, tolerations additions and shorter deadlines", () => {
    const next = structuredClone(pod);
    next.spec.containers[0].image = "busybox:1.36";
    next.spec.tolerations.push({ key: "b", operator: "Exists" });
    next.spec.activeDeadlineSeconds = 50;
    expect(updateErrors("", "pods", next, pod)).toEqual([]);
  });

  it("forbids other pod spec changes", () => {
    const next = structuredClone(pod);
    next.spec.containers[0].command = ["sh"];
    expect(updateErrors("", "pods", next, pod)).toContainEqual(
      expect.objectContaining({
        reason: "FieldValueForbidden",
        field: "spec",
        message: expect.stringContaining(
          "Forbidden: pod updates may not change fields other than `spec.containers[*].image`",
        ),
      }),
    );
    const longer = structuredClone(pod);
    longer.spec.activeDeadlineSeconds = 200;
    expect(updateErrors("", "pods", longer, pod)).toContainEqual(
      expect.objectContaining({
        field: "spec.activeDeadlineSeconds",
        message: "Invalid value: 200: must be less than or equal to previous value",
      }),
    );
  });

  it("keeps names immutable", () => {
    const next = structuredClone(pod);
    next.metadata.name = "q";
    expect(updateErrors("", "pods", next, pod)).toContainEqual(
      expect.objectContaining({ field: "metadata.name", message: 'Invalid value: "q": field is immutable' }),
    );
  });

  it("keeps a service's clusterIP and copies allocated values the update left out", () => {
    const svc = created("", "services", {
      metadata: meta("s"),
      spec: { type: "NodePort", clusterIP: "10.96.0.10", ports: [{ port: 80, nodePort: 30080 }] },
    });
    const omitted = { metadata: svc.metadata, spec: { type: "NodePort", ports: [{ port: 80 }] } };
    expect(updateErrors("", "services", omitted, svc)).toEqual([]);
    const changed = structuredClone(svc);
    changed.spec.clusterIP = "10.96.0.11";
    changed.spec.clusterIPs = ["10.96.0.11"];
    expect(updateErrors("", "services", changed, svc)).toContainEqual(
      expect.objectContaining({
        field: "spec.clusterIPs[0]",
        message: 'Invalid value: "10.96.0.11": field is immutable',
      }),
    );
  });

  it("keeps workload selectors immutable", () => {
    const d = created("apps", "deployments", {
      metadata: meta("d"),
      spec: { selector: { matchLabels: { app: "a" } }, template: template({ app: "a", v: "1" }) },
    });
    const next = structuredClone(d);
    next.spec.selector = { matchLabels: { app: "a", v: "1" } };
    expect(updateErrors("apps", "deployments", next, d)).toContainEqual(
      expect.objectContaining({
        field: "spec.selector",
        message: expect.stringContaining("field is immutable"),
      }),
    );
    const job = created("batch", "jobs", {
      metadata: { ...meta("j"), uid: "u2" },
      spec: { template: { spec: { ...podSpec(), restartPolicy: "Never" } } },
    });
    const jobNext = structuredClone(job);
    jobNext.spec.selector = { matchLabels: { x: "y" } };
    expect(updateErrors("batch", "jobs", jobNext, job)).toContainEqual(
      expect.objectContaining({ field: "spec.selector" }),
    );
  });

  it("forbids changing an immutable configmap", () => {
    const cm = created("", "configmaps", { metadata: meta("c"), immutable: true, data: { a: "1" } });
    const next = { ...structuredClone(cm), data: { a: "2" } };
    expect(updateErrors("", "configmaps", next, cm)).toContainEqual(
      expect.objectContaining({
        field: "data",
        message: "Forbidden: field is immutable when `immutable` is set",
      }),
    );
  });
});
