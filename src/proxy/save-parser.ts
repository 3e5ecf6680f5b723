// Reading `iptables-save -t TABLE` back: which chains exist, the rules of the chains whose whole content
// matters (built-in chains, Deckhand's top-level and static chains), digests of Deckhand's per-service chains
// (110,000 of them at 10,000 services: only a digest each is kept), and which of Deckhand's chains other
// programs' rules jump to.
import { isServiceChainName } from "./chain-names.ts";
import type { ChainSlots } from "./chain-slots.ts";
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
  /**
   * Digest of the rules of each per-service chain (KUBE-SVC-…, KUBE-SEP-…, …) that has rules; with `slots`,
   * only of the chains that have none (what the kernel has for the others is in their slots).
   */
  digests: Map<string, number>;
  /** Per-service chains declared, when only digests are kept; with `slots`, only those without a slot. */
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
  /** The chains the syncer wants: what the kernel has for them goes into their slots. */
  slots?: ChainSlots;
}

/** Whether bytes[start, end) is "-A <chain> …" for the chain named `chain`. */
function isRuleOf(bytes: Uint8Array, start: number, end: number, chain: Uint8Array): boolean {
  const after = start + 3 + chain.length;
  if (after >= end || bytes[after] !== 32 || bytes[start] !== 45 || bytes[start + 1] !== 65) return false;
  for (let i = 0; i < chain.length; i++) if (bytes[start + 3 + i] !== chain[i]) return false;
  return bytes[start + 2] === 32;
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
  /** The bytes of `digestChain`'s name, to tell its next rules without decoding them. */
  private digestName: Uint8Array | undefined;
  private digestSlot: number | undefined;
  private readonly digest = new Digest();
  private readonly slots: ChainSlots | undefined;

  constructor(options: SaveParserOptions) {
    this.options = options;
    this.slots = options.keepServiceChainRules ? undefined : options.slots;
    this.slots?.beginSave();
  }

  /**
   * One line of iptables-save: `bytes` from `start` to `end` (the output is handed over in large pieces and
   * read in place: most lines are never decoded or copied).
   */
  line(bytes: Buffer, start: number, end: number): void {
    const t = this.table;
    // The next rule of the per-service chain being digested (most lines): no copy, no lookup.
    const current = this.digestName;
    if (current !== undefined && isRuleOf(bytes, start, end, current)) {
      this.digest.addBytes(bytes, start + 4 + current.length, end);
      return;
    }
    if (bytes[start] === 58 /* : */) {
      const slot = this.slots?.slotAt(bytes, start + 1, end);
      if (slot !== undefined) {
        this.slots?.declared(slot);
        return;
      }
      const space = bytes.indexOf(32, start);
      const chain = bytes.toString("utf8", start + 1, space < 0 || space > end ? end : space);
      if (this.options.keepServiceChainRules || !isServiceChainName(chain)) t.chains.add(chain);
      else t.serviceChains.push(chain);
      return;
    }
    if (bytes[start] !== 45 /* - */ || bytes[start + 1] !== 65 /* A */ || bytes[start + 2] !== 32) return;
    const line = bytes.toString("utf8", start, end);
    const chain = chainOf(line);
    if (isServiceChainName(chain) && !this.options.keepServiceChainRules) {
      // iptables-save (legacy and nft) prints all declarations, then each chain's rules together.
      this.flushDigest();
      this.digestChain = chain;
      this.digestName = bytes.subarray(start + 3, start + 3 + Buffer.byteLength(chain));
      this.digestSlot = this.slots?.slotAt(bytes, start + 3, end);
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
    if (this.digestSlot !== undefined) this.slots?.rules(this.digestSlot, this.digest.value());
    else this.table.digests.set(this.digestChain, this.digest.value());
    this.digestChain = undefined;
    this.digestName = undefined;
    this.digest.reset();
  }

  done(): KernelTable {
    this.flushDigest();
    return this.table;
  }
}
