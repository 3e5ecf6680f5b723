// Rule text in iptables-save's canonical form. Deckhand renders every rule exactly as `iptables-save` prints
// it back (addresses with a prefix length, `-p` before the matches, comments quoted, targets with their
// defaults spelled out), so what it programmed can be compared with what the kernel holds, line by line.
import { canonicalCidr, isIPv4 } from "./ip.ts";

export type Table = "filter" | "nat" | "mangle";

export interface RuleParts {
  /** Source address or CIDR; "!" negates (e.g. "!10.0.0.0/8"). */
  source?: string;
  dest?: string;
  /** Lower-case protocol, printed as `-p proto`. */
  protocol?: string;
  /** Match extensions in order, each already rendered (see the helpers below). */
  matches?: Array<string | undefined | false>;
  /** `-j …` target with its options, e.g. "DNAT --to-destination 10.0.0.1:80"; undefined for none. */
  target?: string;
}

function address(flag: "-s" | "-d", value: string): string {
  return value.startsWith("!") ? ` ! ${flag} ${canonical(value.slice(1))}` : ` ${flag} ${canonical(value)}`;
}

/** canonicalCidr, with a fast path for one address and a cache for the few CIDRs rules use. */
function canonical(value: string): string {
  if (!value.includes("/") && isIPv4(value)) return `${value}/32`;
  let cidr = cidrCache.get(value);
  if (cidr === undefined) {
    cidr = canonicalCidr(value);
    if (cidrCache.size > 1_000) cidrCache.clear();
    cidrCache.set(value, cidr);
  }
  return cidr;
}
const cidrCache = new Map<string, string>();

/** "-A CHAIN …" in canonical order: -s, -d, -p, matches in order, -j. */
export function rule(chain: string, parts: RuleParts): string {
  let text = `-A ${chain}`;
  if (parts.source) text += address("-s", parts.source);
  if (parts.dest) text += address("-d", parts.dest);
  if (parts.protocol) text += ` -p ${parts.protocol}`;
  for (const match of parts.matches ?? []) if (match) text += ` ${match}`;
  if (parts.target) text += ` -j ${parts.target}`;
  return text;
}

/**
 * `-m comment --comment "…"`. Comments carry Service and port names; the API server validates those, but the
 * proxy must not trust that for rule text: a quote, backslash or control character would end the comment or
 * the line and turn the rest into rules, and a comment over 255 bytes fails the whole iptables-restore. Such
 * characters become "_" and long comments are cut (valid names never need either).
 */
export function comment(text: string): string {
  if (UNSAFE_COMMENT.test(text) || text.length > MAX_COMMENT) text = safeComment(text);
  return `-m comment --comment "${text}"`;
}

/** The comment match holds 256 bytes including the terminating NUL. */
const MAX_COMMENT = 255;
const UNSAFE_COMMENT = /[^\x20\x21\x23-\x5b\x5d-\x7e]/;
const UNSAFE_COMMENT_ALL = /[^\x20\x21\x23-\x5b\x5d-\x7e]/g;

function safeComment(text: string): string {
  return text.replace(UNSAFE_COMMENT_ALL, "_").slice(0, MAX_COMMENT);
}

/** `-m tcp --dport N` (the protocol's own match module). */
export function dport(protocol: string, port: number): string {
  return `-m ${protocol} --dport ${port}`;
}

export const REJECT = "REJECT --reject-with icmp-port-unreachable";

/**
 * The probability of taking endpoint i of n, 1/(n−i), as iptables-save prints it. Upstream writes
 * "%0.10f" (0.3333333333); the kernel keeps round(2^31 · p) and iptables prints that back with 11 decimals
 * (0.33333333349). Writing the printed form programs the same kernel value as upstream's text.
 */
export function probability(n: number): string {
  const cached = probabilities[n];
  if (cached) return cached;
  const upstreamText = (1 / n).toFixed(10);
  const kernelValue = Math.round(0x80000000 * Number(upstreamText));
  const printed = (kernelValue / 0x80000000).toFixed(11);
  probabilities[n] = printed;
  return printed;
}
const probabilities: string[] = [];

/** The -D form of an "-A CHAIN …" rule. */
export function deleteForm(appendRule: string): string {
  return `-D${appendRule.slice(2)}`;
}

/** The form inserting an "-A CHAIN …" rule at the top of its chain. */
export function insertFirstForm(appendRule: string): string {
  const space = appendRule.indexOf(" ", 3);
  return `-I ${appendRule.slice(3, space)} 1${appendRule.slice(space)}`;
}

/** The chain an "-A CHAIN …" rule belongs to. */
export function chainOf(appendRule: string): string {
  const space = appendRule.indexOf(" ", 3);
  return appendRule.slice(3, space < 0 ? undefined : space);
}

/** The jump target of a rule (`-j X`), if any. */
export function jumpTarget(ruleText: string): string | undefined {
  const at = ruleText.lastIndexOf(" -j ");
  if (at < 0) return undefined;
  const rest = ruleText.slice(at + 4);
  const space = rest.indexOf(" ");
  return space < 0 ? rest : rest.slice(0, space);
}
