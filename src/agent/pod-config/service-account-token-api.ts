// The agent's service account token source: TokenRequest (POST .../serviceaccounts/<name>/token) over the
// node's own API credentials, each token bound to the pod that mounts it (the Node authorizer lets a node
// ask only for the service accounts of pods bound to it), behind kubelet's refresh-at-80% cache.
import type { ApiClient } from "../../api/client/client.ts";
import type { KubeObject } from "../../api/resource.ts";
import {
  type IssuedToken,
  ServiceAccountTokenCache,
  type ServiceAccountTokenRequest,
} from "./service-account-token.ts";

interface TokenRequest extends KubeObject {
  spec?: {
    audiences?: string[];
    expirationSeconds?: number;
    boundObjectRef?: { kind: string; apiVersion: string; name: string; uid: string };
  };
  status?: { token?: string; expirationTimestamp?: string };
}

/** The TokenRequest object the agent sends for one projected serviceAccountToken source. */
export function tokenRequestBody(request: ServiceAccountTokenRequest): TokenRequest {
  return {
    apiVersion: "authentication.k8s.io/v1",
    kind: "TokenRequest",
    metadata: { name: request.serviceAccountName, namespace: request.namespace },
    spec: {
      audiences: request.audience ? [request.audience] : [],
      expirationSeconds: request.expirationSeconds,
      boundObjectRef: {
        kind: "Pod",
        apiVersion: "v1",
        name: request.boundPod.name,
        uid: request.boundPod.uid,
      },
    },
  };
}

/** Asks the API server for one token; no caching. */
export async function requestToken(
  client: Pick<ApiClient, "create">,
  request: ServiceAccountTokenRequest,
): Promise<IssuedToken> {
  const answer = await client.create<TokenRequest>(
    {
      version: "v1",
      resource: "serviceaccounts",
      namespace: request.namespace,
      name: request.serviceAccountName,
      subresource: "token",
    },
    tokenRequestBody(request),
  );
  return {
    token: answer.status?.token ?? "",
    expirationTimestamp: answer.status?.expirationTimestamp ?? "",
    // The server may grant a longer lifetime than asked (--service-account-extend-token-expiration).
    ...(answer.spec?.expirationSeconds ? { expirationSeconds: answer.spec.expirationSeconds } : {}),
  };
}

export function apiServiceAccountTokens(
  client: Pick<ApiClient, "create">,
  options: {
    now?: () => number;
    onRefreshError?: (request: ServiceAccountTokenRequest, error: unknown) => void;
  } = {},
): ServiceAccountTokenCache {
  return new ServiceAccountTokenCache(
    (request) => requestToken(client, request),
    options.now,
    options.onRefreshError,
  );
}
