// Which endpoints serve which traffic (upstream's CategorizeEndpoints, without topology hints): only ready
// endpoints, falling back to serving-and-terminating ones when none is ready; node-local subsets for "Local"
// traffic policies.
import {
  type EndpointInfo,
  type ServicePortInfo,
  usesClusterEndpoints,
  usesLocalEndpoints,
} from "./types.ts";

export interface CategorizedEndpoints {
  /** Endpoints for "Cluster" policy traffic (KUBE-SVC chain). */
  cluster: EndpointInfo[];
  /** Endpoints for "Local" policy traffic (KUBE-SVL chain). */
  local: EndpointInfo[];
  /** Every endpoint that gets a KUBE-SEP chain: the union of the two above. */
  allReachable: EndpointInfo[];
  /** The service has usable endpoints somewhere in the cluster. */
  hasAnyEndpoints: boolean;
}

export function categorizeEndpoints(
  svc: ServicePortInfo,
  endpoints: readonly EndpointInfo[],
): CategorizedEndpoints {
  let cluster: EndpointInfo[] = [];
  let local: EndpointInfo[] = [];
  let hasAnyEndpoints = false;

  if (usesClusterEndpoints(svc)) {
    cluster = endpoints.filter((ep) => ep.ready);
    if (cluster.length === 0) cluster = endpoints.filter((ep) => ep.serving && ep.terminating);
    hasAnyEndpoints = cluster.length > 0;
  }
  if (!usesLocalEndpoints(svc)) return { cluster, local, allReachable: cluster, hasAnyEndpoints };

  let localReady = false;
  let localServingTerminating = false;
  for (const ep of endpoints) {
    if (ep.ready) {
      hasAnyEndpoints = true;
      if (ep.isLocal) localReady = true;
    } else if (ep.serving && ep.terminating) {
      hasAnyEndpoints = true;
      if (ep.isLocal) localServingTerminating = true;
    }
  }
  if (localReady) local = endpoints.filter((ep) => ep.isLocal && ep.ready);
  else if (localServingTerminating)
    local = endpoints.filter((ep) => ep.isLocal && ep.serving && ep.terminating);

  if (!usesClusterEndpoints(svc)) return { cluster, local, allReachable: local, hasAnyEndpoints };
  if (local.length === 0) return { cluster, local, allReachable: cluster, hasAnyEndpoints };
  const seen = new Set(cluster.map((ep) => ep.endpoint));
  const allReachable = [...cluster, ...local.filter((ep) => !seen.has(ep.endpoint))];
  return { cluster, local, allReachable, hasAnyEndpoints };
}
