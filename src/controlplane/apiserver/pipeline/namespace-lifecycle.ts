// Admission plugin NamespaceLifecycle (upstream plugin/pkg/admission/namespace/lifecycle): namespaced
// objects can only be created in a namespace that exists and is not terminating, and the system
// namespaces cannot be deleted.

import type { KubeObject } from "../../../api/resource.ts";
import { ApiError, forbidden, notFound } from "../errors.ts";
import type { AdmissionPlugin } from "./admission.ts";

/** Namespaces that may never be deleted. */
export const IMMORTAL_NAMESPACES = new Set(["default", "kube-system", "kube-public"]);

export function namespaceLifecycle(
  getNamespace: (name: string) => Promise<KubeObject | undefined>,
): AdmissionPlugin {
  return {
    name: "NamespaceLifecycle",
    async validate(a) {
      if (a.operation === "DELETE" && a.resource.group === "" && a.resource.plural === "namespaces") {
        if (IMMORTAL_NAMESPACES.has(a.name)) {
          throw forbidden(a.resource.qualified, a.name, "this namespace may not be deleted");
        }
        return;
      }
      if (a.operation !== "CREATE" || !a.resource.namespaced || a.namespace === "") return;
      const ns = await getNamespace(a.namespace);
      if (!ns) throw notFound({ group: "", resource: "namespaces" }, a.namespace);
      const phase = (ns as { status?: { phase?: string } }).status?.phase;
      if (phase === "Terminating" || ns.metadata?.deletionTimestamp) {
        const error = forbidden(
          a.resource.qualified,
          a.name,
          `unable to create new content in namespace ${a.namespace} because it is being terminated`,
        );
        throw new ApiError(error.code, error.reason, error.message, {
          ...error.details,
          causes: [
            {
              reason: "NamespaceTerminating",
              message: `namespace ${a.namespace} is being terminated`,
              field: "metadata.namespace",
            },
          ],
        });
      }
    },
  };
}
