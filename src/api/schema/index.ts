// One definition per served resource, each derived from its kind's schema (STYLE.md habit 11). The API
// server serves exactly these; discovery, OpenAPI, defaults, validation and tables all come from here.

import { daemonSets } from "./apps/daemonset.ts";
import { deployments } from "./apps/deployment.ts";
import { replicaSets } from "./apps/replicaset.ts";
import { jobs } from "./batch/job.ts";
import { certificateSigningRequests } from "./certificates/csr.ts";
import { leases } from "./coordination/lease.ts";
import { configMaps, secrets } from "./core/config.ts";
import { endpoints } from "./core/endpoints.ts";
import { events } from "./core/event.ts";
import { namespaces } from "./core/namespace.ts";
import { nodes } from "./core/node.ts";
import { bindings, pods } from "./core/pod.ts";
import { replicationControllers } from "./core/replicationcontroller.ts";
import { services } from "./core/service.ts";
import { serviceAccounts } from "./core/serviceaccount.ts";
import { endpointSlices } from "./discovery/endpointslice.ts";
import { eventsV1 } from "./events/event.ts";
import type { KindDefinition } from "./kind.ts";
import { accessControlDefinitions } from "./rbac/index.ts";

export const resourceDefinitions: KindDefinition[] = [
  bindings,
  configMaps,
  endpoints,
  events,
  namespaces,
  nodes,
  pods,
  replicationControllers,
  secrets,
  serviceAccounts,
  services,
  daemonSets,
  deployments,
  replicaSets,
  jobs,
  endpointSlices,
  leases,
  eventsV1,
  ...accessControlDefinitions,
  certificateSigningRequests,
] as unknown as KindDefinition[];

/** The definition for a group/version/plural, or undefined. */
export function findResource(group: string, version: string, plural: string): KindDefinition | undefined {
  return resourceDefinitions.find((d) => d.group === group && d.version === version && d.plural === plural);
}

/** The definition for a group/version/kind, or undefined. */
export function findKind(group: string, version: string, kind: string): KindDefinition | undefined {
  return resourceDefinitions.find((d) => d.group === group && d.version === version && d.kind === kind);
}

export { applyScale, toScale } from "./autoscaling/scale.ts";
export { toCoreEvent, toEventsV1 } from "./events/event.ts";
export type { KindDefinition } from "./kind.ts";
export { formatLabelSelector, selectorMatches } from "./meta-validation.ts";
export { canonicalQuantity, parseQuantity, quantityValue } from "./quantity.ts";
export {
  type FieldValidation,
  invalidStatus,
  invalidStatusMessage,
  type PrepareOptions,
  type PrepareResult,
  prepareForCreate,
  prepareForUpdate,
} from "./validate.ts";
