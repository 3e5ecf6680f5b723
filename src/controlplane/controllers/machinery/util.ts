// Small pure helpers: int-or-percent scaling, template hashing, slow-start batches.
import { createHash } from "node:crypto";

/**
 * upstream intstr.GetScaledValueFromIntOrPercent: an int as is, "25%" of `total` rounded up or down.
 * Throws naming the value when it is neither.
 */
export function scaledValue(
  value: number | string | undefined,
  total: number,
  roundUp: boolean,
  fallback: number | string,
): number {
  const v = value ?? fallback;
  if (typeof v === "number") return v;
  const match = /^(\d+)%$/.exec(v);
  if (!match) {
    if (/^\d+$/.test(v)) return Number(v);
    throw new Error(
      `invalid value for IntOrString: invalid type: string is not a percentage: ${JSON.stringify(v)}`,
    );
  }
  const scaled = (Number(match[1]) * total) / 100;
  return roundUp ? Math.ceil(scaled) : Math.floor(scaled);
}

/** Canonical JSON: object keys sorted, so equal objects give equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

const SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

/**
 * A short label-safe hash of an object (plus an optional collision count), in the alphabet upstream's
 * rand.SafeEncodeString uses, so names look like upstream's ("myweb-5d4f8b7c9").
 */
export function shortHash(value: unknown, collisionCount?: number): string {
  const h = createHash("sha256").update(canonicalJson(value));
  if (collisionCount !== undefined && collisionCount > 0) h.update(`#${collisionCount}`);
  const n = h.digest().readUInt32BE(0);
  // rand.SafeEncodeString over the decimal digits, as upstream encodes its 32-bit template hash.
  return [...String(n)].map((d) => SAFE_ALPHABET[d.charCodeAt(0) % SAFE_ALPHABET.length]).join("");
}

/**
 * upstream slowStartBatch: runs `count` calls in batches of 1, 2, 4, … (each batch in parallel) and stops
 * at the first batch with a failure, so a quota or admission error costs one call, not hundreds.
 * Returns how many succeeded and the first error.
 */
export async function slowStartBatch(
  count: number,
  initialBatchSize: number,
  fn: (index: number) => Promise<void>,
): Promise<{ successes: number; error?: unknown }> {
  let remaining = count;
  let successes = 0;
  let started = 0;
  for (let batch = Math.min(remaining, initialBatchSize); batch > 0; batch = Math.min(2 * batch, remaining)) {
    const results = await Promise.allSettled(Array.from({ length: batch }, () => fn(started++)));
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    successes += batch - failed.length;
    if (failed.length > 0) return { successes, error: failed[0]?.reason };
    remaining -= batch;
  }
  return { successes };
}
