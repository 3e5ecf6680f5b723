// Which strategy each served resource uses.

import { asKindDefinition } from "../../../api/schema/kind.ts";
import type { ServedResource } from "../resources.ts";
import { csrStrategy } from "./csr.ts";
import { genericStrategy } from "./generic.ts";
import { namespaceStrategy } from "./namespaces.ts";
import { podStrategy } from "./pods.ts";
import { type ServiceAllocators, serviceStrategy } from "./services.ts";
import type { Strategy } from "./types.ts";

/** Kinds whose metadata.generation tracks spec changes (upstream's workload strategies). */
const GENERATION_KINDS = new Set([
  "/ReplicationController",
  "apps/Deployment",
  "apps/ReplicaSet",
  "apps/DaemonSet",
  "apps/StatefulSet",
  "batch/Job",
  "batch/CronJob",
]);

/** Kinds whose deletion orphans dependents unless the client asks otherwise (batch/v1 Jobs upstream). */
const ORPHAN_BY_DEFAULT = new Set(["batch/Job"]);

export function strategyFor(r: ServedResource, allocators: ServiceAllocators): Strategy {
  const id = `${r.group}/${r.kind}`;
  const kind = asKindDefinition(r.def);
  if (id === "/Pod") return podStrategy(kind);
  if (id === "/Namespace") return namespaceStrategy(kind);
  if (id === "/Service") return serviceStrategy(allocators, kind);
  if (id === "certificates.k8s.io/CertificateSigningRequest") return csrStrategy();
  return genericStrategy({
    hasStatus: r.hasStatus,
    kind,
    tracksGeneration: GENERATION_KINDS.has(id),
    // Nodes register with their status; endpoints and events are written whole by their owners.
    keepStatusOnCreate: id === "/Node",
    allowCreateOnUpdate: id === "/Endpoints" || id === "/Event",
    defaultPropagation: ORPHAN_BY_DEFAULT.has(id) ? "Orphan" : "Background",
  });
}
