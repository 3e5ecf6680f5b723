// The DefaultTolerationSeconds admission plugin (upstream plugin/pkg/admission/defaulttolerationseconds),
// run by the API server: every new pod that does not already tolerate them gets
// node.kubernetes.io/not-ready:NoExecute and node.kubernetes.io/unreachable:NoExecute tolerations for
// 300 s (configurable), which is how long taint-based eviction leaves its pods on a failed node.
import type { AdmissionPlugin } from "../../apiserver/pipeline/admission.ts";
import { TAINT_NOT_READY, TAINT_UNREACHABLE } from "../../scheduler/taints.ts";

export const DEFAULT_TOLERATION_SECONDS = 300;

interface TolerationLike {
  key?: string;
  operator?: string;
  effect?: string;
  tolerationSeconds?: number;
}

function tolerates(tolerations: readonly TolerationLike[], key: string): boolean {
  return tolerations.some((t) => (!t.key || t.key === key) && (!t.effect || t.effect === "NoExecute"));
}

export function defaultTolerationSeconds(
  options: { notReadySeconds?: number; unreachableSeconds?: number } = {},
): AdmissionPlugin {
  const notReady = options.notReadySeconds ?? DEFAULT_TOLERATION_SECONDS;
  const unreachable = options.unreachableSeconds ?? DEFAULT_TOLERATION_SECONDS;
  return {
    name: "DefaultTolerationSeconds",
    admit(attributes) {
      if (attributes.operation !== "CREATE" || attributes.subresource !== "") return;
      if (attributes.resource.group !== "" || attributes.resource.plural !== "pods") return;
      const pod = attributes.object as { spec?: { tolerations?: TolerationLike[] } } | undefined;
      if (!pod?.spec) return;
      const tolerations = [...(pod.spec.tolerations ?? [])];
      if (!tolerates(tolerations, TAINT_NOT_READY)) {
        tolerations.push({
          key: TAINT_NOT_READY,
          operator: "Exists",
          effect: "NoExecute",
          tolerationSeconds: notReady,
        });
      }
      if (!tolerates(tolerations, TAINT_UNREACHABLE)) {
        tolerations.push({
          key: TAINT_UNREACHABLE,
          operator: "Exists",
          effect: "NoExecute",
          tolerationSeconds: unreachable,
        });
      }
      pod.spec.tolerations = tolerations;
    },
  };
}
