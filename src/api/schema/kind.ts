// How one served resource is described here: the shared `ResourceDefinition` contract plus the strategy
// hooks upstream keeps in each resource's registry strategy (status reset on create, status kept on update,
// generation tracking, which name syntax applies).

import type {
  FieldError,
  KubeObject,
  ResourceDefinition,
  SubresourceName,
  TableColumn,
} from "../resource.ts";
import type { TSchema } from "./dsl.ts";
import type { NameValidator } from "./names.ts";

export const STANDARD_VERBS = [
  "create",
  "delete",
  "deletecollection",
  "get",
  "list",
  "patch",
  "update",
  "watch",
];

export interface KindTable<T> {
  columns: TableColumn[];
  /** One row, cells in column order; `now` (default: the current time) is what AGE columns count from. */
  row(obj: T, now?: Date): unknown[];
}

export interface KindDefinition<T extends KubeObject = KubeObject> extends ResourceDefinition<T> {
  table: KindTable<T>;
  /** Upstream's name validator for this kind (DNS subdomain, DNS label, DNS-1035 label, path segment). */
  nameValidator: NameValidator;
  /** metadata.generation is set to 1 on create and bumped when anything outside metadata/status changes. */
  tracksGeneration: boolean;
  /** Kind-specific changes on create (upstream's PrepareForCreate), e.g. clearing status. */
  prepareForCreate?(obj: T): void;
  /** Kind-specific changes on update through the main resource (status is already carried over). */
  prepareForUpdate?(obj: T, old: T): void;
  /** Validation of an update through the status subresource (defaults to no extra checks). */
  validateStatusUpdate?(obj: T, old: T): FieldError[];
}

export interface KindOptions<T extends KubeObject> {
  group: string;
  version: string;
  kind: string;
  plural: string;
  singular?: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  verbs?: string[];
  subresources?: SubresourceName[];
  schema: TSchema;
  nameValidator: NameValidator;
  tracksGeneration?: boolean;
  applyDefaults?(obj: T): void;
  validate?(obj: T, old?: T): FieldError[];
  validateStatusUpdate?(obj: T, old: T): FieldError[];
  prepareForCreate?(obj: T): void;
  prepareForUpdate?(obj: T, old: T): void;
  table: KindTable<T>;
  fieldSelectors?: Record<string, (obj: T) => string | undefined>;
  scale?: ResourceDefinition<T>["scale"];
  storedAs?: ResourceDefinition<T>["storedAs"];
}

export function defineKind<T extends KubeObject>(o: KindOptions<T>): KindDefinition<T> {
  const def: KindDefinition<T> = {
    group: o.group,
    version: o.version,
    kind: o.kind,
    plural: o.plural,
    singular: o.singular ?? o.kind.toLowerCase(),
    namespaced: o.namespaced,
    shortNames: o.shortNames ?? [],
    categories: o.categories ?? [],
    verbs: o.verbs ?? STANDARD_VERBS,
    subresources: o.subresources ?? [],
    schema: o.schema as Record<string, unknown>,
    nameValidator: o.nameValidator,
    tracksGeneration: o.tracksGeneration ?? false,
    applyDefaults: o.applyDefaults ?? (() => {}),
    validate: o.validate ?? (() => []),
    table: o.table,
    fieldSelectors: o.fieldSelectors ?? {},
  };
  if (o.validateStatusUpdate) def.validateStatusUpdate = o.validateStatusUpdate;
  if (o.prepareForCreate) def.prepareForCreate = o.prepareForCreate;
  if (o.prepareForUpdate) def.prepareForUpdate = o.prepareForUpdate;
  if (o.scale) def.scale = o.scale;
  if (o.storedAs) def.storedAs = o.storedAs;
  return def;
}

/** Narrows a shared ResourceDefinition to the extended one when it came from this module. */
export function asKindDefinition(def: ResourceDefinition): KindDefinition | undefined {
  return "nameValidator" in def ? (def as KindDefinition) : undefined;
}
