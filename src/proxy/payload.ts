// Building iptables-restore payloads (for --noflush): per table, chain lines first (declaring a chain creates
// it, or flushes it when it exists), then the chains' rules, then deletions and insertions in top-level chains,
// then chain deletions. A Batcher cuts a long list of units into payloads with a bounded number of chains:
// iptables-nft 1.8.9 handles chain names of one --noflush payload in a sorted list, so a payload's cost
// grows much faster than linearly with its chain count.
import { deleteForm, insertFirstForm, jumpTarget, type Table } from "./rule-text.ts";

const TABLE_ORDER: Table[] = ["filter", "nat", "mangle"];
const BUILTIN_TARGETS = new Set(["ACCEPT", "DROP", "REJECT", "RETURN", "MARK", "DNAT", "SNAT", "MASQUERADE"]);

interface TableOps {
  declares: string[];
  rules: string[];
  deletes: string[];
  inserts: string[];
  removeChains: string[];
}

export class PayloadBuilder {
  private readonly tables = new Map<Table, TableOps>();
  private readonly chainNames = new Set<string>();

  private ops(table: Table): TableOps {
    let ops = this.tables.get(table);
    if (!ops) {
      ops = { declares: [], rules: [], deletes: [], inserts: [], removeChains: [] };
      this.tables.set(table, ops);
    }
    return ops;
  }

  private noteTarget(rule: string): void {
    const target = jumpTarget(rule);
    if (target && !BUILTIN_TARGETS.has(target)) this.chainNames.add(target);
  }

  /** Distinct chain names the payload mentions (declared, removed or jumped to). */
  get chainCount(): number {
    return this.chainNames.size;
  }

  get isEmpty(): boolean {
    return this.tables.size === 0;
  }

  /**
   * Declares (creates or flushes) a chain and fills it, with its rules or their chainText(). Its rules jump
   * only to chains of the same service port (declared in the same payload) or to static chains, so they add
   * no names to count.
   */
  writeChain(table: Table, chain: string, rules: readonly string[] | string): void {
    const ops = this.ops(table);
    ops.declares.push(`:${chain} - [0:0]`);
    this.chainNames.add(chain);
    if (typeof rules === "string") {
      // Already joined (chainText): one entry of many lines.
      if (rules !== "") ops.rules.push(rules);
    } else for (const rule of rules) ops.rules.push(rule);
  }

  /** Flushes and deletes a chain (after every other change of the table). */
  removeChain(table: Table, chain: string): void {
    const ops = this.ops(table);
    ops.declares.push(`:${chain} - [0:0]`);
    ops.removeChains.push(`-X ${chain}`);
    this.chainNames.add(chain);
  }

  /** Deletes one "-A CHAIN …" rule by its specification. */
  deleteRule(table: Table, appendRule: string): void {
    this.ops(table).deletes.push(deleteForm(appendRule));
    this.noteTarget(appendRule);
  }

  /** Adds a rule to an existing chain: at the top when `first`, else at the end. */
  addRule(table: Table, appendRule: string, first: boolean): void {
    this.ops(table).inserts.push(first ? insertFirstForm(appendRule) : appendRule);
    this.noteTarget(appendRule);
  }

  text(): string {
    // One join over every entry (a chain written from its chainText is one entry of many lines): each
    // character is copied once.
    const out: string[] = [];
    for (const table of TABLE_ORDER) {
      const ops = this.tables.get(table);
      if (!ops) continue;
      out.push(`*${table}`);
      for (const list of [ops.declares, ops.rules, ops.deletes, ops.inserts, ops.removeChains])
        for (const entry of list) out.push(entry);
      out.push("COMMIT");
    }
    out.push("");
    return out.join("\n");
  }
}

/**
 * Fills payloads unit by unit and applies each as soon as its chain budget is used up, so that memory stays
 * bounded by one payload however many services there are. A unit is never split across payloads.
 */
export class Batcher {
  private readonly maxChains: number;
  private readonly apply: (payload: string) => Promise<void>;
  private current: PayloadBuilder | undefined;

  constructor(maxChains: number, apply: (payload: string) => Promise<void>) {
    this.maxChains = maxChains;
    this.apply = apply;
  }

  /** The payload the next unit goes into; applies the current one first when it is full. */
  async next(): Promise<PayloadBuilder> {
    if (this.current && this.current.chainCount >= this.maxChains) await this.flush();
    this.current ??= new PayloadBuilder();
    return this.current;
  }

  /** Applies what is pending. */
  async flush(): Promise<void> {
    const payload = this.current;
    this.current = undefined;
    if (payload && !payload.isEmpty) await this.apply(payload.text());
  }
}

/**
 * A digest of a chain's rules, to tell whether what is programmed differs from what is wanted: two
 * independent 32-bit FNV-1a-style lanes over the rule text folded into one 53-bit number (not
 * cryptographic, and cheap: a full sync at 10,000 Services digests 220,000 chains; a number is 8 bytes in
 * the record instead of a string). Built rule by rule, so reading iptables-save keeps no rule text.
 */
export class Digest {
  private a = 0x811c9dc5;
  private b = 0x9747b28c;
  private rules = 0;

  /** Adds one "-A CHAIN …" rule of the chain; the "-A CHAIN " part is the same for all of them and skipped. */
  add(rule: string): void {
    this.addLine(rule, 0, rule.length);
  }

  /** add() of the rule that is `text` from `start` to `end` (one line of a chain's joined text). */
  addLine(text: string, start: number, end: number): void {
    let i = start;
    if (text.startsWith("-A ", start)) {
      const space = text.indexOf(" ", start + 3);
      if (space >= 0 && space < end) i = space + 1;
    }
    let a = this.a;
    let b = this.b;
    for (; i < end; i++) {
      const c = text.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x5bd1e995);
    }
    this.rules++;
    this.a = Math.imul(a ^ 10, 0x01000193);
    this.b = Math.imul(b ^ this.rules, 0x5bd1e995);
  }

  /**
   * Adds the rule whose text after "-A CHAIN " is `bytes` from `from` to `end`, UTF-8. For the ASCII that
   * Deckhand's rules are made of, the same digest as add() of the text.
   */
  addBytes(bytes: Uint8Array, from: number, end: number): void {
    let a = this.a;
    let b = this.b;
    for (let i = from; i < end; i++) {
      const c = bytes[i] as number;
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x5bd1e995);
    }
    this.rules++;
    this.a = Math.imul(a ^ 10, 0x01000193);
    this.b = Math.imul(b ^ this.rules, 0x5bd1e995);
  }

  reset(): void {
    this.a = 0x811c9dc5;
    this.b = 0x9747b28c;
    this.rules = 0;
  }

  value(): number {
    const b = this.b ^ (this.b >>> 15);
    return (this.a >>> 0) * 0x200000 + ((b >>> 0) & 0x1fffff);
  }
}

export function chainDigest(rules: readonly string[]): number {
  const digest = new Digest();
  for (const rule of rules) digest.add(rule);
  return digest.value();
}

/**
 * A chain's rules joined into one text (what a payload writes), and the same digest as chainDigest(rules)
 * read from that text. Rendered rules are concatenations V8 keeps as trees of pieces: joining them once
 * copies each piece once, where digesting rule by rule would first flatten every rule into a string of its
 * own and the payload would then copy it again.
 */
export function chainText(rules: readonly string[]): { text: string; digest: number } {
  const text = rules.join("\n");
  const digest = new Digest();
  for (let start = 0, line = 0; line < rules.length; line++) {
    const newline = text.indexOf("\n", start);
    const end = newline < 0 ? text.length : newline;
    digest.addLine(text, start, end);
    start = end + 1;
  }
  return { text, digest: digest.value() };
}
