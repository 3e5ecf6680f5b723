import type { FieldError, KubeObject } from "../../src/api/resource.ts";
import { findResource, prepareForCreate, prepareForUpdate } from "../../src/api/schema/index.ts";
import type { KindDefinition } from "../../src/api/schema/kind.ts";

/** Test objects are read loosely: each test knows the shape it asserts on. */
// biome-ignore lint/suspicious/noExplicitAny: deliberate, see above
export type Loose = any;

export function def(group: string, plural: string, version = "v1"): KindDefinition {
  const d = findResource(group, version, plural);
  if (!d) throw new Error(`no definition for ${group}/${version} ${plural}`);
  return d;
}

/** Creates through the full pipeline and fails the test on any error. */
export function created(group: string, plural: string, raw: unknown): Loose {
  const r = prepareForCreate(def(group, plural), raw, { fieldValidation: "Strict" });
  if (r.badRequest) throw new Error(r.badRequest);
  if (r.errors.length > 0) throw new Error(JSON.stringify(r.errors, null, 2));
  return r.obj;
}

export function createErrors(group: string, plural: string, raw: unknown): FieldError[] {
  const r = prepareForCreate(def(group, plural), raw, { fieldValidation: "Strict" });
  if (r.badRequest) throw new Error(r.badRequest);
  return r.errors;
}

export function updateErrors(
  group: string,
  plural: string,
  raw: unknown,
  old: KubeObject,
  subresource?: string,
): FieldError[] {
  const r = prepareForUpdate(def(group, plural), raw, old, {
    fieldValidation: "Strict",
    ...(subresource ? { subresource } : {}),
  });
  if (r.badRequest) throw new Error(r.badRequest);
  return r.errors;
}

export const meta = (name: string, namespace = "default") => ({ name, namespace });

export const podSpec = (extra: Record<string, unknown> = {}) => ({
  containers: [{ name: "main", image: "busybox:1.35", ...extra }],
});

export const template = (labels: Record<string, string>, spec: Record<string, unknown> = {}) => ({
  metadata: { labels },
  spec: { ...podSpec(), ...spec },
});
