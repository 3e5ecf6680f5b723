// NodePort allocation from a port range ("30000-32767"). Same model as the IP allocator: in-memory,
// synchronous, rebuilt from the stored Services at startup.

import { randomInt } from "node:crypto";
import type { AllocateResult } from "./ip.ts";

export interface PortRange {
  min: number;
  max: number;
  text: string;
}

/** Parses "30000-32767" (or a single port). Throws a message on error. */
export function parsePortRange(text: string): PortRange {
  const match = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(text.trim());
  const min = match ? Number(match[1]) : Number.NaN;
  const max = match ? Number(match[2] ?? match[1]) : Number.NaN;
  if (!match || min < 1 || max > 65535 || min > max) {
    throw new Error(`"${text}" is not a port range such as 30000-32767 (1-65535, low-high)`);
  }
  return { min, max, text: `${min}-${max}` };
}

export class PortAllocator {
  readonly range: PortRange;
  private readonly used = new Set<number>();

  constructor(range: string) {
    this.range = parsePortRange(range);
  }

  contains(port: number): boolean {
    return Number.isInteger(port) && port >= this.range.min && port <= this.range.max;
  }

  isAllocated(port: number): boolean {
    return this.used.has(port);
  }

  allocate(port: number): AllocateResult {
    if (!this.contains(port)) return "out-of-range";
    if (this.used.has(port)) return "allocated";
    this.used.add(port);
    return "ok";
  }

  allocateNext(): number | undefined {
    const count = this.range.max - this.range.min + 1;
    if (this.used.size >= count) return undefined;
    const start = randomInt(count);
    for (let i = 0; i < count; i++) {
      const port = this.range.min + ((start + i) % count);
      if (!this.used.has(port)) {
        this.used.add(port);
        return port;
      }
    }
    return undefined;
  }

  release(port: number): void {
    this.used.delete(port);
  }
}
