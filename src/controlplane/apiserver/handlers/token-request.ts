// POST serviceaccounts/<name>/token (authentication.k8s.io/v1 TokenRequest, `kubectl create token`): a
// signed, expiring token for the service account, optionally bound to a Pod, Secret or Node that must exist
// with the given UID; the token stops working when its service account or bound object goes away.

import type { FieldError, KubeObject } from "../../../api/resource.ts";
import type { BoundKind } from "../authn/serviceaccount.ts";
import { nodeIdentity } from "../authz/node.ts";
import { decodeObjectBody, readBody } from "../body.ts";
import { ApiError, conflict, forbidden, invalid } from "../errors.ts";
import { formatTime } from "../metadata.ts";
import { checkTypeMeta } from "./decode.ts";
import { type RequestScope, respondObject } from "./scope.ts";

const GROUP = "authentication.k8s.io";
const DEFAULT_EXPIRATION_SECONDS = 3600;
const MIN_EXPIRATION_SECONDS = 600;
const MAX_EXPIRATION_SECONDS = 2 ** 32;
const BOUND_KINDS: Record<BoundKind, { plural: string; namespaced: boolean }> = {
  Pod: { plural: "pods", namespaced: true },
  Secret: { plural: "secrets", namespaced: true },
  Node: { plural: "nodes", namespaced: false },
};

interface BoundObjectRef {
  kind?: string;
  apiVersion?: string;
  name?: string;
  uid?: string;
}

export async function createToken(scope: RequestScope): Promise<void> {
  const tokens = scope.ctx.serviceAccountTokens;
  if (!tokens) {
    throw new ApiError(
      404,
      "NotFound",
      "the server could not find the requested resource: no token issuer is configured",
    );
  }
  const { namespace, name } = scope.info;
  const raw = decodeObjectBody(await readBody(scope.req), scope.req.headers["content-type"]);
  checkTypeMeta(raw, `${GROUP}/v1`, "TokenRequest");
  const spec = (raw.spec ?? {}) as {
    audiences?: unknown;
    expirationSeconds?: unknown;
    boundObjectRef?: unknown;
  };
  const errors: FieldError[] = [];
  const expirationSeconds = spec.expirationSeconds ?? DEFAULT_EXPIRATION_SECONDS;
  if (typeof expirationSeconds !== "number" || !Number.isInteger(expirationSeconds)) {
    errors.push({
      reason: "FieldValueInvalid",
      field: "spec.expirationSeconds",
      message: "must be an integer",
    });
  } else if (expirationSeconds < MIN_EXPIRATION_SECONDS) {
    errors.push({
      reason: "FieldValueInvalid",
      field: "spec.expirationSeconds",
      message: `Invalid value: ${expirationSeconds}: may not specify a duration less than 10 minutes`,
    });
  } else if (expirationSeconds > MAX_EXPIRATION_SECONDS) {
    errors.push({
      reason: "FieldValueInvalid",
      field: "spec.expirationSeconds",
      message: `Invalid value: ${expirationSeconds}: may not specify a duration larger than 2^32 seconds`,
    });
  }
  const audiences = spec.audiences ?? [];
  if (!Array.isArray(audiences) || audiences.some((a) => typeof a !== "string" || a === "")) {
    errors.push({
      reason: "FieldValueInvalid",
      field: "spec.audiences",
      message: "must be a list of non-empty strings",
    });
  }
  const ref = spec.boundObjectRef as BoundObjectRef | undefined | null;
  if (ref && !(ref.kind !== undefined && ref.kind in BOUND_KINDS)) {
    errors.push({
      reason: "FieldValueNotSupported",
      field: "spec.boundObjectRef.kind",
      message: `Unsupported value: ${JSON.stringify(ref.kind ?? "")}: supported values: "Node", "Pod", "Secret"`,
    });
  }
  if (ref && !ref.name) {
    errors.push({
      reason: "FieldValueRequired",
      field: "spec.boundObjectRef.name",
      message: "Required value",
    });
  }
  if (errors.length > 0) throw invalid(GROUP, "TokenRequest", name, errors);
  const node = nodeIdentity(scope.user);
  if (node !== undefined) await checkNodeRequest(scope, node, ref ?? undefined);

  const account = await scope.store.get(namespace, name);
  let boundObject: Parameters<typeof tokens.issue>[0]["boundObject"];
  if (ref) {
    const kind = ref.kind as BoundKind;
    const bound = await boundObjectOf(scope, kind, namespace, ref.name as string);
    const uid = bound.metadata?.uid ?? "";
    if (ref.uid && ref.uid !== uid) {
      throw conflict(
        { group: "", resource: BOUND_KINDS[kind].plural },
        ref.name as string,
        `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`,
      );
    }
    boundObject = { kind, name: ref.name as string, uid };
    // A token bound to a pod also names the pod's node (upstream's node claims), when it is scheduled.
    const nodeName = kind === "Pod" ? (bound.spec as { nodeName?: string } | undefined)?.nodeName : undefined;
    if (nodeName) {
      const node = await boundObjectOf(scope, "Node", "", nodeName).catch(() => undefined);
      if (node?.metadata?.uid) boundObject.node = { name: nodeName, uid: node.metadata.uid };
    }
  }
  const issued = tokens.issue({
    namespace,
    serviceAccount: { name, uid: account.metadata?.uid ?? "" },
    audiences: audiences as string[],
    expirationSeconds: expirationSeconds as number,
    ...(boundObject ? { boundObject } : {}),
  });
  scope.log.info(
    {
      namespace,
      serviceAccount: name,
      user: scope.user.name,
      bound: ref ? `${ref.kind}/${ref.name}` : undefined,
    },
    "issued a service account token",
  );
  respondObject(scope, 201, {
    kind: "TokenRequest",
    apiVersion: `${GROUP}/v1`,
    metadata: { name, namespace, creationTimestamp: formatTime(new Date(scope.ctx.clock.now())) },
    spec: {
      audiences: (audiences as string[]).length > 0 ? audiences : [...tokens.apiAudiences],
      expirationSeconds,
      boundObjectRef: ref
        ? { kind: ref.kind, apiVersion: ref.apiVersion ?? "v1", name: ref.name, uid: boundObject?.uid }
        : null,
    },
    status: { token: issued.token, expirationTimestamp: formatTime(issued.expiresAt) },
  });
}

async function boundObjectOf(
  scope: RequestScope,
  kind: BoundKind,
  namespace: string,
  name: string,
): Promise<KubeObject> {
  const { plural, namespaced } = BOUND_KINDS[kind];
  const served = scope.ctx.registry.lookup("", "v1", plural);
  const store = served ? scope.ctx.stores.get(served) : undefined;
  if (!store) throw new ApiError(404, "NotFound", `${plural} are not served`);
  return store.get(namespaced ? namespace : "", name);
}

/**
 * NodeRestriction for tokens (upstream admitServiceAccount): a node gets tokens only bound to a pod, by UID,
 * that is scheduled on that node; the API server then adds the node binding itself.
 */
async function checkNodeRequest(scope: RequestScope, node: string, ref: BoundObjectRef | undefined) {
  const { namespace, name } = scope.info;
  const refuse = (why: string) => forbidden({ group: "", resource: "serviceaccounts" }, name, why);
  if (ref?.kind !== "Pod" || (ref.apiVersion ?? "v1") !== "v1" || !ref.name) {
    throw refuse("node requested token not bound to a pod");
  }
  if (!ref.uid) throw refuse("node requested token with a pod binding without a uid");
  const pod = await boundObjectOf(scope, "Pod", namespace, ref.name);
  if (pod.metadata?.uid !== ref.uid) {
    throw refuse(
      `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`,
    );
  }
  if ((pod.spec as { nodeName?: string } | undefined)?.nodeName !== node) {
    throw refuse("node requested token bound to a pod scheduled on a different node");
  }
}
