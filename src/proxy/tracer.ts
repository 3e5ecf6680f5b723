// A packet tracer over iptables rules (like upstream's iptablesTracer in proxier_test.go): a small
// interpreter of the rule subset Deckhand emits. It follows a packet through nat PREROUTING/OUTPUT, filter
// INPUT/FORWARD/OUTPUT and nat POSTROUTING, and explores both outcomes of every `-m statistic` rule, so it
// returns every way the packet can end with its probability. Unknown matches or targets throw, so the
// tracer never silently ignores semantics. Used by the tests (over rendered payloads or a fake kernel) and
// by `deckhand debug trace` (over the proxy's record of what it programmed, or over `iptables-save`).

import { FILTER_CHAINS, isServiceChainName, KUBE_PROXY_CANARY, NAT_CHAINS } from "./chain-names.ts";
import { cidrContains, isLoopback } from "./ip.ts";
import { JUMPS } from "./jumps.ts";
import { parseTables, type TableName, type Tables, tokenize } from "./rule-tables.ts";

export interface Packet {
  protocol: "tcp" | "udp" | "sctp";
  source: string;
  dest: string;
  dport: number;
  /** "local": sent by a process on this node (OUTPUT); "external": arriving from elsewhere (PREROUTING). */
  origin: "local" | "external";
}

/** Where the tracer reads chains from: parsed rules text, or a lazy view of what the proxy programmed. */
export interface RuleSource {
  /** The rules ("-A CHAIN …", in order) of one chain; undefined when the table has no such chain. */
  chain(table: TableName, name: string): readonly string[] | undefined;
}

export interface TraceOptions {
  /** The node's own addresses (127.0.0.0/8 is always local). */
  localAddresses: string[];
  /** Session affinity state: `-m recent` list name → source addresses in it. */
  recent?: ReadonlyMap<string, ReadonlySet<string>>;
  /**
   * "skip": rules of other programs (Docker's, CNI's) in the built-in chains are not interpreted, only
   * Deckhand's jumps are; they are listed in `skippedRules()`. For tracing over a live `iptables-save`.
   * Default "error": every rule must be understood.
   */
  foreignRules?: "error" | "skip";
}

export interface Outcome {
  probability: number;
  verdict: "ACCEPT" | "DROP" | "REJECT";
  /** "ip:port" after DNAT, if the packet was DNATed. */
  dnat?: string;
  masquerade: boolean;
  /** User chains visited, in order. */
  chains: string[];
  /** The same, with their tables ("nat/KUBE-SVC-…"). */
  path: string[];
  /** Rules that acted on the packet (MARK, DNAT, REJECT, DROP, ACCEPT, MASQUERADE), in order. */
  actions: string[];
  /** `-m recent --set` lists the packet was added to. */
  recentSet: string[];
}

interface PathState {
  probability: number;
  dest: string;
  dport: number;
  dnat?: string;
  mark: number;
  chains: string[];
  path: string[];
  actions: string[];
  recentSet: string[];
  masquerade: boolean;
  /** A terminal target decided the table's verdict. */
  verdict?: "ACCEPT" | "DROP" | "REJECT";
}

/** A path after a chain: `returned` to the caller (fell off the end or RETURN), or ended by a verdict. */
type Walk = PathState & { returned: boolean };
/** A path after one rule's target: go on with the next rule, leave the chain (RETURN), or ended. */
type Step = PathState & { next: "continue" | "return" | "end" };

/** Targets that act on the packet (listed in Outcome.actions). */
const ACTIONS = new Set(["ACCEPT", "DROP", "REJECT", "MARK", "DNAT", "MASQUERADE"]);
const BUILTIN_CHAINS = new Set(["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"]);
const JUMP_RULES = new Set(JUMPS.map((jump) => jump.rule));
const OWNED_CHAINS = new Set<string>([...NAT_CHAINS, ...FILTER_CHAINS, KUBE_PROXY_CANARY]);

/** "33.33%": a share as the path shows it. */
function percent(share: number): string {
  return `${Number((share * 100).toFixed(2))}%`;
}

/** A rule source over parsed rules text (a restore payload or `iptables-save` output). */
export function tablesSource(tables: Tables): RuleSource {
  return { chain: (table, name) => tables[table].get(name) };
}

/**
 * Parses rules text for the tracer. The jumps from built-in chains are not part of a restore payload
 * (they are ensured separately): they are added when missing, for the chains the text declares.
 */
export function parseRuleSource(rulesText: string): RuleSource {
  const tables = parseTables(rulesText);
  for (const jump of JUMPS) {
    const rules = tables[jump.table].get(jump.from);
    if (rules && !rules.includes(jump.rule) && tables[jump.table].has(jump.to)) rules.unshift(jump.rule);
  }
  return tablesSource(tables);
}

export class Tracer {
  private readonly source: RuleSource;
  private readonly options: TraceOptions;
  private readonly skipped = new Set<string>();

  /** Over rules text (the jumps from built-in chains are added when missing), or any rule source. */
  constructor(rules: string | RuleSource, options: TraceOptions) {
    this.source = typeof rules === "string" ? parseRuleSource(rules) : rules;
    this.options = options;
  }

  /** Every way `packet` can end, with its probability (the probabilities sum to 1). */
  trace(packet: Packet): Outcome[] {
    const start: PathState = {
      probability: 1,
      dest: packet.dest,
      dport: packet.dport,
      mark: 0,
      chains: [],
      path: [],
      actions: [],
      recentSet: [],
      masquerade: false,
    };
    const outcomes: Outcome[] = [];
    for (const afterNat of this.walkChain(
      "nat",
      packet.origin === "local" ? "OUTPUT" : "PREROUTING",
      packet,
      start,
    )) {
      const natDone: PathState = { ...afterNat, verdict: undefined };
      const filterChain =
        packet.origin === "local" ? "OUTPUT" : this.isLocal(natDone.dest) ? "INPUT" : "FORWARD";
      for (const afterFilter of this.walkChain("filter", filterChain, packet, natDone)) {
        const verdict = afterFilter.verdict ?? "ACCEPT";
        if (verdict !== "ACCEPT") {
          outcomes.push(this.outcome(afterFilter, verdict));
          continue;
        }
        for (const post of this.walkChain("nat", "POSTROUTING", packet, {
          ...afterFilter,
          verdict: undefined,
        })) {
          outcomes.push(this.outcome(post, "ACCEPT"));
        }
      }
    }
    return outcomes;
  }

  /** Rules of other programs the tracer passed over (foreignRules "skip"), since it was created. */
  skippedRules(): string[] {
    return [...this.skipped];
  }

  /** The endpoints ("ip:port") a packet can be DNATed to, with their probabilities (summed over paths). */
  destinations(packet: Packet): Map<string, number> {
    const result = new Map<string, number>();
    for (const o of this.trace(packet)) {
      const key = o.verdict === "ACCEPT" ? (o.dnat ?? "no DNAT") : o.verdict;
      result.set(key, (result.get(key) ?? 0) + o.probability);
    }
    return result;
  }

  private outcome(state: PathState, verdict: Outcome["verdict"]): Outcome {
    return {
      probability: state.probability,
      verdict,
      ...(state.dnat !== undefined ? { dnat: state.dnat } : {}),
      masquerade: verdict === "ACCEPT" && state.masquerade,
      chains: state.chains,
      path: state.path,
      actions: state.actions,
      recentSet: state.recentSet,
    };
  }

  /** In "skip" mode, a rule of another program in a built-in chain, or a jump to a chain not Deckhand's. */
  private foreign(chain: string, text: string): boolean {
    if (this.options.foreignRules !== "skip") return false;
    if (BUILTIN_CHAINS.has(chain)) return !JUMP_RULES.has(text);
    return !(OWNED_CHAINS.has(chain) || isServiceChainName(chain));
  }

  private isLocal(ip: string): boolean {
    return isLoopback(ip) || this.options.localAddresses.includes(ip);
  }

  /** Walks a chain from the top; yields every path's state once the table's traversal ends. */
  private walkChain(table: TableName, chain: string, packet: Packet, state: PathState): PathState[] {
    return this.walk(table, chain, packet, state).map(({ returned: _, ...rest }) => rest);
  }

  /**
   * `share`: of the packets that entered the calling chain, the part that jumps here (below 1 when random
   * backend choice led here); the path shows it ("nat/KUBE-SEP-… (33.33%)").
   */
  private walk(
    table: TableName,
    chain: string,
    packet: Packet,
    initial: PathState,
    depth = 0,
    share = 1,
  ): Walk[] {
    if (depth > 20) throw new Error(`chain recursion too deep at ${table}/${chain}`);
    const rules = this.source.chain(table, chain);
    if (!rules) throw new Error(`no chain ${table}/${chain}`);
    const done: Walk[] = [];
    let active: PathState[] = [
      depth === 0
        ? initial
        : {
            ...initial,
            chains: [...initial.chains, chain],
            path: [...initial.path, `${table}/${chain}${share < 1 - 1e-9 ? ` (${percent(share)})` : ""}`],
          },
    ];
    for (const text of rules) {
      if (this.foreign(chain, text)) {
        this.skipped.add(`${table} ${text}`);
        continue;
      }
      const next: PathState[] = [];
      for (const state of active) {
        const tokens = tokenize(text).slice(2);
        const { matched, probability, target, targetArgs, recentSet } = this.evaluate(
          tokens,
          packet,
          state,
          text,
        );
        if (probability < 1) next.push({ ...state, probability: state.probability * (1 - probability) });
        if (!matched) {
          if (probability === 1) next.push(state);
          continue;
        }
        const taken: PathState = {
          ...state,
          probability: state.probability * probability,
          recentSet: recentSet ? [...state.recentSet, recentSet] : state.recentSet,
        };
        const share = taken.probability / initial.probability;
        for (const { next: how, ...r } of this.apply(
          table,
          target,
          targetArgs,
          packet,
          taken,
          depth,
          text,
          share,
        )) {
          if (how === "continue") next.push(r);
          else done.push({ ...r, returned: how === "return" && depth > 0 });
        }
      }
      active = next;
      if (active.length === 0) break;
    }
    // Falling off the end of a user chain returns to the caller; off a built-in chain, the policy (ACCEPT).
    for (const state of active) done.push({ ...state, returned: depth > 0 });
    return done;
  }

  private apply(
    table: TableName,
    target: string | undefined,
    args: string[],
    packet: Packet,
    incoming: PathState,
    depth: number,
    text: string,
    share: number,
  ): Step[] {
    if (target === undefined) return [{ ...incoming, next: "continue" }]; // no target: counts, continues
    const state = ACTIONS.has(target)
      ? { ...incoming, actions: [...incoming.actions, `${table} ${text}`] }
      : incoming;
    switch (target) {
      case "ACCEPT":
      case "DROP":
        return [{ ...state, verdict: target, next: "end" }];
      case "REJECT":
        return [{ ...state, verdict: "REJECT", next: "end" }];
      case "RETURN":
        return [{ ...state, next: "return" }];
      case "MARK": {
        const [flag, value] = args;
        if (flag !== "--set-xmark" || !value) throw new Error(`unsupported MARK: ${text}`);
        const [v, m] = value.split("/").map((x) => Number.parseInt(x, 16)) as [number, number];
        return [{ ...state, mark: ((state.mark & ~m) ^ v) >>> 0, next: "continue" }];
      }
      case "DNAT": {
        if (args[0] !== "--to-destination" || !args[1]) throw new Error(`unsupported DNAT: ${text}`);
        const [ip, portText] = args[1].split(":") as [string, string];
        return [
          { ...state, dest: ip, dport: Number(portText), dnat: args[1], next: "end", verdict: "ACCEPT" },
        ];
      }
      case "MASQUERADE":
        return [{ ...state, masquerade: true, next: "end", verdict: "ACCEPT" }];
      default: {
        if (!this.source.chain(table, target)) throw new Error(`jump to missing chain ${target}: ${text}`);
        return this.walk(table, target, packet, state, depth + 1, share).map(({ returned, ...r }) => ({
          ...r,
          next: returned ? "continue" : "end",
        }));
      }
    }
  }

  /** Evaluates the matches of one rule; `probability` < 1 for `-m statistic`. */
  private evaluate(
    tokens: string[],
    packet: Packet,
    state: PathState,
    text: string,
  ): { matched: boolean; probability: number; target?: string; targetArgs: string[]; recentSet?: string } {
    let matched = true;
    let recentSet: string | undefined;
    let probability = 1;
    let negate = false;
    let i = 0;
    const next = () => {
      const t = tokens[++i];
      if (t === undefined) throw new Error(`truncated rule: ${text}`);
      return t;
    };
    const check = (result: boolean) => {
      if (negate ? result : !result) matched = false;
      negate = false;
    };
    for (; i < tokens.length; i++) {
      const t = tokens[i] as string;
      if (t === "!") {
        negate = true;
        continue;
      }
      switch (t) {
        case "-s":
          check(cidrContains(next(), packet.source));
          break;
        case "-d":
          check(cidrContains(next(), state.dest));
          break;
        case "-p":
          check(next() === packet.protocol);
          break;
        case "-m": {
          const module = next();
          if (module === "comment") {
            if (next() !== "--comment") throw new Error(`bad comment: ${text}`);
            next();
          } else if (module === "tcp" || module === "udp" || module === "sctp") {
            check(module === packet.protocol);
            if (tokens[i + 1] === "--dport") {
              i++;
              check(Number(next()) === state.dport);
            }
          } else if (module === "addrtype") {
            const flag = next();
            const type = next();
            if (type !== "LOCAL") throw new Error(`unsupported addrtype ${type}: ${text}`);
            if (flag === "--dst-type") check(this.isLocal(state.dest));
            else if (flag === "--src-type") check(this.isLocal(packet.source));
            else throw new Error(`unsupported addrtype flag ${flag}: ${text}`);
          } else if (module === "statistic") {
            if (next() !== "--mode" || next() !== "random" || next() !== "--probability") {
              throw new Error(`unsupported statistic: ${text}`);
            }
            probability = Number(next());
          } else if (module === "recent") {
            let set = false;
            let rcheck = false;
            let name = "DEFAULT";
            while (tokens[i + 1]?.startsWith("--")) {
              const flag = next();
              if (flag === "--set") set = true;
              else if (flag === "--rcheck") rcheck = true;
              else if (flag === "--name") name = next();
              else if (flag === "--seconds" || flag === "--mask") next();
              else if (flag === "--reap" || flag === "--rsource") {
                // no argument
              } else throw new Error(`unsupported recent flag ${flag}: ${text}`);
            }
            if (rcheck) check(this.options.recent?.get(name)?.has(packet.source) ?? false);
            if (set) recentSet = name;
          } else if (module === "mark") {
            if (tokens[i + 1] === "!") {
              i++;
              negate = true;
            }
            if (next() !== "--mark") throw new Error(`unsupported mark match: ${text}`);
            const [v, m] = next()
              .split("/")
              .map((x) => Number.parseInt(x, 16)) as [number, number];
            check((state.mark & m) >>> 0 === v);
          } else if (module === "conntrack") {
            if (tokens[i + 1] === "!") {
              i++;
              negate = true;
            }
            if (next() !== "--ctstate") throw new Error(`unsupported conntrack match: ${text}`);
            const states = next().split(",");
            const packetStates = ["NEW", ...(state.dnat ? ["DNAT"] : [])];
            check(states.some((s) => packetStates.includes(s)));
          } else throw new Error(`unsupported match module ${module}: ${text}`);
          break;
        }
        case "-j": {
          const target = next();
          return {
            matched,
            probability: matched ? probability : 1,
            target,
            targetArgs: tokens.slice(i + 1),
            recentSet,
          };
        }
        default:
          throw new Error(`unsupported token ${t}: ${text}`);
      }
    }
    return { matched, probability: matched ? probability : 1, target: undefined, targetArgs: [], recentSet };
  }
}
