// What needs no credentials, as upstream's default policy grants it: the system:public-info-viewer
// ClusterRole (GET /healthz, /livez, /readyz, /version and their sub-paths, bound to system:unauthenticated
// and system:authenticated), kubeadm's cluster-info Role (GET kube-public/configmaps/cluster-info, so that
// joining nodes can discover the CA), for authenticated users system:discovery (API and OpenAPI
// discovery), and for service accounts system:service-account-issuer-discovery (the OIDC documents).
// Asked before the cluster's authorizer; it allows or has no opinion, never denies.

import { AUTHENTICATED_GROUP } from "./authentication.ts";
import type { Authorizer } from "./authorization.ts";

const PUBLIC_PATHS = ["/healthz", "/livez", "/readyz", "/version"];
const DISCOVERY_PATHS = ["/api", "/apis", "/openapi"];
/** system:service-account-issuer-discovery, bound to every service account. */
const ISSUER_DISCOVERY_PATHS = ["/.well-known/openid-configuration", "/openid/v1/jwks"];

function under(path: string, roots: readonly string[]): boolean {
  const trimmed = path.replace(/\/+$/, "") || "/";
  return roots.some((root) => trimmed === root || trimmed.startsWith(`${root}/`));
}

export function publicInfoAuthorizer(): Authorizer {
  return {
    name: "public-info",
    authorize({ user, request }) {
      const noOpinion = { allowed: false as const, reason: "" };
      if (!request.isResourceRequest) {
        if (request.verb !== "get" && request.verb !== "head") return noOpinion;
        if (under(request.path, PUBLIC_PATHS)) return { allowed: true };
        if (user.groups.includes(AUTHENTICATED_GROUP) && under(request.path, DISCOVERY_PATHS)) {
          return { allowed: true };
        }
        if (user.groups.includes("system:serviceaccounts") && ISSUER_DISCOVERY_PATHS.includes(request.path)) {
          return { allowed: true };
        }
        return noOpinion;
      }
      const clusterInfo =
        request.verb === "get" &&
        request.apiGroup === "" &&
        request.resource === "configmaps" &&
        request.subresource === "" &&
        request.namespace === "kube-public" &&
        request.name === "cluster-info";
      return clusterInfo ? { allowed: true } : noOpinion;
    },
  };
}
