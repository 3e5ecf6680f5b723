// The access-control kinds: RBAC objects and the create-only review questions (authorization.k8s.io,
// authentication.k8s.io SelfSubjectReview).

import { selfSubjectReviews } from "../authentication/selfsubjectreview.ts";
import {
  localSubjectAccessReviews,
  selfSubjectAccessReviews,
  selfSubjectRulesReviews,
  subjectAccessReviews,
} from "../authorization/reviews.ts";
import { clusterRoleBindings, clusterRoles, roleBindings, roles } from "./rbac.ts";

export const accessControlDefinitions = [
  roles,
  clusterRoles,
  roleBindings,
  clusterRoleBindings,
  subjectAccessReviews,
  selfSubjectAccessReviews,
  localSubjectAccessReviews,
  selfSubjectRulesReviews,
  selfSubjectReviews,
];
