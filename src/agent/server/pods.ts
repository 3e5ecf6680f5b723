// GET /pods and /runningpods/: the pods this node was told to run (as the agent sees their specs), and the
// pods the runtime actually has running, in kubelet's shapes (a v1 PodList; running pods carry only their
// identity and containers' names and images).
import type { Pod } from "../../api/schema/core/pod-types.ts";
import type { PodRuntimeStatus } from "../pleg.ts";

export function podList(pods: readonly Pod[]): Record<string, unknown> {
  return { kind: "PodList", apiVersion: "v1", metadata: {}, items: pods };
}

/** Pods with a ready sandbox or a running container, as bare Pods (kubelet's kubecontainer.Pod.ToAPIPod). */
export function runningPodList(statuses: readonly PodRuntimeStatus[]): Record<string, unknown> {
  const items = statuses
    .filter(
      (s) => s.sandboxes.some((b) => b.state === "ready") || s.containers.some((c) => c.state === "running"),
    )
    .map((s) => ({
      metadata: { name: s.name, namespace: s.namespace, uid: s.uid },
      spec: {
        containers: s.containers
          .filter((c) => c.state === "running")
          .map((c) => ({ name: c.metadata.name, image: c.image })),
      },
    }));
  return { kind: "PodList", apiVersion: "v1", metadata: {}, items };
}
