// The per-service chains of the syncer's record, each with a slot where a full sync's iptables-save leaves
// what the kernel has for it. The index lives as long as the syncer and changes only with the record; each
// record entry holds its chains' slot numbers, so comparing costs no lookup at all.
//
// Reading the kernel back looks up 110,000 chain names at 10,000 Services, straight from the save's bytes.
// A Map keyed by name strings cost ~1 µs per lookup here (every name a fresh slice of the save's text, hashed
// and compared character by character), which made lookups most of Deckhand's CPU in a resync. A per-service
// chain name is a fixed prefix and 16 base32 characters (80 bits of a SHA-256): the slots are found by those
// bits, as two numbers, in an open-addressing table over typed arrays, without slicing the name out.

/** The kernel digest of a chain declared without rules. */
export const NO_RULES = -1;

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const BASE32_VALUE = new Int8Array(256).fill(-1);
for (let i = 0; i < BASE32.length; i++) BASE32_VALUE[BASE32.charCodeAt(i)] = i;

/** Per-service chain prefixes ("KUBE-" and a kind); the kind's number is part of the key. */
const SVC = 0;
const SVL = 1;
const EXT = 2;
const SEP = 3;
const FW = 4;
const HASH_CHARS = 16;
const TWO_POW_50 = 2 ** 50;
const EMPTY = -1;
const [K, U, B, E, DASH, S, V, C, L, X, T, P, F, W] = [..."KUBE-SVCLXTPFW"].map((c) => c.charCodeAt(0));

/** The kind of per-service chain whose name starts at `bytes[at]`, and where its hash starts; -1 if none. */
function kindAt(bytes: Uint8Array, at: number): number {
  if (bytes[at] !== K || bytes[at + 1] !== U || bytes[at + 2] !== B || bytes[at + 3] !== E) return -1;
  if (bytes[at + 4] !== DASH) return -1;
  const a = bytes[at + 5];
  const b = bytes[at + 6];
  const c = bytes[at + 7];
  if (a === F) return b === W && c === DASH ? FW : -1;
  if (bytes[at + 8] !== DASH) return -1;
  if (a === S && b === V) return c === C ? SVC : c === L ? SVL : -1;
  if (a === S && b === E) return c === P ? SEP : -1;
  if (a === E && b === X) return c === T ? EXT : -1;
  return -1;
}

/**
 * The key of the chain name starting at `bytes[at]` and ending at `end` or a space before it: `high` holds
 * the kind's number and the hash's first 50 bits, `low` the last 30; false when the text there is not a
 * per-service chain name of Deckhand's shape. Called twice per chain of every full sync's save (its
 * declaration and its first rule): it reads the name in place, byte by byte.
 */
function keyAt(bytes: Uint8Array, at: number, end: number, out: { high: number; low: number }): boolean {
  const kind = kindAt(bytes, at);
  if (kind < 0) return false;
  const from = at + (kind === FW ? 8 : 9);
  const after = from + HASH_CHARS;
  if (after > end || (after < end && bytes[after] !== 32) /* space */) return false;
  let high = 0;
  let low = 0;
  for (let i = 0; i < HASH_CHARS; i++) {
    const value = BASE32_VALUE[bytes[from + i] as number] as number;
    if (value < 0) return false;
    if (i < 10) high = high * 32 + value;
    else low = low * 32 + value;
  }
  out.high = kind * TWO_POW_50 + high;
  out.low = low;
  return true;
}

/** Where keyOf() puts a name's bytes for keyAt() (names are 25–28 ASCII characters). */
const scratch = Buffer.alloc(64);

/**
 * keyAt() for a chain name held as a string (copied in JavaScript: a name is short, and a first sync looks up
 * 110,000 of them twice). A character outside ASCII is copied as 0, which no name has.
 */
function keyOf(chain: string, out: { high: number; low: number }): boolean {
  const length = chain.length;
  if (length > scratch.length) return false;
  for (let i = 0; i < length; i++) {
    const c = chain.charCodeAt(i);
    scratch[i] = c > 127 ? 0 : c;
  }
  return keyAt(scratch, 0, length, out);
}

export class ChainSlots {
  // The open-addressing table: key halves and slot per position; capacity a power of two, at most half full.
  private highs = new Float64Array(1024).fill(EMPTY);
  private lows = new Int32Array(1024);
  private ids = new Int32Array(1024);
  private count = 0;
  /** Slots are numbered from 0 up to below `nextId`; released ones inside that range are marked free. */
  private nextId = 0;
  private freeCount = 0;
  /** No slot below this one is free. */
  private lowestFree = 0;
  /** Per slot: free, the save that last saw the chain declared, and the digest of its rules there. */
  private isFree = new Uint8Array(256);
  private seenIn = new Uint32Array(256);
  private digests = new Float64Array(256);
  /** The save being read; slots seen in an earlier one count as absent. */
  private save = 0;
  private readonly key = { high: 0, low: 0 };

  get size(): number {
    return this.count;
  }

  /** Makes room for `count` chains at once (a first sync claims 110,000 at 10,000 Services). */
  reserve(count: number): void {
    let capacity = this.highs.length;
    while (count * 2 > capacity) capacity *= 2;
    if (capacity > this.highs.length) this.rehash(capacity);
    while (count > this.seenIn.length) this.growSlots();
  }

  /** The slot of `chain`, taking a free one when it has none. */
  claim(chain: string): number {
    if (!keyOf(chain, this.key)) throw new Error(`not a per-service chain name: ${chain}`);
    const { high, low } = this.key;
    const at = this.find(high, low);
    if (this.highs[at] !== EMPTY) return this.ids[at] as number;
    const id = this.takeSlot();
    this.seenIn[id] = 0;
    this.highs[at] = high;
    this.lows[at] = low;
    this.ids[at] = id;
    this.count++;
    if (this.count * 2 > this.highs.length) this.rehash(this.highs.length * 2);
    return id;
  }

  release(chain: string): void {
    if (!keyOf(chain, this.key)) return;
    let at = this.find(this.key.high, this.key.low);
    if (this.highs[at] === EMPTY) return;
    this.freeSlot(this.ids[at] as number);
    this.count--;
    // Backward-shift deletion: move up every later entry of the run that would no longer be found.
    const mask = this.highs.length - 1;
    let next = (at + 1) & mask;
    while (this.highs[next] !== EMPTY) {
      const home = this.home(this.highs[next] as number, this.lows[next] as number);
      // It may fill the hole when the hole lies between its home and where it sits (cyclically).
      if (((next - home) & mask) >= ((next - at) & mask)) {
        this.highs[at] = this.highs[next] as number;
        this.lows[at] = this.lows[next] as number;
        this.ids[at] = this.ids[next] as number;
        at = next;
      }
      next = (next + 1) & mask;
    }
    this.highs[at] = EMPTY;
  }

  /** The slot of `chain`, if it has one. */
  idOf(chain: string): number | undefined {
    if (!keyOf(chain, this.key)) return undefined;
    const at = this.find(this.key.high, this.key.low);
    return this.highs[at] === EMPTY ? undefined : (this.ids[at] as number);
  }

  /** Starts reading a new iptables-save: every slot counts as absent until seen. */
  beginSave(): void {
    this.save++;
  }

  /**
   * During a save: the slot of the chain named at `bytes[at]` (up to `end` or a space), or undefined when
   * the record has no such chain.
   */
  slotAt(bytes: Uint8Array, at: number, end: number): number | undefined {
    if (!keyAt(bytes, at, end, this.key)) return undefined;
    const position = this.find(this.key.high, this.key.low);
    return this.highs[position] === EMPTY ? undefined : (this.ids[position] as number);
  }

  declared(id: number): void {
    this.seenIn[id] = this.save;
    this.digests[id] = NO_RULES;
  }

  rules(id: number, digest: number): void {
    this.seenIn[id] = this.save;
    this.digests[id] = digest;
  }

  /** What the last save had for slot `id`: its rules' digest, NO_RULES, or undefined when not declared. */
  kernelDigest(id: number): number | undefined {
    return this.seenIn[id] === this.save ? this.digests[id] : undefined;
  }

  private takeSlot(): number {
    if (this.freeCount === 0) {
      if (this.nextId >= this.seenIn.length) this.growSlots();
      return this.nextId++;
    }
    let id = this.lowestFree;
    while (this.isFree[id] === 0) id++;
    this.isFree[id] = 0;
    this.freeCount--;
    this.lowestFree = id + 1;
    return id;
  }

  /** Marks `id` free; free slots at the top of the range shrink it, so churn leaves no trace. */
  private freeSlot(id: number): void {
    this.isFree[id] = 1;
    this.freeCount++;
    if (id < this.lowestFree) this.lowestFree = id;
    while (this.nextId > 0 && this.isFree[this.nextId - 1] === 1) {
      this.nextId--;
      this.isFree[this.nextId] = 0;
      this.freeCount--;
    }
    if (this.lowestFree > this.nextId) this.lowestFree = this.nextId;
  }

  private home(high: number, low: number): number {
    return (Math.imul((high % 0x40000000) ^ low, 0x9e3779b1) >>> 0) & (this.highs.length - 1);
  }

  /** The position holding the key, or the empty one where it would go. */
  private find(high: number, low: number): number {
    const mask = this.highs.length - 1;
    let at = this.home(high, low);
    while (this.highs[at] !== EMPTY && !(this.highs[at] === high && this.lows[at] === low))
      at = (at + 1) & mask;
    return at;
  }

  private rehash(capacity: number): void {
    const { highs, lows, ids } = this;
    this.highs = new Float64Array(capacity).fill(EMPTY);
    this.lows = new Int32Array(capacity);
    this.ids = new Int32Array(capacity);
    for (let i = 0; i < highs.length; i++) {
      if (highs[i] === EMPTY) continue;
      const at = this.find(highs[i] as number, lows[i] as number);
      this.highs[at] = highs[i] as number;
      this.lows[at] = lows[i] as number;
      this.ids[at] = ids[i] as number;
    }
  }

  private growSlots(): void {
    const isFree = new Uint8Array(this.isFree.length * 2);
    isFree.set(this.isFree);
    this.isFree = isFree;
    const seenIn = new Uint32Array(this.seenIn.length * 2);
    seenIn.set(this.seenIn);
    this.seenIn = seenIn;
    const digests = new Float64Array(this.digests.length * 2);
    digests.set(this.digests);
    this.digests = digests;
  }
}
