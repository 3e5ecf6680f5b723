// Pods: status starts as Pending with the QoS class computed from the containers' resources; deletion is
// graceful for scheduled pods (the node confirms with a grace-0 delete), immediate for unscheduled or
// finished ones; the status endpoint may not touch the spec or the owner references.

import { parseQuantity } from "../../../api/quantity.ts";
import type { KubeObject } from "../../../api/resource.ts";
import type { KindDefinition } from "../../../api/schema/kind.ts";
import { keepAllButStatus, keepStatus } from "./generic.ts";
import type { Strategy } from "./types.ts";

interface ContainerLike {
  resources?: { requests?: Record<string, string | number>; limits?: Record<string, string | number> };
}

interface PodLike extends KubeObject {
  spec?: {
    nodeName?: string;
    terminationGracePeriodSeconds?: number;
    containers?: ContainerLike[];
    initContainers?: ContainerLike[];
  };
  status?: { phase?: string };
}

const DEFAULT_GRACE_SECONDS = 30;
const QOS_RESOURCES = ["cpu", "memory"];

/** upstream qos.GetPodQOS for the cpu and memory resources. */
export function podQosClass(pod: PodLike): "Guaranteed" | "Burstable" | "BestEffort" {
  const containers = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  let anySet = false;
  let guaranteed = containers.length > 0;
  for (const c of containers) {
    const requests = c.resources?.requests ?? {};
    const limits = c.resources?.limits ?? {};
    for (const name of QOS_RESOURCES) {
      const request = requests[name] !== undefined ? parseQuantity(requests[name]) : undefined;
      const limit = limits[name] !== undefined ? parseQuantity(limits[name]) : undefined;
      if ((request !== undefined && request !== 0) || (limit !== undefined && limit !== 0)) anySet = true;
      // Requests default to limits; guaranteed needs a limit for each resource and equal requests.
      if (limit === undefined || (request !== undefined && request !== limit)) guaranteed = false;
    }
  }
  if (!anySet) return "BestEffort";
  return guaranteed ? "Guaranteed" : "Burstable";
}

export function podStrategy(kind?: KindDefinition): Strategy {
  return {
    tracksGeneration: false,
    returnDeletedObject: true,
    allowCreateOnUpdate: false,
    allowUnconditionalUpdate: true,
    defaultPropagation: "Background",
    prepareForCreate(obj) {
      if (kind?.prepareForCreate) kind.prepareForCreate(obj);
      else obj.status = { phase: "Pending", qosClass: podQosClass(obj as PodLike) };
    },
    prepareForUpdate(obj, old) {
      keepStatus(obj, old);
      kind?.prepareForUpdate?.(obj, old);
    },
    prepareForStatusUpdate(obj, old) {
      // Upstream also keeps the owner references: old kubelets corrupted them through this endpoint.
      keepAllButStatus(obj, old);
    },
    gracePeriod(obj, options) {
      const pod = obj as PodLike;
      let grace =
        options.gracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS;
      if (grace < 0) grace = 1;
      // Nothing runs an unscheduled or finished pod: nobody would confirm, so it goes at once.
      if (!pod.spec?.nodeName) return 0;
      const phase = pod.status?.phase;
      if (phase === "Succeeded" || phase === "Failed") return 0;
      return grace;
    },
  };
}
