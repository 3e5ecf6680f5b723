// core/v1 Node.

import {
  always,
  atomicList,
  bool,
  int32,
  int64,
  mapList,
  named,
  opt,
  req,
  type Static,
  setList,
  str,
  struct,
  typeMetaFields,
} from "../dsl.ts";
import { ObjectMeta, Time } from "../meta.ts";
import { ResourceList } from "./refs.ts";

const CORE = "io.k8s.api.core.v1";

export const Taint = named(
  `${CORE}.Taint`,
  struct('The node this Taint is attached to has the "effect" on any pod that does not tolerate the Taint.', {
    key: req(str(), "Required. The taint key to be applied to a node."),
    value: opt(str(), "The taint value corresponding to the taint key."),
    effect: req(
      str(),
      "Required. The effect of the taint on pods that do not tolerate the taint. Valid effects are NoSchedule, PreferNoSchedule and NoExecute.",
    ),
    timeAdded: opt(Time, "TimeAdded represents the time at which the taint was added."),
  }),
);
export type Taint = Static<typeof Taint>;

export const ConfigMapNodeConfigSource = named(
  `${CORE}.ConfigMapNodeConfigSource`,
  struct(
    "ConfigMapNodeConfigSource contains the information to reference a ConfigMap as a config source for the Node.",
    {
      namespace: req(str(), "Namespace is the metadata.namespace of the referenced ConfigMap."),
      name: req(str(), "Name is the metadata.name of the referenced ConfigMap."),
      uid: opt(str(), "UID is the metadata.UID of the referenced ConfigMap."),
      resourceVersion: opt(
        str(),
        "ResourceVersion is the metadata.ResourceVersion of the referenced ConfigMap.",
      ),
      kubeletConfigKey: req(
        str(),
        "KubeletConfigKey declares which key of the referenced ConfigMap corresponds to the KubeletConfiguration structure",
      ),
    },
  ),
);

export const NodeConfigSource = named(
  `${CORE}.NodeConfigSource`,
  struct(
    "NodeConfigSource specifies a source of node configuration. Exactly one subfield (excluding metadata) must be non-nil.",
    {
      configMap: opt(ConfigMapNodeConfigSource, "ConfigMap is a reference to a Node's ConfigMap"),
    },
  ),
);

export const NodeSpec = named(
  `${CORE}.NodeSpec`,
  struct("NodeSpec describes the attributes that a node is created with.", {
    podCIDR: opt(str(), "PodCIDR represents the pod IP range assigned to the node."),
    podCIDRs: opt(
      setList(str()),
      "podCIDRs represents the IP ranges assigned to the node for usage by Pods on that node. If this field is specified, the 0th entry must match the podCIDR field.",
      { patchStrategy: "merge" },
    ),
    providerID: opt(
      str(),
      "ID of the node assigned by the cloud provider in the format: <ProviderName>://<ProviderSpecificNodeID>",
    ),
    unschedulable: opt(
      bool(),
      "Unschedulable controls node schedulability of new pods. By default, node is schedulable.",
    ),
    taints: opt(atomicList(Taint), "If specified, the node's taints."),
    configSource: opt(
      NodeConfigSource,
      "Deprecated: Previously used to specify the source of the node's configuration for the DynamicKubeletConfig feature.",
    ),
    externalID: opt(str(), "Deprecated. Not all kubelets will set this field."),
  }),
);

export const NodeCondition = named(
  `${CORE}.NodeCondition`,
  struct("NodeCondition contains condition information for a node.", {
    type: req(str(), "Type of node condition."),
    status: req(str(), "Status of the condition, one of True, False, Unknown."),
    lastHeartbeatTime: opt(Time, "Last time we got an update on a given condition."),
    lastTransitionTime: opt(Time, "Last time the condition transit from one status to another."),
    reason: opt(str(), "(brief) reason for the condition's last transition."),
    message: opt(str(), "Human readable message indicating details about last transition."),
  }),
);
export type NodeCondition = Static<typeof NodeCondition>;

export const NodeAddress = named(
  `${CORE}.NodeAddress`,
  struct("NodeAddress contains information for the node's address.", {
    type: req(str(), "Node address type, one of Hostname, ExternalIP or InternalIP."),
    address: req(str(), "The node address."),
  }),
);

export const DaemonEndpoint = named(
  `${CORE}.DaemonEndpoint`,
  struct("DaemonEndpoint contains information about a single Daemon endpoint.", {
    Port: req(int32(), "Port number of the given endpoint."),
  }),
);

export const NodeDaemonEndpoints = named(
  `${CORE}.NodeDaemonEndpoints`,
  struct("NodeDaemonEndpoints lists ports opened by daemons running on the Node.", {
    kubeletEndpoint: always(DaemonEndpoint, "Endpoint on which Kubelet is listening."),
  }),
);

export const NodeSwapStatus = named(
  `${CORE}.NodeSwapStatus`,
  struct("NodeSwapStatus represents swap memory information.", {
    capacity: opt(int64(), "Total amount of swap memory in bytes."),
  }),
);

export const NodeSystemInfo = named(
  `${CORE}.NodeSystemInfo`,
  struct("NodeSystemInfo is a set of ids/uuids to uniquely identify the node.", {
    machineID: req(
      str(),
      "MachineID reported by the node. For unique machine identification in the cluster this field is preferred.",
    ),
    systemUUID: req(str(), "SystemUUID reported by the node."),
    bootID: req(str(), "Boot ID reported by the node."),
    kernelVersion: req(
      str(),
      "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
    ),
    osImage: req(
      str(),
      "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).",
    ),
    containerRuntimeVersion: req(
      str(),
      "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).",
    ),
    kubeletVersion: req(str(), "Kubelet Version reported by the node."),
    kubeProxyVersion: req(str(), "Deprecated: KubeProxy Version reported by the node."),
    operatingSystem: req(str(), "The Operating System reported by the node"),
    architecture: req(str(), "The Architecture reported by the node"),
    swap: opt(NodeSwapStatus, "Swap Info reported by the node."),
  }),
);

export const ContainerImage = named(
  `${CORE}.ContainerImage`,
  struct("Describe a container image", {
    names: opt(
      atomicList(str()),
      'Names by which this image is known. e.g. ["kubernetes.example/hyperkube:v1.0.7", "cloud-vendor.registry.example/cloud-vendor/hyperkube:v1.0.7"]',
    ),
    sizeBytes: opt(int64(), "The size of the image in bytes."),
  }),
);

export const AttachedVolume = named(
  `${CORE}.AttachedVolume`,
  struct("AttachedVolume describes a volume attached to a node", {
    name: req(str(), "Name of the attached volume"),
    devicePath: req(str(), "DevicePath represents the device path where the volume should be available"),
  }),
);

export const NodeRuntimeHandlerFeatures = named(
  `${CORE}.NodeRuntimeHandlerFeatures`,
  struct("NodeRuntimeHandlerFeatures is a set of features implemented by the runtime handler.", {
    recursiveReadOnlyMounts: opt(
      bool(),
      "RecursiveReadOnlyMounts is set to true if the runtime handler supports RecursiveReadOnlyMounts.",
    ),
    userNamespaces: opt(
      bool(),
      "UserNamespaces is set to true if the runtime handler supports UserNamespaces, including for volumes.",
    ),
  }),
);

export const NodeRuntimeHandler = named(
  `${CORE}.NodeRuntimeHandler`,
  struct("NodeRuntimeHandler is a set of runtime handler information.", {
    name: opt(str(), "Runtime handler name. Empty for the default runtime handler."),
    features: opt(NodeRuntimeHandlerFeatures, "Supported features."),
  }),
);

export const NodeFeatures = named(
  `${CORE}.NodeFeatures`,
  struct("NodeFeatures describes the set of features implemented by the CRI implementation.", {
    supplementalGroupsPolicy: opt(
      bool(),
      "SupplementalGroupsPolicy is set to true if the runtime supports SupplementalGroupsPolicy and ContainerUser.",
    ),
  }),
);

export const NodeStatus = named(
  `${CORE}.NodeStatus`,
  struct("NodeStatus is information about the current status of a node.", {
    capacity: opt(ResourceList(), "Capacity represents the total resources of a node."),
    allocatable: opt(
      ResourceList(),
      "Allocatable represents the resources of a node that are available for scheduling. Defaults to Capacity.",
    ),
    phase: opt(
      str(),
      "NodePhase is the recently observed lifecycle phase of the node. Deprecated: never populated.",
    ),
    conditions: opt(
      mapList(NodeCondition, ["type"], "type"),
      "Conditions is an array of current observed node conditions.",
    ),
    addresses: opt(
      mapList(NodeAddress, ["type"], "type"),
      "List of addresses reachable to the node. Queried from cloud provider, if available.",
    ),
    daemonEndpoints: always(NodeDaemonEndpoints, "Endpoints of daemons running on the Node."),
    nodeInfo: always(NodeSystemInfo, "Set of ids/uuids to uniquely identify the node."),
    images: opt(atomicList(ContainerImage), "List of container images on this node"),
    volumesInUse: opt(atomicList(str()), "List of attachable volumes in use (mounted) by the node."),
    volumesAttached: opt(atomicList(AttachedVolume), "List of volumes that are attached to the node."),
    runtimeHandlers: opt(atomicList(NodeRuntimeHandler), "The available runtime handlers."),
    features: opt(
      NodeFeatures,
      "Features describes the set of features implemented by the CRI implementation.",
    ),
  }),
);
export type NodeStatus = Static<typeof NodeStatus>;

export const Node = named(
  `${CORE}.Node`,
  struct(
    "Node is a worker node in Kubernetes. Each node will have a unique identifier in the cache (i.e. in etcd).",
    {
      ...typeMetaFields(),
      metadata: always(ObjectMeta, "Standard object's metadata."),
      spec: always(NodeSpec, "Spec defines the behavior of a node."),
      status: always(
        NodeStatus,
        "Most recently observed status of the node. Populated by the system. Read-only.",
      ),
    },
  ),
);
export type Node = Static<typeof Node>;
