// One definition per served resource, each derived from its kind's schema (STYLE.md habit 11). The API
// server serves exactly these; discovery, OpenAPI, defaults, validation and tables all come from here.

import type { ResourceDefinition } from "../resource.ts";
import { configMaps, secrets } from "./core/config.ts";
import { namespaces } from "./core/namespace.ts";
import { nodes } from "./core/node.ts";
import { bindings, pods } from "./core/pod.ts";
import { services } from "./core/service.ts";
import type { KindDefinition } from "./kind.ts";

export const resourceDefinitions: KindDefinition[] = [
  namespaces,
  nodes,
  pods,
  bindings,
  services,
  configMaps,
  secrets,
] as unknown as KindDefinition[];

/** The definition for a group/version/plural, or undefined. */
export function findResource(group: string, version: string, plural: string): ResourceDefinition | undefined {
  return resourceDefinitions.find((d) => d.group === group && d.version === version && d.plural === plural);
}

export type { KindDefinition } from "./kind.ts";
export {
  type FieldValidation,
  invalidStatus,
  invalidStatusMessage,
  type PrepareOptions,
  type PrepareResult,
  prepareForCreate,
  prepareForUpdate,
} from "./validate.ts";
