// Kubernetes resource quantities ("500m", "128Mi", "1.5G", "2e3"), as exact as the agent and the scheduler
// need: CPU in millicores, everything else in whole units (bytes, counts).

const BINARY: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};
const DECIMAL: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};
const QUANTITY = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)|[eE]([+-]?\d+))?$/;

/** The quantity's value as a number (e.g. "500m" → 0.5, "1Ki" → 1024); undefined if malformed. */
export function parseQuantity(text: string | number): number | undefined {
  if (typeof text === "number") return Number.isFinite(text) ? text : undefined;
  const match = QUANTITY.exec(text.trim());
  if (!match) return undefined;
  const base = Number(match[1]);
  if (match[3] !== undefined) return base * 10 ** Number(match[3]);
  const suffix = match[2] ?? "";
  return base * (BINARY[suffix] ?? DECIMAL[suffix] ?? Number.NaN);
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
