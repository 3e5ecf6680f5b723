// k8s.io.api.core.v1: Container and what it reaches (ports, env, resources, mounts, probes, lifecycle
// hooks, security context). Numbers and names as in upstream's core/v1/generated.proto (v1.33 API).

import {
  bool,
  inline,
  int32,
  int64,
  type MessageDef,
  obj,
  objs,
  ptr,
  resourceList,
  str,
  strs,
} from "../fields.ts";

/** Container and EphemeralContainerCommon share their field numbers. */
const CONTAINER: MessageDef = {
  1: str("name"),
  2: str("image"),
  3: strs("command"),
  4: strs("args"),
  5: str("workingDir"),
  6: objs("ports", "ContainerPort"),
  19: objs("envFrom", "EnvFromSource"),
  7: objs("env", "EnvVar"),
  8: obj("resources", "ResourceRequirements"),
  23: objs("resizePolicy", "ContainerResizePolicy"),
  24: ptr(str("restartPolicy")),
  9: objs("volumeMounts", "VolumeMount"),
  21: objs("volumeDevices", "VolumeDevice"),
  10: ptr(obj("livenessProbe", "Probe")),
  11: ptr(obj("readinessProbe", "Probe")),
  22: ptr(obj("startupProbe", "Probe")),
  12: ptr(obj("lifecycle", "Lifecycle")),
  13: str("terminationMessagePath"),
  20: str("terminationMessagePolicy"),
  14: str("imagePullPolicy"),
  15: ptr(obj("securityContext", "SecurityContext")),
  16: bool("stdin"),
  17: bool("stdinOnce"),
  18: bool("tty"),
};

export const CONTAINERS: Record<string, MessageDef> = {
  Container: CONTAINER,
  EphemeralContainerCommon: CONTAINER,
  EphemeralContainer: { 1: inline("EphemeralContainerCommon"), 2: str("targetContainerName") },

  ContainerPort: {
    1: str("name"),
    2: int32("hostPort"),
    3: int32("containerPort"),
    4: str("protocol"),
    5: str("hostIP"),
  },

  EnvFromSource: {
    1: str("prefix"),
    2: ptr(obj("configMapRef", "ConfigMapEnvSource")),
    3: ptr(obj("secretRef", "SecretEnvSource")),
  },
  ConfigMapEnvSource: { 1: inline("LocalObjectReference"), 2: ptr(bool("optional")) },
  SecretEnvSource: { 1: inline("LocalObjectReference"), 2: ptr(bool("optional")) },
  EnvVar: { 1: str("name"), 2: str("value"), 3: ptr(obj("valueFrom", "EnvVarSource")) },
  EnvVarSource: {
    1: ptr(obj("fieldRef", "ObjectFieldSelector")),
    2: ptr(obj("resourceFieldRef", "ResourceFieldSelector")),
    3: ptr(obj("configMapKeyRef", "ConfigMapKeySelector")),
    4: ptr(obj("secretKeyRef", "SecretKeySelector")),
  },
  ObjectFieldSelector: { 1: str("apiVersion"), 2: str("fieldPath") },
  ResourceFieldSelector: {
    1: str("containerName"),
    2: str("resource"),
    3: obj("divisor", "Quantity"),
  },
  ConfigMapKeySelector: {
    1: inline("LocalObjectReference"),
    2: str("key"),
    3: ptr(bool("optional")),
  },
  SecretKeySelector: { 1: inline("LocalObjectReference"), 2: str("key"), 3: ptr(bool("optional")) },

  ResourceRequirements: {
    1: resourceList("limits"),
    2: resourceList("requests"),
    3: objs("claims", "ResourceClaim"),
  },
  ResourceClaim: { 1: str("name"), 2: str("request") },
  ContainerResizePolicy: { 1: str("resourceName"), 2: str("restartPolicy") },

  VolumeMount: {
    1: str("name"),
    2: bool("readOnly"),
    7: ptr(str("recursiveReadOnly")),
    3: str("mountPath"),
    4: str("subPath"),
    5: ptr(str("mountPropagation")),
    6: str("subPathExpr"),
  },
  VolumeDevice: { 1: str("name"), 2: str("devicePath") },

  Probe: {
    1: inline("ProbeHandler"),
    2: int32("initialDelaySeconds"),
    3: int32("timeoutSeconds"),
    4: int32("periodSeconds"),
    5: int32("successThreshold"),
    6: int32("failureThreshold"),
    7: ptr(int64("terminationGracePeriodSeconds")),
  },
  ProbeHandler: {
    1: ptr(obj("exec", "ExecAction")),
    2: ptr(obj("httpGet", "HTTPGetAction")),
    3: ptr(obj("tcpSocket", "TCPSocketAction")),
    4: ptr(obj("grpc", "GRPCAction")),
  },
  ExecAction: { 1: strs("command") },
  HTTPGetAction: {
    1: str("path"),
    2: obj("port", "IntOrString"),
    3: str("host"),
    4: str("scheme"),
    5: objs("httpHeaders", "HTTPHeader"),
  },
  HTTPHeader: { 1: str("name"), 2: str("value") },
  TCPSocketAction: { 1: obj("port", "IntOrString"), 2: str("host") },
  GRPCAction: { 1: int32("port"), 2: ptr(str("service")) },

  Lifecycle: {
    1: ptr(obj("postStart", "LifecycleHandler")),
    2: ptr(obj("preStop", "LifecycleHandler")),
    3: ptr(str("stopSignal")),
  },
  LifecycleHandler: {
    1: ptr(obj("exec", "ExecAction")),
    2: ptr(obj("httpGet", "HTTPGetAction")),
    3: ptr(obj("tcpSocket", "TCPSocketAction")),
    4: ptr(obj("sleep", "SleepAction")),
  },
  SleepAction: { 1: int64("seconds") },

  SecurityContext: {
    1: ptr(obj("capabilities", "Capabilities")),
    2: ptr(bool("privileged")),
    3: ptr(obj("seLinuxOptions", "SELinuxOptions")),
    10: ptr(obj("windowsOptions", "WindowsSecurityContextOptions")),
    4: ptr(int64("runAsUser")),
    8: ptr(int64("runAsGroup")),
    5: ptr(bool("runAsNonRoot")),
    6: ptr(bool("readOnlyRootFilesystem")),
    7: ptr(bool("allowPrivilegeEscalation")),
    9: ptr(str("procMount")),
    11: ptr(obj("seccompProfile", "SeccompProfile")),
    12: ptr(obj("appArmorProfile", "AppArmorProfile")),
  },
  Capabilities: { 1: strs("add"), 2: strs("drop") },
};
