// core/v1 Container and everything it is made of: ports, env, resources, probes, lifecycle, security context.

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
  struct,
} from "../dsl.ts";
import { IntOrString } from "../meta.ts";
import {
  ConfigMapKeySelector,
  ObjectFieldSelector,
  ResourceFieldSelector,
  ResourceList,
  SecretKeySelector,
} from "./refs.ts";

const CORE = "io.k8s.api.core.v1";

export const PROTOCOLS = ["SCTP", "TCP", "UDP"] as const;
export const PULL_POLICIES = ["Always", "IfNotPresent", "Never"] as const;
export const TERMINATION_MESSAGE_POLICIES = ["FallbackToLogsOnError", "File"] as const;

export const ContainerPort = named(
  `${CORE}.ContainerPort`,
  struct("ContainerPort represents a network port in a single container.", {
    name: opt(
      str(),
      "If specified, this must be an IANA_SVC_NAME and unique within the pod. Each named port in a pod must have a unique name. Name for the port that can be referred to by services.",
    ),
    hostPort: opt(
      int32(),
      "Number of port to expose on the host. If specified, this must be a valid port number, 0 < x < 65536. If HostNetwork is specified, this must match ContainerPort.",
    ),
    containerPort: req(
      int32(),
      "Number of port to expose on the pod's IP address. This must be a valid port number, 0 < x < 65536.",
    ),
    protocol: opt(
      oneOfStrings(PROTOCOLS),
      'Protocol for port. Must be UDP, TCP, or SCTP. Defaults to "TCP".',
      {
        default: "TCP",
      },
    ),
    hostIP: opt(str(), "What host IP to bind the external port to."),
  }),
);
export type ContainerPort = Static<typeof ContainerPort>;

export const EnvVarSource = named(
  `${CORE}.EnvVarSource`,
  struct("EnvVarSource represents a source for the value of an EnvVar.", {
    fieldRef: opt(
      ObjectFieldSelector,
      "Selects a field of the pod: supports metadata.name, metadata.namespace, `metadata.labels['<KEY>']`, `metadata.annotations['<KEY>']`, spec.nodeName, spec.serviceAccountName, status.hostIP, status.podIP, status.podIPs.",
    ),
    resourceFieldRef: opt(
      ResourceFieldSelector,
      "Selects a resource of the container: only resources limits and requests (limits.cpu, limits.memory, limits.ephemeral-storage, requests.cpu, requests.memory and requests.ephemeral-storage) are currently supported.",
    ),
    configMapKeyRef: opt(ConfigMapKeySelector, "Selects a key of a ConfigMap."),
    secretKeyRef: opt(SecretKeySelector, "Selects a key of a secret in the pod's namespace"),
  }),
);

export const EnvVar = named(
  `${CORE}.EnvVar`,
  struct("EnvVar represents an environment variable present in a Container.", {
    name: req(
      str(),
      "Name of the environment variable. May consist of any printable ASCII characters except '='.",
    ),
    value: opt(
      str(),
      'Variable references $(VAR_NAME) are expanded using the previously defined environment variables in the container and any service environment variables. Double $$ are reduced to a single $. Defaults to "".',
    ),
    valueFrom: opt(
      EnvVarSource,
      "Source for the environment variable's value. Cannot be used if value is not empty.",
    ),
  }),
);
export type EnvVar = Static<typeof EnvVar>;

export const ConfigMapEnvSource = named(
  `${CORE}.ConfigMapEnvSource`,
  struct(
    "ConfigMapEnvSource selects a ConfigMap to populate the environment variables with. The contents of the target ConfigMap's Data field will represent the key-value pairs as environment variables.",
    {
      name: opt(str(), "Name of the referent.", { default: "" }),
      optional: opt(bool(), "Specify whether the ConfigMap must be defined"),
    },
  ),
);

export const SecretEnvSource = named(
  `${CORE}.SecretEnvSource`,
  struct(
    "SecretEnvSource selects a Secret to populate the environment variables with. The contents of the target Secret's Data field will represent the key-value pairs as environment variables.",
    {
      name: opt(str(), "Name of the referent.", { default: "" }),
      optional: opt(bool(), "Specify whether the Secret must be defined"),
    },
  ),
);

export const EnvFromSource = named(
  `${CORE}.EnvFromSource`,
  struct("EnvFromSource represents the source of a set of ConfigMaps or Secrets", {
    prefix: opt(str(), "Optional text to prepend to the name of each environment variable."),
    configMapRef: opt(ConfigMapEnvSource, "The ConfigMap to select from"),
    secretRef: opt(SecretEnvSource, "The Secret to select from"),
  }),
);

export const ResourceClaim = named(
  `${CORE}.ResourceClaim`,
  struct("ResourceClaim references one entry in PodSpec.ResourceClaims.", {
    name: req(
      str(),
      "Name must match the name of one entry in pod.spec.resourceClaims of the Pod where this field is used.",
    ),
    request: opt(str(), "Request is the name chosen for a request in the referenced claim."),
  }),
);

export const ResourceRequirements = named(
  `${CORE}.ResourceRequirements`,
  struct("ResourceRequirements describes the compute resource requirements.", {
    limits: opt(ResourceList(), "Limits describes the maximum amount of compute resources allowed."),
    requests: opt(
      ResourceList(),
      "Requests describes the minimum amount of compute resources required. If omitted for a container, it defaults to Limits if that is explicitly specified, otherwise to an implementation-defined value.",
    ),
    claims: opt(
      mapList(ResourceClaim, ["name"]),
      "Claims lists the names of resources, defined in spec.resourceClaims, that are used by this container.",
    ),
  }),
);
export type ResourceRequirements = Static<typeof ResourceRequirements>;

export const ContainerResizePolicy = named(
  `${CORE}.ContainerResizePolicy`,
  struct("ContainerResizePolicy represents resource resize policy for the container.", {
    resourceName: req(
      str(),
      "Name of the resource to which this resource resize policy applies. Supported values: cpu, memory.",
    ),
    restartPolicy: req(
      str(),
      "Restart policy to apply when specified resource is resized. If not specified, it defaults to NotRequired.",
    ),
  }),
);

export const VolumeMount = named(
  `${CORE}.VolumeMount`,
  struct("VolumeMount describes a mounting of a Volume within a container.", {
    name: req(str(), "This must match the Name of a Volume."),
    readOnly: opt(
      bool(),
      "Mounted read-only if true, read-write otherwise (false or unspecified). Defaults to false.",
    ),
    recursiveReadOnly: opt(
      str(),
      "RecursiveReadOnly specifies whether read-only mounts should be handled recursively: Disabled, IfPossible or Enabled.",
    ),
    mountPath: req(
      str(),
      "Path within the container at which the volume should be mounted.  Must not contain ':'.",
    ),
    subPath: opt(
      str(),
      "Path within the volume from which the container's volume should be mounted. Defaults to \"\" (volume's root).",
    ),
    mountPropagation: opt(
      oneOfStrings(["Bidirectional", "HostToContainer", "None"] as const),
      "mountPropagation determines how mounts are propagated from the host to container and the other way around. When not set, MountPropagationNone is used.",
    ),
    subPathExpr: opt(
      str(),
      "Expanded path within the volume from which the container's volume should be mounted. Behaves similarly to SubPath but environment variable references $(VAR_NAME) are expanded using the container's environment.",
    ),
  }),
);
export type VolumeMount = Static<typeof VolumeMount>;

export const VolumeDevice = named(
  `${CORE}.VolumeDevice`,
  struct("volumeDevice describes a mapping of a raw block device within a container.", {
    name: req(str(), "name must match the name of a persistentVolumeClaim in the pod"),
    devicePath: req(
      str(),
      "devicePath is the path inside of the container that the device will be mapped to.",
    ),
  }),
);

export const ExecAction = named(
  `${CORE}.ExecAction`,
  struct('ExecAction describes a "run in container" action.', {
    command: opt(
      atomicList(str()),
      "Command is the command line to execute inside the container, the working directory for the command is root ('/') in the container's filesystem. The command is simply exec'd, it is not run inside a shell. Exit status of 0 is treated as live/healthy and non-zero is unhealthy.",
    ),
  }),
);

export const HTTPHeader = named(
  `${CORE}.HTTPHeader`,
  struct("HTTPHeader describes a custom header to be used in HTTP probes", {
    name: req(
      str(),
      "The header field name. This will be canonicalized upon output, so case-variant names will be understood as the same header.",
    ),
    value: req(str(), "The header field value"),
  }),
);

export const HTTPGetAction = named(
  `${CORE}.HTTPGetAction`,
  struct("HTTPGetAction describes an action based on HTTP Get requests.", {
    path: opt(str(), "Path to access on the HTTP server."),
    port: req(
      IntOrString,
      "Name or number of the port to access on the container. Number must be in the range 1 to 65535. Name must be an IANA_SVC_NAME.",
    ),
    host: opt(
      str(),
      'Host name to connect to, defaults to the pod IP. You probably want to set "Host" in httpHeaders instead.',
    ),
    scheme: opt(
      oneOfStrings(["HTTP", "HTTPS"] as const),
      "Scheme to use for connecting to the host. Defaults to HTTP.",
    ),
    httpHeaders: opt(
      atomicList(HTTPHeader),
      "Custom headers to set in the request. HTTP allows repeated headers.",
    ),
  }),
);

export type HTTPGetAction = Static<typeof HTTPGetAction>;

export const TCPSocketAction = named(
  `${CORE}.TCPSocketAction`,
  struct("TCPSocketAction describes an action based on opening a socket", {
    port: req(
      IntOrString,
      "Number or name of the port to access on the container. Number must be in the range 1 to 65535. Name must be an IANA_SVC_NAME.",
    ),
    host: opt(str(), "Optional: Host name to connect to, defaults to the pod IP."),
  }),
);

export const GRPCAction = named(
  `${CORE}.GRPCAction`,
  struct("GRPCAction specifies an action involving a GRPC service.", {
    port: req(int32(), "Port number of the gRPC service. Number must be in the range 1 to 65535."),
    service: opt(
      str(),
      "Service is the name of the service to place in the gRPC HealthCheckRequest. If this is not specified, the default behavior is defined by gRPC.",
    ),
  }),
);

export const SleepAction = named(
  `${CORE}.SleepAction`,
  struct('SleepAction describes a "sleep" action.', {
    seconds: req(int64(), "Seconds is the number of seconds to sleep."),
  }),
);

export const Probe = named(
  `${CORE}.Probe`,
  struct(
    "Probe describes a health check to be performed against a container to determine whether it is alive or ready to receive traffic.",
    {
      exec: opt(ExecAction, "Exec specifies a command to execute in the container."),
      httpGet: opt(HTTPGetAction, "HTTPGet specifies an HTTP GET request to perform."),
      tcpSocket: opt(TCPSocketAction, "TCPSocket specifies a connection to a TCP port."),
      grpc: opt(GRPCAction, "GRPC specifies a GRPC HealthCheckRequest."),
      initialDelaySeconds: opt(
        int32(),
        "Number of seconds after the container has started before liveness probes are initiated.",
      ),
      timeoutSeconds: opt(
        int32(),
        "Number of seconds after which the probe times out. Defaults to 1 second. Minimum value is 1.",
      ),
      periodSeconds: opt(
        int32(),
        "How often (in seconds) to perform the probe. Default to 10 seconds. Minimum value is 1.",
      ),
      successThreshold: opt(
        int32(),
        "Minimum consecutive successes for the probe to be considered successful after having failed. Defaults to 1. Must be 1 for liveness and startup. Minimum value is 1.",
      ),
      failureThreshold: opt(
        int32(),
        "Minimum consecutive failures for the probe to be considered failed after having succeeded. Defaults to 3. Minimum value is 1.",
      ),
      terminationGracePeriodSeconds: opt(
        int64(),
        "Optional duration in seconds the pod needs to terminate gracefully upon probe failure. If unset, the pod's terminationGracePeriodSeconds is used.",
      ),
    },
  ),
);
export type Probe = Static<typeof Probe>;

export const LifecycleHandler = named(
  `${CORE}.LifecycleHandler`,
  struct(
    "LifecycleHandler defines a specific action that should be taken in a lifecycle hook. One and only one of the fields, except TCPSocket must be specified.",
    {
      exec: opt(ExecAction, "Exec specifies a command to execute in the container."),
      httpGet: opt(HTTPGetAction, "HTTPGet specifies an HTTP GET request to perform."),
      tcpSocket: opt(
        TCPSocketAction,
        "Deprecated. TCPSocket is NOT supported as a LifecycleHandler and kept for backward compatibility.",
      ),
      sleep: opt(SleepAction, "Sleep represents a duration that the container should sleep."),
    },
  ),
);
export type LifecycleHandler = Static<typeof LifecycleHandler>;

export const Lifecycle = named(
  `${CORE}.Lifecycle`,
  struct(
    "Lifecycle describes actions that the management system should take in response to container lifecycle events.",
    {
      postStart: opt(
        LifecycleHandler,
        "PostStart is called immediately after a container is created. If the handler fails, the container is terminated and restarted according to its restart policy.",
      ),
      preStop: opt(
        LifecycleHandler,
        "PreStop is called immediately before a container is terminated due to an API request or management event such as liveness/startup probe failure, preemption, resource contention, etc.",
      ),
    },
  ),
);

export const Capabilities = named(
  `${CORE}.Capabilities`,
  struct("Adds and removes POSIX capabilities from running containers.", {
    add: opt(atomicList(str()), "Added capabilities"),
    drop: opt(atomicList(str()), "Removed capabilities"),
  }),
);

export const SELinuxOptions = named(
  `${CORE}.SELinuxOptions`,
  struct("SELinuxOptions are the labels to be applied to the container", {
    user: opt(str(), "User is a SELinux user label that applies to the container."),
    role: opt(str(), "Role is a SELinux role label that applies to the container."),
    type: opt(str(), "Type is a SELinux type label that applies to the container."),
    level: opt(str(), "Level is SELinux level label that applies to the container."),
  }),
);

export const WindowsSecurityContextOptions = named(
  `${CORE}.WindowsSecurityContextOptions`,
  struct("WindowsSecurityContextOptions contain Windows-specific options and credentials.", {
    gmsaCredentialSpecName: opt(
      str(),
      "GMSACredentialSpecName is the name of the GMSA credential spec to use.",
    ),
    gmsaCredentialSpec: opt(
      str(),
      "GMSACredentialSpec is where the GMSA admission webhook inlines the contents of the GMSA credential spec.",
    ),
    runAsUserName: opt(str(), "The UserName in Windows to run the entrypoint of the container process."),
    hostProcess: opt(
      bool(),
      "HostProcess determines if a container should be run as a 'Host Process' container.",
    ),
  }),
);

export const SeccompProfile = named(
  `${CORE}.SeccompProfile`,
  struct(
    "SeccompProfile defines a pod/container's seccomp profile settings. Only one profile source may be set.",
    {
      type: req(
        str(),
        "type indicates which kind of seccomp profile will be applied. Valid options are: Localhost, RuntimeDefault, Unconfined.",
      ),
      localhostProfile: opt(
        str(),
        'localhostProfile indicates a profile defined in a file on the node should be used. Must be set if type is "Localhost".',
      ),
    },
  ),
);

export const AppArmorProfile = named(
  `${CORE}.AppArmorProfile`,
  struct("AppArmorProfile defines a pod or container's AppArmor settings.", {
    type: req(
      str(),
      "type indicates which kind of AppArmor profile will be applied: Localhost, RuntimeDefault, Unconfined.",
    ),
    localhostProfile: opt(
      str(),
      'localhostProfile indicates a profile loaded on the node that should be used. Must be set if type is "Localhost".',
    ),
  }),
);

export const SecurityContext = named(
  `${CORE}.SecurityContext`,
  struct(
    "SecurityContext holds security configuration that will be applied to a container. Some fields are present in both SecurityContext and PodSecurityContext; when both are set, the values in SecurityContext take precedence.",
    {
      capabilities: opt(
        Capabilities,
        "The capabilities to add/drop when running containers. Defaults to the default set of capabilities granted by the container runtime.",
      ),
      privileged: opt(
        bool(),
        "Run container in privileged mode. Processes in privileged containers are essentially equivalent to root on the host. Defaults to false.",
      ),
      seLinuxOptions: opt(SELinuxOptions, "The SELinux context to be applied to the container."),
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
      runAsNonRoot: opt(
        bool(),
        "Indicates that the container must run as a non-root user. If true, the Kubelet will validate the image at runtime to ensure that it does not run as UID 0 (root) and fail to start the container if it does.",
      ),
      readOnlyRootFilesystem: opt(
        bool(),
        "Whether this container has a read-only root filesystem. Default is false.",
      ),
      allowPrivilegeEscalation: opt(
        bool(),
        "AllowPrivilegeEscalation controls whether a process can gain more privileges than its parent process (sets no_new_privs).",
      ),
      procMount: opt(
        str(),
        "procMount denotes the type of proc mount to use for the containers. The default is DefaultProcMount.",
      ),
      seccompProfile: opt(SeccompProfile, "The seccomp options to use by this container."),
      appArmorProfile: opt(
        AppArmorProfile,
        "appArmorProfile is the AppArmor options to use by this container.",
      ),
    },
  ),
);
export type SecurityContext = Static<typeof SecurityContext>;

function containerFields() {
  return {
    name: req(
      str(),
      "Name of the container specified as a DNS_LABEL. Each container in a pod must have a unique name (DNS_LABEL). Cannot be updated.",
    ),
    image: opt(
      str(),
      "Container image name. This field is optional to allow higher level config management to default or override container images in workload controllers like Deployments and StatefulSets.",
    ),
    command: opt(
      atomicList(str()),
      "Entrypoint array. Not executed within a shell. The container image's ENTRYPOINT is used if this is not provided. Variable references $(VAR_NAME) are expanded using the container's environment. Cannot be updated.",
    ),
    args: opt(
      atomicList(str()),
      "Arguments to the entrypoint. The container image's CMD is used if this is not provided. Variable references $(VAR_NAME) are expanded using the container's environment. Cannot be updated.",
    ),
    workingDir: opt(
      str(),
      "Container's working directory. If not specified, the container runtime's default will be used, which might be configured in the container image. Cannot be updated.",
    ),
    ports: opt(
      mapList(ContainerPort, ["containerPort", "protocol"], "containerPort"),
      'List of ports to expose from the container. Not specifying a port here DOES NOT prevent that port from being exposed. Any port which is listening on the default "0.0.0.0" address inside a container will be accessible from the network. Cannot be updated.',
    ),
    envFrom: opt(
      atomicList(EnvFromSource),
      "List of sources to populate environment variables in the container. When a key exists in multiple sources, the value associated with the last source will take precedence. Values defined by an Env with a duplicate key will take precedence. Cannot be updated.",
    ),
    env: opt(
      mapList(EnvVar, ["name"], "name"),
      "List of environment variables to set in the container. Cannot be updated.",
    ),
    resources: always(
      ResourceRequirements,
      "Compute Resources required by this container. Cannot be updated.",
    ),
    resizePolicy: opt(atomicList(ContainerResizePolicy), "Resources resize policy for the container."),
    restartPolicy: opt(
      str(),
      'RestartPolicy defines the restart behavior of individual containers in a pod. The only allowed value is "Always", for init containers, which makes them sidecar containers.',
    ),
    volumeMounts: opt(
      mapList(VolumeMount, ["mountPath"], "mountPath"),
      "Pod volumes to mount into the container's filesystem. Cannot be updated.",
    ),
    volumeDevices: opt(
      mapList(VolumeDevice, ["devicePath"], "devicePath"),
      "volumeDevices is the list of block devices to be used by the container.",
    ),
    livenessProbe: opt(
      Probe,
      "Periodic probe of container liveness. Container will be restarted if the probe fails. Cannot be updated.",
    ),
    readinessProbe: opt(
      Probe,
      "Periodic probe of container service readiness. Container will be removed from service endpoints if the probe fails. Cannot be updated.",
    ),
    startupProbe: opt(
      Probe,
      "StartupProbe indicates that the Pod has successfully initialized. If specified, no other probes are executed until this completes successfully. Cannot be updated.",
    ),
    lifecycle: opt(
      Lifecycle,
      "Actions that the management system should take in response to container lifecycle events. Cannot be updated.",
    ),
    terminationMessagePath: opt(
      str(),
      "Optional: Path at which the file to which the container's termination message will be written is mounted into the container's filesystem. Message written is intended to be brief final status, such as an assertion failure message. Defaults to /dev/termination-log. Cannot be updated.",
    ),
    terminationMessagePolicy: opt(
      oneOfStrings(TERMINATION_MESSAGE_POLICIES),
      "Indicate how the termination message should be populated. File will use the contents of terminationMessagePath to populate the container status message on both success and failure. FallbackToLogsOnError will use the last chunk of container log output if the termination message file is empty and the container exited with an error. Defaults to File. Cannot be updated.",
    ),
    imagePullPolicy: opt(
      oneOfStrings(PULL_POLICIES),
      "Image pull policy. One of Always, Never, IfNotPresent. Defaults to Always if :latest tag is specified, or IfNotPresent otherwise. Cannot be updated.",
    ),
    securityContext: opt(
      SecurityContext,
      "SecurityContext defines the security options the container should be run with. If set, the fields of SecurityContext override the equivalent fields of PodSecurityContext.",
    ),
    stdin: opt(
      bool(),
      "Whether this container should allocate a buffer for stdin in the container runtime. If this is not set, reads from stdin in the container will always result in EOF. Default is false.",
    ),
    stdinOnce: opt(
      bool(),
      "Whether the container runtime should close the stdin channel after it has been opened by a single attach. When stdin is true the stdin stream will remain open across multiple attach sessions. Default is false.",
    ),
    tty: opt(
      bool(),
      "Whether this container should allocate a TTY for itself, also requires 'stdin' to be true. Default is false.",
    ),
  };
}

export const Container = named(
  `${CORE}.Container`,
  struct("A single application container that you want to run within a pod.", containerFields()),
);
export type Container = Static<typeof Container>;

export const EphemeralContainer = named(
  `${CORE}.EphemeralContainer`,
  struct(
    "An EphemeralContainer is a temporary container that you may add to an existing Pod for user-initiated activities such as debugging.",
    {
      ...containerFields(),
      targetContainerName: opt(
        str(),
        "If set, the name of the container from PodSpec that this ephemeral container targets. The ephemeral container will be run in the namespaces (IPC, PID, etc) of this container.",
      ),
    },
  ),
);
