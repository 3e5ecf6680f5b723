// Helpers for Table rows in kubectl's style (upstream pkg/printers/internalversion): human durations,
// "<none>" placeholders, the NAME and AGE columns.

import type { TableColumn } from "../resource.ts";

/** Upstream's duration.HumanDuration. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = Math.floor(hours / 24) % 365;
    return dy === 0 ? `${Math.floor(hours / 24 / 365)}y` : `${Math.floor(hours / 24 / 365)}y${dy}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

/** Upstream's translateTimestampSince: "<unknown>" for an unset time. */
export function since(timestamp: string | undefined, now: Date = new Date()): string {
  if (!timestamp) return "<unknown>";
  const t = Date.parse(timestamp);
  if (Number.isNaN(t)) return "<unknown>";
  return humanDuration(now.getTime() - t);
}

export function orNone(value: string | undefined | null): string {
  return value ? value : "<none>";
}

export const NAME_COLUMN: TableColumn = {
  name: "Name",
  type: "string",
  format: "name",
  description: "The object's name, unique within its namespace (or cluster-wide for cluster-scoped kinds).",
  priority: 0,
};

export const AGE_COLUMN: TableColumn = {
  name: "Age",
  type: "string",
  description: "Time since the server created this object (from metadata.creationTimestamp).",
  priority: 0,
};

export function column(
  name: string,
  description: string,
  priority: 0 | 1 = 0,
  type: TableColumn["type"] = "string",
): TableColumn {
  return { name, type, description, priority };
}

/** kubectl's selector rendering for map selectors: "a=b,c=d" sorted by key, "<none>" when empty. */
export function formatMapSelector(selector: Record<string, string> | undefined): string {
  const entries = Object.entries(selector ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return entries.length === 0 ? "<none>" : entries.map(([k, v]) => `${k}=${v}`).join(",");
}

/** Container names and images joined with commas, as the workload printers show them. */
export function containersAndImages(
  containers: { name: string; image?: string }[] | undefined,
): [string, string] {
  const list = containers ?? [];
  return [list.map((c) => c.name).join(","), list.map((c) => c.image ?? "").join(",")];
}
