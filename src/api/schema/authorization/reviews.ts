// authorization.k8s.io/v1 SubjectAccessReview, SelfSubjectAccessReview, LocalSubjectAccessReview: create-only
// questions to the authorizer ("may X do Y?"); the answer comes back in status and nothing is stored.
// `kubectl auth can-i` sends SelfSubjectAccessReviews.

import {
  always,
  atomicList,
  bool,
  mapOf,
  named,
  opt,
  req,
  type Static,
  str,
  struct,
  typeMetaFields,
} from "../dsl.ts";
import { type FieldError, invalid, required } from "../field-errors.ts";
import { defineKind } from "../kind.ts";
import { ObjectMeta } from "../meta.ts";
import { nameIsDNSSubdomain } from "../names.ts";

const AUTHZ = "io.k8s.api.authorization.v1";
export const AUTHORIZATION_GROUP = "authorization.k8s.io";

export const ResourceAttributes = named(
  `${AUTHZ}.ResourceAttributes`,
  struct(
    "ResourceAttributes includes the authorization attributes available for resource requests to the Authorizer interface",
    {
      namespace: opt(str(), "Namespace is the namespace of the action being requested."),
      verb: opt(
        str(),
        'Verb is a kubernetes resource API verb, like: get, list, watch, create, update, delete, proxy.  "*" means all.',
      ),
      group: opt(str(), 'Group is the API Group of the Resource.  "*" means all.'),
      version: opt(str(), 'Version is the API Version of the Resource.  "*" means all.'),
      resource: opt(str(), 'Resource is one of the existing resource types.  "*" means all.'),
      subresource: opt(str(), 'Subresource is one of the existing resource types.  "" means none.'),
      name: opt(
        str(),
        'Name is the name of the resource being requested for a "get" or deleted for a "delete". "" (empty) means all.',
      ),
    },
  ),
);
export type ResourceAttributes = Static<typeof ResourceAttributes>;

export const NonResourceAttributes = named(
  `${AUTHZ}.NonResourceAttributes`,
  struct(
    "NonResourceAttributes includes the authorization attributes available for non-resource requests to the Authorizer interface",
    {
      path: opt(str(), "Path is the URL path of the request"),
      verb: opt(str(), "Verb is the standard HTTP verb"),
    },
  ),
);
export type NonResourceAttributes = Static<typeof NonResourceAttributes>;

export const SubjectAccessReviewStatus = named(
  `${AUTHZ}.SubjectAccessReviewStatus`,
  struct("SubjectAccessReviewStatus", {
    allowed: req(bool(), "Allowed is required. True if the action would be allowed, false otherwise."),
    denied: opt(
      bool(),
      "Denied is optional. True if the action would be denied, otherwise false. If both allowed is false and denied is false, then the authorizer has no opinion on whether to authorize the action. Denied may not be true if Allowed is true.",
    ),
    reason: opt(str(), "Reason is optional.  It indicates why a request was allowed or denied."),
    evaluationError: opt(
      str(),
      "EvaluationError is an indication that some error occurred during the authorization check.",
    ),
  }),
);
export type SubjectAccessReviewStatus = Static<typeof SubjectAccessReviewStatus>;

export const SubjectAccessReviewSpec = named(
  `${AUTHZ}.SubjectAccessReviewSpec`,
  struct(
    "SubjectAccessReviewSpec is a description of the access request.  Exactly one of ResourceAuthorizationAttributes and NonResourceAuthorizationAttributes must be set",
    {
      resourceAttributes: opt(
        ResourceAttributes,
        "ResourceAuthorizationAttributes describes information for a resource access request",
      ),
      nonResourceAttributes: opt(
        NonResourceAttributes,
        "NonResourceAttributes describes information for a non-resource access request",
      ),
      user: opt(
        str(),
        'User is the user you\'re testing for. If you specify "User" but not "Groups", then is it interpreted as "What if User were not a member of any groups',
      ),
      groups: opt(atomicList(str()), "Groups is the groups you're testing for."),
      extra: opt(
        mapOf(atomicList(str())),
        "Extra corresponds to the user.Info.GetExtra() method from the authenticator.",
      ),
      uid: opt(str(), "UID information about the requesting user."),
    },
  ),
);

export const SelfSubjectAccessReviewSpec = named(
  `${AUTHZ}.SelfSubjectAccessReviewSpec`,
  struct(
    "SelfSubjectAccessReviewSpec is a description of the access request.  Exactly one of ResourceAuthorizationAttributes and NonResourceAuthorizationAttributes must be set",
    {
      resourceAttributes: opt(
        ResourceAttributes,
        "ResourceAuthorizationAttributes describes information for a resource access request",
      ),
      nonResourceAttributes: opt(
        NonResourceAttributes,
        "NonResourceAttributes describes information for a non-resource access request",
      ),
    },
  ),
);

function review(name: string, description: string, spec: typeof SubjectAccessReviewSpec) {
  return named(
    `${AUTHZ}.${name}`,
    struct(description, {
      ...typeMetaFields(),
      metadata: always(ObjectMeta, "Standard list metadata."),
      spec: req(spec, "Spec holds information about the request being evaluated", { default: {} }),
      status: opt(
        SubjectAccessReviewStatus,
        "Status is filled in by the server and indicates whether the request is allowed or not",
      ),
    }),
  );
}

export const SubjectAccessReview = review(
  "SubjectAccessReview",
  "SubjectAccessReview checks whether or not a user or group can perform an action.",
  SubjectAccessReviewSpec,
);
export type SubjectAccessReview = Static<typeof SubjectAccessReview>;
export const SelfSubjectAccessReview = review(
  "SelfSubjectAccessReview",
  'SelfSubjectAccessReview checks whether or the current user can perform an action.  Not filling in a spec.namespace means "in all namespaces".  Self is a special case, because users should always be able to check whether they can perform an action',
  SelfSubjectAccessReviewSpec as unknown as typeof SubjectAccessReviewSpec,
);
export const LocalSubjectAccessReview = review(
  "LocalSubjectAccessReview",
  "LocalSubjectAccessReview checks whether or not a user or group can perform an action in a given namespace. Having a namespace scoped resource makes it much easier to grant namespace scoped policy that includes permissions checking.",
  SubjectAccessReviewSpec,
);

/** The union of the three reviews' shapes, as the handler sees them. */
export type AccessReview = SubjectAccessReview;

function validateAttributes(r: AccessReview): FieldError[] {
  const spec = r.spec ?? {};
  if (spec.resourceAttributes && spec.nonResourceAttributes)
    return [
      invalid(
        "spec.nonResourceAttributes",
        spec.nonResourceAttributes,
        "cannot be specified in combination with resourceAttributes",
      ),
    ];
  if (!spec.resourceAttributes && !spec.nonResourceAttributes)
    return [
      invalid(
        "spec.resourceAttributes",
        null,
        "exactly one of nonResourceAttributes or resourceAttributes must be specified",
      ),
    ];
  return [];
}

function validateSubject(r: AccessReview): FieldError[] {
  const errs = validateAttributes(r);
  if (!r.spec?.user && (r.spec?.groups ?? []).length === 0)
    errs.push(invalid("spec.user", r.spec?.user ?? "", "at least one of user or group must be specified"));
  return errs;
}

const reviewOptions = {
  group: AUTHORIZATION_GROUP,
  version: "v1",
  verbs: ["create"],
  nameValidator: nameIsDNSSubdomain,
  table: { columns: [], row: () => [] },
};

export const subjectAccessReviews = defineKind<AccessReview>({
  ...reviewOptions,
  kind: "SubjectAccessReview",
  plural: "subjectaccessreviews",
  namespaced: false,
  schema: SubjectAccessReview,
  validate: validateSubject,
});

export const selfSubjectAccessReviews = defineKind<AccessReview>({
  ...reviewOptions,
  kind: "SelfSubjectAccessReview",
  plural: "selfsubjectaccessreviews",
  namespaced: false,
  schema: SelfSubjectAccessReview,
  validate: validateAttributes,
});

export const localSubjectAccessReviews = defineKind<AccessReview>({
  ...reviewOptions,
  kind: "LocalSubjectAccessReview",
  plural: "localsubjectaccessreviews",
  namespaced: true,
  schema: LocalSubjectAccessReview,
  validate(r) {
    const errs = validateSubject(r);
    const ns = r.spec?.resourceAttributes?.namespace ?? "";
    if (r.spec?.nonResourceAttributes)
      errs.push(
        invalid(
          "spec.nonResourceAttributes",
          r.spec.nonResourceAttributes,
          "disallowed on this kind of request",
        ),
      );
    if (ns !== (r.metadata?.namespace ?? ""))
      errs.push(invalid("spec.resourceAttributes.namespace", ns, "must match metadata.namespace"));
    return errs;
  },
});

// SelfSubjectRulesReview (`kubectl auth can-i --list`) ---------------------------------------------------------

export const ResourceRule = named(
  `${AUTHZ}.ResourceRule`,
  struct(
    "ResourceRule is the list of actions the subject is allowed to perform on resources. The list ordering isn't significant, may contain duplicates, and possibly be incomplete.",
    {
      verbs: req(
        atomicList(str()),
        'Verb is a list of kubernetes resource API verbs, like: get, list, watch, create, update, delete, proxy.  "*" means all.',
      ),
      apiGroups: opt(
        atomicList(str()),
        'APIGroups is the name of the APIGroup that contains the resources.  "*" means all.',
      ),
      resources: opt(
        atomicList(str()),
        'Resources is a list of resources this rule applies to.  "*" means all in the specified apiGroups.',
      ),
      resourceNames: opt(
        atomicList(str()),
        'ResourceNames is an optional white list of names that the rule applies to.  An empty set means that everything is allowed.  "*" means all.',
      ),
    },
  ),
);

export const NonResourceRule = named(
  `${AUTHZ}.NonResourceRule`,
  struct("NonResourceRule holds information that describes a rule for the non-resource", {
    verbs: req(
      atomicList(str()),
      'Verb is a list of kubernetes non-resource API verbs, like: get, post, put, delete, patch, head, options.  "*" means all.',
    ),
    nonResourceURLs: opt(
      atomicList(str()),
      'NonResourceURLs is a set of partial urls that a user should have access to.  *s are allowed, but only as the full, final step in the path.  "*" means all.',
    ),
  }),
);

export const SelfSubjectRulesReview = named(
  `${AUTHZ}.SelfSubjectRulesReview`,
  struct(
    "SelfSubjectRulesReview enumerates the set of actions the current user can perform within a namespace. The returned list of actions may be incomplete depending on the server's authorization mode, and any errors experienced during the evaluation.",
    {
      ...typeMetaFields(),
      metadata: always(ObjectMeta, "Standard list metadata."),
      spec: req(
        named(
          `${AUTHZ}.SelfSubjectRulesReviewSpec`,
          struct("SelfSubjectRulesReviewSpec defines the specification for SelfSubjectRulesReview.", {
            namespace: opt(str(), "Namespace to evaluate rules for. Required."),
          }),
        ),
        "Spec holds information about the request being evaluated.",
        { default: {} },
      ),
      status: opt(
        named(
          `${AUTHZ}.SubjectRulesReviewStatus`,
          struct("SubjectRulesReviewStatus contains the result of a rules check.", {
            resourceRules: req(
              atomicList(ResourceRule),
              "ResourceRules is the list of actions the subject is allowed to perform on resources.",
            ),
            nonResourceRules: req(
              atomicList(NonResourceRule),
              "NonResourceRules is the list of actions the subject is allowed to perform on non-resources.",
            ),
            incomplete: req(
              bool(),
              "Incomplete is true when the rules returned by this call are incomplete.",
            ),
            evaluationError: opt(str(), "EvaluationError can appear in combination with Rules."),
          }),
        ),
        "Status is filled in by the server and indicates the set of actions a user can perform.",
      ),
    },
  ),
);
export type SelfSubjectRulesReview = Static<typeof SelfSubjectRulesReview>;

export const selfSubjectRulesReviews = defineKind<SelfSubjectRulesReview>({
  ...reviewOptions,
  kind: "SelfSubjectRulesReview",
  plural: "selfsubjectrulesreviews",
  namespaced: false,
  schema: SelfSubjectRulesReview,
  validate(r) {
    return r.spec?.namespace ? [] : [required("spec.namespace")];
  },
});
