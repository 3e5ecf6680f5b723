// POST of the create-only review kinds: SelfSubjectAccessReview (`kubectl auth can-i`), SubjectAccessReview,
// LocalSubjectAccessReview and SelfSubjectReview (`kubectl auth whoami`). The answer is computed by the
// server's own authorizer and returned in status; nothing is stored.

import type { KubeObject } from "../../../api/resource.ts";
import type { AccessReview } from "../../../api/schema/authorization/reviews.ts";
import { decodeObjectBody, readBody } from "../body.ts";
import { invalid } from "../errors.ts";
import { decodeObject } from "../handlers/decode.ts";
import { parseFieldValidation } from "../handlers/query.ts";
import type { RequestScope } from "../handlers/scope.ts";
import { respondObject } from "../handlers/scope.ts";
import type { UserInfo } from "../pipeline/authentication.ts";
import { authorize } from "../pipeline/authorization.ts";
import type { RequestInfo, Verb } from "../request-info.ts";
import type { ServedResource } from "../resources.ts";

const ACCESS_REVIEWS = new Set([
  "subjectaccessreviews",
  "selfsubjectaccessreviews",
  "localsubjectaccessreviews",
  "selfsubjectrulesreviews",
]);

export function isReviewResource(served: ServedResource): boolean {
  return (
    (served.group === "authorization.k8s.io" && ACCESS_REVIEWS.has(served.plural)) ||
    (served.group === "authentication.k8s.io" && served.plural === "selfsubjectreviews")
  );
}

/** The request a review asks about, as the authorizers see requests. */
export function reviewedRequest(review: AccessReview): RequestInfo {
  const r = review.spec?.resourceAttributes;
  if (r) {
    return {
      isResourceRequest: true,
      path: "",
      verb: (r.verb ?? "") as Verb,
      apiGroup: r.group ?? "",
      apiVersion: r.version ?? "",
      namespace: r.namespace ?? "",
      resource: r.resource ?? "",
      subresource: r.subresource ?? "",
      name: r.name ?? "",
      rest: [],
    };
  }
  const n = review.spec?.nonResourceAttributes ?? {};
  return { isResourceRequest: false, path: n.path ?? "", verb: n.verb ?? "" };
}

function reviewedUser(review: AccessReview, requester: UserInfo, self: boolean): UserInfo {
  if (self) return requester;
  const spec = review.spec ?? {};
  const user: UserInfo = { name: spec.user ?? "", groups: spec.groups ?? [] };
  if (spec.uid) user.uid = spec.uid;
  if (spec.extra) user.extra = spec.extra;
  return user;
}

export async function createReview(scope: RequestScope): Promise<void> {
  const { served } = scope;
  const raw = decodeObjectBody(await readBody(scope.req), scope.req.headers["content-type"]);
  const { object } = decodeObject(served, raw, parseFieldValidation(scope.query));
  if (served.plural === "selfsubjectreviews") {
    const { name, uid, groups, extra } = scope.user;
    const userInfo = { username: name, ...(uid ? { uid } : {}), groups, ...(extra ? { extra } : {}) };
    respondObject(scope, 201, { ...object, metadata: { creationTimestamp: null }, status: { userInfo } });
    return;
  }
  if (served.plural === "selfsubjectrulesreviews") {
    const errors = served.def.validate(object);
    if (errors.length > 0) throw invalid(served.group, served.kind, "", errors);
    const namespace = (object as { spec?: { namespace?: string } }).spec?.namespace ?? "";
    const rules = scope.ctx.authorizer.rulesFor?.(scope.user, namespace) ?? {
      resourceRules: [],
      nonResourceRules: [],
      incomplete: true,
    };
    respondObject(scope, 201, { ...object, metadata: { creationTimestamp: null }, status: rules });
    return;
  }
  const review = object as AccessReview;
  if (served.namespaced && !review.metadata?.namespace) {
    review.metadata = { ...review.metadata, namespace: scope.info.namespace };
  }
  const errors = served.def.validate(review as KubeObject);
  if (errors.length > 0) throw invalid(served.group, served.kind, "", errors);
  const self = served.plural === "selfsubjectaccessreviews";
  const decision = await authorize(scope.ctx.authorizer, {
    user: reviewedUser(review, scope.user, self),
    request: reviewedRequest(review),
  });
  const status: Record<string, unknown> = { allowed: decision.allowed };
  if (!decision.allowed && decision.denied) status.denied = true;
  if (decision.reason) status.reason = decision.reason;
  respondObject(scope, 201, { ...review, metadata: { ...review.metadata, creationTimestamp: null }, status });
}
