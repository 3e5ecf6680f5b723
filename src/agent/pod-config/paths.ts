// Where a pod's files live on the node: <rootDir>/pods/<uid>/{volumes,containers,logs,etc-hosts}.
import { join } from "node:path";
import { PodConfigError, type PodConfigErrorReason } from "./context.ts";

/** Volume plugin directory names, as upstream escapes them (kubernetes.io/empty-dir → kubernetes.io~empty-dir). */
export const VolumePlugins = {
  emptyDir: "kubernetes.io~empty-dir",
  configMap: "kubernetes.io~configmap",
  secret: "kubernetes.io~secret",
  downwardAPI: "kubernetes.io~downward-api",
  projected: "kubernetes.io~projected",
} as const;
export type VolumePluginDir = (typeof VolumePlugins)[keyof typeof VolumePlugins];

/** One path segment we are about to join: no separators, not "." or "..". */
export function checkSegment(value: string, what: string, reason: PodConfigErrorReason): string {
  if (!value || value === "." || value === ".." || value.includes("/") || value.includes("\0")) {
    throw new PodConfigError(reason, `${what} "${value}" cannot be used as a directory name`);
  }
  return value;
}

export function podsDir(rootDir: string): string {
  return join(rootDir, "pods");
}

export function podDir(rootDir: string, uid: string, reason: PodConfigErrorReason = "FailedMount"): string {
  return join(podsDir(rootDir), checkSegment(uid, "pod uid", reason));
}

export function volumeDir(pod: string, plugin: VolumePluginDir, name: string): string {
  return join(pod, "volumes", plugin, checkSegment(name, "volume name", "FailedMount"));
}

export function podLogsDir(pod: string): string {
  return join(pod, "logs");
}

export function containerDir(pod: string, container: string): string {
  return join(pod, "containers", checkSegment(container, "container name", "CreateContainerConfigError"));
}

export function etcHostsPath(pod: string): string {
  return join(pod, "etc-hosts");
}
