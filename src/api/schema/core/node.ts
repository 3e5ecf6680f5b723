// core/v1 nodes: allocatable defaults to capacity; the kubectl columns (STATUS, ROLES, VERSION, …).

import {
  child,
  duplicate,
  type FieldError,
  forbidden,
  index,
  invalid,
  notSupported,
  required,
} from "../field-errors.ts";
import { defineKind } from "../kind.ts";
import { isQualifiedName, isValidLabelValue, nameIsDNSSubdomain } from "../names.ts";
import { AGE_COLUMN, column, NAME_COLUMN, since } from "../printing.ts";
import { Node } from "./node-types.ts";

const TAINT_EFFECTS = ["NoExecute", "NoSchedule", "PreferNoSchedule"];

function isCIDR(value: string): boolean {
  const [ip, bits, extra] = value.split("/");
  if (extra !== undefined || ip === undefined || bits === undefined || !/^[0-9]+$/.test(bits)) return false;
  if (ip.includes(":")) return Number(bits) <= 128 && /^[0-9a-fA-F:]+$/.test(ip);
  const parts = ip.split(".");
  return (
    Number(bits) <= 32 && parts.length === 4 && parts.every((p) => /^[0-9]+$/.test(p) && Number(p) <= 255)
  );
}

/** Roles from node-role.kubernetes.io/<role> labels and the legacy kubernetes.io/role label. */
export function nodeRoles(labels: Record<string, string> | undefined): string[] {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(labels ?? {})) {
    if (k.startsWith("node-role.kubernetes.io/")) {
      const role = k.slice("node-role.kubernetes.io/".length);
      if (role) roles.add(role);
    } else if (k === "kubernetes.io/role" && v) {
      roles.add(v);
    }
  }
  return [...roles].sort();
}

export const nodes = defineKind<Node>({
  group: "",
  version: "v1",
  kind: "Node",
  plural: "nodes",
  namespaced: false,
  shortNames: ["no"],
  subresources: ["status", "proxy"],
  schema: Node,
  nameValidator: nameIsDNSSubdomain,
  applyDefaults(node) {
    const status = node.status;
    if (status?.capacity && !status.allocatable) status.allocatable = { ...status.capacity };
  },
  validate(node, old) {
    const errs: FieldError[] = [];
    const spec = node.spec ?? {};
    (spec.podCIDRs ?? []).forEach((cidr, i) => {
      if (!isCIDR(cidr))
        errs.push(
          invalid(
            index(child("spec", "podCIDRs"), i),
            cidr,
            "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)",
          ),
        );
    });
    if (spec.podCIDR && spec.podCIDRs && spec.podCIDRs[0] !== spec.podCIDR) {
      errs.push(
        invalid(child("spec", "podCIDRs"), spec.podCIDRs, "first entry must match the podCIDR field"),
      );
    }
    const seen = new Set<string>();
    (spec.taints ?? []).forEach((t, i) => {
      const p = index(child("spec", "taints"), i);
      if (!t.key) errs.push(required(child(p, "key")));
      else for (const msg of isQualifiedName(t.key)) errs.push(invalid(child(p, "key"), t.key, msg));
      if (t.value)
        for (const msg of isValidLabelValue(t.value)) errs.push(invalid(child(p, "value"), t.value, msg));
      if (!t.effect) errs.push(required(child(p, "effect")));
      else if (!TAINT_EFFECTS.includes(t.effect))
        errs.push(notSupported(child(p, "effect"), t.effect, TAINT_EFFECTS));
      const id = `${t.key}:${t.effect}`;
      if (seen.has(id)) errs.push(duplicate(p, `${t.key}=${t.value ?? ""}:${t.effect}`));
      seen.add(id);
    });
    if (old) {
      const before = old.spec ?? {};
      if (
        before.podCIDRs &&
        before.podCIDRs.length > 0 &&
        JSON.stringify(before.podCIDRs) !== JSON.stringify(spec.podCIDRs ?? [])
      ) {
        errs.push(
          forbidden(child("spec", "podCIDRs"), 'node updates may not change podCIDR except from "" to valid'),
        );
      }
      if (before.providerID && before.providerID !== spec.providerID) {
        errs.push(
          forbidden(
            child("spec", "providerID"),
            'node updates may not change providerID except from "" to valid',
          ),
        );
      }
    }
    return errs;
  },
  table: {
    columns: [
      NAME_COLUMN,
      column("Status", "The status of the node"),
      column("Roles", "The roles of the node"),
      AGE_COLUMN,
      column("Version", "Kubelet Version reported by the node."),
      column("Internal-IP", "List of internal IPs of the node.", 1),
      column("External-IP", "List of external IPs of the node.", 1),
      column(
        "OS-Image",
        "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).",
        1,
      ),
      column(
        "Kernel-Version",
        "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
        1,
      ),
      column(
        "Container-Runtime",
        "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).",
        1,
      ),
    ],
    row(node, now = new Date()) {
      const ready = (node.status?.conditions ?? []).find((c) => c.type === "Ready");
      const status: string[] = [];
      if (ready) status.push(ready.status === "True" ? "Ready" : "NotReady");
      else status.push("Unknown");
      if (node.spec?.unschedulable) status.push("SchedulingDisabled");
      const roles = nodeRoles(node.metadata?.labels).join(",") || "<none>";
      const info = node.status?.nodeInfo;
      const address = (type: string) =>
        (node.status?.addresses ?? []).find((a) => a.type === type)?.address || "<none>";
      return [
        node.metadata?.name ?? "",
        status.join(","),
        roles,
        since(node.metadata?.creationTimestamp, now),
        info?.kubeletVersion ?? "",
        address("InternalIP"),
        address("ExternalIP"),
        info?.osImage || "<unknown>",
        info?.kernelVersion || "<unknown>",
        info?.containerRuntimeVersion || "<unknown>",
      ];
    },
  },
  fieldSelectors: { "spec.unschedulable": (n) => String(n.spec?.unschedulable === true) },
});
