// Field tables of the Kubernetes protobuf messages this server decodes, by message name. Field names and
// numbers match upstream's generated.proto (k8s.io/api, k8s.io/apimachinery) as of the v1.33 API; names are
// the JSON names. Covered: the kinds typed clients send as protobuf — kubectl create namespace/configmap/
// secret/serviceaccount/deployment/job/service, kubectl run and expose, bindings, evictions — and every
// message they reach. A field without an entry (a deprecated in-tree volume source, an API field newer
// than v1.33) is refused with 415, never dropped.

import type { FieldDef, MessageDef } from "./fields.ts";
import { APPS } from "./tables/apps.ts";
import { AUTHENTICATION, AUTHENTICATION_TOP_LEVEL } from "./tables/authentication.ts";
import { BATCH } from "./tables/batch.ts";
import { CERTIFICATES } from "./tables/certificates.ts";
import { CONTAINERS } from "./tables/container.ts";
import { CORE } from "./tables/core.ts";
import { META } from "./tables/meta.ts";
import { POD } from "./tables/pod.ts";
import { RBAC, RBAC_TOP_LEVEL } from "./tables/rbac.ts";
import { VOLUMES } from "./tables/volume.ts";

export type { FieldDef, MessageDef };

/** Messages whose JSON form is not an object (they are converted specially). */
export const SPECIAL = new Set([
  "Time",
  "MicroTime",
  "FieldsV1",
  "RawExtension",
  "IntOrString",
  "Quantity",
  "ExtraValue",
]);

function merge(...tables: Record<string, MessageDef>[]): Record<string, MessageDef> {
  const out: Record<string, MessageDef> = {};
  for (const table of tables) {
    for (const [name, def] of Object.entries(table)) {
      if (out[name]) throw new Error(`protobuf message ${name} is defined twice`);
      out[name] = def;
    }
  }
  return out;
}

export const MESSAGES: Record<string, MessageDef> = merge(
  META,
  CORE,
  POD,
  CONTAINERS,
  VOLUMES,
  APPS,
  BATCH,
  CERTIFICATES,
  RBAC,
  AUTHENTICATION,
);

/** Top-level kinds accepted as protobuf bodies, by "apiVersion/Kind". */
export const TOP_LEVEL: Record<string, string> = {
  "v1/Namespace": "Namespace",
  "v1/ConfigMap": "ConfigMap",
  "v1/Secret": "Secret",
  "v1/ServiceAccount": "ServiceAccount",
  "v1/Binding": "Binding",
  "v1/Pod": "Pod",
  "v1/Service": "Service",
  "v1/ReplicationController": "ReplicationController",
  "apps/v1/Deployment": "Deployment",
  "apps/v1/ReplicaSet": "ReplicaSet",
  "apps/v1/DaemonSet": "DaemonSet",
  "batch/v1/Job": "Job",
  "certificates.k8s.io/v1/CertificateSigningRequest": "CertificateSigningRequest",
  "policy/v1/Eviction": "Eviction",
  "meta.k8s.io/v1/DeleteOptions": "DeleteOptions",
  "v1/DeleteOptions": "DeleteOptions",
  ...RBAC_TOP_LEVEL,
  ...AUTHENTICATION_TOP_LEVEL,
};
