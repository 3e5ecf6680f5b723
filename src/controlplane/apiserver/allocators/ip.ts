// IPv4 CIDR parsing and an allocator of addresses from a service CIDR. State lives in memory and is
// rebuilt from the stored Services at startup; allocation is synchronous, so concurrent requests in this
// process can never get the same address.

import { randomInt } from "node:crypto";

export interface Ipv4Cidr {
  /** Network address as an unsigned 32-bit number. */
  base: number;
  prefix: number;
  /** Number of addresses in the block. */
  size: number;
  text: string;
}

export function parseIpv4(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    value = value * 256 + n;
  }
  return value;
}

export function formatIpv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join(".");
}

/** Parses "10.96.0.0/12"; host bits are masked off like Go's net.ParseCIDR. Throws a message on error. */
export function parseIpv4Cidr(text: string): Ipv4Cidr {
  const match = /^([0-9.]+)\/(\d{1,2})$/.exec(text.trim());
  const ip = match ? parseIpv4(match[1] as string) : undefined;
  const prefix = match ? Number(match[2]) : Number.NaN;
  if (!match || ip === undefined || prefix > 32) {
    throw new Error(`"${text}" is not an IPv4 CIDR such as 10.96.0.0/12`);
  }
  const size = 2 ** (32 - prefix);
  const base = Math.floor(ip / size) * size;
  return { base, prefix, size, text: `${formatIpv4(base)}/${prefix}` };
}

export type AllocateResult = "ok" | "allocated" | "out-of-range";

export class IpAllocator {
  readonly cidr: Ipv4Cidr;
  private readonly used = new Set<number>();
  /** Usable addresses: the block minus its network and broadcast addresses. */
  private readonly first: number;
  private readonly last: number;

  constructor(cidr: string) {
    this.cidr = parseIpv4Cidr(cidr);
    if (this.cidr.size < 4)
      throw new Error(`service CIDR ${this.cidr.text} is too small: it needs at least 2 usable addresses`);
    this.first = this.cidr.base + 1;
    this.last = this.cidr.base + this.cidr.size - 2;
  }

  /** The first usable address (10.96.0.1 for 10.96.0.0/12): the `kubernetes` Service's. */
  firstAddress(): string {
    return formatIpv4(this.first);
  }

  contains(ip: string): boolean {
    const value = parseIpv4(ip);
    return value !== undefined && value >= this.first && value <= this.last;
  }

  isAllocated(ip: string): boolean {
    const value = parseIpv4(ip);
    return value !== undefined && this.used.has(value);
  }

  allocate(ip: string): AllocateResult {
    const value = parseIpv4(ip);
    if (value === undefined || value < this.first || value > this.last) return "out-of-range";
    if (this.used.has(value)) return "allocated";
    this.used.add(value);
    return "ok";
  }

  /**
   * A free address chosen at random (as upstream), never the first one, which only the kubernetes Service
   * gets (by asking for it); undefined when the range is full.
   */
  allocateNext(): string | undefined {
    const count = this.last - this.first + 1;
    if (this.used.size >= count) return undefined;
    const start = randomInt(Math.min(count, 2 ** 47));
    for (let i = 0; i < count; i++) {
      const value = this.first + ((start + i) % count);
      if (value === this.first) continue;
      if (!this.used.has(value)) {
        this.used.add(value);
        return formatIpv4(value);
      }
    }
    return undefined;
  }

  release(ip: string): void {
    const value = parseIpv4(ip);
    if (value !== undefined) this.used.delete(value);
  }

  get allocatedCount(): number {
    return this.used.size;
  }
}
