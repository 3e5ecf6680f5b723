// core/v1 services: defaults (type, session affinity, target ports, traffic policies, IP families), allocated
// values carried over on update, validation and the kubectl columns. ClusterIP/NodePort allocation itself is
// the API server's job (it knows the ranges).

import {
  child,
  duplicate,
  type FieldError,
  forbidden,
  immutable,
  index,
  invalid,
  required,
} from "../field-errors.ts";
import { defineKind } from "../kind.ts";
import { validateLabels } from "../meta-validation.ts";
import {
  isDNS1123Label,
  isDNS1123Subdomain,
  isIP,
  isIPv6,
  isValidPortName,
  isValidPortNum,
  nameIsDNS1035Label,
} from "../names.ts";
import { AGE_COLUMN, column, formatMapSelector, NAME_COLUMN, since } from "../printing.ts";
import { Service, type ServicePort } from "./service-types.ts";

function usesNodePorts(type: string | undefined): boolean {
  return type === "NodePort" || type === "LoadBalancer";
}

/** "80/TCP,443:30443/TCP" */
export function servicePorts(ports: ServicePort[] | undefined): string {
  const parts = (ports ?? []).map((p) =>
    p.nodePort ? `${p.port}:${p.nodePort}/${p.protocol ?? "TCP"}` : `${p.port}/${p.protocol ?? "TCP"}`,
  );
  return parts.length === 0 ? "<none>" : parts.join(",");
}

function externalIP(svc: Service): string {
  const spec = svc.spec ?? {};
  const external = spec.externalIPs ?? [];
  switch (spec.type ?? "ClusterIP") {
    case "ClusterIP":
    case "NodePort":
      return external.length > 0 ? external.join(",") : "<none>";
    case "LoadBalancer": {
      const lb = (svc.status?.loadBalancer?.ingress ?? [])
        .map((i) => i.ip || i.hostname || "")
        .filter((s) => s !== "");
      const all = [...lb, ...external];
      return all.length > 0 ? all.join(",") : "<pending>";
    }
    case "ExternalName":
      return spec.externalName ?? "";
    default:
      return "<unknown>";
  }
}

export const services = defineKind<Service>({
  group: "",
  version: "v1",
  kind: "Service",
  plural: "services",
  namespaced: true,
  shortNames: ["svc"],
  categories: ["all"],
  subresources: ["status", "proxy"],
  schema: Service,
  nameValidator: nameIsDNS1035Label,
  applyDefaults(svc) {
    svc.spec ??= {};
    const spec = svc.spec;
    if (!spec.sessionAffinity) spec.sessionAffinity = "None";
    if (spec.sessionAffinity === "ClientIP") {
      spec.sessionAffinityConfig ??= {};
      spec.sessionAffinityConfig.clientIP ??= {};
      spec.sessionAffinityConfig.clientIP.timeoutSeconds ??= 10800;
    }
    if (!spec.type) spec.type = "ClusterIP";
    for (const port of spec.ports ?? []) {
      if (!port.protocol) port.protocol = "TCP";
      if (port.targetPort === undefined || port.targetPort === 0 || port.targetPort === "")
        port.targetPort = port.port;
    }
    if (usesNodePorts(spec.type) && !spec.externalTrafficPolicy) spec.externalTrafficPolicy = "Cluster";
    if (spec.type !== "ExternalName" && !spec.internalTrafficPolicy) spec.internalTrafficPolicy = "Cluster";
    if (spec.type === "LoadBalancer" && spec.allocateLoadBalancerNodePorts === undefined) {
      spec.allocateLoadBalancerNodePorts = true;
    }
    if (spec.clusterIP && !spec.clusterIPs) spec.clusterIPs = [spec.clusterIP];
    if (!spec.clusterIP && spec.clusterIPs?.[0]) spec.clusterIP = spec.clusterIPs[0];
  },
  prepareForCreate(svc) {
    svc.status = { loadBalancer: {} };
    svc.spec ??= {};
    const spec = svc.spec;
    if (spec.type !== "ExternalName") {
      spec.ipFamilyPolicy ??= "SingleStack";
      const ip = spec.clusterIP && spec.clusterIP !== "None" ? spec.clusterIP : undefined;
      spec.ipFamilies ??= [ip && isIPv6(ip) ? "IPv6" : "IPv4"];
    }
  },
  prepareForUpdate(svc, old) {
    // Allocated values are kept when an update leaves them out (upstream's patchAllocatedValues).
    svc.spec ??= {};
    const spec = svc.spec;
    const before = old.spec ?? {};
    const bothNeedIP = spec.type !== "ExternalName" && before.type !== "ExternalName";
    if (bothNeedIP && !spec.clusterIP && before.clusterIP) {
      spec.clusterIP = before.clusterIP;
      if (before.clusterIPs) spec.clusterIPs = [...before.clusterIPs];
    }
    if (bothNeedIP) {
      spec.ipFamilies ??= before.ipFamilies;
      spec.ipFamilyPolicy ??= before.ipFamilyPolicy;
    }
    if (usesNodePorts(spec.type) && usesNodePorts(before.type)) {
      for (const port of spec.ports ?? []) {
        if (port.nodePort) continue;
        const match = (before.ports ?? []).find(
          (p) => p.port === port.port && (p.protocol ?? "TCP") === (port.protocol ?? "TCP"),
        );
        if (match?.nodePort) port.nodePort = match.nodePort;
      }
      if (!spec.healthCheckNodePort && before.healthCheckNodePort)
        spec.healthCheckNodePort = before.healthCheckNodePort;
    }
  },
  validate(svc, old) {
    const errs: FieldError[] = [];
    const spec = svc.spec ?? {};
    const type = spec.type ?? "ClusterIP";
    const headless = spec.clusterIP === "None";
    const ports = spec.ports ?? [];
    if (ports.length === 0 && !headless && type !== "ExternalName")
      errs.push(required(child("spec", "ports")));
    if (type === "ExternalName") {
      if (!spec.externalName) errs.push(required(child("spec", "externalName")));
      else
        for (const msg of isDNS1123Subdomain(spec.externalName.replace(/\.$/, "")))
          errs.push(invalid(child("spec", "externalName"), spec.externalName, msg));
      if (spec.clusterIP && spec.clusterIP !== "") {
        errs.push(forbidden(child("spec", "clusterIPs"), "may not be set for ExternalName services"));
      }
    }
    (spec.clusterIPs ?? []).forEach((ip, i) => {
      if (ip !== "None" && ip !== "" && !isIP(ip)) {
        errs.push(
          invalid(
            index(child("spec", "clusterIPs"), i),
            ip,
            "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
          ),
        );
      }
    });
    const names = new Set<string>();
    const keys = new Set<string>();
    ports.forEach((port, i) => {
      const p = index(child("spec", "ports"), i);
      if (ports.length > 1 && !port.name) errs.push(required(child(p, "name")));
      if (port.name) {
        for (const msg of isDNS1123Label(port.name)) errs.push(invalid(child(p, "name"), port.name, msg));
        if (names.has(port.name)) errs.push(duplicate(child(p, "name"), port.name));
        names.add(port.name);
      }
      for (const msg of isValidPortNum(port.port)) errs.push(invalid(child(p, "port"), port.port, msg));
      const key = `${port.port}/${port.protocol ?? "TCP"}`;
      if (keys.has(key)) errs.push(duplicate(p, key));
      keys.add(key);
      if (typeof port.targetPort === "number") {
        for (const msg of isValidPortNum(port.targetPort))
          errs.push(invalid(child(p, "targetPort"), port.targetPort, msg));
      } else if (typeof port.targetPort === "string") {
        for (const msg of isValidPortName(port.targetPort))
          errs.push(invalid(child(p, "targetPort"), port.targetPort, msg));
      }
      if (port.nodePort) {
        if (!usesNodePorts(type))
          errs.push(forbidden(child(p, "nodePort"), `may not be used when \`type\` is '${type}'`));
        for (const msg of isValidPortNum(port.nodePort))
          errs.push(invalid(child(p, "nodePort"), port.nodePort, msg));
      }
    });
    errs.push(...validateLabels(spec.selector, child("spec", "selector")));
    const timeout = spec.sessionAffinityConfig?.clientIP?.timeoutSeconds;
    if (spec.sessionAffinity === "ClientIP" && timeout !== undefined && (timeout <= 0 || timeout > 86400)) {
      errs.push(
        invalid(
          child(child(child("spec", "sessionAffinityConfig"), "clientIP"), "timeoutSeconds"),
          timeout,
          "must be greater than 0 and less than 86400",
        ),
      );
    }
    if (spec.externalTrafficPolicy && !usesNodePorts(type) && (spec.externalIPs ?? []).length === 0) {
      errs.push(
        invalid(
          child("spec", "externalTrafficPolicy"),
          spec.externalTrafficPolicy,
          "may only be set for externally-accessible services",
        ),
      );
    }
    (spec.externalIPs ?? []).forEach((ip, i) => {
      if (!isIP(ip))
        errs.push(
          invalid(
            index(child("spec", "externalIPs"), i),
            ip,
            "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
          ),
        );
    });
    if (old) {
      const before = old.spec ?? {};
      const wasIP = before.type !== "ExternalName" && type !== "ExternalName";
      if (wasIP && before.clusterIP && spec.clusterIP !== before.clusterIP) {
        errs.push(immutable(index(child("spec", "clusterIPs"), 0), spec.clusterIP ?? ""));
      }
    }
    return errs;
  },
  table: {
    columns: [
      NAME_COLUMN,
      column("Type", "The type of the service: ClusterIP, NodePort, LoadBalancer or ExternalName."),
      column("Cluster-IP", "The service's cluster IP address."),
      column("External-IP", "The service's external addresses."),
      column("Port(s)", "The ports the service exposes."),
      AGE_COLUMN,
      column("Selector", "Pods with labels matching this selector back the service.", 1),
    ],
    row(svc, now = new Date()) {
      return [
        svc.metadata?.name ?? "",
        svc.spec?.type ?? "",
        svc.spec?.clusterIPs?.[0] ?? "<none>",
        externalIP(svc),
        servicePorts(svc.spec?.ports),
        since(svc.metadata?.creationTimestamp, now),
        formatMapSelector(svc.spec?.selector),
      ];
    },
  },
  fieldSelectors: {
    "spec.clusterIP": (s) => s.spec?.clusterIP ?? "",
    "spec.type": (s) => s.spec?.type ?? "",
  },
});
