// Where the renderer puts a service port's chains: rule strings (StringChains: tests, the packet tracer,
// whole-ruleset payloads) or bytes (ByteChains: what a sync writes). A sync at 10,000 Services renders 30 MB of
// rules; as strings each rule was a tree of pieces, flattened by a join, digested in another pass and encoded
// for the pipe in a third. ByteChains writes each piece's characters once, into the bytes the payload copies,
// and reads the digest from them while they are fresh. Both sinks are driven by the same calls, so they hold
// the same text.

import { Digest } from "./payload.ts";
import type { ChainRules } from "./render.ts";

export interface ChainSink {
  /** Starts a chain: the rules that follow are its own. */
  chain(name: string): void;
  /** A whole rule of the current chain, "-A CHAIN …" (as rule() renders it). */
  line(rule: string): void;
  /** Starts a rule of the current chain, "-A CHAIN"; put() adds its pieces, each with its leading space. */
  begin(): void;
  put(piece: string): void;
  /** Ends the rule begun. */
  end(): void;
}

export class StringChains implements ChainSink {
  readonly chains: ChainRules[] = [];
  private rules: string[] = [];
  private name = "";
  private text = "";

  chain(name: string): void {
    this.name = name;
    this.rules = [];
    this.chains.push({ name, rules: this.rules });
  }

  line(rule: string): void {
    this.rules.push(rule);
  }

  begin(): void {
    this.text = `-A ${this.name}`;
  }

  put(piece: string): void {
    this.text += piece;
  }

  end(): void {
    this.rules.push(this.text);
  }
}

/** A chain rendered as bytes: its rules, each ending with a newline, at `bytes[start, end)`. */
export interface ChainBytes {
  name: string;
  bytes: Buffer;
  start: number;
  end: number;
  /** How many rules. */
  lines: number;
  /** chainDigest() of its rules. */
  digest: number;
}

/** Bytes are taken in chunks this large by default (or twice a chain's size, for a chain larger than that). */
const CHUNK_BYTES = 1024 * 1024;
const NEWLINE = 10;

/**
 * Renders chains into chunks of bytes. A chunk is shared by the chains rendered into it and lives as long as
 * any of them: the chains of a sync's payloads are dropped once the payloads are written.
 */
export class ByteChains implements ChainSink {
  private readonly chunkBytes: number;
  private chains: ChainBytes[] = [];
  private bytes: Buffer;
  private at = 0;
  private current: ChainBytes | undefined;
  private ruleStart = 0;
  private readonly digest = new Digest();
  /** Every character written, or-ed together: above 127 means text that is not ASCII. */
  private written = 0;

  constructor(chunkBytes = CHUNK_BYTES) {
    this.chunkBytes = chunkBytes;
    this.bytes = Buffer.allocUnsafe(chunkBytes);
  }

  /** The chains rendered since the last take(), finished. */
  take(): ChainBytes[] {
    this.finish();
    const chains = this.chains;
    this.chains = [];
    return chains;
  }

  chain(name: string): void {
    this.finish();
    this.digest.reset();
    this.current = { name, bytes: this.bytes, start: this.at, end: this.at, lines: 0, digest: 0 };
    this.chains.push(this.current);
  }

  line(rule: string): void {
    this.ruleStart = this.at;
    this.write(rule);
    this.end();
  }

  begin(): void {
    this.ruleStart = this.at;
    this.write("-A ");
    this.write((this.current as ChainBytes).name);
  }

  put(piece: string): void {
    this.write(piece);
  }

  end(): void {
    const chain = this.current as ChainBytes;
    this.digest.addRuleBytes(this.bytes, this.ruleStart, this.at);
    this.room(1);
    this.bytes[this.at++] = NEWLINE;
    chain.lines++;
  }

  private finish(): void {
    const chain = this.current;
    if (!chain) return;
    // Rendered rules are ASCII by construction (comments sanitized, names hashed, addresses parsed): one
    // byte per character is their UTF-8.
    if (this.written > 127) throw new Error(`rule text of chain ${chain.name} is not ASCII`);
    chain.end = this.at;
    chain.digest = this.digest.value();
    this.current = undefined;
  }

  private write(text: string): void {
    this.room(text.length);
    const bytes = this.bytes;
    let at = this.at;
    let written = this.written;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      written |= c;
      bytes[at++] = c;
    }
    this.at = at;
    this.written = written;
  }

  /** Makes room for `length` more bytes of the current chain, moving it to a new chunk if needed. */
  private room(length: number): void {
    if (this.at + length <= this.bytes.length) return;
    const chain = this.current as ChainBytes;
    const used = this.at - chain.start;
    const next = Buffer.allocUnsafe(Math.max(this.chunkBytes, 2 * (used + length)));
    this.bytes.copy(next, 0, chain.start, this.at);
    this.ruleStart -= chain.start;
    chain.bytes = next;
    chain.start = 0;
    this.bytes = next;
    this.at = used;
  }
}
