// k8s.io.api.rbac.v1 (kubectl create role/clusterrole/rolebinding/clusterrolebinding), authorization.v1
// access reviews (kubectl auth can-i) and authentication.v1 SelfSubjectReview (kubectl auth whoami).
// Numbers and names as in upstream's generated.proto (v1.33 API); ExtraValue comes from the certificates
// table.

import { bool, kind, type MessageDef, obj, objs, str, strs } from "../fields.ts";

const extra = { name: "extra", type: { map: { message: "ExtraValue" } } } as const;

export const RBAC: Record<string, MessageDef> = {
  Role: { 1: obj("metadata", "ObjectMeta"), 2: objs("rules", "PolicyRule") },
  ClusterRole: {
    1: obj("metadata", "ObjectMeta"),
    2: objs("rules", "PolicyRule"),
    3: obj("aggregationRule", "AggregationRule"),
  },
  AggregationRule: { 1: objs("clusterRoleSelectors", "LabelSelector") },
  PolicyRule: {
    1: strs("verbs"),
    2: strs("apiGroups"),
    3: strs("resources"),
    4: strs("resourceNames"),
    5: strs("nonResourceURLs"),
  },
  RoleBinding: {
    1: obj("metadata", "ObjectMeta"),
    2: objs("subjects", "Subject"),
    3: obj("roleRef", "RoleRef"),
  },
  ClusterRoleBinding: {
    1: obj("metadata", "ObjectMeta"),
    2: objs("subjects", "Subject"),
    3: obj("roleRef", "RoleRef"),
  },
  Subject: { 1: str("kind"), 2: str("apiGroup"), 3: str("name"), 4: str("namespace") },
  RoleRef: { 1: str("apiGroup"), 2: str("kind"), 3: str("name") },

  SelfSubjectAccessReview: kind("SelfSubjectAccessReviewSpec", "SubjectAccessReviewStatus"),
  SubjectAccessReview: kind("SubjectAccessReviewSpec", "SubjectAccessReviewStatus"),
  LocalSubjectAccessReview: kind("SubjectAccessReviewSpec", "SubjectAccessReviewStatus"),
  SelfSubjectAccessReviewSpec: {
    1: obj("resourceAttributes", "ResourceAttributes"),
    2: obj("nonResourceAttributes", "NonResourceAttributes"),
  },
  SubjectAccessReviewSpec: {
    1: obj("resourceAttributes", "ResourceAttributes"),
    2: obj("nonResourceAttributes", "NonResourceAttributes"),
    3: str("user"),
    4: strs("groups"),
    5: extra,
    6: str("uid"),
  },
  ResourceAttributes: {
    1: str("namespace"),
    2: str("verb"),
    3: str("group"),
    4: str("version"),
    5: str("resource"),
    6: str("subresource"),
    7: str("name"),
  },
  NonResourceAttributes: { 1: str("path"), 2: str("verb") },
  SubjectAccessReviewStatus: {
    1: bool("allowed"),
    4: bool("denied"),
    2: str("reason"),
    3: str("evaluationError"),
  },

  SelfSubjectRulesReview: kind("SelfSubjectRulesReviewSpec", "SubjectRulesReviewStatus"),
  SelfSubjectRulesReviewSpec: { 1: str("namespace") },
  SubjectRulesReviewStatus: {
    1: objs("resourceRules", "ResourceRule"),
    2: objs("nonResourceRules", "NonResourceRule"),
    3: bool("incomplete"),
    4: str("evaluationError"),
  },
  ResourceRule: { 1: strs("verbs"), 2: strs("apiGroups"), 3: strs("resources"), 4: strs("resourceNames") },
  NonResourceRule: { 1: strs("verbs"), 2: strs("nonResourceURLs") },

  SelfSubjectReview: { 1: obj("metadata", "ObjectMeta"), 2: obj("status", "SelfSubjectReviewStatus") },
  SelfSubjectReviewStatus: { 1: obj("userInfo", "UserInfo") },
  UserInfo: { 1: str("username"), 2: str("uid"), 3: strs("groups"), 4: extra },
};

/** Top-level kinds of this table accepted as protobuf bodies, by "apiVersion/Kind". */
export const RBAC_TOP_LEVEL: Record<string, string> = Object.fromEntries(
  [
    ["rbac.authorization.k8s.io/v1", ["Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"]],
    [
      "authorization.k8s.io/v1",
      [
        "SelfSubjectAccessReview",
        "SubjectAccessReview",
        "LocalSubjectAccessReview",
        "SelfSubjectRulesReview",
      ],
    ],
    ["authentication.k8s.io/v1", ["SelfSubjectReview"]],
  ].flatMap(([gv, kinds]) => (kinds as string[]).map((k) => [`${gv}/${k}`, k])),
);
