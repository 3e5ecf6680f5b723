// authentication.k8s.io/v1 SelfSubjectReview: "who am I" as the server authenticated the request
// (`kubectl auth whoami`). Create-only; nothing is stored.

import { always, atomicList, mapOf, named, opt, type Static, str, struct, typeMetaFields } from "../dsl.ts";
import { defineKind } from "../kind.ts";
import { ObjectMeta } from "../meta.ts";
import { nameIsDNSSubdomain } from "../names.ts";

const AUTHN = "io.k8s.api.authentication.v1";

export const UserInfoSchema = named(
  `${AUTHN}.UserInfo`,
  struct("UserInfo holds the information about the user needed to implement the user.Info interface.", {
    username: opt(str(), "The name that uniquely identifies this user among all active users."),
    uid: opt(str(), "A unique value that identifies this user across time."),
    groups: opt(atomicList(str()), "The names of groups this user is a part of."),
    extra: opt(mapOf(atomicList(str())), "Any additional information provided by the authenticator."),
  }),
);

export const SelfSubjectReview = named(
  `${AUTHN}.SelfSubjectReview`,
  struct(
    "SelfSubjectReview contains the user information that the kube-apiserver has about the user making this request.",
    {
      ...typeMetaFields(),
      metadata: always(ObjectMeta, "Standard object's metadata."),
      status: opt(
        named(
          `${AUTHN}.SelfSubjectReviewStatus`,
          struct("SelfSubjectReviewStatus is filled by the kube-apiserver and sent back to a user.", {
            userInfo: opt(UserInfoSchema, "User attributes of the user making this request."),
          }),
        ),
        "Status is filled in by the server with the user attributes.",
      ),
    },
  ),
);
export type SelfSubjectReview = Static<typeof SelfSubjectReview>;

export const selfSubjectReviews = defineKind<SelfSubjectReview>({
  group: "authentication.k8s.io",
  version: "v1",
  kind: "SelfSubjectReview",
  plural: "selfsubjectreviews",
  namespaced: false,
  verbs: ["create"],
  schema: SelfSubjectReview,
  nameValidator: nameIsDNSSubdomain,
  table: { columns: [], row: () => [] },
});
