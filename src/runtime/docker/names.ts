// dockershim's container names: k8s_<container>_<pod>_<namespace>_<uid>_<attempt>, with POD for sandboxes.
// The names make `docker ps` readable and give Docker's name uniqueness check per attempt; the driver reads
// identity back from labels, never by parsing names.
import type { ContainerMetadata, PodSandboxMetadata } from "../types.ts";

const PREFIX = "k8s";
const SANDBOX_CONTAINER = "POD";

export function sandboxName(pod: PodSandboxMetadata): string {
  return [PREFIX, SANDBOX_CONTAINER, pod.name, pod.namespace, pod.uid, String(pod.attempt)].join("_");
}

export function containerName(container: ContainerMetadata, pod: PodSandboxMetadata): string {
  return [PREFIX, container.name, pod.name, pod.namespace, pod.uid, String(container.attempt)].join("_");
}
