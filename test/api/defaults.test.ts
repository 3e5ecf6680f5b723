import { describe, expect, it } from "vitest";
import { defaultPullPolicy } from "../../src/api/schema/core/pod-defaults.ts";
import { created, meta, podSpec, template } from "./helpers.ts";

describe("pod defaults", () => {
  const pod = created("", "pods", {
    apiVersion: "v1",
    kind: "Pod",
    metadata: meta("web"),
    spec: {
      containers: [
        {
          name: "main",
          image: "nginx",
          ports: [{ containerPort: 80 }],
          readinessProbe: { httpGet: { port: 80 } },
          resources: { limits: { cpu: "1", memory: "128Mi" } },
          env: [{ name: "POD", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }],
        },
      ],
      volumes: [
        { name: "cfg", configMap: { name: "cfg" } },
        { name: "sec", secret: { secretName: "s" } },
        { name: "scratch" },
        { name: "host", hostPath: { path: "/tmp" } },
      ],
    },
  });

  it("defaults the pod spec like upstream", () => {
    expect(pod.spec).toMatchObject({
      restartPolicy: "Always",
      dnsPolicy: "ClusterFirst",
      terminationGracePeriodSeconds: 30,
      schedulerName: "default-scheduler",
      securityContext: {},
      enableServiceLinks: true,
      serviceAccountName: "default",
      serviceAccount: "default",
    });
  });

  it("defaults containers, ports, probes, resources and env", () => {
    const c = pod.spec.containers[0];
    expect(c).toMatchObject({
      terminationMessagePath: "/dev/termination-log",
      terminationMessagePolicy: "File",
      imagePullPolicy: "Always",
      ports: [{ containerPort: 80, protocol: "TCP" }],
      readinessProbe: {
        httpGet: { port: 80, path: "/", scheme: "HTTP" },
        timeoutSeconds: 1,
        periodSeconds: 10,
        successThreshold: 1,
        failureThreshold: 3,
      },
      resources: { limits: { cpu: "1", memory: "128Mi" }, requests: { cpu: "1", memory: "128Mi" } },
    });
    expect(c.env[0].valueFrom.fieldRef.apiVersion).toBe("v1");
  });

  it("defaults volume sources", () => {
    expect(pod.spec.volumes).toEqual([
      { name: "cfg", configMap: { name: "cfg", defaultMode: 420 } },
      { name: "sec", secret: { secretName: "s", defaultMode: 420 } },
      { name: "scratch", emptyDir: {} },
      { name: "host", hostPath: { path: "/tmp", type: "" } },
    ]);
  });

  it("resets status on create with the QoS class", () => {
    expect(pod.status).toEqual({ phase: "Pending", qosClass: "Guaranteed" });
    const besteffort = created("", "pods", { metadata: meta("be"), spec: podSpec() });
    expect(besteffort.status.qosClass).toBe("BestEffort");
    const burstable = created("", "pods", {
      metadata: meta("bu"),
      spec: podSpec({ resources: { requests: { cpu: "100m" } } }),
    });
    expect(burstable.status.qosClass).toBe("Burstable");
  });

  it.each([
    ["busybox", "Always"],
    ["busybox:latest", "Always"],
    ["busybox:1.35", "IfNotPresent"],
    ["127.0.0.1:5000/deckhand/busybox", "Always"],
    ["127.0.0.1:5000/deckhand/busybox:1.35", "IfNotPresent"],
    ["busybox@sha256:0123", "IfNotPresent"],
  ])("image %s pulls %s by default", (image, policy) => {
    expect(defaultPullPolicy(image)).toBe(policy);
  });

  it("copies containerPort to hostPort under hostNetwork", () => {
    const p = created("", "pods", {
      metadata: meta("hn"),
      spec: { hostNetwork: true, ...podSpec({ ports: [{ containerPort: 8080 }] }) },
    });
    expect(p.spec.containers[0].ports[0].hostPort).toBe(8080);
  });
});

describe("service defaults", () => {
  it("defaults a ClusterIP service", () => {
    const svc = created("", "services", {
      metadata: meta("web"),
      spec: { selector: { app: "web" }, ports: [{ port: 80 }] },
    });
    expect(svc.spec).toEqual({
      selector: { app: "web" },
      ports: [{ port: 80, protocol: "TCP", targetPort: 80 }],
      type: "ClusterIP",
      sessionAffinity: "None",
      internalTrafficPolicy: "Cluster",
      ipFamilyPolicy: "SingleStack",
      ipFamilies: ["IPv4"],
    });
    expect(svc.status).toEqual({ loadBalancer: {} });
  });

  it("defaults NodePort and LoadBalancer traffic policies", () => {
    const np = created("", "services", {
      metadata: meta("np"),
      spec: { type: "NodePort", ports: [{ port: 80, targetPort: "http" }] },
    });
    expect(np.spec.externalTrafficPolicy).toBe("Cluster");
    expect(np.spec.ports[0].targetPort).toBe("http");
    const lb = created("", "services", {
      metadata: meta("lb"),
      spec: { type: "LoadBalancer", ports: [{ port: 80 }] },
    });
    expect(lb.spec.allocateLoadBalancerNodePorts).toBe(true);
    const aff = created("", "services", {
      metadata: meta("aff"),
      spec: { sessionAffinity: "ClientIP", ports: [{ port: 80 }] },
    });
    expect(aff.spec.sessionAffinityConfig).toEqual({ clientIP: { timeoutSeconds: 10800 } });
  });
});

describe("workload defaults", () => {
  it("defaults a deployment", () => {
    const d = created("apps", "deployments", {
      metadata: meta("web"),
      spec: { selector: { matchLabels: { app: "web" } }, template: template({ app: "web" }) },
    });
    expect(d.metadata.generation).toBe(1);
    expect(d.spec).toMatchObject({
      replicas: 1,
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "25%", maxSurge: "25%" } },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
    });
    expect(d.spec.template.spec).toMatchObject({ restartPolicy: "Always", dnsPolicy: "ClusterFirst" });
    expect(d.spec.template.spec.serviceAccountName).toBeUndefined();
    expect(d.status).toEqual({});
  });

  it("defaults replicasets, replication controllers and daemonsets", () => {
    const rs = created("apps", "replicasets", {
      metadata: meta("rs"),
      spec: {
        selector: { matchExpressions: [{ key: "app", operator: "In", values: ["web"] }] },
        template: template({ app: "web" }),
      },
    });
    expect(rs.spec.replicas).toBe(1);
    expect(rs.status).toEqual({ replicas: 0 });
    const rc = created("", "replicationcontrollers", {
      metadata: meta("rc"),
      spec: { template: template({ app: "rc" }) },
    });
    expect(rc.spec.selector).toEqual({ app: "rc" });
    expect(rc.metadata.labels).toEqual({ app: "rc" });
    expect(rc.spec.replicas).toBe(1);
    const ds = created("apps", "daemonsets", {
      metadata: meta("ds"),
      spec: { selector: { matchLabels: { app: "ds" } }, template: template({ app: "ds" }) },
    });
    expect(ds.spec.updateStrategy).toEqual({
      type: "RollingUpdate",
      rollingUpdate: { maxUnavailable: 1, maxSurge: 0 },
    });
    expect(ds.spec.revisionHistoryLimit).toBe(10);
  });

  it("defaults a job and generates its selector from the UID", () => {
    const job = created("batch", "jobs", {
      metadata: { ...meta("pi"), uid: "11111111-2222-3333-4444-555555555555" },
      spec: { template: { spec: { ...podSpec(), restartPolicy: "Never" } } },
    });
    expect(job.spec).toMatchObject({
      completions: 1,
      parallelism: 1,
      backoffLimit: 6,
      completionMode: "NonIndexed",
      suspend: false,
      podReplacementPolicy: "TerminatingOrFailed",
      selector: {
        matchLabels: { "batch.kubernetes.io/controller-uid": "11111111-2222-3333-4444-555555555555" },
      },
    });
    expect(job.spec.template.metadata.labels).toEqual({
      "batch.kubernetes.io/controller-uid": "11111111-2222-3333-4444-555555555555",
      "batch.kubernetes.io/job-name": "pi",
      "controller-uid": "11111111-2222-3333-4444-555555555555",
      "job-name": "pi",
    });
  });
});

describe("other defaults", () => {
  it("gives namespaces their finalizer, phase and name label", () => {
    const ns = created("", "namespaces", { metadata: { name: "team-a" } });
    expect(ns.spec).toEqual({ finalizers: ["kubernetes"] });
    expect(ns.status).toEqual({ phase: "Active" });
    expect(ns.metadata.labels).toEqual({ "kubernetes.io/metadata.name": "team-a" });
  });

  it("drops the namespace of cluster-scoped objects", () => {
    const node = created("", "nodes", { metadata: { name: "n1", namespace: "default" } });
    expect(node.metadata.namespace).toBeUndefined();
  });

  it("merges secret stringData into data and defaults the type", () => {
    const s = created("", "secrets", { metadata: meta("s"), data: { a: "YQ==" }, stringData: { b: "bee" } });
    expect(s).toMatchObject({ type: "Opaque", data: { a: "YQ==", b: "YmVl" } });
    expect(s.stringData).toBeUndefined();
  });

  it("defaults node allocatable to capacity", () => {
    const node = created("", "nodes", {
      metadata: { name: "n2" },
      status: { capacity: { cpu: "2", pods: "110" } },
    });
    expect(node.status.allocatable).toEqual({ cpu: "2", pods: "110" });
  });
});
