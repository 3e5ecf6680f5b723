// Which pod and which container instance a node API request is about, with kubelet's answers when there is
// none: 404 for an unknown pod or container, 400 (with kubelet's wording) for a container that has no logs
// yet or no previous instance.
import type { Pod } from "../../api/schema/core/pod-types.ts";
import type { ContainerStatus } from "../../runtime/types.ts";
import type { PodRuntimeStatus } from "../pleg.ts";
import { badRequest, notFound } from "./errors.ts";
import type { NodeServerHost } from "./host.ts";

/** The pod `namespace/name` (and `uid`, when the path names one) among the pods this node runs. */
export function findPod(host: NodeServerHost, namespace: string, name: string, uid?: string): Pod {
  const pod = host
    .pods()
    .find(
      (p) =>
        p.metadata?.namespace === namespace &&
        p.metadata?.name === name &&
        (uid === undefined || p.metadata?.uid === uid),
    );
  if (!pod) throw notFound(`pod "${name}" does not exist in namespace "${namespace}" on this node`);
  return pod;
}

/** Throws 404 unless the pod's spec has a container (app, init or ephemeral) of that name. */
export function requireContainerSpec(pod: Pod, container: string): void {
  const spec = pod.spec;
  const names = [
    ...(spec?.containers ?? []),
    ...(spec?.initContainers ?? []),
    ...((spec as { ephemeralContainers?: Array<{ name: string }> } | undefined)?.ephemeralContainers ?? []),
  ].map((c) => c.name);
  if (!names.includes(container)) {
    throw notFound(`container "${container}" not found in pod "${pod.metadata?.name}"`);
  }
}

/** Instances of one container, newest first (by attempt, then creation time). */
export function instancesOf(status: PodRuntimeStatus | undefined, container: string): ContainerStatus[] {
  return (status?.containers ?? [])
    .filter((c) => c.metadata.name === container)
    .sort((a, b) => b.metadata.attempt - a.metadata.attempt || b.createdAt - a.createdAt);
}

/**
 * The container instance whose logs to read, like kubelet's validateContainerLogStatus: the current
 * instance, or with `previous` the one before it (which must have exited).
 */
export function logInstance(
  pod: Pod,
  status: PodRuntimeStatus | undefined,
  container: string,
  previous: boolean,
): ContainerStatus {
  const podName = pod.metadata?.name ?? "";
  const instances = instancesOf(status, container);
  if (previous) {
    const before = instances[1];
    if (before?.state !== "exited") {
      throw badRequest(`previous terminated container "${container}" in pod "${podName}" not found`);
    }
    return before;
  }
  // A new instance that has not started yet shows its predecessor's logs, as kubelet does (lastState).
  const current = instances.find((c) => c.state !== "created");
  if (current) return current;
  const waiting = [
    ...(pod.status?.containerStatuses ?? []),
    ...(pod.status?.initContainerStatuses ?? []),
  ].find((c) => c.name === container)?.state?.waiting?.reason;
  if (waiting === "ErrImagePull")
    throw badRequest(
      `container "${container}" in pod "${podName}" is waiting to start: image can't be pulled`,
    );
  if (waiting === "ImagePullBackOff")
    throw badRequest(
      `container "${container}" in pod "${podName}" is waiting to start: trying and failing to pull image`,
    );
  throw badRequest(
    `container "${container}" in pod "${podName}" is waiting to start: ${waiting ?? "ContainerCreating"}`,
  );
}

/** The running instance of a container, for exec and attach. */
export function runningInstance(
  pod: Pod,
  status: PodRuntimeStatus | undefined,
  container: string,
): ContainerStatus {
  const running = instancesOf(status, container).find((c) => c.state === "running");
  if (!running) {
    throw notFound(`container not found ("${container}"): it is not running in pod "${pod.metadata?.name}"`);
  }
  return running;
}

/** The pod's ready sandbox, for port-forward. */
export function readySandboxId(pod: Pod, status: PodRuntimeStatus | undefined): string {
  const sandbox = status?.sandboxes.find((s) => s.state === "ready");
  if (!sandbox) throw notFound(`pod "${pod.metadata?.name}" has no running sandbox on this node`);
  return sandbox.id;
}
