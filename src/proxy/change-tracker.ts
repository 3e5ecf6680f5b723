// Change trackers (upstream's ServiceChangeTracker and EndpointsChangeTracker): they hold the newest state
// seen from the API and the state last handed to a sync, and report only net changes: a Service that changes
// and changes back before the next sync is not pending any more.
import type { Service } from "../api/schema/core/service-types.ts";
import type { EndpointSlice } from "../api/schema/discovery/endpointslice.ts";
import { mergeSlices, type SliceInfo, sliceInfo, sliceKey } from "./endpoints.ts";
import { type ServicePorts, servicePorts } from "./service-port.ts";
import type { EndpointInfo, ServicePortInfo } from "./types.ts";

export interface CheckoutResult {
  /** Services ("namespace/name") whose applied state changed. */
  changed: Set<string>;
}

function fingerprint(value: unknown): string {
  return JSON.stringify(value);
}

/** Tracks Services; `ports` is the state as of the last checkout, keyed by service-port key. */
export class ServiceChangeTracker {
  /** Applied (checked-out) service ports by service-port key. */
  readonly ports = new Map<string, ServicePortInfo>();
  private readonly latest = new Map<string, ServicePortInfo[]>();
  private readonly appliedFingerprint = new Map<string, string>();
  private readonly pending = new Set<string>();
  private readonly appliedKeys = new Map<string, string[]>();
  private readonly onProblems: ((service: Service, problems: string[]) => void) | undefined;

  constructor(options: { onProblems?: (service: Service, problems: string[]) => void } = {}) {
    this.onProblems = options.onProblems;
  }

  get hasPending(): boolean {
    return this.pending.size > 0;
  }

  /** A Service was added or modified. Returns whether any change is pending. */
  update(svc: Service): boolean {
    const parsed: ServicePorts = servicePorts(svc);
    if (parsed.problems.length > 0) this.onProblems?.(svc, parsed.problems);
    this.set(parsed.service, parsed.ports);
    return this.hasPending;
  }

  /** A Service was deleted. */
  delete(svc: Service): boolean {
    this.set(`${svc.metadata?.namespace ?? ""}/${svc.metadata?.name ?? ""}`, []);
    return this.hasPending;
  }

  /** The full list after a (re)list: Services not in it are gone. */
  replace(services: readonly Service[]): boolean {
    const seen = new Set<string>();
    for (const svc of services) {
      const parsed = servicePorts(svc);
      if (parsed.problems.length > 0) this.onProblems?.(svc, parsed.problems);
      seen.add(parsed.service);
      this.set(parsed.service, parsed.ports);
    }
    for (const name of [...this.latest.keys()]) if (!seen.has(name)) this.set(name, []);
    return this.hasPending;
  }

  /** Applies pending changes to `ports` and returns which Services changed. */
  checkout(): CheckoutResult {
    const changed = new Set(this.pending);
    for (const name of changed) {
      const previous = this.portsOf(name);
      for (const key of previous) this.ports.delete(key);
      const current = this.latest.get(name) ?? [];
      for (const port of current) this.ports.set(portKeyOf(port), port);
      if (current.length === 0) {
        this.appliedFingerprint.delete(name);
        this.appliedKeys.delete(name);
      } else {
        this.appliedFingerprint.set(name, fingerprint(current));
        this.appliedKeys.set(name, current.map(portKeyOf));
      }
    }
    this.pending.clear();
    return { changed };
  }

  private portsOf(name: string): string[] {
    return this.appliedKeys.get(name) ?? [];
  }

  private set(name: string, ports: ServicePortInfo[]): void {
    if (ports.length === 0) this.latest.delete(name);
    else this.latest.set(name, ports);
    const applied = this.appliedFingerprint.get(name) ?? fingerprint([]);
    if (fingerprint(ports) === applied) this.pending.delete(name);
    else this.pending.add(name);
  }
}

export function portKeyOf(port: ServicePortInfo): string {
  return `${port.name}/${port.protocol}`;
}

/** Tracks EndpointSlices; `endpoints` is the state as of the last checkout, keyed by service-port key. */
export class EndpointsChangeTracker {
  /** Applied (checked-out) endpoints by service-port key. */
  readonly endpoints = new Map<string, EndpointInfo[]>();
  private readonly nodeName: string;
  private readonly slices = new Map<string, SliceInfo>();
  private readonly slicesByService = new Map<string, Set<string>>();
  private readonly applied = new Map<string, { fingerprint: string; keys: string[] }>();
  private readonly pending = new Set<string>();

  constructor(nodeName: string) {
    this.nodeName = nodeName;
  }

  get hasPending(): boolean {
    return this.pending.size > 0;
  }

  update(slice: EndpointSlice): boolean {
    this.setSlice(sliceKey(slice), sliceInfo(slice, this.nodeName));
    return this.hasPending;
  }

  delete(slice: EndpointSlice): boolean {
    this.setSlice(sliceKey(slice), undefined);
    return this.hasPending;
  }

  replace(slices: readonly EndpointSlice[]): boolean {
    const seen = new Set<string>();
    for (const slice of slices) {
      const key = sliceKey(slice);
      seen.add(key);
      this.setSlice(key, sliceInfo(slice, this.nodeName));
    }
    for (const key of [...this.slices.keys()]) if (!seen.has(key)) this.setSlice(key, undefined);
    return this.hasPending;
  }

  /** Applies pending changes to `endpoints`; `previous` has the replaced endpoints of each changed Service. */
  checkout(): CheckoutResult & { previous: Map<string, Map<string, EndpointInfo[]>> } {
    const changed = new Set(this.pending);
    const previous = new Map<string, Map<string, EndpointInfo[]>>();
    for (const service of changed) {
      const before = new Map<string, EndpointInfo[]>();
      for (const key of this.applied.get(service)?.keys ?? []) {
        const eps = this.endpoints.get(key);
        if (eps) before.set(key, eps);
        this.endpoints.delete(key);
      }
      previous.set(service, before);
      const current = this.merged(service);
      for (const [key, eps] of current) this.endpoints.set(key, eps);
      if (current.size === 0) this.applied.delete(service);
      else this.applied.set(service, { fingerprint: fingerprint([...current]), keys: [...current.keys()] });
    }
    this.pending.clear();
    return { changed, previous };
  }

  private merged(service: string): Map<string, EndpointInfo[]> {
    const keys = this.slicesByService.get(service);
    if (!keys) return new Map();
    const infos: SliceInfo[] = [];
    for (const key of keys) {
      const info = this.slices.get(key);
      if (info) infos.push(info);
    }
    return mergeSlices(infos);
  }

  private setSlice(key: string, info: SliceInfo | undefined): void {
    const old = this.slices.get(key);
    const affected = new Set<string>();
    if (old) {
      affected.add(old.service);
      const set = this.slicesByService.get(old.service);
      set?.delete(key);
      if (set?.size === 0) this.slicesByService.delete(old.service);
      this.slices.delete(key);
    }
    if (info) {
      affected.add(info.service);
      this.slices.set(key, info);
      let set = this.slicesByService.get(info.service);
      if (!set) {
        set = new Set();
        this.slicesByService.set(info.service, set);
      }
      set.add(key);
    }
    for (const service of affected) {
      const current = this.merged(service);
      const applied = this.applied.get(service)?.fingerprint ?? fingerprint([]);
      if (fingerprint([...current]) === applied) this.pending.delete(service);
      else this.pending.add(service);
    }
  }
}
