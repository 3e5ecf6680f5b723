// The pure half of the Endpoints and EndpointSlice controllers (upstream pkg/controller/endpoint,
// endpointslice and pkg/api/v1/endpoints): which pods back a Service, on which port each one serves every
// service port (named target ports resolved per pod), and how the results are laid out.
import type { Node } from "../../../api/schema/core/node-types.ts";
import type { Pod } from "../../../api/schema/core/pod-types.ts";
import type { Service, ServicePort } from "../../../api/schema/core/service-types.ts";
import { isPodReady } from "../machinery/pods.ts";

export const SERVICE_NAME_LABEL = "kubernetes.io/service-name";
export const MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by";
export const MANAGED_BY = "endpointslice-controller.k8s.io";
export const HEADLESS_LABEL = "service.kubernetes.io/headless";
export const ZONE_LABEL = "topology.kubernetes.io/zone";
export const MAX_ENDPOINTS_PER_SLICE = 100;

/** A Service with a non-empty selector is managed; one without is left to whoever manages its endpoints. */
export function managedSelector(svc: Service): Record<string, string> | undefined {
  const selector = svc.spec?.selector;
  return selector && Object.keys(selector).length > 0 ? selector : undefined;
}

export function selects(
  selector: Record<string, string>,
  labels: Record<string, string> | undefined,
): boolean {
  for (const [k, v] of Object.entries(selector)) if (labels?.[k] !== v) return false;
  return true;
}

/** upstream ShouldPodBeInEndpoints: has an IP, not finished (per restart policy), terminating only if asked. */
export function shouldPodBeInEndpoints(pod: Pod, includeTerminating: boolean): boolean {
  if (!pod.status?.podIP) return false;
  if (!includeTerminating && pod.metadata?.deletionTimestamp) return false;
  const phase = pod.status.phase;
  switch (pod.spec?.restartPolicy ?? "Always") {
    case "Never":
      return phase !== "Failed" && phase !== "Succeeded";
    case "OnFailure":
      return phase !== "Succeeded";
    default:
      return true;
  }
}

/** upstream FindPort: a numeric target port as is, a named one looked up among the pod's container ports. */
export function findPort(pod: Pod, port: ServicePort): number | undefined {
  const target = port.targetPort ?? port.port;
  if (typeof target === "number") return target === 0 ? port.port : target;
  if (/^\d+$/.test(target)) return Number(target);
  const protocol = port.protocol ?? "TCP";
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) {
      if (p.name === target && (p.protocol ?? "TCP") === protocol) return p.containerPort;
    }
  }
  return undefined;
}

export interface ResolvedPort {
  name: string;
  port: number;
  protocol: string;
  appProtocol?: string;
}

/** The service ports this pod can serve, resolved to its own port numbers. */
export function resolvedPorts(svc: Service, pod: Pod): ResolvedPort[] {
  const out: ResolvedPort[] = [];
  for (const sp of svc.spec?.ports ?? []) {
    const port = findPort(pod, sp);
    if (port === undefined) continue;
    out.push({
      name: sp.name ?? "",
      port,
      protocol: sp.protocol ?? "TCP",
      ...(sp.appProtocol ? { appProtocol: sp.appProtocol } : {}),
    });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.port - b.port));
}

/** A pod's DNS hostname for a headless service's subdomain (upstream: hostname set and subdomain = service). */
function hostnameFor(svc: Service, pod: Pod): string | undefined {
  const spec = pod.spec;
  return spec?.hostname && spec.subdomain === svc.metadata?.name ? spec.hostname : undefined;
}

const isHeadless = (svc: Service) => svc.spec?.clusterIP === "None";

// Endpoints ------------------------------------------------------------------------------------------------

export interface EndpointAddress {
  ip: string;
  hostname?: string;
  nodeName?: string;
  targetRef: { kind: "Pod"; namespace: string; name: string; uid: string };
}

export interface EndpointSubset {
  addresses?: EndpointAddress[];
  notReadyAddresses?: EndpointAddress[];
  ports?: ResolvedPort[];
}

function addressOf(svc: Service, pod: Pod): EndpointAddress {
  const hostname = hostnameFor(svc, pod);
  return {
    ip: pod.status?.podIP ?? "",
    ...(hostname ? { hostname } : {}),
    ...(pod.spec?.nodeName ? { nodeName: pod.spec.nodeName } : {}),
    targetRef: {
      kind: "Pod",
      namespace: pod.metadata?.namespace ?? "",
      name: pod.metadata?.name ?? "",
      uid: pod.metadata?.uid ?? "",
    },
  };
}

/**
 * The Endpoints subsets for a Service: ready addresses and not-ready ones (publishNotReadyAddresses makes
 * every pod ready and keeps terminating ones), grouped by identical port lists like upstream's RepackSubsets.
 */
export function endpointsSubsets(svc: Service, pods: readonly Pod[]): EndpointSubset[] {
  const tolerateUnready = svc.spec?.publishNotReadyAddresses === true;
  const groups = new Map<
    string,
    { ports: ResolvedPort[]; ready: EndpointAddress[]; notReady: EndpointAddress[] }
  >();
  for (const pod of pods) {
    if (!shouldPodBeInEndpoints(pod, tolerateUnready)) continue;
    let ports = resolvedPorts(svc, pod);
    if (ports.length === 0) {
      // Only a headless service without ports lists pods without ports.
      if (!(isHeadless(svc) && (svc.spec?.ports ?? []).length === 0)) continue;
      ports = [];
    }
    const key = JSON.stringify(ports);
    let group = groups.get(key);
    if (!group) {
      group = { ports, ready: [], notReady: [] };
      groups.set(key, group);
    }
    (tolerateUnready || isPodReady(pod) ? group.ready : group.notReady).push(addressOf(svc, pod));
  }
  const byIp = (a: EndpointAddress, b: EndpointAddress) => compareIp(a.ip, b.ip);
  return [...groups.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, g]) => ({
      ...(g.ready.length ? { addresses: g.ready.sort(byIp) } : {}),
      ...(g.notReady.length ? { notReadyAddresses: g.notReady.sort(byIp) } : {}),
      ...(g.ports.length ? { ports: g.ports } : {}),
    }));
}

/** Labels upstream puts on a Service's Endpoints: the service's, plus the headless marker. */
export function endpointsLabels(svc: Service): Record<string, string> {
  const labels = { ...(svc.metadata?.labels ?? {}) };
  if (isHeadless(svc)) labels[HEADLESS_LABEL] = "";
  else delete labels[HEADLESS_LABEL];
  return labels;
}

// EndpointSlices -------------------------------------------------------------------------------------------

export interface SliceEndpoint {
  addresses: string[];
  conditions: { ready: boolean; serving: boolean; terminating: boolean };
  hostname?: string;
  nodeName?: string;
  zone?: string;
  targetRef: { kind: "Pod"; namespace: string; name: string; uid: string };
}

export interface DesiredGroup {
  /** Canonical key of the port list. */
  key: string;
  ports: ResolvedPort[];
  endpoints: SliceEndpoint[];
}

/**
 * Endpoints per distinct port mapping: every pod with an IP (terminating ones too, marked so) with ready =
 * serving and not terminating (or publishNotReadyAddresses), serving = Ready, plus node and zone.
 */
export function desiredSliceGroups(
  svc: Service,
  pods: readonly Pod[],
  nodeOf: (name: string) => Node | undefined,
): DesiredGroup[] {
  const tolerateUnready = svc.spec?.publishNotReadyAddresses === true;
  const groups = new Map<string, DesiredGroup>();
  for (const pod of pods) {
    if (!shouldPodBeInEndpoints(pod, true)) continue;
    const ports = resolvedPorts(svc, pod);
    if (ports.length === 0 && (svc.spec?.ports ?? []).length > 0) continue;
    const key = JSON.stringify(ports);
    let group = groups.get(key);
    if (!group) {
      group = { key, ports, endpoints: [] };
      groups.set(key, group);
    }
    const serving = isPodReady(pod);
    const terminating = !!pod.metadata?.deletionTimestamp;
    const nodeName = pod.spec?.nodeName;
    const zone = nodeName ? nodeOf(nodeName)?.metadata?.labels?.[ZONE_LABEL] : undefined;
    const hostname = hostnameFor(svc, pod);
    group.endpoints.push({
      addresses: [pod.status?.podIP ?? ""],
      conditions: { ready: tolerateUnready || (serving && !terminating), serving, terminating },
      ...(hostname ? { hostname } : {}),
      targetRef: {
        kind: "Pod",
        namespace: pod.metadata?.namespace ?? "",
        name: pod.metadata?.name ?? "",
        uid: pod.metadata?.uid ?? "",
      },
      ...(nodeName ? { nodeName } : {}),
      ...(zone ? { zone } : {}),
    });
  }
  for (const g of groups.values())
    g.endpoints.sort((a, b) => compareIp(a.addresses[0] ?? "", b.addresses[0] ?? ""));
  return [...groups.values()];
}

/** Labels of a Service's slices: the service's own (minus reserved ones) plus the controller's. */
export function sliceLabels(svc: Service): Record<string, string> {
  const labels = { ...(svc.metadata?.labels ?? {}) };
  delete labels[SERVICE_NAME_LABEL];
  delete labels[MANAGED_BY_LABEL];
  delete labels[HEADLESS_LABEL];
  labels[SERVICE_NAME_LABEL] = svc.metadata?.name ?? "";
  labels[MANAGED_BY_LABEL] = MANAGED_BY;
  if (isHeadless(svc)) labels[HEADLESS_LABEL] = "";
  return labels;
}

export interface ExistingSlice {
  name: string;
  portsKey: string;
  endpoints: SliceEndpoint[];
}

export interface SlicePlan {
  /** Slices to rewrite with these endpoints (and the group's ports). */
  update: Array<{ name: string; group: DesiredGroup; endpoints: SliceEndpoint[] }>;
  create: Array<{ group: DesiredGroup; endpoints: SliceEndpoint[] }>;
  delete: string[];
}

const endpointKey = (e: SliceEndpoint) => e.addresses[0] ?? "";

/**
 * upstream's reconciler, reduced: endpoints stay in the slice that holds them (updated in place), new ones
 * fill slices with room before new slices (≤ 100 endpoints each) are made, emptied slices go; a Service
 * without endpoints keeps one empty placeholder slice.
 */
export function planSlices(groups: readonly DesiredGroup[], existing: readonly ExistingSlice[]): SlicePlan {
  const plan: SlicePlan = { update: [], create: [], delete: [] };
  const used = new Set<string>();
  for (const group of groups) {
    const desired = new Map(group.endpoints.map((e) => [endpointKey(e), e]));
    const slices = existing.filter((s) => s.portsKey === group.key);
    const kept: Array<{ slice: ExistingSlice; endpoints: SliceEndpoint[]; changed: boolean }> = [];
    for (const slice of slices) {
      const endpoints: SliceEndpoint[] = [];
      let changed = false;
      for (const e of slice.endpoints) {
        const want = desired.get(endpointKey(e));
        if (!want) {
          changed = true;
          continue;
        }
        if (JSON.stringify(want) !== JSON.stringify(e)) changed = true;
        endpoints.push(want);
        desired.delete(endpointKey(e));
      }
      kept.push({ slice, endpoints, changed });
    }
    const remaining = [...desired.values()];
    for (const k of kept) {
      while (remaining.length > 0 && k.endpoints.length < MAX_ENDPOINTS_PER_SLICE) {
        k.endpoints.push(remaining.shift() as SliceEndpoint);
        k.changed = true;
      }
    }
    for (const k of kept) {
      if (k.endpoints.length === 0) continue;
      used.add(k.slice.name);
      if (k.changed) plan.update.push({ name: k.slice.name, group, endpoints: k.endpoints });
    }
    while (remaining.length > 0)
      plan.create.push({ group, endpoints: remaining.splice(0, MAX_ENDPOINTS_PER_SLICE) });
  }
  const total = groups.reduce((n, g) => n + g.endpoints.length, 0);
  if (total === 0) {
    // Placeholder: keep (or make) one empty slice without ports.
    const placeholder: DesiredGroup = { key: "[]", ports: [], endpoints: [] };
    const reuse = existing.find((s) => s.endpoints.length === 0 && s.portsKey === "[]") ?? existing[0];
    if (reuse) {
      used.add(reuse.name);
      if (reuse.endpoints.length > 0 || reuse.portsKey !== "[]")
        plan.update.push({ name: reuse.name, group: placeholder, endpoints: [] });
    } else {
      plan.create.push({ group: placeholder, endpoints: [] });
    }
  }
  for (const s of existing) if (!used.has(s.name)) plan.delete.push(s.name);
  return plan;
}

/** Orders IPv4 addresses numerically (others as text). */
export function compareIp(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  if (pa.length === 4 && pb.length === 4 && pa.every(Number.isInteger) && pb.every(Number.isInteger)) {
    for (let i = 0; i < 4; i++) if (pa[i] !== pb[i]) return (pa[i] as number) - (pb[i] as number);
    return 0;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}
