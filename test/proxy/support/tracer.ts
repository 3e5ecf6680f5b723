// A packet tracer over iptables rules (like upstream's iptablesTracer in proxier_test.go): a small
// interpreter of the rule subset Deckhand emits. It follows a packet through nat PREROUTING/OUTPUT, filter
// INPUT/FORWARD/OUTPUT and nat POSTROUTING, and explores both outcomes of every `-m statistic` rule, so it
// returns every way the packet can end with its probability. Unknown matches or targets throw, so the
// tracer never silently ignores semantics.

import { cidrContains, isLoopback } from "../../../src/proxy/ip.ts";
import { JUMPS } from "../../../src/proxy/jumps.ts";
import { parseTables, type TableName, type Tables, tokenize } from "./rules-model.ts";

export interface Packet {
  protocol: "tcp" | "udp" | "sctp";
  source: string;
  dest: string;
  dport: number;
  /** "local": sent by a process on this node (OUTPUT); "external": arriving from elsewhere (PREROUTING). */
  origin: "local" | "external";
}

export interface TraceOptions {
  /** The node's own addresses (127.0.0.0/8 is always local). */
  localAddresses: string[];
  /** Session affinity state: `-m recent` list name → source addresses in it. */
  recent?: ReadonlyMap<string, ReadonlySet<string>>;
}

export interface Outcome {
  probability: number;
  verdict: "ACCEPT" | "DROP" | "REJECT";
  /** "ip:port" after DNAT, if the packet was DNATed. */
  dnat?: string;
  masquerade: boolean;
  /** User chains visited, in order. */
  chains: string[];
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
  recentSet: string[];
  /** A terminal target decided the table's verdict. */
  verdict?: "ACCEPT" | "DROP" | "REJECT";
}

/** A path after a chain: `returned` to the caller (fell off the end or RETURN), or ended by a verdict. */
type Walk = PathState & { returned: boolean };
/** A path after one rule's target: go on with the next rule, leave the chain (RETURN), or ended. */
type Step = PathState & { next: "continue" | "return" | "end" };

export class Tracer {
  private readonly tables: Tables;
  private readonly options: TraceOptions;

  constructor(rulesText: string, options: TraceOptions) {
    this.tables = parseTables(rulesText);
    // The jumps from built-in chains are not part of a payload (they are ensured separately): add them.
    for (const jump of JUMPS) {
      const rules = this.tables[jump.table].get(jump.from);
      if (rules && !rules.includes(jump.rule) && this.tables[jump.table].has(jump.to))
        rules.unshift(jump.rule);
    }
    this.options = options;
  }

  trace(packet: Packet): Outcome[] {
    const start: PathState = {
      probability: 1,
      dest: packet.dest,
      dport: packet.dport,
      mark: 0,
      chains: [],
      recentSet: [],
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
          outcomes.push(this.outcome(afterFilter, verdict, false));
          continue;
        }
        for (const post of this.walkChain("nat", "POSTROUTING", packet, {
          ...afterFilter,
          verdict: undefined,
        })) {
          outcomes.push(this.outcome(post, "ACCEPT", post.chains.includes("MASQUERADE")));
        }
      }
    }
    return outcomes;
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

  private outcome(state: PathState, verdict: Outcome["verdict"], masquerade: boolean): Outcome {
    return {
      probability: state.probability,
      verdict,
      dnat: state.dnat,
      masquerade,
      chains: state.chains.filter((c) => c !== "MASQUERADE"),
      recentSet: state.recentSet,
    };
  }

  private isLocal(ip: string): boolean {
    return isLoopback(ip) || this.options.localAddresses.includes(ip);
  }

  /** Walks a chain from the top; yields every path's state once the table's traversal ends. */
  private walkChain(table: TableName, chain: string, packet: Packet, state: PathState): PathState[] {
    return this.walk(table, chain, packet, state).map(({ returned: _, ...rest }) => rest);
  }

  private walk(table: TableName, chain: string, packet: Packet, initial: PathState, depth = 0): Walk[] {
    if (depth > 20) throw new Error(`chain recursion too deep at ${table}/${chain}`);
    const rules = this.tables[table].get(chain);
    if (!rules) throw new Error(`no chain ${table}/${chain}`);
    const done: Walk[] = [];
    let active: PathState[] = [
      { ...initial, chains: depth === 0 ? initial.chains : [...initial.chains, chain] },
    ];
    for (const text of rules) {
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
        for (const { next: how, ...r } of this.apply(table, target, targetArgs, packet, taken, depth, text)) {
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
    state: PathState,
    depth: number,
    text: string,
  ): Step[] {
    if (target === undefined) return [{ ...state, next: "continue" }]; // no target: counts, continues
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
        return [{ ...state, chains: [...state.chains, "MASQUERADE"], next: "end", verdict: "ACCEPT" }];
      default: {
        if (!this.tables[table].has(target)) throw new Error(`jump to missing chain ${target}: ${text}`);
        return this.walk(table, target, packet, state, depth + 1).map(({ returned, ...r }) => ({
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
