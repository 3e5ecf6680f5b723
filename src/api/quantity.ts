// Kubernetes resource quantities ("500m", "128Mi", "1.5G", "2e3") as numbers, for the agent's and the
// scheduler's arithmetic: CPU in millicores, everything else in whole units (bytes, counts). Parsing is the
// schema's exact, upstream-faithful parser (./schema/quantity.ts).
import { quantityValue } from "./schema/quantity.ts";

/** The quantity's value as a number (e.g. "500m" → 0.5, "1Ki" → 1024); undefined if malformed. */
export function parseQuantity(text: string | number): number | undefined {
  if (typeof text === "number") return Number.isFinite(text) ? text : undefined;
  return quantityValue(text.trim());
}

/** CPU quantity in millicores, rounded up like upstream ("0.1" → 100, "1m" → 1). */
export function cpuMillis(text: string | number): number | undefined {
  const value = parseQuantity(text);
  return value === undefined ? undefined : Math.ceil(Math.round(value * 1e9) / 1e6);
}

/** A byte/count quantity in whole units, rounded up. */
export function wholeUnits(text: string | number): number | undefined {
  const value = parseQuantity(text);
  return value === undefined ? undefined : Math.ceil(value);
}

/** Formats bytes the way the kubelet reports capacity: Ki units ("16374236Ki"). */
export function formatKi(bytes: number): string {
  return `${Math.floor(bytes / 1024)}Ki`;
}

/** Formats millicores as upstream serializes CPU: whole cores when exact, else "<n>m". */
export function formatCpu(millis: number): string {
  return millis % 1000 === 0 ? String(millis / 1000) : `${millis}m`;
}
