// Reading `iptables-save -t TABLE` back: which chains exist, the rules of the chains whose whole content
// matters (built-in chains, Deckhand's top-level and static chains), digests of Deckhand's per-service chains
// (110,000 of them at 10,000 services: only a digest each is kept), and which of Deckhand's chains other
// programs' rules jump to.
import { isServiceChainName } from "./chain-names.ts";
import { Digest } from "./payload.ts";
import { chainOf, jumpTarget } from "./rule-text.ts";

export interface KernelTable {
  /**
   * Chains declared; without the per-service chains when only their digests are kept (110,000 names at
   * 10,000 Services: those are in `serviceChains` and `digests`, so each costs one hash-table insert).
   */
  chains: Set<string>;
  /** Full rules of the chains `keepRules` selected (built-in and Deckhand top-level/static chains). */
  rules: Map<string, string[]>;
  /** Digest of the rules of each per-service chain (KUBE-SVC-…, KUBE-SEP-…, …) that has rules. */
  digests: Map<string, number>;
  /** Per-service chains declared, when only digests are kept. */
  serviceChains: string[];
  /** Deckhand chains that rules in chains Deckhand does not own jump to. */
  foreignReferences: Set<string>;
}

export interface SaveParserOptions {
  /** Chains whose rules are kept in full. */
  keepRules(chain: string): boolean;
  /** Chains Deckhand owns (references from other chains to them are noted). */
  owned(chain: string): boolean;
  /** Rules that are Deckhand's own although they live in other chains (the jumps from built-in chains). */
  ownRule?(rule: string): boolean;
  /** Keep the rules of per-service chains in full too (instead of digests only). */
  keepServiceChainRules?: boolean;
}

export class SaveParser {
  readonly table: KernelTable = {
    chains: new Set(),
    rules: new Map(),
    digests: new Map(),
    serviceChains: [],
    foreignReferences: new Set(),
  };
  private readonly options: SaveParserOptions;
  private digestChain: string | undefined;
  private digest = new Digest();

  constructor(options: SaveParserOptions) {
    this.options = options;
  }

  line(line: string): void {
    const t = this.table;
    // The next rule of the per-service chain being digested (most lines): no slicing, no lookups.
    const current = this.digestChain;
    if (
      current !== undefined &&
      line.startsWith(current, 3) &&
      line.charCodeAt(3 + current.length) === 32 &&
      line.startsWith("-A ")
    ) {
      this.digest.add(line);
      return;
    }
    if (line.startsWith(":")) {
      const space = line.indexOf(" ");
      const chain = line.slice(1, space < 0 ? undefined : space);
      if (!this.options.keepServiceChainRules && isServiceChainName(chain)) t.serviceChains.push(chain);
      else t.chains.add(chain);
      return;
    }
    if (!line.startsWith("-A ")) return;
    const chain = chainOf(line);
    if (isServiceChainName(chain) && !this.options.keepServiceChainRules) {
      // iptables-save (legacy and nft) prints all declarations, then each chain's rules together.
      this.flushDigest();
      this.digestChain = chain;
      this.digest.add(line);
    } else if (this.options.keepRules(chain) || isServiceChainName(chain)) {
      let list = t.rules.get(chain);
      if (!list) {
        list = [];
        t.rules.set(chain, list);
      }
      list.push(line);
    }
    if (!this.options.owned(chain) && !this.options.ownRule?.(line)) {
      const target = jumpTarget(line);
      if (target && this.options.owned(target)) t.foreignReferences.add(target);
    }
  }

  private flushDigest(): void {
    if (this.digestChain === undefined) return;
    this.table.digests.set(this.digestChain, this.digest.value());
    this.digestChain = undefined;
    this.digest = new Digest();
  }

  done(): KernelTable {
    this.flushDigest();
    return this.table;
  }
}
