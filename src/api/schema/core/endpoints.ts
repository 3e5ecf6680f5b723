// core/v1 Endpoints: the legacy per-service address list (ENDPOINTS column: "ip:port,… + N more...").

import {
  always,
  atomicList,
  int32,
  named,
  oneOfStrings,
  opt,
  req,
  type Static,
  str,
  struct,
  typeMetaFields,
} from "../dsl.ts";
import { child, type FieldError, index, invalid, required } from "../field-errors.ts";
import { defineKind } from "../kind.ts";
import { ObjectMeta } from "../meta.ts";
import { isDNS1123Label, isIP, isValidPortNum, nameIsDNSSubdomain } from "../names.ts";
import { AGE_COLUMN, column, NAME_COLUMN, since } from "../printing.ts";
import { PROTOCOLS } from "./container.ts";
import { ObjectReference } from "./refs.ts";

const CORE = "io.k8s.api.core.v1";

export const EndpointAddress = named(
  `${CORE}.EndpointAddress`,
  struct("EndpointAddress is a tuple that describes single IP address.", {
    ip: req(
      str(),
      "The IP of this endpoint. May not be loopback (127.0.0.0/8 or ::1), link-local or link-local multicast.",
    ),
    hostname: opt(str(), "The Hostname of this endpoint"),
    nodeName: opt(
      str(),
      "Optional: Node hosting this endpoint. This can be used to determine endpoints local to a node.",
    ),
    targetRef: opt(ObjectReference, "Reference to object providing the endpoint."),
  }),
);

export const EndpointPort = named(
  `${CORE}.EndpointPort`,
  struct("EndpointPort is a tuple that describes a single port.", {
    name: opt(
      str(),
      "The name of this port. This must match the 'name' field in the corresponding ServicePort. Optional only if one port is defined.",
    ),
    port: req(int32(), "The port number of the endpoint."),
    protocol: opt(
      oneOfStrings(PROTOCOLS),
      "The IP protocol for this port. Must be UDP, TCP, or SCTP. Default is TCP.",
    ),
    appProtocol: opt(str(), "The application protocol for this port."),
  }),
);

export const EndpointSubset = named(
  `${CORE}.EndpointSubset`,
  struct("EndpointSubset is a group of addresses with a common set of ports.", {
    addresses: opt(
      atomicList(EndpointAddress),
      "IP addresses which offer the related ports that are marked as ready.",
    ),
    notReadyAddresses: opt(
      atomicList(EndpointAddress),
      "IP addresses which offer the related ports but are not currently marked as ready because they have not yet finished starting, have recently failed a readiness check, or have recently failed a liveness check.",
    ),
    ports: opt(atomicList(EndpointPort), "Port numbers available on the related IP addresses."),
  }),
);

export const Endpoints = named(
  `${CORE}.Endpoints`,
  struct("Endpoints is a collection of endpoints that implement the actual service.", {
    ...typeMetaFields(),
    metadata: always(ObjectMeta, "Standard object's metadata."),
    subsets: opt(
      atomicList(EndpointSubset),
      "The set of all endpoints is the union of all subsets. Addresses are placed into subsets according to the IPs they share.",
    ),
  }),
);
export type Endpoints = Static<typeof Endpoints>;

/** Upstream's formatEndpoints: up to three "ip:port" entries, then " + N more...". */
export function formatEndpoints(ep: Endpoints): string {
  const subsets = ep.subsets ?? [];
  if (subsets.length === 0) return "<none>";
  const list: string[] = [];
  const max = 3;
  let more = false;
  let count = 0;
  const add = (entry: string) => {
    if (list.length === max) more = true;
    if (!more) list.push(entry);
    count++;
  };
  for (const ss of subsets) {
    const ports = ss.ports ?? [];
    if (ports.length === 0) {
      for (const a of ss.addresses ?? []) add(a.ip);
    } else {
      for (const p of ports) {
        for (const a of ss.addresses ?? [])
          add(a.ip.includes(":") ? `[${a.ip}]:${p.port}` : `${a.ip}:${p.port}`);
      }
    }
  }
  const text = list.join(",");
  return more ? `${text} + ${count - max} more...` : text;
}

export const endpoints = defineKind<Endpoints>({
  group: "",
  version: "v1",
  kind: "Endpoints",
  plural: "endpoints",
  singular: "endpoints",
  namespaced: true,
  shortNames: ["ep"],
  schema: Endpoints,
  nameValidator: nameIsDNSSubdomain,
  applyDefaults(ep) {
    for (const ss of ep.subsets ?? []) for (const p of ss.ports ?? []) if (!p.protocol) p.protocol = "TCP";
  },
  validate(ep) {
    const errs: FieldError[] = [];
    (ep.subsets ?? []).forEach((ss, i) => {
      const sp = index("subsets", i);
      for (const group of ["addresses", "notReadyAddresses"] as const) {
        (ss[group] ?? []).forEach((a, j) => {
          if (!isIP(a.ip))
            errs.push(invalid(child(index(child(sp, group), j), "ip"), a.ip, "must be a valid IP address"));
        });
      }
      const ports = ss.ports ?? [];
      ports.forEach((p, j) => {
        const pp = index(child(sp, "ports"), j);
        if (ports.length > 1 && !p.name) errs.push(required(child(pp, "name")));
        if (p.name)
          for (const msg of isDNS1123Label(p.name)) errs.push(invalid(child(pp, "name"), p.name, msg));
        for (const msg of isValidPortNum(p.port)) errs.push(invalid(child(pp, "port"), p.port, msg));
      });
    });
    return errs;
  },
  table: {
    columns: [NAME_COLUMN, column("Endpoints", "Endpoints of the service"), AGE_COLUMN],
    row: (ep, now = new Date()) => [
      ep.metadata?.name ?? "",
      formatEndpoints(ep),
      since(ep.metadata?.creationTimestamp, now),
    ],
  },
});
