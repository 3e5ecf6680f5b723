// Pod CIDRs for nodes (upstream's range allocator cidrset): the cluster CIDR cut into blocks of
// /maskSize, handed out lowest first, each at most once.
import { formatIpv4, parseIpv4Cidr } from "../../apiserver/allocators/ip.ts";

export class CidrSet {
  readonly cluster: string;
  readonly maskSize: number;
  private readonly base: number;
  private readonly blockSize: number;
  private readonly count: number;
  private readonly used = new Set<number>();

  constructor(clusterCidr: string, maskSize: number) {
    const cidr = parseIpv4Cidr(clusterCidr);
    if (!Number.isInteger(maskSize) || maskSize < cidr.prefix || maskSize > 30) {
      throw new Error(
        `node CIDR mask size /${maskSize} does not fit cluster CIDR ${cidr.text}: it must be between /${cidr.prefix} and /30`,
      );
    }
    this.cluster = cidr.text;
    this.maskSize = maskSize;
    this.base = cidr.base;
    this.blockSize = 2 ** (32 - maskSize);
    this.count = 2 ** (maskSize - cidr.prefix);
  }

  get capacity(): number {
    return this.count;
  }

  get allocated(): number {
    return this.used.size;
  }

  /** The next free block, e.g. "10.244.3.0/24"; undefined when the cluster CIDR is exhausted. */
  allocateNext(): string | undefined {
    for (let i = 0; i < this.count; i++) {
      if (this.used.has(i)) continue;
      this.used.add(i);
      return this.format(i);
    }
    return undefined;
  }

  /** Marks an existing node's block as taken; false if it is not a block of this set. */
  occupy(cidr: string): boolean {
    const i = this.indexOf(cidr);
    if (i === undefined) return false;
    this.used.add(i);
    return true;
  }

  release(cidr: string): void {
    const i = this.indexOf(cidr);
    if (i !== undefined) this.used.delete(i);
  }

  private format(i: number): string {
    return `${formatIpv4((this.base + i * this.blockSize) >>> 0)}/${this.maskSize}`;
  }

  private indexOf(cidr: string): number | undefined {
    let parsed: ReturnType<typeof parseIpv4Cidr>;
    try {
      parsed = parseIpv4Cidr(cidr);
    } catch {
      return undefined;
    }
    if (parsed.prefix !== this.maskSize) return undefined;
    const offset = parsed.base - this.base;
    if (offset < 0 || offset % this.blockSize !== 0) return undefined;
    const i = offset / this.blockSize;
    return i < this.count ? i : undefined;
  }
}
