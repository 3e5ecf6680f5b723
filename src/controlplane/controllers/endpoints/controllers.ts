// The Endpoints controller and the EndpointSlice controller (upstream pkg/controller/endpoint and
// endpointslice): for every Service with a selector, the pods it selects become its Endpoints object and
// its EndpointSlices (kubernetes.io/service-name, ≤ 100 endpoints each, owned by the Service). Services
// without a selector are left alone. Both resync a Service whenever it, a pod it selects (before or after a
// label change) or one of its own objects changes.
import type { Logger } from "pino";
import { isAlreadyExists, isNotFound } from "../../../api/client/errors.ts";
import type { Endpoints } from "../../../api/schema/core/endpoints.ts";
import type { Node } from "../../../api/schema/core/node-types.ts";
import type { Pod } from "../../../api/schema/core/pod-types.ts";
import type { Service } from "../../../api/schema/core/service-types.ts";
import type { EndpointSlice } from "../../../api/schema/discovery/endpointslice.ts";
import { type ControllerContext, RESOURCES } from "../machinery/context.ts";
import { ControllerLoop, type SyncResult } from "../machinery/controller.ts";
import { type Informer, NAMESPACE_INDEX } from "../machinery/informer.ts";
import { keyFor, keyOf, splitKey } from "../machinery/keys.ts";
import { newControllerRef } from "../machinery/pods.ts";
import { canonicalJson } from "../machinery/util.ts";
import {
  type DesiredGroup,
  desiredSliceGroups,
  endpointsLabels,
  endpointsSubsets,
  MANAGED_BY,
  MANAGED_BY_LABEL,
  managedSelector,
  planSlices,
  SERVICE_NAME_LABEL,
  type SliceEndpoint,
  selects,
  sliceLabels,
} from "./planner.ts";

/** Enqueues the Services a pod change concerns: those selecting the pod before or after. */
function watchServicesAndPods(ctx: ControllerContext, loop: ControllerLoop): Informer<Service> {
  const services = ctx.informers.get("services");
  const pods = ctx.informers.get("pods");
  services.addHandler({
    add: (s) => loop.enqueue(keyOf(s)),
    update: (_o, s) => loop.enqueue(keyOf(s)),
    delete: (s) => loop.enqueue(keyOf(s)),
  });
  const enqueueFor = (pod: Pod) => {
    for (const svc of services.byIndex(NAMESPACE_INDEX, pod.metadata?.namespace ?? "")) {
      const selector = managedSelector(svc);
      if (selector && selects(selector, pod.metadata?.labels)) loop.enqueue(keyOf(svc));
    }
  };
  pods.addHandler({
    add: enqueueFor,
    update: (old, pod) => {
      enqueueFor(pod);
      if (JSON.stringify(old.metadata?.labels) !== JSON.stringify(pod.metadata?.labels)) enqueueFor(old);
    },
    delete: enqueueFor,
  });
  return services;
}

function selectedPods(ctx: ControllerContext, svc: Service, selector: Record<string, string>): Pod[] {
  return ctx.informers
    .get("pods")
    .byIndex(NAMESPACE_INDEX, svc.metadata?.namespace ?? "")
    .filter((p) => selects(selector, p.metadata?.labels));
}

export class EndpointsController {
  readonly loop: ControllerLoop;
  private readonly ctx: ControllerContext;
  private readonly services: Informer<Service>;
  private readonly endpoints: Informer<Endpoints>;

  constructor(ctx: ControllerContext) {
    this.ctx = ctx;
    const log: Logger = ctx.log.child({ controller: "endpoint-controller" });
    this.loop = new ControllerLoop({
      name: "endpoint-controller",
      log,
      clock: ctx.clock,
      workers: 5,
      sync: (key) => this.sync(key),
    });
    this.services = watchServicesAndPods(ctx, this.loop);
    this.endpoints = ctx.informers.get("endpoints");
    this.endpoints.addHandler({
      // Someone changed or removed Endpoints we manage: put them back.
      update: (_o, ep) => this.loop.enqueue(keyOf(ep)),
      delete: (ep) => this.loop.enqueue(keyOf(ep)),
    });
  }

  run(signal: AbortSignal): Promise<void> {
    return this.loop.run(signal);
  }

  private async sync(key: string): Promise<SyncResult | undefined> {
    const { namespace, name } = splitKey(key);
    const ref = { ...RESOURCES.endpoints, namespace, name };
    const svc = this.services.get(key);
    if (!svc) {
      // The Service is gone: its Endpoints go too (upstream deletes them by name).
      if (this.endpoints.get(key)) {
        await this.ctx.client.delete(ref).catch((error) => {
          if (!isNotFound(error)) throw error;
        });
      }
      return undefined;
    }
    const selector = managedSelector(svc);
    if (!selector) return undefined;
    const subsets = endpointsSubsets(svc, selectedPods(this.ctx, svc, selector));
    const labels = endpointsLabels(svc);
    const current = this.endpoints.get(key);
    if (
      current &&
      canonicalJson(current.subsets ?? []) === canonicalJson(subsets) &&
      canonicalJson(current.metadata?.labels ?? {}) === canonicalJson(labels)
    ) {
      return undefined;
    }
    const body = {
      apiVersion: "v1",
      kind: "Endpoints",
      metadata: { ...(current?.metadata ?? { name, namespace }), labels },
      subsets,
    } as Endpoints;
    if (current) {
      await this.ctx.client.update(ref, body);
    } else {
      try {
        await this.ctx.client.create({ ...RESOURCES.endpoints, namespace }, body);
      } catch (error) {
        if (!isAlreadyExists(error)) throw error;
        // Created by an earlier sync the informer has not shown yet: overwrite it.
        const existing = await this.ctx.client.get<Endpoints>(ref);
        await this.ctx.client.update(ref, { ...body, metadata: { ...existing.metadata, labels } });
      }
    }
    return undefined;
  }
}

/**
 * What this controller last wrote per Service (upstream's endpointSliceTracker): until the informer shows
 * those writes, the cache is stale and a sync would duplicate or undo them, so it waits instead.
 */
class SliceTracker {
  private readonly written = new Map<string, Map<string, { rv: string; at: number }>>();

  record(service: string, slice: string, rv: string, at: number): void {
    let m = this.written.get(service);
    if (!m) {
      m = new Map();
      this.written.set(service, m);
    }
    m.set(slice, { rv, at });
  }

  /** True while some write is not visible in the cache yet (writes older than 30 s are given up on). */
  stale(service: string, cached: (slice: string) => EndpointSlice | undefined, now: number): boolean {
    const m = this.written.get(service);
    if (!m) return false;
    for (const [slice, w] of m) {
      const seen = cached(slice);
      const visible =
        w.rv === "deleted" ? !seen : !!seen && Number(seen.metadata?.resourceVersion ?? 0) >= Number(w.rv);
      if (visible || now - w.at > 30_000) m.delete(slice);
    }
    if (m.size === 0) this.written.delete(service);
    return m.size > 0;
  }
}

export class EndpointSliceController {
  readonly loop: ControllerLoop;
  private readonly tracker = new SliceTracker();
  private readonly ctx: ControllerContext;
  private readonly services: Informer<Service>;
  private readonly slices: Informer<EndpointSlice>;
  private readonly nodes: Informer<Node>;

  constructor(ctx: ControllerContext) {
    this.ctx = ctx;
    const log = ctx.log.child({ controller: "endpointslice-controller" });
    this.loop = new ControllerLoop({
      name: "endpointslice-controller",
      log,
      clock: ctx.clock,
      workers: 5,
      sync: (key) => this.sync(key),
    });
    this.services = watchServicesAndPods(ctx, this.loop);
    this.nodes = ctx.informers.get("nodes");
    this.slices = ctx.informers.get("endpointSlices");
    const enqueueOwner = (slice: EndpointSlice) => {
      const svc = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
      if (svc && slice.metadata?.labels?.[MANAGED_BY_LABEL] === MANAGED_BY)
        this.loop.enqueue(keyFor(slice.metadata?.namespace, svc));
    };
    this.slices.addHandler({ update: (_o, s) => enqueueOwner(s), delete: enqueueOwner });
  }

  run(signal: AbortSignal): Promise<void> {
    return this.loop.run(signal);
  }

  private ownSlices(namespace: string, service: string): EndpointSlice[] {
    return this.slices
      .byIndex(NAMESPACE_INDEX, namespace)
      .filter(
        (s) =>
          s.metadata?.labels?.[SERVICE_NAME_LABEL] === service &&
          s.metadata?.labels?.[MANAGED_BY_LABEL] === MANAGED_BY &&
          s.addressType === "IPv4",
      );
  }

  private async sync(key: string): Promise<SyncResult | undefined> {
    const { namespace, name } = splitKey(key);
    const svc = this.services.get(key);
    // A deleted Service's slices go with it through their owner reference (garbage collector).
    if (!svc) return undefined;
    const selector = managedSelector(svc);
    if (!selector) return undefined;
    const now = this.ctx.clock.now();
    if (this.tracker.stale(key, (slice) => this.slices.get(keyFor(namespace, slice)), now))
      return { requeueAfterMs: 100 };
    const groups = desiredSliceGroups(svc, selectedPods(this.ctx, svc, selector), (n) => this.nodes.get(n));
    const existing = this.ownSlices(namespace, name).filter((s) => !s.metadata?.deletionTimestamp);
    const plan = planSlices(
      groups,
      existing.map((s) => ({
        name: s.metadata?.name ?? "",
        portsKey: JSON.stringify(
          (s.ports ?? []).map((p) => ({
            name: p.name ?? "",
            port: p.port,
            protocol: p.protocol ?? "TCP",
            ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}),
          })),
        ),
        endpoints: (s.endpoints ?? []) as SliceEndpoint[],
      })),
    );
    const labels = sliceLabels(svc);
    const owner = newControllerRef(svc, "v1", "Service");
    const ref = { ...RESOURCES.endpointSlices, namespace };
    const body = (
      group: DesiredGroup,
      endpoints: SliceEndpoint[],
      meta: EndpointSlice["metadata"],
    ): EndpointSlice =>
      ({
        apiVersion: "discovery.k8s.io/v1",
        kind: "EndpointSlice",
        metadata: { ...meta, labels, ownerReferences: [owner] },
        addressType: "IPv4",
        endpoints,
        ports: group.ports,
      }) as EndpointSlice;
    for (const u of plan.update) {
      const current = existing.find((s) => s.metadata?.name === u.name);
      const written = await this.ctx.client.update<EndpointSlice>(
        { ...ref, name: u.name },
        body(u.group, u.endpoints, current?.metadata),
      );
      this.tracker.record(key, u.name, written.metadata?.resourceVersion ?? "0", now);
    }
    for (const c of plan.create) {
      const written = await this.ctx.client.create<EndpointSlice>(
        ref,
        body(c.group, c.endpoints, { generateName: `${name}-`, namespace }),
      );
      this.tracker.record(key, written.metadata?.name ?? "", written.metadata?.resourceVersion ?? "0", now);
    }
    // Labels changed (the service's own) on slices that are otherwise right.
    for (const s of existing) {
      if (
        plan.update.some((u) => u.name === s.metadata?.name) ||
        plan.delete.includes(s.metadata?.name ?? "")
      )
        continue;
      if (canonicalJson(s.metadata?.labels ?? {}) !== canonicalJson(labels)) {
        await this.ctx.client.update(
          { ...ref, name: s.metadata?.name },
          { ...s, metadata: { ...s.metadata, labels } },
        );
      }
    }
    for (const n of plan.delete) {
      await this.ctx.client.delete({ ...ref, name: n }).catch((error) => {
        if (!isNotFound(error)) throw error;
      });
      this.tracker.record(key, n, "deleted", now);
    }
    return undefined;
  }
}
