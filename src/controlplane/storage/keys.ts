// Key helpers shared by both backends. Keys are compared as their UTF-8 bytes (etcd's order, and SQLite's
// BINARY collation on TEXT), which is the order of Unicode code points; JavaScript's `<` compares UTF-16
// code units and differs for characters beyond U+FFFF, so ordering in JS goes through `compareKeys`.

/**
 * The smallest key greater than every key starting with `prefix` (etcd's range_end for a prefix), or
 * undefined when there is none (empty prefix): the range is then unbounded above.
 */
export function prefixEnd(prefix: string): string | undefined {
  const codePoints = Array.from(prefix, (c) => c.codePointAt(0) ?? 0);
  while (codePoints.length > 0) {
    const last = codePoints.pop() ?? 0;
    if (last < 0x10ffff) {
      // Skip the surrogate block: those code points cannot appear in well-formed UTF-8.
      const next = last + 1 === 0xd800 ? 0xe000 : last + 1;
      codePoints.push(next);
      return String.fromCodePoint(...codePoints);
    }
  }
  return undefined;
}

/** Orders keys by code point (= UTF-8 byte order). */
export function compareKeys(a: string, b: string): number {
  if (a === b) return 0;
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

/** Rejects keys the backends cannot store; both reject the same ones so that behaviour never differs. */
export function checkKey(key: string, operation: string): void {
  if (typeof key !== "string" || key.length === 0) {
    throw new TypeError(`storage ${operation}: the key must be a non-empty string`);
  }
}

/** Rejects a revision argument that is not a non-negative integer. */
export function checkRevision(revision: number, what: string): void {
  if (!Number.isSafeInteger(revision) || revision < 0) {
    throw new TypeError(`storage ${what} must be a non-negative integer, got ${String(revision)}`);
  }
}
