// Reading `iptables-save -t TABLE` back: which chains exist, the rules of the chains whose whole content
// matters (built-in chains, Deckhand's top-level and static chains), digests of Deckhand's per-service chains
// (110,000 of them at 10,000 services: only a digest each is kept), and which of Deckhand's chains other
// programs' rules jump to.
import { isServiceChainName } from "./chain-names.ts";
import { chainDigest, Digest } from "./payload.ts";
import { chainOf, jumpTarget } from "./rule-text.ts";

const EMPTY = chainDigest([]);

export interface KernelTable {
  chains: Set<string>;
  /** Full rules of the chains `keepRules` selected (built-in and Deckhand top-level/static chains). */
  rules: Map<string, string[]>;
  /** Digest of the rules of each per-service chain (KUBE-SVC-…, KUBE-SEP-…, …); NaN when unknown. */
  digests: Map<string, number>;
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
    if (line.startsWith(":")) {
      const space = line.indexOf(" ");
      const chain = line.slice(1, space < 0 ? undefined : space);
      t.chains.add(chain);
      if (isServiceChainName(chain)) t.digests.set(chain, EMPTY);
      return;
    }
    if (!line.startsWith("-A ")) return;
    const chain = chainOf(line);
    if (isServiceChainName(chain) && !this.options.keepServiceChainRules) {
      if (chain !== this.digestChain) {
        this.flushDigest();
        // Rules of a chain come together in iptables-save output; if they did not, its digest is unknown.
        if (t.digests.get(chain) !== EMPTY) {
          t.digests.set(chain, Number.NaN);
          return;
        }
        this.digestChain = chain;
      }
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
