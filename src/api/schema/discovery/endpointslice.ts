// discovery.k8s.io/v1 EndpointSlice.

import { PROTOCOLS } from "../core/container.ts";
import { ObjectReference } from "../core/refs.ts";
import {
  always,
  atomicList,
  bool,
  int32,
  named,
  oneOfStrings,
  opt,
  req,
  type Static,
  setList,
  str,
  stringMap,
  struct,
  typeMetaFields,
} from "../dsl.ts";
import { child, type FieldError, index, invalid, required } from "../field-errors.ts";
import { defineKind } from "../kind.ts";
import { ObjectMeta } from "../meta.ts";
import { isIPv4, isIPv6, isValidPortNum, nameIsDNSSubdomain } from "../names.ts";
import { AGE_COLUMN, column, NAME_COLUMN, since } from "../printing.ts";

const DISCOVERY = "io.k8s.api.discovery.v1";
const ADDRESS_TYPES = ["FQDN", "IPv4", "IPv6"] as const;

export const EndpointConditions = named(
  `${DISCOVERY}.EndpointConditions`,
  struct("EndpointConditions represents the current condition of an endpoint.", {
    ready: opt(
      bool(),
      "ready indicates that this endpoint is ready to receive traffic, according to whatever system is managing the endpoint.",
    ),
    serving: opt(
      bool(),
      "serving indicates that this endpoint is able to receive traffic, according to whatever system is managing the endpoint, even if it is terminating.",
    ),
    terminating: opt(bool(), "terminating indicates that this endpoint is terminating."),
  }),
);

export const ForZone = named(
  `${DISCOVERY}.ForZone`,
  struct("ForZone provides information about which zones should consume this endpoint.", {
    name: req(str(), "name represents the name of the zone."),
  }),
);

export const ForNode = named(
  `${DISCOVERY}.ForNode`,
  struct("ForNode provides information about which nodes should consume this endpoint.", {
    name: req(str(), "name represents the name of the node."),
  }),
);

export const EndpointHints = named(
  `${DISCOVERY}.EndpointHints`,
  struct("EndpointHints provides hints describing how an endpoint should be consumed.", {
    forZones: opt(
      atomicList(ForZone),
      "forZones indicates the zone(s) this endpoint should be consumed by when using topology aware routing.",
    ),
    forNodes: opt(
      atomicList(ForNode),
      "forNodes indicates the node(s) this endpoint should be consumed by when using topology aware routing.",
    ),
  }),
);

export const Endpoint = named(
  `${DISCOVERY}.Endpoint`,
  struct('Endpoint represents a single logical "backend" implementing a service.', {
    addresses: req(
      setList(str()),
      'addresses of this endpoint. For EndpointSlices of addressType "IPv4" or "IPv6", the values are IP addresses in canonical form.',
    ),
    conditions: always(
      EndpointConditions,
      "conditions contains information about the current status of the endpoint.",
    ),
    hostname: opt(
      str(),
      "hostname of this endpoint. This field may be used by consumers of endpoints to distinguish endpoints from each other.",
    ),
    targetRef: opt(
      ObjectReference,
      "targetRef is a reference to a Kubernetes object that represents this endpoint.",
    ),
    deprecatedTopology: opt(
      stringMap(),
      "deprecatedTopology contains topology information part of the v1beta1 API. This field is deprecated.",
    ),
    nodeName: opt(str(), "nodeName represents the name of the Node hosting this endpoint."),
    zone: opt(str(), "zone is the name of the Zone this endpoint exists in."),
    hints: opt(
      EndpointHints,
      "hints contains information associated with how an endpoint should be consumed.",
    ),
  }),
);

export const EndpointPort = named(
  `${DISCOVERY}.EndpointPort`,
  Object.assign(
    struct("EndpointPort represents a Port used by an EndpointSlice", {
      name: opt(
        str(),
        "name represents the name of this port. All ports in an EndpointSlice must have a unique name.",
      ),
      protocol: opt(
        oneOfStrings(PROTOCOLS),
        "protocol represents the IP protocol for this port. Must be UDP, TCP, or SCTP. Default is TCP.",
      ),
      port: opt(
        int32(),
        "port represents the port number of the endpoint. If the EndpointSlice is derived from a Kubernetes service, this must be set to the service's target port.",
      ),
      appProtocol: opt(str(), "The application protocol for this port."),
    }),
    { "x-kubernetes-map-type": "atomic" },
  ),
);

export const EndpointSlice = named(
  `${DISCOVERY}.EndpointSlice`,
  struct("EndpointSlice represents a set of service endpoints.", {
    ...typeMetaFields(),
    metadata: always(ObjectMeta, "Standard object's metadata."),
    addressType: req(
      oneOfStrings(ADDRESS_TYPES),
      "addressType specifies the type of address carried by this EndpointSlice. All addresses in this slice must be the same type. Supported types are IPv4, IPv6 and FQDN. This field is immutable after creation.",
    ),
    endpoints: req(
      atomicList(Endpoint),
      "endpoints is a list of unique endpoints in this slice. Each slice may include a maximum of 1000 endpoints.",
    ),
    ports: opt(
      atomicList(EndpointPort),
      "ports specifies the list of network ports exposed by each endpoint in this slice.",
    ),
  }),
);
export type EndpointSlice = Static<typeof EndpointSlice>;

function listWithMore(list: string[], more: boolean, count: number, max: number): string {
  const text = list.join(",");
  if (more) return `${text} + ${count - max} more...`;
  return text === "" ? "<unset>" : text;
}

export const endpointSlices = defineKind<EndpointSlice>({
  group: "discovery.k8s.io",
  version: "v1",
  kind: "EndpointSlice",
  plural: "endpointslices",
  namespaced: true,
  schema: EndpointSlice,
  nameValidator: nameIsDNSSubdomain,
  applyDefaults(slice) {
    for (const p of slice.ports ?? []) {
      if (!p.protocol) p.protocol = "TCP";
      if (p.name === undefined) p.name = "";
    }
  },
  validate(slice, old) {
    const errs: FieldError[] = [];
    const type = slice.addressType;
    (slice.endpoints ?? []).forEach((ep, i) => {
      const p = index("endpoints", i);
      if ((ep.addresses ?? []).length === 0)
        errs.push(required(child(p, "addresses"), "must contain at least 1 address"));
      (ep.addresses ?? []).forEach((a, j) => {
        const ap = index(child(p, "addresses"), j);
        if (type === "IPv4" && !isIPv4(a)) errs.push(invalid(ap, a, "must be a valid IPv4 address"));
        if (type === "IPv6" && !isIPv6(a)) errs.push(invalid(ap, a, "must be a valid IPv6 address"));
      });
    });
    (slice.ports ?? []).forEach((port, i) => {
      if (port.port !== undefined) {
        for (const msg of isValidPortNum(port.port))
          errs.push(invalid(child(index("ports", i), "port"), port.port, msg));
      }
    });
    if (old && old.addressType !== slice.addressType)
      errs.push(invalid("addressType", slice.addressType, "field is immutable"));
    return errs;
  },
  table: {
    columns: [
      NAME_COLUMN,
      column("AddressType", "The type of address carried by this EndpointSlice."),
      column("Ports", "Ports the endpoints in this slice expose."),
      column("Endpoints", "Addresses of the endpoints in this slice."),
      AGE_COLUMN,
    ],
    row(slice, now = new Date()) {
      const max = 3;
      const ports: string[] = [];
      let portCount = 0;
      for (const p of slice.ports ?? []) {
        if (ports.length < max) ports.push(p.port !== undefined ? String(p.port) : p.name ? p.name : "*");
        portCount++;
      }
      const addresses: string[] = [];
      let addressCount = 0;
      for (const ep of slice.endpoints ?? []) {
        for (const a of ep.addresses ?? []) {
          if (addresses.length < max) addresses.push(a);
          addressCount++;
        }
      }
      return [
        slice.metadata?.name ?? "",
        slice.addressType,
        listWithMore(ports, portCount > max, portCount, max),
        listWithMore(addresses, addressCount > max, addressCount, max),
        since(slice.metadata?.creationTimestamp, now),
      ];
    },
  },
});
