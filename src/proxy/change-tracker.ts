// Change trackers (upstream's ServiceChangeTracker and EndpointsChangeTracker): they hold the state last
// handed to a sync and the newer state of the Services that differ from it, and report only net changes: a
// Service that changes and changes back before the next sync is not pending any more. Comparison is by value,
// field by field (no serialized copies are kept: at 10,000 Services memory matters).
import type { Service } from "../api/schema/core/service-types.ts";
import type { EndpointSlice } from "../api/schema/discovery/endpointslice.ts";
import { type CompactSlice, compactSlice, mergeSlices, type SliceInfo } from "./endpoints.ts";
import { type ServicePorts, servicePorts } from "./service-port.ts";
import { type EndpointInfo, type ServicePortInfo, servicePortKey } from "./types.ts";

export interface CheckoutResult {
  /** Services ("namespace/name") whose applied state changed. */
  changed: Set<string>;
}

export function portKeyOf(port: ServicePortInfo): string {
  return servicePortKey(port.name, port.protocol);
}

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function samePort(a: ServicePortInfo, b: ServicePortInfo): boolean {
  return (
    a.service === b.service &&
    a.name === b.name &&
    a.protocol === b.protocol &&
    a.clusterIP === b.clusterIP &&
    a.port === b.port &&
    a.nodePort === b.nodePort &&
    sameStrings(a.externalIPs, b.externalIPs) &&
    sameStrings(a.loadBalancerVIPs, b.loadBalancerVIPs) &&
    sameStrings(a.loadBalancerSourceRanges, b.loadBalancerSourceRanges) &&
    a.stickyMaxAgeSeconds === b.stickyMaxAgeSeconds &&
    a.externalPolicyLocal === b.externalPolicyLocal &&
    a.internalPolicyLocal === b.internalPolicyLocal &&
    a.healthCheckNodePort === b.healthCheckNodePort
  );
}

function sameEndpoints(a: readonly EndpointInfo[], b: readonly EndpointInfo[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as EndpointInfo;
    const y = b[i] as EndpointInfo;
    if (
      x.endpoint !== y.endpoint ||
      x.ready !== y.ready ||
      x.serving !== y.serving ||
      x.terminating !== y.terminating ||
      x.isLocal !== y.isLocal
    )
      return false;
  }
  return true;
}

/**
 * A Service as the tracker keeps it: its ports, and the Service itself only when some of its ports cannot be
 * proxied (the problem is reported on it).
 */
export interface CompactService extends ServicePorts {
  object: Service | undefined;
}

export function compactService(svc: Service): CompactService {
  const parsed = servicePorts(svc);
  return { ...parsed, object: parsed.problems.length > 0 ? svc : undefined };
}

function asCompact(svc: Service | CompactService): CompactService {
  return "problems" in svc ? svc : compactService(svc);
}

/** Told, for a Service ("namespace/name"), why some of its ports cannot be proxied; `object` when there is a reason. */
export type ProblemListener = (service: string, problems: string[], object: Service | undefined) => void;

/** Tracks Services; `ports` is the state as of the last checkout, keyed by service-port key. */
export class ServiceChangeTracker {
  /** Applied (checked-out) service ports by service-port key. */
  readonly ports = new Map<string, ServicePortInfo>();
  /** Keys of the applied ports of each Service. */
  private readonly appliedKeys = new Map<string, string[]>();
  /** The newer ports of Services whose ports differ from the applied ones. */
  private readonly pending = new Map<string, ServicePortInfo[]>();
  private readonly onProblems: ProblemListener | undefined;

  /** `onProblems` hears, for every Service seen, why some of its ports cannot be proxied (often nothing). */
  constructor(options: { onProblems?: ProblemListener } = {}) {
    this.onProblems = options.onProblems;
  }

  get hasPending(): boolean {
    return this.pending.size > 0;
  }

  /** Services with changes not checked out yet. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /**
   * The form the tracker keeps of a Service. The proxy's reflector compacts Services as they arrive (its
   * transform), so that a 10,000-Service list is never held whole.
   */
  compact(svc: Service): CompactService {
    return compactService(svc);
  }

  /** A Service was added or modified. Returns whether any change is pending. */
  update(svc: Service | CompactService): boolean {
    const parsed = asCompact(svc);
    this.onProblems?.(parsed.service, parsed.problems, parsed.object);
    this.set(parsed.service, parsed.ports);
    return this.hasPending;
  }

  /** A Service was deleted. */
  delete(svc: Service | CompactService): boolean {
    const name =
      "problems" in svc ? svc.service : `${svc.metadata?.namespace ?? ""}/${svc.metadata?.name ?? ""}`;
    this.set(name, []);
    return this.hasPending;
  }

  /** The full list after a (re)list: Services not in it are gone. */
  replace(services: ReadonlyArray<Service | CompactService>): boolean {
    const seen = new Set<string>();
    for (const svc of services) {
      const parsed = asCompact(svc);
      this.onProblems?.(parsed.service, parsed.problems, parsed.object);
      seen.add(parsed.service);
      this.set(parsed.service, parsed.ports);
    }
    for (const name of [...this.appliedKeys.keys()]) if (!seen.has(name)) this.set(name, []);
    for (const name of [...this.pending.keys()]) if (!seen.has(name)) this.set(name, []);
    return this.hasPending;
  }

  /**
   * Applies pending changes to `ports` and returns which Services changed, and the ClusterIPs of UDP ports
   * that are gone (upstream's DeletedUDPClusterIPs: their conntrack entries are deleted).
   */
  checkout(): CheckoutResult & { deletedUDPClusterIPs: Set<string> } {
    const changed = new Set(this.pending.keys());
    const deletedUDPClusterIPs = new Set<string>();
    for (const [name, current] of this.pending) {
      for (const key of this.appliedKeys.get(name) ?? []) {
        const old = this.ports.get(key);
        if (old?.protocol === "UDP" && old.clusterIP && !current.some((p) => portKeyOf(p) === key))
          deletedUDPClusterIPs.add(old.clusterIP);
        this.ports.delete(key);
      }
      for (const port of current) this.ports.set(portKeyOf(port), port);
      if (current.length === 0) this.appliedKeys.delete(name);
      else this.appliedKeys.set(name, current.map(portKeyOf));
    }
    this.pending.clear();
    return { changed, deletedUDPClusterIPs };
  }

  private set(name: string, ports: ServicePortInfo[]): void {
    const applied = (this.appliedKeys.get(name) ?? []).map((key) => this.ports.get(key) as ServicePortInfo);
    const same =
      applied.length === ports.length &&
      applied.every((port, i) => samePort(port, ports[i] as ServicePortInfo));
    if (same) this.pending.delete(name);
    else this.pending.set(name, ports);
  }
}

/** Tracks EndpointSlices; `endpoints` is the state as of the last checkout, keyed by service-port key. */
export class EndpointsChangeTracker {
  /** Applied (checked-out) endpoints by service-port key. */
  readonly endpoints = new Map<string, EndpointInfo[]>();
  private readonly nodeName: string;
  private readonly slices = new Map<string, SliceInfo>();
  /** Slice keys of each Service: one string for the usual single slice, a Set for more. */
  private readonly slicesByService = new Map<string, string | Set<string>>();
  private readonly appliedKeys = new Map<string, string[]>();
  /** The newer endpoints of Services whose endpoints differ from the applied ones. */
  private readonly pending = new Map<string, Map<string, EndpointInfo[]>>();

  constructor(nodeName: string) {
    this.nodeName = nodeName;
  }

  get hasPending(): boolean {
    return this.pending.size > 0;
  }

  /** Services with changes not checked out yet. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /**
   * The form the tracker keeps of a slice. The proxy's reflector compacts slices as they arrive (its
   * transform), so that a 10,000-slice list is never held whole.
   */
  compact(slice: EndpointSlice): CompactSlice {
    return compactSlice(slice, this.nodeName);
  }

  /** A slice was added or modified. Returns whether any change is pending. */
  update(slice: EndpointSlice | CompactSlice): boolean {
    const { key, info } = "key" in slice ? slice : this.compact(slice);
    this.setSlice(key, info);
    return this.hasPending;
  }

  delete(slice: EndpointSlice | CompactSlice): boolean {
    this.setSlice("key" in slice ? slice.key : this.compact(slice).key, undefined);
    return this.hasPending;
  }

  /** The full list after a (re)list: slices not in it are gone. */
  replace(slices: ReadonlyArray<EndpointSlice | CompactSlice>): boolean {
    const seen = new Set<string>();
    for (const slice of slices) {
      const { key, info } = "key" in slice ? slice : this.compact(slice);
      seen.add(key);
      this.setSlice(key, info);
    }
    for (const key of [...this.slices.keys()]) if (!seen.has(key)) this.setSlice(key, undefined);
    return this.hasPending;
  }

  /** Applies pending changes to `endpoints`; `previous` has the replaced endpoints of each changed Service. */
  checkout(): CheckoutResult & { previous: Map<string, Map<string, EndpointInfo[]>> } {
    const changed = new Set(this.pending.keys());
    const previous = new Map<string, Map<string, EndpointInfo[]>>();
    for (const [service, current] of this.pending) {
      const before = new Map<string, EndpointInfo[]>();
      for (const key of this.appliedKeys.get(service) ?? []) {
        const eps = this.endpoints.get(key);
        if (eps) before.set(key, eps);
        this.endpoints.delete(key);
      }
      previous.set(service, before);
      for (const [key, eps] of current) this.endpoints.set(key, eps);
      if (current.size === 0) this.appliedKeys.delete(service);
      else this.appliedKeys.set(service, [...current.keys()]);
    }
    this.pending.clear();
    return { changed, previous };
  }

  private merged(service: string): Map<string, EndpointInfo[]> {
    const keys = this.slicesByService.get(service);
    if (keys === undefined) return new Map();
    const infos: SliceInfo[] = [];
    for (const key of typeof keys === "string" ? [keys] : keys) {
      const info = this.slices.get(key);
      if (info) infos.push(info);
    }
    return mergeSlices(infos);
  }

  private isApplied(service: string, current: Map<string, EndpointInfo[]>): boolean {
    const keys = this.appliedKeys.get(service) ?? [];
    if (keys.length !== current.size) return false;
    for (const key of keys) {
      const eps = current.get(key);
      if (!eps || !sameEndpoints(eps, this.endpoints.get(key) ?? [])) return false;
    }
    return true;
  }

  private setSlice(key: string, info: SliceInfo | undefined): void {
    const old = this.slices.get(key);
    const affected = new Set<string>();
    if (old) {
      affected.add(old.service);
      const set = this.slicesByService.get(old.service);
      if (set === key) this.slicesByService.delete(old.service);
      else if (set instanceof Set) {
        set.delete(key);
        if (set.size === 1) this.slicesByService.set(old.service, [...set][0] as string);
      }
      this.slices.delete(key);
    }
    if (info) {
      affected.add(info.service);
      this.slices.set(key, info);
      const set = this.slicesByService.get(info.service);
      if (set === undefined) this.slicesByService.set(info.service, key);
      else if (typeof set === "string") {
        if (set !== key) this.slicesByService.set(info.service, new Set([set, key]));
      } else set.add(key);
    }
    for (const service of affected) {
      const current = this.merged(service);
      if (this.isApplied(service, current)) this.pending.delete(service);
      else this.pending.set(service, current);
    }
  }
}
