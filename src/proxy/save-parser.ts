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
  /** The chains of the syncer's record: what the kernel has for them goes into their slots. */
  slots?: ChainSlots;
}

/** Whether bytes[start, end) is "-A <chain> …" for the chain named by name[0, length). */
function isRuleOf(bytes: Uint8Array, start: number, end: number, name: Uint8Array, length: number) {
  const after = start + 3 + length;
  if (after >= end || bytes[after] !== 32 || bytes[start] !== 45 || bytes[start + 1] !== 65) return false;
  for (let i = 0; i < length; i++) if (bytes[start + 3 + i] !== name[i]) return false;
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
  /**
   * The per-service chain being digested: its name's bytes (copied: the line's bytes are reused after the
   * call), to tell its next rules without decoding them, and its slot, or (a chain the syncer does not want)
   * its name as a string.
   */
  private nameBytes: Uint8Array | undefined;
  private nameBuffer = new Uint8Array(64);
  private nameLength = 0;
  private digestSlot: number | undefined;
  private digestChain: string | undefined;
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
    const name = this.nameBytes;
    if (name !== undefined && isRuleOf(bytes, start, end, name, this.nameLength)) {
      this.digest.addBytes(bytes, start + 4 + this.nameLength, end);
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
    // iptables-save (legacy and nft) prints all declarations, then each chain's rules together. The first
    // rule of a chain of the record starts its digest, still without decoding.
    const slot = this.slots?.slotAt(bytes, start + 3, end);
    if (slot !== undefined) {
      const space = bytes.indexOf(32, start + 3);
      const nameEnd = space < 0 || space > end ? end : space;
      this.startDigest(bytes, start + 3, nameEnd - start - 3, slot, undefined);
      this.digest.addBytes(bytes, nameEnd + 1, end);
      return;
    }
    const line = bytes.toString("utf8", start, end);
    const chain = chainOf(line);
    if (isServiceChainName(chain) && !this.options.keepServiceChainRules) {
      this.startDigest(bytes, start + 3, Buffer.byteLength(chain), undefined, chain);
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

  private startDigest(
    bytes: Uint8Array,
    nameStart: number,
    nameLength: number,
    slot: number | undefined,
    chain: string | undefined,
  ): void {
    this.flushDigest();
    if (nameLength > this.nameBuffer.length) this.nameBuffer = new Uint8Array(nameLength * 2);
    // Byte by byte: a subarray to copy from would be an object per chain (110,000 per save).
    const name = this.nameBuffer;
    for (let i = 0; i < nameLength; i++) name[i] = bytes[nameStart + i] as number;
    this.nameBytes = name;
    this.nameLength = nameLength;
    this.digestSlot = slot;
    this.digestChain = chain;
  }

  private flushDigest(): void {
    if (this.nameBytes === undefined) return;
    if (this.digestSlot !== undefined) this.slots?.rules(this.digestSlot, this.digest.value());
    else if (this.digestChain !== undefined) this.table.digests.set(this.digestChain, this.digest.value());
    this.nameBytes = undefined;
    this.digestSlot = undefined;
    this.digestChain = undefined;
    this.digest.reset();
  }

  done(): KernelTable {
    this.flushDigest();
    return this.table;
  }
}
