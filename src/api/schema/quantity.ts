// resource.Quantity parsing and canonical form, as upstream serializes quantities: "1000m" → "1",
// "0.5" → "500m", "1024Mi" → "1Gi", "1.5Gi" → "1536Mi", 2 → "2". Precision finer than 1n rounds up.

type Format = "BinarySI" | "DecimalSI" | "DecimalExponent";

const BINARY: Record<string, number> = { Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 };
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, "": 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const DECIMAL_SUFFIX = new Map(Object.entries(DECIMAL).map(([s, e]) => [e, s]));
const BINARY_SUFFIX = new Map(Object.entries(BINARY).map(([s, e]) => [e, s]));

export interface ParsedQuantity {
  negative: boolean;
  /** value = digits × 10^scale */
  digits: bigint;
  scale: number;
  format: Format;
}

/** Parses a quantity; anything that is not one (a null or an object from a malformed manifest) is undefined. */
export function parseQuantity(text: string): ParsedQuantity | undefined {
  if (typeof text === "number") return Number.isFinite(text) ? parseQuantity(String(text)) : undefined;
  if (typeof text !== "string") return undefined;
  const m = /^([+-]?)([0-9]*)(?:\.([0-9]*))?(.*)$/.exec(text.trim() === text ? text : "");
  if (!m) return undefined;
  const [, sign = "", whole = "", fraction = "", suffix = ""] = m;
  if (whole.length + fraction.length === 0) return undefined;
  let digits = BigInt(`${whole}${fraction}` || "0");
  let scale = -fraction.length;
  let format: Format;
  if (suffix in BINARY) {
    digits *= 1024n ** BigInt(BINARY[suffix] as number);
    format = "BinarySI";
  } else if (suffix in DECIMAL) {
    scale += DECIMAL[suffix] as number;
    format = "DecimalSI";
  } else if (/^[eE][+-]?[0-9]+$/.test(suffix)) {
    scale += Number.parseInt(suffix.slice(1), 10);
    format = "DecimalExponent";
  } else {
    return undefined;
  }
  if (scale < -9) {
    const div = 10n ** BigInt(-9 - scale);
    digits = (digits + div - 1n) / div; // round up to nano precision
    scale = -9;
  }
  return { negative: sign === "-" && digits !== 0n, digits, scale, format };
}

/** The canonical string upstream stores for `text`, or undefined if it is not a quantity. */
export function canonicalQuantity(text: string): string | undefined {
  const q = parseQuantity(text);
  if (!q) return undefined;
  const sign = q.negative ? "-" : "";
  let { digits, scale } = q;
  if (digits === 0n) return "0";
  let format = q.format;
  if (format === "BinarySI") {
    const integral = scale >= 0 || digits % 10n ** BigInt(-scale) === 0n;
    const whole = scale >= 0 ? digits * 10n ** BigInt(scale) : digits / 10n ** BigInt(-scale);
    if (!integral || whole < 1024n) {
      format = "DecimalSI";
    } else {
      let exp = 0;
      let mantissa = whole;
      while (exp < 6 && mantissa % 1024n === 0n) {
        mantissa /= 1024n;
        exp++;
      }
      return `${sign}${mantissa}${BINARY_SUFFIX.get(exp) ?? ""}`;
    }
  }
  while (digits % 10n === 0n) {
    digits /= 10n;
    scale++;
  }
  const exponent = Math.floor(scale / 3) * 3;
  const mantissa = digits * 10n ** BigInt(scale - exponent);
  if (format === "DecimalSI") {
    const suffix = DECIMAL_SUFFIX.get(exponent);
    if (suffix !== undefined) return `${sign}${mantissa}${suffix}`;
  }
  return `${sign}${mantissa}${exponent === 0 ? "" : `e${exponent}`}`;
}

/** The quantity's value as a number (approximate for huge values), e.g. for comparisons. */
export function quantityValue(text: string): number | undefined {
  const q = parseQuantity(text);
  if (!q) return undefined;
  const v = Number(q.digits) * 10 ** q.scale;
  return q.negative ? -v : v;
}
