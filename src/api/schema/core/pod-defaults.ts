// Upstream's defaulting for PodSpec and everything inside it (pkg/apis/core/v1/defaults.go), shared by Pods
// and every pod template (ReplicationController, ReplicaSet, Deployment, DaemonSet, Job).

import type { Container, HTTPGetAction, Probe } from "./container.ts";
import type { PodSpec } from "./pod-types.ts";
import type { Volume } from "./volume.ts";

const DEFAULT_MODE = 0o644;

function defaultHTTPGet(action: HTTPGetAction | undefined): void {
  if (!action) return;
  if (!action.path) action.path = "/";
  if (!action.scheme) action.scheme = "HTTP";
}

function defaultProbe(probe: Probe | undefined): void {
  if (!probe) return;
  if (!probe.timeoutSeconds) probe.timeoutSeconds = 1;
  if (!probe.periodSeconds) probe.periodSeconds = 10;
  if (!probe.successThreshold) probe.successThreshold = 1;
  if (!probe.failureThreshold) probe.failureThreshold = 3;
  defaultHTTPGet(probe.httpGet);
}

/** Image pull policy upstream picks when none is given: Always for ":latest" or untagged images. */
export function defaultPullPolicy(image: string | undefined): "Always" | "IfNotPresent" {
  const ref = image ?? "";
  if (ref.includes("@")) return "IfNotPresent";
  const lastSlash = ref.lastIndexOf("/");
  const nameAndTag = ref.slice(lastSlash + 1);
  const colon = nameAndTag.lastIndexOf(":");
  const tag = colon >= 0 ? nameAndTag.slice(colon + 1) : "";
  return tag === "" || tag === "latest" ? "Always" : "IfNotPresent";
}

function defaultFieldRef(ref: { apiVersion?: string } | undefined): void {
  if (ref && !ref.apiVersion) ref.apiVersion = "v1";
}

function defaultContainer(c: Container, hostNetwork: boolean): void {
  if (!c.imagePullPolicy) c.imagePullPolicy = defaultPullPolicy(c.image);
  if (!c.terminationMessagePath) c.terminationMessagePath = "/dev/termination-log";
  if (!c.terminationMessagePolicy) c.terminationMessagePolicy = "File";
  if (!c.resources) c.resources = {};
  for (const port of c.ports ?? []) {
    if (!port.protocol) port.protocol = "TCP";
    if (hostNetwork && !port.hostPort) port.hostPort = port.containerPort;
  }
  for (const env of c.env ?? []) defaultFieldRef(env.valueFrom?.fieldRef);
  defaultProbe(c.livenessProbe);
  defaultProbe(c.readinessProbe);
  defaultProbe(c.startupProbe);
  defaultHTTPGet(c.lifecycle?.postStart?.httpGet);
  defaultHTTPGet(c.lifecycle?.preStop?.httpGet);
  // Requests default to limits for every resource that has a limit but no request.
  const limits = c.resources.limits;
  if (limits && Object.keys(limits).length > 0) {
    const requests = c.resources.requests ?? {};
    for (const [name, value] of Object.entries(limits)) if (!(name in requests)) requests[name] = value;
    c.resources.requests = requests;
  }
}

function defaultVolume(v: Volume): void {
  const hasSource = Object.keys(v).some((k) => k !== "name");
  if (!hasSource) v.emptyDir = {};
  if (v.hostPath && v.hostPath.type === undefined) v.hostPath.type = "";
  if (v.secret && v.secret.defaultMode === undefined) v.secret.defaultMode = DEFAULT_MODE;
  if (v.configMap && v.configMap.defaultMode === undefined) v.configMap.defaultMode = DEFAULT_MODE;
  if (v.downwardAPI) {
    if (v.downwardAPI.defaultMode === undefined) v.downwardAPI.defaultMode = DEFAULT_MODE;
    for (const item of v.downwardAPI.items ?? []) defaultFieldRef(item.fieldRef);
  }
  if (v.projected) {
    if (v.projected.defaultMode === undefined) v.projected.defaultMode = DEFAULT_MODE;
    for (const source of v.projected.sources ?? []) {
      const token = source.serviceAccountToken;
      if (token && token.expirationSeconds === undefined) token.expirationSeconds = 3600;
      for (const item of source.downwardAPI?.items ?? []) defaultFieldRef(item.fieldRef);
    }
  }
}

/** Applies upstream's PodSpec defaults in place. */
export function defaultPodSpec(spec: PodSpec): void {
  if (!spec.dnsPolicy) spec.dnsPolicy = "ClusterFirst";
  if (!spec.restartPolicy) spec.restartPolicy = "Always";
  if (!spec.securityContext) spec.securityContext = {};
  if (spec.terminationGracePeriodSeconds === undefined) spec.terminationGracePeriodSeconds = 30;
  if (!spec.schedulerName) spec.schedulerName = "default-scheduler";
  if (spec.enableServiceLinks === undefined) spec.enableServiceLinks = true;
  if (!spec.serviceAccountName && spec.serviceAccount) spec.serviceAccountName = spec.serviceAccount;
  if (spec.serviceAccountName) spec.serviceAccount = spec.serviceAccountName;
  const hostNetwork = spec.hostNetwork === true;
  for (const c of spec.initContainers ?? []) defaultContainer(c, hostNetwork);
  for (const c of spec.containers ?? []) defaultContainer(c, hostNetwork);
  for (const v of spec.volumes ?? []) defaultVolume(v);
}
