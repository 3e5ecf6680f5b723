// IPv4 helpers for rule rendering and the packet tracer: parsing, CIDR normalization, containment.
// Deckhand's proxy is single-stack IPv4 (like one upstream proxier instance for the IPv4 family).

/** Dotted-quad IPv4 without leading zeros ("10.0.0.1"). */
export function isIPv4(value: string): boolean {
  let parts = 0;
  let digits = 0;
  let octet = 0;
  for (let i = 0; i <= value.length; i++) {
    const c = i < value.length ? value.charCodeAt(i) : 46; // a final "."
    if (c === 46) {
      if (digits === 0 || octet > 255) return false;
      parts++;
      digits = 0;
      octet = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && octet === 0) return false; // leading zero
      octet = octet * 10 + (c - 48);
      if (++digits > 3) return false;
    } else return false;
  }
  return parts === 4;
}

export function ipv4ToInt(ip: string): number {
  const parts = ip.split(".").map(Number);
  return (((parts[0] ?? 0) << 24) | ((parts[1] ?? 0) << 16) | ((parts[2] ?? 0) << 8) | (parts[3] ?? 0)) >>> 0;
}

export function intToIPv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join(".");
}

export interface Cidr {
  base: number;
  bits: number;
}

function maskOf(bits: number): number {
  return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
}

/** Parses "a.b.c.d/n" or a bare address (as /32); undefined when it is not IPv4. */
export function parseCidr(text: string): Cidr | undefined {
  const [address, prefix] = text.trim().split("/");
  if (address === undefined || !isIPv4(address)) return undefined;
  const bits = prefix === undefined ? 32 : Number(prefix);
  if (!Number.isInteger(bits) || bits < 0 || bits > 32 || (prefix !== undefined && !/^\d+$/.test(prefix)))
    return undefined;
  return { base: (ipv4ToInt(address) & maskOf(bits)) >>> 0, bits };
}

/** The CIDR as iptables prints it: host bits cleared, always with a prefix length ("10.0.0.0/8", "1.2.3.4/32"). */
export function canonicalCidr(text: string): string {
  const cidr = parseCidr(text);
  if (!cidr) throw new Error(`not an IPv4 address or CIDR: ${text}`);
  return `${intToIPv4(cidr.base)}/${cidr.bits}`;
}

export function cidrContains(cidr: string | Cidr, ip: string): boolean {
  const parsed = typeof cidr === "string" ? parseCidr(cidr) : cidr;
  if (!parsed || !isIPv4(ip)) return false;
  return (ipv4ToInt(ip) & maskOf(parsed.bits)) >>> 0 === parsed.base;
}

export function isLoopback(ip: string): boolean {
  return cidrContains("127.0.0.0/8", ip);
}
