// Query parameters of resource requests, parsed and checked once. Unknown parameters are ignored, as
// upstream does.

import { badRequest, invalid } from "../errors.ts";
import type { DeleteOptions, PropagationPolicy } from "../strategies/types.ts";

export type FieldValidation = "Strict" | "Warn" | "Ignore";

export function parseDryRun(query: URLSearchParams): boolean {
  const values = query.getAll("dryRun").flatMap((v) => v.split(","));
  for (const v of values) {
    if (v !== "All" && v !== "") {
      throw invalid("meta.k8s.io", "DryRun", "", [
        {
          reason: "FieldValueNotSupported",
          field: "dryRun",
          message: `Unsupported value: "${v}": supported values: "All"`,
        },
      ]);
    }
  }
  return values.includes("All");
}

export function parseFieldValidation(query: URLSearchParams): FieldValidation {
  const value = query.get("fieldValidation");
  if (value === null || value === "") return "Warn";
  const normalized = value.charAt(0).toUpperCase() + value.slice(1).toLowerCase();
  if (normalized === "Strict" || normalized === "Warn" || normalized === "Ignore") return normalized;
  throw badRequest(
    `fieldValidation: Unsupported value: "${value}": supported values: "Ignore", "Strict", "Warn"`,
  );
}

export function parseFieldManager(query: URLSearchParams): string | undefined {
  const value = query.get("fieldManager");
  if (value === null || value === "") return undefined;
  if (value.length > 128) {
    throw badRequest(`fieldManager: Too long: may not be more than 128 bytes`);
  }
  return value;
}

export function parseInteger(query: URLSearchParams, name: string): number | undefined {
  const value = query.get(name);
  if (value === null || value === "") return undefined;
  if (!/^-?\d+$/.test(value)) throw badRequest(`${name}: Invalid value: "${value}": must be an integer`);
  return Number(value);
}

export function parseBoolean(query: URLSearchParams, name: string): boolean | undefined {
  const value = query.get(name);
  if (value === null || value === "") return undefined;
  if (value === "true" || value === "1") return true;
  if (value === "false" || value === "0") return false;
  throw badRequest(`${name}: Invalid value: "${value}": must be true or false`);
}

const POLICIES = new Set(["Background", "Foreground", "Orphan"]);

/** DeleteOptions from the body (if any) overlaid with query parameters, then validated like upstream. */
export function parseDeleteOptions(
  body: Record<string, unknown> | undefined,
  query: URLSearchParams,
): DeleteOptions {
  const options: DeleteOptions = {};
  const b = body ?? {};
  if (typeof b.gracePeriodSeconds === "number") options.gracePeriodSeconds = b.gracePeriodSeconds;
  if (typeof b.propagationPolicy === "string")
    options.propagationPolicy = b.propagationPolicy as PropagationPolicy;
  if (typeof b.orphanDependents === "boolean") options.orphanDependents = b.orphanDependents;
  if (b.preconditions && typeof b.preconditions === "object") {
    const p = b.preconditions as { uid?: unknown; resourceVersion?: unknown };
    options.preconditions = {};
    if (typeof p.uid === "string") options.preconditions.uid = p.uid;
    if (typeof p.resourceVersion === "string") options.preconditions.resourceVersion = p.resourceVersion;
  }
  if (Array.isArray(b.dryRun)) options.dryRun = b.dryRun.map(String);
  const grace = parseInteger(query, "gracePeriodSeconds");
  if (grace !== undefined) options.gracePeriodSeconds = grace;
  const policy = query.get("propagationPolicy");
  if (policy) options.propagationPolicy = policy as PropagationPolicy;
  const orphan = parseBoolean(query, "orphanDependents");
  if (orphan !== undefined) options.orphanDependents = orphan;
  const dryRun = query.getAll("dryRun");
  if (dryRun.length > 0) options.dryRun = dryRun;

  const errors = [];
  if (options.propagationPolicy !== undefined && !POLICIES.has(options.propagationPolicy)) {
    errors.push({
      reason: "FieldValueNotSupported",
      field: "propagationPolicy",
      message: `Unsupported value: "${options.propagationPolicy}": supported values: "Foreground", "Background", "Orphan"`,
    });
  }
  if (options.propagationPolicy !== undefined && options.orphanDependents !== undefined) {
    errors.push({
      reason: "FieldValueInvalid",
      field: "propagationPolicy",
      message: `Invalid value: "${options.propagationPolicy}": orphanDependents and deletionPropagation cannot be both set`,
    });
  }
  for (const v of options.dryRun ?? []) {
    if (v !== "All") {
      errors.push({
        reason: "FieldValueNotSupported",
        field: "dryRun",
        message: `Unsupported value: "${v}": supported values: "All"`,
      });
    }
  }
  if (errors.length > 0) throw invalid("meta.k8s.io", "DeleteOptions", "", errors);
  return options;
}
