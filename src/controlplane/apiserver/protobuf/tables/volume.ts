// k8s.io.api.core.v1: Volume and the volume sources this server serves (the same set as its schema:
// hostPath, emptyDir, secret, nfs, persistentVolumeClaim, downwardAPI, configMap, projected, csi,
// ephemeral, image). The deprecated in-tree cloud and storage-vendor sources (gcePersistentDisk, rbd,
// iscsi …) have no table entry, so a protobuf body carrying one is refused with 415.
// Numbers and names as in upstream's core/v1/generated.proto (v1.33 API).

import {
  bool,
  inline,
  int32,
  int64,
  type MessageDef,
  obj,
  objs,
  ptr,
  resourceList,
  str,
  stringMap,
  strs,
} from "../fields.ts";

export const VOLUMES: Record<string, MessageDef> = {
  Volume: { 1: str("name"), 2: inline("VolumeSource") },
  VolumeSource: {
    1: ptr(obj("hostPath", "HostPathVolumeSource")),
    2: ptr(obj("emptyDir", "EmptyDirVolumeSource")),
    6: ptr(obj("secret", "SecretVolumeSource")),
    7: ptr(obj("nfs", "NFSVolumeSource")),
    10: ptr(obj("persistentVolumeClaim", "PersistentVolumeClaimVolumeSource")),
    16: ptr(obj("downwardAPI", "DownwardAPIVolumeSource")),
    19: ptr(obj("configMap", "ConfigMapVolumeSource")),
    26: ptr(obj("projected", "ProjectedVolumeSource")),
    28: ptr(obj("csi", "CSIVolumeSource")),
    29: ptr(obj("ephemeral", "EphemeralVolumeSource")),
    30: ptr(obj("image", "ImageVolumeSource")),
  },
  HostPathVolumeSource: { 1: str("path"), 2: ptr(str("type")) },
  EmptyDirVolumeSource: { 1: str("medium"), 2: ptr(obj("sizeLimit", "Quantity")) },
  SecretVolumeSource: {
    1: str("secretName"),
    2: objs("items", "KeyToPath"),
    3: ptr(int32("defaultMode")),
    4: ptr(bool("optional")),
  },
  NFSVolumeSource: { 1: str("server"), 2: str("path"), 3: bool("readOnly") },
  PersistentVolumeClaimVolumeSource: { 1: str("claimName"), 2: bool("readOnly") },
  DownwardAPIVolumeSource: {
    1: objs("items", "DownwardAPIVolumeFile"),
    2: ptr(int32("defaultMode")),
  },
  ConfigMapVolumeSource: {
    1: inline("LocalObjectReference"),
    2: objs("items", "KeyToPath"),
    3: ptr(int32("defaultMode")),
    4: ptr(bool("optional")),
  },
  ProjectedVolumeSource: { 1: objs("sources", "VolumeProjection"), 2: ptr(int32("defaultMode")) },
  CSIVolumeSource: {
    1: str("driver"),
    2: ptr(bool("readOnly")),
    3: ptr(str("fsType")),
    4: stringMap("volumeAttributes"),
    5: ptr(obj("nodePublishSecretRef", "LocalObjectReference")),
  },
  EphemeralVolumeSource: {
    1: ptr(obj("volumeClaimTemplate", "PersistentVolumeClaimTemplate")),
  },
  ImageVolumeSource: { 1: str("reference"), 2: str("pullPolicy") },

  KeyToPath: { 1: str("key"), 2: str("path"), 3: ptr(int32("mode")) },
  DownwardAPIVolumeFile: {
    1: str("path"),
    2: ptr(obj("fieldRef", "ObjectFieldSelector")),
    3: ptr(obj("resourceFieldRef", "ResourceFieldSelector")),
    4: ptr(int32("mode")),
  },
  VolumeProjection: {
    1: ptr(obj("secret", "SecretProjection")),
    2: ptr(obj("downwardAPI", "DownwardAPIProjection")),
    3: ptr(obj("configMap", "ConfigMapProjection")),
    4: ptr(obj("serviceAccountToken", "ServiceAccountTokenProjection")),
    5: ptr(obj("clusterTrustBundle", "ClusterTrustBundleProjection")),
  },
  SecretProjection: {
    1: inline("LocalObjectReference"),
    2: objs("items", "KeyToPath"),
    4: ptr(bool("optional")),
  },
  ConfigMapProjection: {
    1: inline("LocalObjectReference"),
    2: objs("items", "KeyToPath"),
    4: ptr(bool("optional")),
  },
  DownwardAPIProjection: { 1: objs("items", "DownwardAPIVolumeFile") },
  ServiceAccountTokenProjection: {
    1: str("audience"),
    2: ptr(int64("expirationSeconds")),
    3: str("path"),
  },
  ClusterTrustBundleProjection: {
    1: ptr(str("name")),
    2: ptr(str("signerName")),
    3: ptr(obj("labelSelector", "LabelSelector")),
    5: ptr(bool("optional")),
    4: str("path"),
  },

  PersistentVolumeClaimTemplate: {
    1: obj("metadata", "ObjectMeta"),
    2: obj("spec", "PersistentVolumeClaimSpec"),
  },
  PersistentVolumeClaimSpec: {
    1: strs("accessModes"),
    4: ptr(obj("selector", "LabelSelector")),
    2: obj("resources", "VolumeResourceRequirements"),
    3: str("volumeName"),
    5: ptr(str("storageClassName")),
    6: ptr(str("volumeMode")),
    7: ptr(obj("dataSource", "TypedLocalObjectReference")),
    8: ptr(obj("dataSourceRef", "TypedObjectReference")),
    9: ptr(str("volumeAttributesClassName")),
  },
  VolumeResourceRequirements: { 1: resourceList("limits"), 2: resourceList("requests") },
};
