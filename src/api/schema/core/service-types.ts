// core/v1 Service.

import {
  always,
  atomicList,
  bool,
  int32,
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
import { Condition, IntOrString, ObjectMeta } from "../meta.ts";
import { PROTOCOLS } from "./container.ts";

const CORE = "io.k8s.api.core.v1";

export const SERVICE_TYPES = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"] as const;

export const ServicePort = named(
  `${CORE}.ServicePort`,
  struct("ServicePort contains information on service's port.", {
    name: opt(
      str(),
      "The name of this port within the service. This must be a DNS_LABEL. All ports within a ServiceSpec must have unique names. Optional if only one ServicePort is defined on this service.",
    ),
    protocol: opt(
      oneOfStrings(PROTOCOLS),
      'The IP protocol for this port. Supports "TCP", "UDP", and "SCTP". Default is TCP.',
      {
        default: "TCP",
      },
    ),
    appProtocol: opt(
      str(),
      "The application protocol for this port. This is used as a hint for implementations to offer richer behavior.",
    ),
    port: req(int32(), "The port that will be exposed by this service."),
    targetPort: opt(
      IntOrString,
      "Number or name of the port to access on the pods targeted by the service. Number must be in the range 1 to 65535. Name must be an IANA_SVC_NAME. If this is a string, it will be looked up as a named port in the target Pod's container ports. If this is not specified, the value of the 'port' field is used (an identity map).",
    ),
    nodePort: opt(
      int32(),
      "The port on each node on which this service is exposed when type is NodePort or LoadBalancer. Usually assigned by the system.",
    ),
  }),
);
export type ServicePort = Static<typeof ServicePort>;

export const ClientIPConfig = named(
  `${CORE}.ClientIPConfig`,
  struct("ClientIPConfig represents the configurations of Client IP based session affinity.", {
    timeoutSeconds: opt(
      int32(),
      'timeoutSeconds specifies the seconds of ClientIP type session sticky time. The value must be >0 && <=86400(for 1 day) if ServiceAffinity == "ClientIP". Default value is 10800(for 3 hours).',
    ),
  }),
);

export const SessionAffinityConfig = named(
  `${CORE}.SessionAffinityConfig`,
  struct("SessionAffinityConfig represents the configurations of session affinity.", {
    clientIP: opt(
      ClientIPConfig,
      "clientIP contains the configurations of Client IP based session affinity.",
    ),
  }),
);

export const ServiceSpec = named(
  `${CORE}.ServiceSpec`,
  struct("ServiceSpec describes the attributes that a user creates on a service.", {
    ports: opt(
      mapList(ServicePort, ["port", "protocol"], "port"),
      "The list of ports that are exposed by this service.",
    ),
    selector: opt(
      stringMap(),
      "Route service traffic to pods with label keys and values matching this selector. If empty or not present, the service is assumed to have an external process managing its endpoints, which Kubernetes will not modify. Only applies to types ClusterIP, NodePort, and LoadBalancer.",
      { mapType: "atomic" },
    ),
    clusterIP: opt(
      str(),
      'clusterIP is the IP address of the service and is usually assigned randomly. If an address is specified manually, is in-range (as per system configuration), and is not in use, it will be allocated to the service; otherwise creation of the service will fail. This field may not be changed through updates unless the type field is also being changed to ExternalName. Valid values are "None", empty string (""), or a valid IP address.',
    ),
    clusterIPs: opt(
      atomicList(str()),
      "ClusterIPs is a list of IP addresses assigned to this service, and are usually assigned randomly. If this field is specified, the 0th entry must match the clusterIP field.",
    ),
    type: opt(
      oneOfStrings(SERVICE_TYPES),
      'type determines how the Service is exposed. Defaults to ClusterIP. Valid options are ExternalName, ClusterIP, NodePort, and LoadBalancer. "ClusterIP" allocates a cluster-internal IP address for load-balancing to endpoints. "NodePort" builds on ClusterIP and allocates a port on every node which routes to the same endpoints as the clusterIP. "LoadBalancer" builds on NodePort and creates an external load-balancer (if supported in the current cloud). "ExternalName" aliases this service to the specified externalName.',
    ),
    externalIPs: opt(
      atomicList(str()),
      "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service. These IPs are not managed by Kubernetes.",
    ),
    sessionAffinity: opt(
      oneOfStrings(["ClientIP", "None"] as const),
      'Supports "ClientIP" and "None". Used to maintain session affinity. Enable client IP based session affinity. Must be ClientIP or None. Defaults to None.',
    ),
    loadBalancerIP: opt(str(), "Only applies to Service Type: LoadBalancer. Deprecated."),
    loadBalancerSourceRanges: opt(
      atomicList(str()),
      "If specified and supported by the platform, this will restrict traffic through the cloud-provider load-balancer will be restricted to the specified client IPs.",
    ),
    externalName: opt(
      str(),
      'externalName is the external reference that discovery mechanisms will return as an alias for this service (e.g. a DNS CNAME record). Must be a lowercase RFC-1123 hostname and requires `type` to be "ExternalName".',
    ),
    externalTrafficPolicy: opt(
      oneOfStrings(["Cluster", "Local"] as const),
      'externalTrafficPolicy describes how nodes distribute service traffic they receive on one of the Service\'s "externally-facing" addresses (NodePorts, ExternalIPs, and LoadBalancer IPs). "Local" preserves the client source IP; "Cluster" obscures it and may cause a second hop.',
    ),
    healthCheckNodePort: opt(
      int32(),
      "healthCheckNodePort specifies the healthcheck nodePort for the service. This only applies when type is set to LoadBalancer and externalTrafficPolicy is set to Local.",
    ),
    publishNotReadyAddresses: opt(
      bool(),
      "publishNotReadyAddresses indicates that any agent which deals with endpoints for this Service should disregard any indications of ready/not-ready.",
    ),
    sessionAffinityConfig: opt(
      SessionAffinityConfig,
      "sessionAffinityConfig contains the configurations of session affinity.",
    ),
    ipFamilies: opt(
      atomicList(str()),
      "IPFamilies is a list of IP families (e.g. IPv4, IPv6) assigned to this service. This field is usually assigned automatically based on cluster configuration and the ipFamilyPolicy field.",
    ),
    ipFamilyPolicy: opt(
      oneOfStrings(["PreferDualStack", "RequireDualStack", "SingleStack"] as const),
      'IPFamilyPolicy represents the dual-stack-ness requested or required by this Service. If there is no value provided, then this field will be set to SingleStack. Services can be "SingleStack" (a single IP family), "PreferDualStack" (two IP families on dual-stack configured clusters or a single IP family on single-stack clusters), or "RequireDualStack" (two IP families on dual-stack configured clusters, otherwise fail).',
    ),
    allocateLoadBalancerNodePorts: opt(
      bool(),
      'allocateLoadBalancerNodePorts defines if NodePorts will be automatically allocated for services with type LoadBalancer. Default is "true".',
    ),
    loadBalancerClass: opt(
      str(),
      "loadBalancerClass is the class of the load balancer implementation this Service belongs to.",
    ),
    internalTrafficPolicy: opt(
      oneOfStrings(["Cluster", "Local"] as const),
      'InternalTrafficPolicy describes how nodes distribute service traffic they receive on the ClusterIP. If set to "Local", the proxy will assume that pods only want to talk to endpoints of the service on the same node as the pod, dropping the traffic if there are no local endpoints. The default value, "Cluster", uses the standard behavior of routing to all endpoints evenly.',
    ),
    trafficDistribution: opt(
      str(),
      "TrafficDistribution offers a way to express preferences for how traffic is distributed to Service endpoints.",
    ),
  }),
);
export type ServiceSpec = Static<typeof ServiceSpec>;

export const PortStatus = named(
  `${CORE}.PortStatus`,
  struct("PortStatus represents the error condition of a service port", {
    port: req(int32(), "Port is the port number of the service port of which status is recorded here"),
    protocol: req(
      str(),
      'Protocol is the protocol of the service port of which status is recorded here. Supported values: "TCP", "UDP", "SCTP"',
    ),
    error: opt(str(), "Error is to record the problem with the service port."),
  }),
);

export const LoadBalancerIngress = named(
  `${CORE}.LoadBalancerIngress`,
  struct(
    "LoadBalancerIngress represents the status of a load-balancer ingress point: traffic intended for the service should be sent to an ingress point.",
    {
      ip: opt(
        str(),
        "IP is set for load-balancer ingress points that are IP based (typically GCE or OpenStack load-balancers)",
      ),
      hostname: opt(
        str(),
        "Hostname is set for load-balancer ingress points that are DNS based (typically AWS load-balancers)",
      ),
      ipMode: opt(
        str(),
        "IPMode specifies how the load-balancer IP behaves, and may only be specified when the ip field is specified: VIP or Proxy.",
      ),
      ports: opt(
        atomicList(PortStatus),
        "Ports is a list of records of service ports. If used, every port defined in the service should have an entry in it",
      ),
    },
  ),
);

export const LoadBalancerStatus = named(
  `${CORE}.LoadBalancerStatus`,
  struct("LoadBalancerStatus represents the status of a load-balancer.", {
    ingress: opt(
      atomicList(LoadBalancerIngress),
      "Ingress is a list containing ingress points for the load-balancer. Traffic intended for the service should be sent to these ingress points.",
    ),
  }),
);

export const ServiceStatus = named(
  `${CORE}.ServiceStatus`,
  struct("ServiceStatus represents the current status of a service.", {
    loadBalancer: always(
      LoadBalancerStatus,
      "LoadBalancer contains the current status of the load-balancer, if one is present.",
    ),
    conditions: opt(mapList(Condition, ["type"], "type"), "Current service state"),
  }),
);

export const Service = named(
  `${CORE}.Service`,
  struct(
    "Service is a named abstraction of software service (for example, mysql) consisting of local port (for example 3306) that the proxy listens on, and the selector that determines which pods will answer requests sent through the proxy.",
    {
      ...typeMetaFields(),
      metadata: always(ObjectMeta, "Standard object's metadata."),
      spec: always(ServiceSpec, "Spec defines the behavior of a service."),
      status: always(
        ServiceStatus,
        "Most recently observed status of the service. Populated by the system. Read-only.",
      ),
    },
  ),
);
export type Service = Static<typeof Service>;
