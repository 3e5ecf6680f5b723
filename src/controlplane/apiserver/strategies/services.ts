// Services: ClusterIP allocation from the service CIDR and NodePort allocation from the node-port range,
// with upstream's error wording ("provided IP is already allocated", "provided port is already allocated").
// Values a client leaves out on update are carried over from the stored Service.

import type { FieldError, KubeObject } from "../../../api/resource.ts";
import type { KindDefinition } from "../../../api/schema/kind.ts";
import type { IpAllocator } from "../allocators/ip.ts";
import { parseIpv4 } from "../allocators/ip.ts";
import type { PortAllocator } from "../allocators/ports.ts";
import { invalid } from "../errors.ts";
import { genericStrategy } from "./generic.ts";
import type { Reservation, Strategy } from "./types.ts";

interface ServicePort {
  name?: string;
  port?: number;
  protocol?: string;
  nodePort?: number;
}

interface ServiceSpec {
  type?: string;
  clusterIP?: string;
  clusterIPs?: string[];
  ipFamilies?: string[];
  ipFamilyPolicy?: string;
  ports?: ServicePort[];
  allocateLoadBalancerNodePorts?: boolean;
}

interface ServiceLike extends KubeObject {
  spec?: ServiceSpec;
}

export interface ServiceAllocators {
  ips: IpAllocator;
  ports: PortAllocator;
}

function clusterIpOf(spec: ServiceSpec | undefined): string {
  return spec?.clusterIP || spec?.clusterIPs?.[0] || "";
}

function needsClusterIp(spec: ServiceSpec): boolean {
  return (spec.type ?? "ClusterIP") !== "ExternalName";
}

function needsNodePorts(spec: ServiceSpec): boolean {
  const type = spec.type ?? "ClusterIP";
  if (type === "NodePort") return true;
  return type === "LoadBalancer" && spec.allocateLoadBalancerNodePorts !== false;
}

/** Records what an already stored Service holds (startup, and after a restart). */
export function markServiceAllocated(allocators: ServiceAllocators, svc: KubeObject): void {
  const spec = (svc as ServiceLike).spec ?? {};
  const ip = clusterIpOf(spec);
  if (ip && ip !== "None") allocators.ips.allocate(ip);
  for (const p of spec.ports ?? []) if (p.nodePort) allocators.ports.allocate(p.nodePort);
}

function releaseAll(allocators: ServiceAllocators, svc: KubeObject): void {
  const spec = (svc as ServiceLike).spec ?? {};
  const ip = clusterIpOf(spec);
  if (ip && ip !== "None") allocators.ips.release(ip);
  for (const p of spec.ports ?? []) if (p.nodePort) allocators.ports.release(p.nodePort);
}

export function serviceStrategy(allocators: ServiceAllocators, kind?: KindDefinition): Strategy {
  const base = genericStrategy({ hasStatus: true, kind });
  return {
    ...base,
    prepareForCreate(obj) {
      if (kind?.prepareForCreate) kind.prepareForCreate(obj);
      else obj.status = { loadBalancer: {} };
    },
    reserve(obj, old, dryRun) {
      const svc = obj as ServiceLike;
      const spec: ServiceSpec = svc.spec ?? {};
      svc.spec = spec;
      const oldSpec = (old as ServiceLike | undefined)?.spec;
      const errors: FieldError[] = [];
      const newIps: string[] = [];
      const newPorts: number[] = [];
      const releaseOnCommit: Array<() => void> = [];

      // ClusterIP ------------------------------------------------------------------------------------
      const oldIp = oldSpec && needsClusterIp(oldSpec) ? clusterIpOf(oldSpec) : "";
      if (needsClusterIp(spec)) {
        let requested = clusterIpOf(spec);
        if (requested === "" && oldIp !== "") requested = oldIp;
        if (requested === "None") {
          spec.clusterIP = "None";
          spec.clusterIPs = ["None"];
        } else if (requested !== "" && requested === oldIp) {
          spec.clusterIP = requested;
          spec.clusterIPs = [requested];
        } else if (requested === "") {
          const ip = allocators.ips.allocateNext();
          if (ip === undefined) {
            errors.push({
              reason: "FieldValueInvalid",
              field: "spec.clusterIPs",
              message: `Invalid value: []string{}: failed to allocate a serviceIP: range is full`,
            });
          } else {
            newIps.push(ip);
            spec.clusterIP = ip;
            spec.clusterIPs = [ip];
          }
        } else {
          const wording = `Invalid value: ["${requested}"]: failed to allocate IP ${requested}`;
          if (parseIpv4(requested) === undefined) {
            errors.push({
              reason: "FieldValueInvalid",
              field: "spec.clusterIPs[0]",
              message: `Invalid value: "${requested}": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)`,
            });
          } else {
            const result = allocators.ips.allocate(requested);
            if (result === "ok") {
              newIps.push(requested);
              spec.clusterIP = requested;
              spec.clusterIPs = [requested];
            } else if (result === "allocated") {
              errors.push({
                reason: "FieldValueInvalid",
                field: "spec.clusterIPs",
                message: `${wording}: provided IP is already allocated`,
              });
            } else {
              errors.push({
                reason: "FieldValueInvalid",
                field: "spec.clusterIPs",
                message: `${wording}: the provided IP (${requested}) is not in the valid range. The range of valid IPs is ${allocators.ips.cidr.text}`,
              });
            }
          }
        }
        if (oldIp !== "" && oldIp !== "None" && spec.clusterIP !== oldIp && errors.length === 0) {
          errors.push({
            reason: "FieldValueInvalid",
            field: "spec.clusterIPs[0]",
            message: `Invalid value: ["${spec.clusterIP}"]: may not change once set`,
          });
        }
        if (spec.clusterIP !== "None" || spec.ipFamilies === undefined) spec.ipFamilies ??= ["IPv4"];
        spec.ipFamilyPolicy ??= "SingleStack";
      } else {
        delete spec.clusterIP;
        delete spec.clusterIPs;
        if (oldIp !== "" && oldIp !== "None") releaseOnCommit.push(() => allocators.ips.release(oldIp));
      }

      // NodePorts ------------------------------------------------------------------------------------
      const oldNodePorts = new Map<string, number>();
      if (oldSpec && needsNodePorts(oldSpec)) {
        for (const p of oldSpec.ports ?? []) {
          if (p.nodePort) oldNodePorts.set(`${p.port}/${p.protocol ?? "TCP"}`, p.nodePort);
        }
      }
      const oldHeld = new Set(oldNodePorts.values());
      const kept = new Set<number>();
      const ports = spec.ports ?? [];
      ports.forEach((p, i) => {
        const field = `spec.ports[${i}].nodePort`;
        if (!needsNodePorts(spec)) {
          if (p.nodePort) {
            errors.push({
              reason: "FieldValueForbidden",
              field,
              message: `Forbidden: may not be used when \`type\` is '${spec.type ?? "ClusterIP"}'`,
            });
          }
          return;
        }
        if (!p.nodePort) {
          const carried = oldNodePorts.get(`${p.port}/${p.protocol ?? "TCP"}`);
          if (carried !== undefined) p.nodePort = carried;
        }
        if (p.nodePort) {
          if (oldHeld.has(p.nodePort) || newPorts.includes(p.nodePort)) {
            kept.add(p.nodePort);
            return;
          }
          const result = allocators.ports.allocate(p.nodePort);
          if (result === "ok") newPorts.push(p.nodePort);
          else if (result === "allocated") {
            errors.push({
              reason: "FieldValueInvalid",
              field,
              message: `Invalid value: ${p.nodePort}: provided port is already allocated`,
            });
          } else {
            errors.push({
              reason: "FieldValueInvalid",
              field,
              message: `Invalid value: ${p.nodePort}: provided port is not in the valid range. The range of valid ports is ${allocators.ports.range.text}`,
            });
          }
          return;
        }
        const port = allocators.ports.allocateNext();
        if (port === undefined) {
          errors.push({
            reason: "FieldValueInvalid",
            field,
            message: "Invalid value: 0: failed to allocate a nodePort: range is full",
          });
        } else {
          newPorts.push(port);
          p.nodePort = port;
        }
      });
      for (const held of oldHeld) {
        if (!kept.has(held)) releaseOnCommit.push(() => allocators.ports.release(held));
      }

      const rollback = () => {
        for (const ip of newIps) allocators.ips.release(ip);
        for (const port of newPorts) allocators.ports.release(port);
      };
      if (errors.length > 0) {
        rollback();
        throw invalid("", "Service", obj.metadata?.name ?? "", errors);
      }
      if (dryRun) {
        // A dry run shows the values it would get, but holds nothing.
        rollback();
        return undefined;
      }
      const reservation: Reservation = {
        commit: () => {
          for (const release of releaseOnCommit) release();
        },
        rollback,
      };
      return reservation;
    },
    released(obj) {
      releaseAll(allocators, obj);
    },
  };
}
