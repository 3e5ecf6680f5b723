// core/v1 Volume and the volume sources Deckhand supports (emptyDir, hostPath, configMap, secret, downwardAPI,
// projected, persistentVolumeClaim), plus the ones it only stores (image, ephemeral, csi, nfs).

import {
  atomicList,
  bool,
  int32,
  int64,
  named,
  opt,
  req,
  type Static,
  str,
  stringMap,
  struct,
  Type,
} from "../dsl.ts";
import { LabelSelector, ObjectMeta, Quantity } from "../meta.ts";
import {
  LocalObjectReference,
  ObjectFieldSelector,
  ResourceFieldSelector,
  ResourceList,
  TypedLocalObjectReference,
} from "./refs.ts";

const CORE = "io.k8s.api.core.v1";

export const KeyToPath = named(
  `${CORE}.KeyToPath`,
  struct("Maps a string key to a path within a volume.", {
    key: req(str(), "key is the key to project."),
    path: req(
      str(),
      "path is the relative path of the file to map the key to. May not be an absolute path. May not contain the path element '..'. May not start with the string '..'.",
    ),
    mode: opt(
      int32(),
      "mode is Optional: mode bits used to set permissions on this file. Must be an octal value between 0000 and 0777 or a decimal value between 0 and 511. If not specified, the volume defaultMode will be used.",
    ),
  }),
);

export const EmptyDirVolumeSource = named(
  `${CORE}.EmptyDirVolumeSource`,
  struct(
    "Represents an empty directory for a pod. Empty directory volumes support ownership management and SELinux relabeling.",
    {
      medium: opt(
        str(),
        'medium represents what type of storage medium should back this directory. The default is "" which means to use the node\'s default medium. Must be an empty string (default) or Memory.',
      ),
      sizeLimit: opt(
        Quantity,
        "sizeLimit is the total amount of local storage required for this EmptyDir volume. The size limit is also applicable for memory medium.",
      ),
    },
  ),
);

export const HostPathVolumeSource = named(
  `${CORE}.HostPathVolumeSource`,
  struct(
    "Represents a host path mapped into a pod. Host path volumes do not support ownership management or SELinux relabeling.",
    {
      path: req(
        str(),
        "path of the directory on the host. If the path is a symlink, it will follow the link to the real path.",
      ),
      type: opt(
        str(),
        'type for HostPath Volume. Defaults to "". One of "", DirectoryOrCreate, Directory, FileOrCreate, File, Socket, CharDevice, BlockDevice.',
      ),
    },
  ),
);

export const ConfigMapVolumeSource = named(
  `${CORE}.ConfigMapVolumeSource`,
  struct(
    "Adapts a ConfigMap into a volume. The contents of the target ConfigMap's Data field will be presented in a volume as files using the keys in the Data field as the file names.",
    {
      name: opt(str(), "Name of the referent.", { default: "" }),
      items: opt(
        atomicList(KeyToPath),
        "items if unspecified, each key-value pair in the Data field of the referenced ConfigMap will be projected into the volume as a file whose name is the key and content is the value. If specified, the listed keys will be projected into the specified paths, and unlisted keys will not be present.",
      ),
      defaultMode: opt(
        int32(),
        "defaultMode is optional: mode bits used to set permissions on created files by default. Must be an octal value between 0000 and 0777 or a decimal value between 0 and 511. Defaults to 0644.",
      ),
      optional: opt(bool(), "optional specify whether the ConfigMap or its keys must be defined"),
    },
  ),
);

export const SecretVolumeSource = named(
  `${CORE}.SecretVolumeSource`,
  struct(
    "Adapts a Secret into a volume. The contents of the target Secret's Data field will be presented in a volume as files using the keys in the Data field as the file names. Secret volumes support ownership management and SELinux relabeling.",
    {
      secretName: opt(str(), "secretName is the name of the secret in the pod's namespace to use."),
      items: opt(
        atomicList(KeyToPath),
        "items If unspecified, each key-value pair in the Data field of the referenced Secret will be projected into the volume as a file whose name is the key and content is the value. If specified, the listed keys will be projected into the specified paths, and unlisted keys will not be present.",
      ),
      defaultMode: opt(
        int32(),
        "defaultMode is Optional: mode bits used to set permissions on created files by default. Must be an octal value between 0000 and 0777 or a decimal value between 0 and 511. Defaults to 0644.",
      ),
      optional: opt(bool(), "optional field specify whether the Secret or its keys must be defined"),
    },
  ),
);

export const DownwardAPIVolumeFile = named(
  `${CORE}.DownwardAPIVolumeFile`,
  struct("DownwardAPIVolumeFile represents information to create the file containing the pod field", {
    path: req(
      str(),
      "Required: Path is  the relative path name of the file to be created. Must not be absolute or contain the '..' path. Must be utf-8 encoded. The first item of the relative path must not start with '..'",
    ),
    fieldRef: opt(
      ObjectFieldSelector,
      "Required: Selects a field of the pod: only annotations, labels, name, namespace and uid are supported.",
    ),
    resourceFieldRef: opt(
      ResourceFieldSelector,
      "Selects a resource of the container: only resources limits and requests (limits.cpu, limits.memory, requests.cpu and requests.memory) are currently supported.",
    ),
    mode: opt(
      int32(),
      "Optional: mode bits used to set permissions on this file, must be an octal value between 0000 and 0777 or a decimal value between 0 and 511. If not specified, the volume defaultMode will be used.",
    ),
  }),
);

export const DownwardAPIVolumeSource = named(
  `${CORE}.DownwardAPIVolumeSource`,
  struct(
    "DownwardAPIVolumeSource represents a volume containing downward API info. Downward API volumes support ownership management and SELinux relabeling.",
    {
      items: opt(atomicList(DownwardAPIVolumeFile), "Items is a list of downward API volume file"),
      defaultMode: opt(
        int32(),
        "Optional: mode bits to use on created files by default. Must be a Optional: mode bits used to set permissions on created files by default. Defaults to 0644.",
      ),
    },
  ),
);

export const ConfigMapProjection = named(
  `${CORE}.ConfigMapProjection`,
  struct("Adapts a ConfigMap into a projected volume.", {
    name: opt(str(), "Name of the referent.", { default: "" }),
    items: opt(
      atomicList(KeyToPath),
      "items: the keys to project and the paths to project them to; if unspecified, every key is projected.",
    ),
    optional: opt(bool(), "optional specify whether the ConfigMap or its keys must be defined"),
  }),
);

export const SecretProjection = named(
  `${CORE}.SecretProjection`,
  struct("Adapts a secret into a projected volume.", {
    name: opt(str(), "Name of the referent.", { default: "" }),
    items: opt(
      atomicList(KeyToPath),
      "items: the keys to project and the paths to project them to; if unspecified, every key is projected.",
    ),
    optional: opt(bool(), "optional field specify whether the Secret or its key must be defined"),
  }),
);

export const DownwardAPIProjection = named(
  `${CORE}.DownwardAPIProjection`,
  struct("Represents downward API info for projecting into a projected volume.", {
    items: opt(atomicList(DownwardAPIVolumeFile), "Items is a list of DownwardAPIVolume file"),
  }),
);

export const ServiceAccountTokenProjection = named(
  `${CORE}.ServiceAccountTokenProjection`,
  struct("ServiceAccountTokenProjection represents a projected service account token volume.", {
    audience: opt(
      str(),
      "audience is the intended audience of the token. A recipient of a token must identify itself with an identifier specified in the audience of the token. Defaults to the identifier of the apiserver.",
    ),
    expirationSeconds: opt(
      int64(),
      "expirationSeconds is the requested duration of validity of the service account token. Defaults to 1 hour and must be at least 10 minutes.",
    ),
    path: req(str(), "path is the path relative to the mount point of the file to project the token into."),
  }),
);

export const ClusterTrustBundleProjection = named(
  `${CORE}.ClusterTrustBundleProjection`,
  struct(
    "ClusterTrustBundleProjection describes how to select a set of ClusterTrustBundle objects and project their contents into the pod filesystem.",
    {
      name: opt(str(), "Select a single ClusterTrustBundle by object name."),
      signerName: opt(str(), "Select all ClusterTrustBundles that match this signer name."),
      labelSelector: opt(LabelSelector, "Select all ClusterTrustBundles that match this label selector."),
      optional: opt(
        bool(),
        "If true, don't block pod startup if the referenced ClusterTrustBundle(s) aren't available.",
      ),
      path: req(str(), "Relative path from the volume root to write the bundle."),
    },
  ),
);

export const VolumeProjection = named(
  `${CORE}.VolumeProjection`,
  struct(
    "Projection that may be projected along with other supported volume types. Exactly one of these fields must be set.",
    {
      secret: opt(SecretProjection, "secret information about the secret data to project"),
      downwardAPI: opt(
        DownwardAPIProjection,
        "downwardAPI information about the downwardAPI data to project",
      ),
      configMap: opt(ConfigMapProjection, "configMap information about the configMap data to project"),
      serviceAccountToken: opt(
        ServiceAccountTokenProjection,
        "serviceAccountToken is information about the serviceAccountToken data to project",
      ),
      clusterTrustBundle: opt(
        ClusterTrustBundleProjection,
        "ClusterTrustBundle allows a pod to access the `.spec.trustBundle` field of ClusterTrustBundle objects in an auto-updating file.",
      ),
    },
  ),
);

export const ProjectedVolumeSource = named(
  `${CORE}.ProjectedVolumeSource`,
  struct("Represents a projected volume source", {
    sources: opt(
      atomicList(VolumeProjection),
      "sources is the list of volume projections. Each entry in this list handles one source.",
    ),
    defaultMode: opt(
      int32(),
      "defaultMode are the mode bits used to set permissions on created files by default. Must be an octal value between 0000 and 0777 or a decimal value between 0 and 511.",
    ),
  }),
);

export const PersistentVolumeClaimVolumeSource = named(
  `${CORE}.PersistentVolumeClaimVolumeSource`,
  struct(
    "PersistentVolumeClaimVolumeSource references the user's PVC in the same namespace. This volume finds the bound PV and mounts that volume for the pod.",
    {
      claimName: req(
        str(),
        "claimName is the name of a PersistentVolumeClaim in the same namespace as the pod using this volume.",
      ),
      readOnly: opt(bool(), "readOnly Will force the ReadOnly setting in VolumeMounts. Default false."),
    },
  ),
);

export const NFSVolumeSource = named(
  `${CORE}.NFSVolumeSource`,
  struct(
    "Represents an NFS mount that lasts the lifetime of a pod. NFS volumes do not support ownership management or SELinux relabeling.",
    {
      server: req(str(), "server is the hostname or IP address of the NFS server."),
      path: req(str(), "path that is exported by the NFS server."),
      readOnly: opt(
        bool(),
        "readOnly here will force the NFS export to be mounted with read-only permissions. Defaults to false.",
      ),
    },
  ),
);

export const CSIVolumeSource = named(
  `${CORE}.CSIVolumeSource`,
  struct("Represents a source location of a volume to mount, managed by an external CSI driver", {
    driver: req(str(), "driver is the name of the CSI driver that handles this volume."),
    readOnly: opt(
      bool(),
      "readOnly specifies a read-only configuration for the volume. Defaults to false (read/write).",
    ),
    fsType: opt(str(), 'fsType to mount. Ex. "ext4", "xfs", "ntfs".'),
    volumeAttributes: opt(
      stringMap(),
      "volumeAttributes stores driver-specific properties that are passed to the CSI driver.",
    ),
    nodePublishSecretRef: opt(
      LocalObjectReference,
      "nodePublishSecretRef is a reference to the secret object containing sensitive information to pass to the CSI driver.",
    ),
  }),
);

export const PersistentVolumeClaimSpec = named(
  `${CORE}.PersistentVolumeClaimSpec`,
  struct(
    "PersistentVolumeClaimSpec describes the common attributes of storage devices and allows a Source for provider-specific attributes",
    {
      accessModes: opt(
        atomicList(str()),
        "accessModes contains the desired access modes the volume should have.",
      ),
      selector: opt(LabelSelector, "selector is a label query over volumes to consider for binding."),
      resources: opt(
        named(
          `${CORE}.VolumeResourceRequirements`,
          struct("VolumeResourceRequirements describes the storage resource requirements for a volume.", {
            limits: opt(ResourceList(), "Limits describes the maximum amount of compute resources allowed."),
            requests: opt(
              ResourceList(),
              "Requests describes the minimum amount of compute resources required.",
            ),
          }),
        ),
        "resources represents the minimum resources the volume should have.",
      ),
      volumeName: opt(
        str(),
        "volumeName is the binding reference to the PersistentVolume backing this claim.",
      ),
      storageClassName: opt(str(), "storageClassName is the name of the StorageClass required by the claim."),
      volumeMode: opt(str(), "volumeMode defines what type of volume is required by the claim."),
      dataSource: opt(
        TypedLocalObjectReference,
        "dataSource field can be used to specify an existing VolumeSnapshot or PVC.",
      ),
    },
  ),
);

export const PersistentVolumeClaimTemplate = named(
  `${CORE}.PersistentVolumeClaimTemplate`,
  struct(
    "PersistentVolumeClaimTemplate is used to produce PersistentVolumeClaim objects as part of an EphemeralVolumeSource.",
    {
      metadata: opt(
        ObjectMeta,
        "May contain labels and annotations that will be copied into the PVC when creating it.",
      ),
      spec: req(PersistentVolumeClaimSpec, "The specification for the PersistentVolumeClaim.", {
        default: {},
      }),
    },
  ),
);

export const EphemeralVolumeSource = named(
  `${CORE}.EphemeralVolumeSource`,
  struct("Represents an ephemeral volume that is handled by a normal storage driver.", {
    volumeClaimTemplate: opt(
      PersistentVolumeClaimTemplate,
      "Will be used to create a stand-alone PVC to provision the volume. The pod in which this EphemeralVolumeSource is embedded will be the owner of the PVC.",
    ),
  }),
);

export const ImageVolumeSource = named(
  `${CORE}.ImageVolumeSource`,
  struct("ImageVolumeSource represents a image volume resource.", {
    reference: opt(str(), "Required: Image or artifact reference to be used."),
    pullPolicy: opt(
      str(),
      "Policy for pulling OCI objects. Possible values are: Always, Never, IfNotPresent.",
    ),
  }),
);

/** In-tree volume plugins upstream still accepts; kept as opaque objects (Deckhand stores but never mounts them). */
export const LEGACY_VOLUME_SOURCES = [
  "gcePersistentDisk",
  "awsElasticBlockStore",
  "gitRepo",
  "iscsi",
  "glusterfs",
  "rbd",
  "flexVolume",
  "cinder",
  "cephfs",
  "flocker",
  "fc",
  "azureFile",
  "vsphereVolume",
  "quobyte",
  "azureDisk",
  "photonPersistentDisk",
  "portworxVolume",
  "scaleIO",
  "storageos",
] as const;

const legacySource = () =>
  Type.Unsafe<Record<string, unknown>>({ type: "object", "x-kubernetes-preserve-unknown-fields": true });

function legacySourceFields() {
  const field = (name: string) =>
    opt(
      legacySource(),
      `${name} is a legacy in-tree volume plugin. Deckhand accepts and stores it but cannot mount it.`,
    );
  return {
    gcePersistentDisk: field("gcePersistentDisk"),
    awsElasticBlockStore: field("awsElasticBlockStore"),
    gitRepo: field("gitRepo"),
    iscsi: field("iscsi"),
    glusterfs: field("glusterfs"),
    rbd: field("rbd"),
    flexVolume: field("flexVolume"),
    cinder: field("cinder"),
    cephfs: field("cephfs"),
    flocker: field("flocker"),
    fc: field("fc"),
    azureFile: field("azureFile"),
    vsphereVolume: field("vsphereVolume"),
    quobyte: field("quobyte"),
    azureDisk: field("azureDisk"),
    photonPersistentDisk: field("photonPersistentDisk"),
    portworxVolume: field("portworxVolume"),
    scaleIO: field("scaleIO"),
    storageos: field("storageos"),
  };
}

/** The volume source fields (Go embeds VolumeSource into Volume). */
export const VOLUME_SOURCES = [
  ...LEGACY_VOLUME_SOURCES,
  "hostPath",
  "emptyDir",
  "secret",
  "nfs",
  "persistentVolumeClaim",
  "downwardAPI",
  "configMap",
  "projected",
  "csi",
  "ephemeral",
  "image",
] as const;

export const Volume = named(
  `${CORE}.Volume`,
  struct("Volume represents a named volume in a pod that may be accessed by any container in the pod.", {
    name: req(str(), "name of the volume. Must be a DNS_LABEL and unique within the pod."),
    hostPath: opt(
      HostPathVolumeSource,
      "hostPath represents a pre-existing file or directory on the host machine that is directly exposed to the container.",
    ),
    emptyDir: opt(
      EmptyDirVolumeSource,
      "emptyDir represents a temporary directory that shares a pod's lifetime.",
    ),
    secret: opt(SecretVolumeSource, "secret represents a secret that should populate this volume."),
    nfs: opt(NFSVolumeSource, "nfs represents an NFS mount on the host that shares a pod's lifetime."),
    persistentVolumeClaim: opt(
      PersistentVolumeClaimVolumeSource,
      "persistentVolumeClaimVolumeSource represents a reference to a PersistentVolumeClaim in the same namespace.",
    ),
    downwardAPI: opt(
      DownwardAPIVolumeSource,
      "downwardAPI represents downward API about the pod that should populate this volume",
    ),
    configMap: opt(
      ConfigMapVolumeSource,
      "configMap represents a configMap that should populate this volume",
    ),
    projected: opt(
      ProjectedVolumeSource,
      "projected items for all in one resources secrets, configmaps, and downward API",
    ),
    csi: opt(
      CSIVolumeSource,
      "csi (Container Storage Interface) represents ephemeral storage that is handled by certain external CSI drivers.",
    ),
    ephemeral: opt(
      EphemeralVolumeSource,
      "ephemeral represents a volume that is handled by a cluster storage driver. The volume's lifecycle is tied to the pod that defines it.",
    ),
    image: opt(
      ImageVolumeSource,
      "image represents an OCI object (a container image or artifact) pulled and mounted on the kubelet's host machine.",
    ),
    ...legacySourceFields(),
  }),
);
export type Volume = Static<typeof Volume>;
