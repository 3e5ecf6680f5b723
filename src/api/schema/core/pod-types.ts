// core/v1 Pod: PodSpec, PodStatus, PodTemplateSpec.

import {
  always,
  atomicList,
  bool,
  int32,
  int64,
  mapList,
  named,
  oneOfStrings,
  opt,
  req,
  type Static,
  str,
  stringMap,
  struct,
  typeMetaFields,
} from "../dsl.ts";
import { ObjectMeta, Time } from "../meta.ts";
import {
  AppArmorProfile,
  Container,
  EphemeralContainer,
  ResourceRequirements,
  SELinuxOptions,
  SeccompProfile,
  WindowsSecurityContextOptions,
} from "./container.ts";
import { LocalObjectReference, ResourceList } from "./refs.ts";
import { Affinity, Toleration, topologySpreadList } from "./scheduling.ts";
import { Volume } from "./volume.ts";

const CORE = "io.k8s.api.core.v1";

export const RESTART_POLICIES = ["Always", "Never", "OnFailure"] as const;
export const DNS_POLICIES = ["ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"] as const;

export const Sysctl = named(
  `${CORE}.Sysctl`,
  struct("Sysctl defines a kernel parameter to be set", {
    name: req(str(), "Name of a property to set"),
    value: req(str(), "Value of a property to set"),
  }),
);

export const PodSecurityContext = named(
  `${CORE}.PodSecurityContext`,
  struct(
    "PodSecurityContext holds pod-level security attributes and common container settings. Some fields are also present in container.securityContext. Field values of container.securityContext take precedence over field values of PodSecurityContext.",
    {
      seLinuxOptions: opt(SELinuxOptions, "The SELinux context to be applied to all containers."),
      windowsOptions: opt(
        WindowsSecurityContextOptions,
        "The Windows specific settings applied to all containers.",
      ),
      runAsUser: opt(
        int64(),
        "The UID to run the entrypoint of the container process. Defaults to user specified in image metadata if unspecified.",
      ),
      runAsGroup: opt(
        int64(),
        "The GID to run the entrypoint of the container process. Uses runtime default if unset.",
      ),
      runAsNonRoot: opt(bool(), "Indicates that the container must run as a non-root user."),
      supplementalGroups: opt(
        atomicList(int64()),
        "A list of groups applied to the first process run in each container, in addition to the container's primary GID and fsGroup (if specified).",
      ),
      supplementalGroupsPolicy: opt(
        str(),
        "Defines how supplemental groups of the first container processes are calculated: Merge or Strict.",
      ),
      fsGroup: opt(
        int64(),
        "A special supplemental group that applies to all containers in a pod; volumes that support it are owned by this GID.",
      ),
      sysctls: opt(atomicList(Sysctl), "Sysctls hold a list of namespaced sysctls used for the pod."),
      fsGroupChangePolicy: opt(
        str(),
        'fsGroupChangePolicy defines behavior of changing ownership and permission of the volume before being exposed inside Pod. Valid values are "OnRootMismatch" and "Always".',
      ),
      seccompProfile: opt(SeccompProfile, "The seccomp options to use by the containers in this pod."),
      appArmorProfile: opt(
        AppArmorProfile,
        "appArmorProfile is the AppArmor options to use by the containers in this pod.",
      ),
      seLinuxChangePolicy: opt(
        str(),
        "seLinuxChangePolicy defines how the container's SELinux label is applied to all volumes used by the Pod.",
      ),
    },
  ),
);

export const PodDNSConfigOption = named(
  `${CORE}.PodDNSConfigOption`,
  struct("PodDNSConfigOption defines DNS resolver options of a pod.", {
    name: opt(str(), "Name is this DNS resolver option's name. Required."),
    value: opt(str(), "Value is this DNS resolver option's value."),
  }),
);

export const PodDNSConfig = named(
  `${CORE}.PodDNSConfig`,
  struct("PodDNSConfig defines the DNS parameters of a pod in addition to those generated from DNSPolicy.", {
    nameservers: opt(
      atomicList(str()),
      "A list of DNS name server IP addresses. This will be appended to the base nameservers generated from DNSPolicy. Duplicated nameservers will be removed.",
    ),
    searches: opt(
      atomicList(str()),
      "A list of DNS search domains for host-name lookup. This will be appended to the base search paths generated from DNSPolicy. Duplicated search paths will be removed.",
    ),
    options: opt(
      atomicList(PodDNSConfigOption),
      "A list of DNS resolver options. This will be merged with the base options generated from DNSPolicy. Duplicated entries will be removed.",
    ),
  }),
);

export const HostAlias = named(
  `${CORE}.HostAlias`,
  struct(
    "HostAlias holds the mapping between IP and hostnames that will be injected as an entry in the pod's hosts file.",
    {
      ip: req(str(), "IP address of the host file entry."),
      hostnames: opt(atomicList(str()), "Hostnames for the above IP address."),
    },
  ),
);

export const PodReadinessGate = named(
  `${CORE}.PodReadinessGate`,
  struct("PodReadinessGate contains the reference to a pod condition", {
    conditionType: req(
      str(),
      "ConditionType refers to a condition in the pod's condition list with matching type.",
    ),
  }),
);

export const PodOS = named(
  `${CORE}.PodOS`,
  struct("PodOS defines the OS parameters of a pod.", {
    name: req(
      str(),
      "Name is the name of the operating system. The currently supported values are linux and windows.",
    ),
  }),
);

export const PodSchedulingGate = named(
  `${CORE}.PodSchedulingGate`,
  struct("PodSchedulingGate is associated to a Pod to guard its scheduling.", {
    name: req(str(), "Name of the scheduling gate. Each scheduling gate must have a unique name field."),
  }),
);

export const PodResourceClaim = named(
  `${CORE}.PodResourceClaim`,
  struct(
    "PodResourceClaim references exactly one ResourceClaim, either directly or by naming a ResourceClaimTemplate.",
    {
      name: req(
        str(),
        "Name uniquely identifies this resource claim inside the pod. This must be a DNS_LABEL.",
      ),
      resourceClaimName: opt(
        str(),
        "ResourceClaimName is the name of a ResourceClaim object in the same namespace as this pod.",
      ),
      resourceClaimTemplateName: opt(
        str(),
        "ResourceClaimTemplateName is the name of a ResourceClaimTemplate object in the same namespace as this pod.",
      ),
    },
  ),
);

export const PodSpec = named(
  `${CORE}.PodSpec`,
  struct("PodSpec is a description of a pod.", {
    volumes: opt(
      mapList(Volume, ["name"], "name", "merge,retainKeys"),
      "List of volumes that can be mounted by containers belonging to the pod.",
    ),
    initContainers: opt(
      mapList(Container, ["name"], "name"),
      "List of initialization containers belonging to the pod. Init containers are executed in order prior to containers being started. If any init container fails, the pod is considered to have failed and is handled according to its restartPolicy.",
    ),
    containers: req(
      mapList(Container, ["name"], "name"),
      "List of containers belonging to the pod. Containers cannot currently be added or removed. There must be at least one container in a Pod. Cannot be updated.",
    ),
    ephemeralContainers: opt(
      mapList(EphemeralContainer, ["name"], "name"),
      "List of ephemeral containers run in this pod. Ephemeral containers may be run in an existing pod to perform user-initiated actions such as debugging. This list cannot be specified when creating a pod, and it cannot be modified by updating the pod spec.",
    ),
    restartPolicy: opt(
      oneOfStrings(RESTART_POLICIES),
      "Restart policy for all containers within the pod. One of Always, OnFailure, Never. In some contexts, only a subset of those values may be permitted. Default to Always.",
    ),
    terminationGracePeriodSeconds: opt(
      int64(),
      "Optional duration in seconds the pod needs to terminate gracefully. May be decreased in delete request. Value must be non-negative integer. The value zero indicates stop immediately via the kill signal (no opportunity to shut down). Defaults to 30 seconds.",
    ),
    activeDeadlineSeconds: opt(
      int64(),
      "Optional duration in seconds the pod may be active on the node relative to StartTime before the system will actively try to mark it failed and kill associated containers. Value must be a positive integer.",
    ),
    dnsPolicy: opt(
      oneOfStrings(DNS_POLICIES),
      "Set DNS policy for the pod. Defaults to \"ClusterFirst\". Valid values are 'ClusterFirstWithHostNet', 'ClusterFirst', 'Default' or 'None'. DNS parameters given in DNSConfig will be merged with the policy selected with DNSPolicy.",
    ),
    nodeSelector: opt(
      stringMap(),
      "NodeSelector is a selector which must be true for the pod to fit on a node. Selector which must match a node's labels for the pod to be scheduled on that node.",
      { mapType: "atomic" },
    ),
    serviceAccountName: opt(
      str(),
      "ServiceAccountName is the name of the ServiceAccount to use to run this pod.",
    ),
    serviceAccount: opt(
      str(),
      "DeprecatedServiceAccount is a deprecated alias for ServiceAccountName. Deprecated: Use serviceAccountName instead.",
    ),
    automountServiceAccountToken: opt(
      bool(),
      "AutomountServiceAccountToken indicates whether a service account token should be automatically mounted.",
    ),
    nodeName: opt(
      str(),
      "NodeName indicates in which node this pod is scheduled. If empty, this pod is a candidate for scheduling by the scheduler defined in schedulerName. Once this field is set, the kubelet for this node becomes responsible for the lifecycle of this pod.",
    ),
    hostNetwork: opt(
      bool(),
      "Host networking requested for this pod. Use the host's network namespace. When using HostNetwork you should specify ports so the scheduler is aware. Default to false.",
    ),
    hostPID: opt(bool(), "Use the host's pid namespace. Optional: Default to false."),
    hostIPC: opt(bool(), "Use the host's ipc namespace. Optional: Default to false."),
    shareProcessNamespace: opt(
      bool(),
      "Share a single process namespace between all of the containers in a pod. When this is set containers will be able to view and signal processes from other containers in the same pod. Default to false.",
    ),
    securityContext: opt(
      PodSecurityContext,
      "SecurityContext holds pod-level security attributes and common container settings. Optional: Defaults to empty.  See type description for default values of each field.",
    ),
    imagePullSecrets: opt(
      mapList(LocalObjectReference, ["name"], "name"),
      "ImagePullSecrets is an optional list of references to secrets in the same namespace to use for pulling any of the images used by this PodSpec.",
    ),
    hostname: opt(
      str(),
      "Specifies the hostname of the Pod. If not specified, the pod's hostname will be set to a system-defined value.",
    ),
    subdomain: opt(
      str(),
      'If specified, the fully qualified Pod hostname will be "<hostname>.<subdomain>.<pod namespace>.svc.<cluster domain>". If not specified, the pod will not have a domainname at all.',
    ),
    affinity: opt(Affinity, "If specified, the pod's scheduling constraints"),
    schedulerName: opt(
      str(),
      "If specified, the pod will be dispatched by specified scheduler. If not specified, the pod will be dispatched by default scheduler.",
    ),
    tolerations: opt(atomicList(Toleration), "If specified, the pod's tolerations."),
    hostAliases: opt(
      mapList(HostAlias, ["ip"], "ip"),
      "HostAliases is an optional list of hosts and IPs that will be injected into the pod's hosts file if specified.",
    ),
    priorityClassName: opt(
      str(),
      'If specified, indicates the pod\'s priority. "system-node-critical" and "system-cluster-critical" are two special keywords which indicate the highest priorities with the former being the highest priority.',
    ),
    priority: opt(
      int32(),
      "The priority value. Various system components use this field to find the priority of the pod. When Priority Admission Controller is enabled, it prevents users from setting this field. The higher the value, the higher the priority.",
    ),
    dnsConfig: opt(
      PodDNSConfig,
      "Specifies the DNS parameters of a pod. Parameters specified here will be merged to the generated DNS configuration based on DNSPolicy.",
    ),
    readinessGates: opt(
      atomicList(PodReadinessGate),
      'If specified, all readiness gates will be evaluated for pod readiness. A pod is ready when all its containers are ready AND all conditions specified in the readiness gates have status equal to "True"',
    ),
    runtimeClassName: opt(
      str(),
      "RuntimeClassName refers to a RuntimeClass object in the node.k8s.io group, which should be used to run this pod.",
    ),
    enableServiceLinks: opt(
      bool(),
      "EnableServiceLinks indicates whether information about services should be injected into pod's environment variables, matching the syntax of Docker links. Optional: Defaults to true.",
    ),
    preemptionPolicy: opt(
      str(),
      "PreemptionPolicy is the Policy for preempting pods with lower priority. One of Never, PreemptLowerPriority. Defaults to PreemptLowerPriority if unset.",
    ),
    overhead: opt(
      ResourceList(),
      "Overhead represents the resource overhead associated with running a pod for a given RuntimeClass.",
    ),
    topologySpreadConstraints: opt(
      topologySpreadList(),
      "TopologySpreadConstraints describes how a group of pods ought to spread across topology domains. Scheduler will schedule pods in a way which abides by the constraints.",
    ),
    setHostnameAsFQDN: opt(
      bool(),
      "If true the pod's hostname will be configured as the pod's FQDN, rather than the leaf name (the default).",
    ),
    os: opt(PodOS, "Specifies the OS of the containers in the pod."),
    hostUsers: opt(bool(), "Use the host's user namespace. Optional: Default to true."),
    schedulingGates: opt(
      mapList(PodSchedulingGate, ["name"], "name"),
      "SchedulingGates is an opaque list of values that if specified will block scheduling the pod. If schedulingGates is not empty, the pod will stay in the SchedulingGated state and the scheduler will not attempt to schedule the pod.",
    ),
    resourceClaims: opt(
      mapList(PodResourceClaim, ["name"], "name", "merge,retainKeys"),
      "ResourceClaims defines which ResourceClaims must be allocated and reserved before the Pod is allowed to start.",
    ),
    resources: opt(
      ResourceRequirements,
      "Resources is the total amount of CPU and Memory resources required by all containers in the pod.",
    ),
  }),
);
export type PodSpec = Static<typeof PodSpec>;

export const ContainerStateWaiting = named(
  `${CORE}.ContainerStateWaiting`,
  struct("ContainerStateWaiting is a waiting state of a container.", {
    reason: opt(str(), "(brief) reason the container is not yet running."),
    message: opt(str(), "Message regarding why the container is not yet running."),
  }),
);

export const ContainerStateRunning = named(
  `${CORE}.ContainerStateRunning`,
  struct("ContainerStateRunning is a running state of a container.", {
    startedAt: opt(Time, "Time at which the container was last (re-)started"),
  }),
);

export const ContainerStateTerminated = named(
  `${CORE}.ContainerStateTerminated`,
  struct("ContainerStateTerminated is a terminated state of a container.", {
    exitCode: req(int32(), "Exit status from the last termination of the container"),
    signal: opt(int32(), "Signal from the last termination of the container"),
    reason: opt(str(), "(brief) reason from the last termination of the container"),
    message: opt(str(), "Message regarding the last termination of the container"),
    startedAt: opt(Time, "Time at which previous execution of the container started"),
    finishedAt: opt(Time, "Time at which the container last terminated"),
    containerID: opt(str(), "Container's ID in the format '<type>://<container_id>'"),
  }),
);

export const ContainerState = named(
  `${CORE}.ContainerState`,
  struct(
    "ContainerState holds a possible state of container. Only one of its members may be specified. If none of them is specified, the default one is ContainerStateWaiting.",
    {
      waiting: opt(ContainerStateWaiting, "Details about a waiting container"),
      running: opt(ContainerStateRunning, "Details about a running container"),
      terminated: opt(ContainerStateTerminated, "Details about a terminated container"),
    },
  ),
);
export type ContainerState = Static<typeof ContainerState>;

export const VolumeMountStatus = named(
  `${CORE}.VolumeMountStatus`,
  struct("VolumeMountStatus shows status of volume mounts.", {
    name: req(str(), "Name corresponds to the name of the original VolumeMount."),
    mountPath: req(str(), "MountPath corresponds to the original VolumeMount."),
    readOnly: opt(bool(), "ReadOnly corresponds to the original VolumeMount."),
    recursiveReadOnly: opt(
      str(),
      "RecursiveReadOnly must be set to Disabled, Enabled, or unspecified (for non-readonly mounts).",
    ),
  }),
);

export const ContainerStatus = named(
  `${CORE}.ContainerStatus`,
  struct("ContainerStatus contains details for the current status of this container.", {
    name: req(str(), "Name is a DNS_LABEL representing the unique name of the container."),
    state: opt(ContainerState, "State holds details about the container's current condition.", {
      default: {},
    }),
    lastState: opt(
      ContainerState,
      "LastTerminationState holds the last termination state of the container to help debug container crashes and restarts.",
      { default: {} },
    ),
    ready: req(bool(), "Ready specifies whether the container is currently passing its readiness check."),
    restartCount: req(
      int32(),
      "RestartCount holds the number of times the container has been restarted. Kubelet makes an effort to always increment the value, but there are cases when the state may be lost due to node restarts and then the value may be reset to 0.",
    ),
    image: req(str(), "Image is the name of container image that the container is running."),
    imageID: req(str(), "ImageID is the image ID of the container's image."),
    containerID: opt(
      str(),
      "ContainerID is the ID of the container in the format '<type>://<container_id>'.",
    ),
    started: opt(
      bool(),
      "Started indicates whether the container has finished its postStart lifecycle hook and passed its startup probe.",
    ),
    allocatedResources: opt(
      ResourceList(),
      "AllocatedResources represents the compute resources allocated for this container by the node.",
    ),
    resources: opt(
      ResourceRequirements,
      "Resources represents the compute resource requests and limits that have been successfully enacted on the running container.",
    ),
    volumeMounts: opt(mapList(VolumeMountStatus, ["mountPath"], "mountPath"), "Status of volume mounts."),
  }),
);
export type ContainerStatus = Static<typeof ContainerStatus>;

export const PodCondition = named(
  `${CORE}.PodCondition`,
  struct("PodCondition contains details for the current condition of this pod.", {
    type: req(str(), "Type is the type of the condition."),
    observedGeneration: opt(
      int64(),
      "If set, this represents the .metadata.generation that the pod condition was set based upon.",
    ),
    status: req(str(), "Status is the status of the condition. Can be True, False, Unknown."),
    lastProbeTime: opt(Time, "Last time we probed the condition."),
    lastTransitionTime: opt(Time, "Last time the condition transitioned from one status to another."),
    reason: opt(str(), "Unique, one-word, CamelCase reason for the condition's last transition."),
    message: opt(str(), "Human-readable message indicating details about last transition."),
  }),
);
export type PodCondition = Static<typeof PodCondition>;

export const PodIP = named(
  `${CORE}.PodIP`,
  struct("PodIP represents a single IP address allocated to the pod.", {
    ip: req(str(), "IP is the IP address assigned to the pod"),
  }),
);

export const HostIP = named(
  `${CORE}.HostIP`,
  struct("HostIP represents a single IP address allocated to the host.", {
    ip: req(str(), "IP is the IP address assigned to the host"),
  }),
);

export const PodStatus = named(
  `${CORE}.PodStatus`,
  struct(
    "PodStatus represents information about the status of a pod. Status may trail the actual state of a system, especially if the node that hosts the pod cannot contact the control plane.",
    {
      observedGeneration: opt(
        int64(),
        "If set, this represents the .metadata.generation that the pod status was set based upon.",
      ),
      phase: opt(
        oneOfStrings(["Failed", "Pending", "Running", "Succeeded", "Unknown"] as const),
        "The phase of a Pod is a simple, high-level summary of where the Pod is in its lifecycle: Pending, Running, Succeeded, Failed or Unknown.",
      ),
      conditions: opt(mapList(PodCondition, ["type"], "type"), "Current service state of pod."),
      message: opt(
        str(),
        "A human readable message indicating details about why the pod is in this condition.",
      ),
      reason: opt(
        str(),
        "A brief CamelCase message indicating details about why the pod is in this state. e.g. 'Evicted'",
      ),
      nominatedNodeName: opt(
        str(),
        "nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods.",
      ),
      hostIP: opt(
        str(),
        "hostIP holds the IP address of the host to which the pod is assigned. Empty if the pod has not started yet.",
      ),
      hostIPs: opt(
        atomicList(HostIP),
        "hostIPs holds the IP addresses allocated to the host. If this field is specified, the first entry must match the hostIP field.",
        { mergeKey: "ip", patchStrategy: "merge" },
      ),
      podIP: opt(
        str(),
        "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.",
      ),
      podIPs: opt(
        mapList(PodIP, ["ip"], "ip"),
        "podIPs holds the IP addresses allocated to the pod. If this field is specified, the 0th entry must match the podIP field.",
      ),
      startTime: opt(
        Time,
        "RFC 3339 date and time at which the object was acknowledged by the Kubelet. This is before the Kubelet pulled the container image(s) for the pod.",
      ),
      initContainerStatuses: opt(
        atomicList(ContainerStatus),
        "Statuses of init containers in this pod. The most recent successful non-restartable init container will have ready = true, the most recently started container will have startTime set.",
      ),
      containerStatuses: opt(
        atomicList(ContainerStatus),
        "Statuses of containers in this pod. Each container in the pod should have at most one status in this list, and all statuses should be for containers in the pod.",
      ),
      qosClass: opt(
        oneOfStrings(["BestEffort", "Burstable", "Guaranteed"] as const),
        "The Quality of Service (QOS) classification assigned to the pod based on resource requirements.",
      ),
      ephemeralContainerStatuses: opt(
        atomicList(ContainerStatus),
        "Statuses for any ephemeral containers that have run in this pod.",
      ),
      resize: opt(str(), "Status of resources resize desired for pod's containers. Deprecated."),
    },
  ),
);
export type PodStatus = Static<typeof PodStatus>;

export const Pod = named(
  `${CORE}.Pod`,
  struct(
    "Pod is a collection of containers that can run on a host. This resource is created by clients and scheduled onto hosts.",
    {
      ...typeMetaFields(),
      metadata: always(ObjectMeta, "Standard object's metadata."),
      spec: always(PodSpec, "Specification of the desired behavior of the pod."),
      status: always(
        PodStatus,
        "Most recently observed status of the pod. This data may not be up to date. Populated by the system. Read-only.",
      ),
    },
  ),
);
export type Pod = Static<typeof Pod>;

export const PodTemplateSpec = named(
  `${CORE}.PodTemplateSpec`,
  struct("PodTemplateSpec describes the data a pod should have when created from a template", {
    metadata: always(ObjectMeta, "Standard object's metadata."),
    spec: always(PodSpec, "Specification of the desired behavior of the pod."),
  }),
);
export type PodTemplateSpec = Static<typeof PodTemplateSpec>;
