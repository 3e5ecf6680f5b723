// core/v1 ServiceAccount.

import {
  always,
  atomicList,
  bool,
  mapList,
  named,
  opt,
  type Static,
  struct,
  typeMetaFields,
} from "../dsl.ts";
import { defineKind } from "../kind.ts";
import { ObjectMeta } from "../meta.ts";
import { nameIsDNSSubdomain } from "../names.ts";
import { AGE_COLUMN, column, NAME_COLUMN, since } from "../printing.ts";
import { LocalObjectReference, ObjectReference } from "./refs.ts";

export const ServiceAccount = named(
  "io.k8s.api.core.v1.ServiceAccount",
  struct(
    "ServiceAccount binds together: * a name, understood by users, and perhaps by peripheral systems, for an identity * a principal that can be authenticated and authorized * a set of secrets",
    {
      ...typeMetaFields(),
      metadata: always(ObjectMeta, "Standard object's metadata."),
      secrets: opt(
        mapList(ObjectReference, ["name"], "name"),
        "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.",
      ),
      imagePullSecrets: opt(
        atomicList(LocalObjectReference),
        "ImagePullSecrets is a list of references to secrets in the same namespace to use for pulling any images in pods that reference this ServiceAccount.",
      ),
      automountServiceAccountToken: opt(
        bool(),
        "AutomountServiceAccountToken indicates whether pods running as this service account should have an API token automatically mounted.",
      ),
    },
  ),
);
export type ServiceAccount = Static<typeof ServiceAccount>;

export const serviceAccounts = defineKind<ServiceAccount>({
  group: "",
  version: "v1",
  kind: "ServiceAccount",
  plural: "serviceaccounts",
  namespaced: true,
  shortNames: ["sa"],
  subresources: ["token"],
  schema: ServiceAccount,
  nameValidator: nameIsDNSSubdomain,
  table: {
    columns: [
      NAME_COLUMN,
      column("Secrets", "The number of secrets of the service account.", 0, "integer"),
      AGE_COLUMN,
    ],
    row: (sa, now = new Date()) => [
      sa.metadata?.name ?? "",
      (sa.secrets ?? []).length,
      since(sa.metadata?.creationTimestamp, now),
    ],
  },
});
