// The rule syncer: programs the rendered rules into the kernel, incrementally.
//
// - A full sync reads the tables back (iptables-save, streamed), compares them with the wanted rules chain
//   by chain, and changes only what differs: after a restart with unchanged Services it changes nothing, so
//   there is never a window without rules. It also repairs the jumps from the built-in chains and deletes
//   Deckhand's stale chains. It runs first, every fullSyncPeriod, and after any failure.
// - A partial sync uses the syncer's own record of what it programmed (no iptables-save on the hot path):
//   it rewrites only the chains of changed services and adds or deletes only their rules in the shared
//   top-level chains, so the 10,000-rule KUBE-SERVICES chain is never re-declared for one change.
// - Every restore is `iptables-restore --noflush` with a bounded number of chains. Chains of services that
//   nothing jumps to yet are created first (the kernel does not revalidate unreachable chains), and the
//   jumps to them are added last, so a service appears all at once.
// Chains Deckhand does not own are never declared, flushed or deleted.
import {
  EXT_PREFIX,
  FILTER_CHAINS,
  FW_PREFIX,
  isServiceChainName,
  KUBE_NODEPORTS,
  KUBE_PROXY_CANARY,
  KUBE_SERVICES,
  NAT_CHAINS,
  SEP_PREFIX,
  SVC_PREFIX,
  SVL_PREFIX,
} from "./chain-names.ts";
import { ChainSlots, NO_RULES } from "./chain-slots.ts";
import { type Iptables, isRestoreError, type RestoreSession, saveTables } from "./iptables.ts";
import { JUMPS, planJumps } from "./jumps.ts";
import { Batcher, chainText, PayloadBuilder } from "./payload.ts";
import {
  type ProxyRulesConfig,
  type ProxyState,
  type RenderContext,
  renderBase,
  renderContext,
  renderServicePort,
  type ServicePortRules,
  type TopRule,
} from "./render.ts";
import { chainOf, type Table } from "./rule-text.ts";
import { type KernelTable, SaveParser } from "./save-parser.ts";
import type { RuleSource } from "./tracer.ts";
import type { EndpointInfo, ServicePortInfo } from "./types.ts";

export interface ProxyLogger {
  debug(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

export interface SyncerOptions {
  iptables: Iptables;
  config: ProxyRulesConfig;
  log: ProxyLogger;
  /** Chains per restore that only creates chains nothing jumps to yet. Default: 1,000 (nft), unlimited (legacy). */
  maxChainsPerCreateRestore?: number;
  /**
   * Chains per restore that changes chains already in use (the kernel revalidates the whole table for each
   * such restore, ~0.4 s at 10,000 services). Default: 4,000 (nft), unlimited (legacy).
   */
  maxChainsPerUpdateRestore?: number;
}

export interface SyncReport {
  kind: "full" | "partial";
  /** A partial sync failed and a full sync ran instead. */
  fellBack: boolean;
  restores: number;
  chainsWritten: number;
  chainsDeleted: number;
  topRulesChanged: number;
  jumpsFixed: number;
}

/** What the syncer programmed for one service port, and what it was rendered from. */
interface Programmed {
  service: string;
  chains: string[];
  digests: number[];
  /** Each chain's slot in the syncer's ChainSlots (what the last iptables-save had for it). */
  slots: number[];
  /** Rules in its chains (for the rule count metric). */
  rules: number;
  top: TopRule[];
  /**
   * The inputs of that render (the trackers hand out new objects for every change): when they are the same
   * objects, rendering again would give the same rules, so a full sync compares digests without rendering.
   */
  from: { svc: ServicePortInfo; endpoints: readonly EndpointInfo[]; largeClusterMode: boolean };
}

/** The endpoints of a service port that has none: one shared array, so "unchanged" is an identity check. */
const NO_ENDPOINTS: readonly EndpointInfo[] = Object.freeze([]);

function renderedFrom(
  svc: ServicePortInfo,
  endpoints: readonly EndpointInfo[],
  ctx: RenderContext,
): Programmed["from"] {
  return { svc, endpoints, largeClusterMode: ctx.largeClusterMode };
}

/**
 * What is programmed for a service port from its rendered rules (chain names, digests and rule count), and
 * each chain's text for the payloads that write it.
 */
function programmedFrom(
  svc: ServicePortInfo,
  from: Programmed["from"],
  rules: ServicePortRules,
): { programmed: Programmed; texts: string[] } {
  const programmed: Programmed = {
    service: svc.service,
    chains: [],
    digests: [],
    slots: [],
    rules: 0,
    top: rules.top,
    from,
  };
  const texts: string[] = [];
  for (const chain of rules.chains) {
    const { text, digest } = chainText(chain.rules);
    programmed.chains.push(chain.name);
    programmed.digests.push(digest);
    programmed.rules += chain.rules.length;
    texts.push(text);
  }
  return { programmed, texts };
}

function sameInputs(from: Programmed["from"], next: Programmed["from"]): boolean {
  return (
    from.svc === next.svc &&
    from.endpoints === next.endpoints &&
    from.largeClusterMode === next.largeClusterMode
  );
}

const BUILTIN_CHAINS = new Set(["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"]);
const TOP_CHAINS: Record<"filter" | "nat", readonly string[]> = {
  filter: ["KUBE-SERVICES", "KUBE-EXTERNAL-SERVICES", "KUBE-NODEPORTS", "KUBE-PROXY-FIREWALL"],
  nat: [KUBE_SERVICES, KUBE_NODEPORTS],
};
const STATIC_NAMES = new Set<string>([...FILTER_CHAINS, ...NAT_CHAINS, KUBE_PROXY_CANARY]);
/** Stale chains are deleted referrers first: FW and EXT jump to SVC/SVL, which jump to SEP. */
const DELETE_ORDER = [FW_PREFIX, EXT_PREFIX, SVC_PREFIX, SVL_PREFIX, SEP_PREFIX];

const JUMP_RULES = new Set(JUMPS.map((jump) => jump.rule));

export function isOwnedChain(chain: string): boolean {
  return STATIC_NAMES.has(chain) || isServiceChainName(chain);
}

/** Top-level rule prefixes ("-A CHAIN ") → the desiredTop key ("table CHAIN"), per table. */
const TOP_PREFIXES: Record<"filter" | "nat", Array<[string, string]>> = {
  filter: TOP_CHAINS.filter.map((chain) => [`-A ${chain} `, `filter ${chain}`]),
  nat: TOP_CHAINS.nat.map((chain) => [`-A ${chain} `, `nat ${chain}`]),
};

/** The list a top-level rule goes into, without slicing its chain name out (10,000+ rules per full sync). */
function desiredTopOf(desiredTop: Map<string, string[]>, top: TopRule): string[] {
  for (const [prefix, key] of TOP_PREFIXES[top.table])
    if (top.rule.startsWith(prefix)) return desiredTop.get(key) as string[];
  const key = `${top.table} ${chainOf(top.rule)}`;
  let list = desiredTop.get(key);
  if (!list) {
    list = [];
    desiredTop.set(key, list);
  }
  return list;
}

function topKey(top: TopRule): string {
  return `${top.table} ${top.rule}`;
}

export class RuleSyncer {
  /** The next sync must be a full one (start, failure, canary gone, large-cluster mode switched). */
  needFullSync = true;
  /** Stale chains the last full sync could not delete because other programs' rules jump to them. */
  private blockedStaleChains = 0;
  private readonly iptables: Iptables;
  private readonly config: ProxyRulesConfig;
  private readonly log: ProxyLogger;
  private readonly createBudget: number;
  private readonly updateBudget: number;
  /** Unbounded payloads (legacy): a whole sync is one payload, one commit per table. */
  private readonly single: boolean;
  private record = new Map<string, Programmed>();
  /** The chains of `record`, by name. */
  private readonly slots = new ChainSlots();
  private largeClusterMode: boolean | undefined;
  private restores = 0;
  /** iptables-restore calls that failed. */
  restoreFailures = 0;
  /** …of them, in partial syncs (upstream's kubeproxy_sync_proxy_rules_iptables_partial_restore_failures_total). */
  partialRestoreFailures = 0;
  /** The running sync is a partial one. */
  private inPartial = false;
  /** Rules of the static chains, per table, as of the last full sync. */
  private baseRules = { filter: 0, nat: 0 };
  /** Inside inSession(): the session restores go to (started on first use). */
  private openSession: (() => RestoreSession) | undefined;
  /** A failure was already counted and logged for the running sync (a session reports it twice). */
  private failureCounted = false;

  constructor(options: SyncerOptions) {
    this.iptables = options.iptables;
    this.config = options.config;
    this.log = options.log;
    const legacy = options.iptables.backend === "legacy";
    this.createBudget = options.maxChainsPerCreateRestore ?? (legacy ? Number.POSITIVE_INFINITY : 1_000);
    this.updateBudget = options.maxChainsPerUpdateRestore ?? (legacy ? Number.POSITIVE_INFINITY : 4_000);
    this.single =
      this.createBudget === Number.POSITIVE_INFINITY && this.updateBudget === Number.POSITIVE_INFINITY;
  }

  /** Service ports currently programmed. */
  get programmedPorts(): number {
    return this.record.size;
  }

  /** Rules Deckhand has programmed per table (its own chains; not the jumps from built-in chains). */
  ruleCounts(): { filter: number; nat: number } {
    const counts = { ...this.baseRules };
    for (const programmed of this.record.values()) {
      counts.nat += programmed.rules;
      for (const top of programmed.top) counts[top.table]++;
    }
    return counts;
  }

  /** What is programmed for one service port (for `deckhand debug services`); undefined if nothing. */
  programmedFor(key: string): { chains: readonly string[]; topRules: readonly string[] } | undefined {
    const programmed = this.record.get(key);
    if (!programmed) return undefined;
    return { chains: programmed.chains, topRules: programmed.top.map((top) => `${top.table} ${top.rule}`) };
  }

  /** The rules config every sync renders with. */
  get rulesConfig(): ProxyRulesConfig {
    return this.config;
  }

  /** Each programmed service port with the service and endpoints its rules were rendered from. */
  *programmedInputs(): Generator<{ key: string; svc: ServicePortInfo; endpoints: readonly EndpointInfo[] }> {
    for (const [key, programmed] of this.record)
      yield { key, svc: programmed.from.svc, endpoints: programmed.from.endpoints };
  }

  /**
   * What the syncer programmed, as a rule source for the packet tracer: built from its own record (no
   * iptables-save), so it costs nothing until asked. Static and top-level chains are assembled once per
   * source; a service port's chains are rendered again (from the very inputs they were programmed from)
   * only when a trace reaches them. Top-level rules are in record order, not the kernel's: each matches
   * its own service address, so the order does not change where a packet goes.
   */
  programmedRules(): RuleSource {
    const base = renderBase(this.config);
    const tables: Record<"filter" | "nat", Map<string, string[]>> = { filter: new Map(), nat: new Map() };
    for (const table of ["filter", "nat"] as const) {
      for (const chain of ["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"])
        tables[table].set(chain, []);
      for (const chain of TOP_CHAINS[table]) tables[table].set(chain, []);
    }
    // Each missing jump is inserted at the top of its built-in chain, in JUMPS order: the last is first.
    for (const jump of JUMPS) tables[jump.table].get(jump.from)?.unshift(jump.rule);
    for (const chain of base.chains) {
      if (chain.table !== "mangle") tables[chain.table].set(chain.name, [...chain.rules]);
    }
    const owner = new Map<string, Programmed>();
    for (const programmed of this.record.values()) {
      for (const top of programmed.top) tables[top.table].get(chainOf(top.rule))?.push(top.rule);
      for (const chain of programmed.chains) owner.set(chain, programmed);
    }
    tables.nat.get(KUBE_SERVICES)?.push(...base.natServicesTrailer);
    const rendered = new Map<Programmed, ServicePortRules>();
    const config = this.config;
    return {
      chain(table, name) {
        if (table === "mangle") return undefined;
        const fixed = tables[table].get(name);
        if (fixed || table !== "nat") return fixed;
        const programmed = owner.get(name);
        if (!programmed) return undefined;
        let rules = rendered.get(programmed);
        if (!rules) {
          const { svc, endpoints, largeClusterMode } = programmed.from;
          rules = renderServicePort(svc, endpoints, { ...config, largeClusterMode });
          rendered.set(programmed, rules);
        }
        return rules.chains.find((chain) => chain.name === name)?.rules;
      },
    };
  }

  /**
   * Brings the kernel in line with `state`. `changed` names the Services ("namespace/name") whose ports or
   * endpoints changed since the last sync; a full sync ignores it. Throws when the rules could not be
   * programmed (the next sync is then a full one).
   */
  async sync(state: ProxyState, changed: ReadonlySet<string>): Promise<SyncReport> {
    this.failureCounted = false;
    this.inPartial = false;
    const ctx = renderContext(this.config, state);
    if (this.largeClusterMode !== undefined && this.largeClusterMode !== ctx.largeClusterMode) {
      this.log.info(
        { largeClusterMode: ctx.largeClusterMode },
        "large cluster mode switched; rewriting every chain",
      );
      this.needFullSync = true;
    }
    this.largeClusterMode = ctx.largeClusterMode;
    if (this.needFullSync) return this.runFull(state, ctx, false);
    try {
      this.inPartial = true;
      return await this.partial(state, ctx, changed);
    } catch (error) {
      this.inPartial = false;
      this.log.warn({ err: error }, "partial sync failed; falling back to a full sync");
      this.needFullSync = true;
      this.failureCounted = false;
      return this.runFull(state, ctx, true);
    }
  }

  /** True when the canary chains of nat and filter are present (someone flushing the tables removes them). */
  async canariesPresent(): Promise<boolean> {
    for (const table of ["nat", "filter"] as const) {
      const result = await this.iptables.run(["-t", table, "-S", KUBE_PROXY_CANARY]);
      if (result.code !== 0) return false;
    }
    return true;
  }

  private async runFull(state: ProxyState, ctx: RenderContext, fellBack: boolean): Promise<SyncReport> {
    this.needFullSync = true;
    const report = await this.full(state, ctx);
    // Stale chains another program still jumps to are retried by the next sync (at most syncPeriod away),
    // not left until the next periodic full sync an hour later.
    this.needFullSync = this.blockedStaleChains > 0;
    return { ...report, fellBack };
  }

  private async restore(payload: PayloadBuilder | string): Promise<void> {
    const text = typeof payload === "string" ? payload : payload.text();
    this.restores++;
    const session = this.openSession?.();
    await this.counted(() => (session ? session.write(text) : this.iptables.restore(text)));
  }

  /** Runs `fn` with its restores streamed into one iptables-restore process, started at the first one. */
  private async inSession<T>(fn: () => Promise<T>): Promise<T> {
    let session: RestoreSession | undefined;
    this.openSession = () => {
      session ??= this.iptables.openRestore();
      return session;
    };
    try {
      const result = await fn();
      this.openSession = undefined;
      if (session) {
        const opened = session;
        await this.counted(() => opened.close());
      }
      return result;
    } catch (error) {
      session?.abort();
      throw error;
    } finally {
      this.openSession = undefined;
    }
  }

  private async counted(fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (error) {
      if (this.failureCounted) throw error;
      this.failureCounted = true;
      this.restoreFailures++;
      if (this.inPartial) this.partialRestoreFailures++;
      this.log.warn(
        { err: error, line: isRestoreError(error) ? error.lineText : undefined },
        "iptables-restore failed; nothing of the failing table was applied",
      );
      throw error;
    }
  }

  private readTables(): Promise<Record<Table, KernelTable>> {
    return saveTables(
      this.iptables,
      ["filter", "nat", "mangle"],
      (table) =>
        new SaveParser({
          keepRules: (chain) => BUILTIN_CHAINS.has(chain) || STATIC_NAMES.has(chain),
          owned: isOwnedChain,
          ownRule: (rule) => JUMP_RULES.has(rule),
          ...(table === "nat" ? { slots: this.slots } : {}),
        }),
    );
  }

  /**
   * Makes `next` the record, moving the chain slots with it; returns the chains of the old record that
   * `next` does not want and the last save found in the kernel (stale now).
   */
  private adoptRecord(next: Map<string, Programmed>): string[] {
    const changes: Array<[Programmed | undefined, Programmed | undefined]> = [];
    for (const [key, programmed] of next) {
      const old = this.record.get(key);
      if (old !== programmed) changes.push([old, programmed]);
    }
    for (const [key, old] of this.record) if (!next.has(key)) changes.push([old, undefined]);
    const stale: string[] = [];
    for (const [old, programmed] of changes) {
      if (!old) continue;
      const kept = new Set(programmed?.chains);
      old.slots.forEach((id, i) => {
        const chain = old.chains[i] as string;
        if (!kept.has(chain) && this.slots.kernelDigest(id) !== undefined) stale.push(chain);
      });
    }
    let chains = 0;
    for (const programmed of next.values()) chains += programmed.chains.length;
    this.slots.reserve(chains);
    for (const [old, programmed] of changes) this.retarget(old, programmed);
    this.record = next;
    return stale;
  }

  /** Moves the chain slots from what was programmed for a service port to what will be (either may be none). */
  private retarget(old: Programmed | undefined, next: Programmed | undefined): void {
    if (old === next) return;
    for (const chain of old?.chains ?? []) this.slots.release(chain);
    if (next) next.slots = next.chains.map((chain) => this.slots.claim(chain));
  }

  private async full(state: ProxyState, ctx: RenderContext): Promise<SyncReport> {
    const restoresBefore = this.restores;
    const kernel = await this.readTables();
    const report: SyncReport = {
      kind: "full",
      fellBack: false,
      restores: 0,
      chainsWritten: 0,
      chainsDeleted: 0,
      topRulesChanged: 0,
      jumpsFixed: 0,
    };

    // 1. Canaries, missing top-level chains (never re-declared when present: that would flush them), and
    //    the static chains whose content differs.
    const base = renderBase(this.config);
    const baseRules = { filter: 0, nat: base.natServicesTrailer.length };
    for (const chain of base.chains)
      baseRules[chain.table === "nat" ? "nat" : "filter"] += chain.rules.length;
    this.baseRules = baseRules;
    // On the legacy backend every commit copies the whole table: everything goes into one payload.
    const shared = this.single
      ? new Batcher(Number.POSITIVE_INFINITY, (text) => this.restore(text))
      : undefined;
    const basePayload = shared ? await shared.next() : new PayloadBuilder();
    for (const table of ["mangle", "nat", "filter"] as const) {
      if (!kernel[table].chains.has(KUBE_PROXY_CANARY)) basePayload.writeChain(table, KUBE_PROXY_CANARY, []);
    }
    for (const table of ["filter", "nat"] as const) {
      for (const chain of TOP_CHAINS[table]) {
        if (!kernel[table].chains.has(chain)) basePayload.writeChain(table, chain, []);
      }
    }
    for (const chain of base.chains) {
      const have = kernel[chain.table].chains.has(chain.name)
        ? (kernel[chain.table].rules.get(chain.name) ?? [])
        : undefined;
      if (!have || have.join("\n") !== chain.rules.join("\n")) {
        basePayload.writeChain(chain.table, chain.name, chain.rules);
        report.chainsWritten++;
      }
    }
    // 2. Jumps from the built-in chains, exactly one each: the missing ones inserted at the top, extra copies
    //    deleted (in the same payload, after the chains they jump to are declared).
    const fixes = planJumps((table, chain) => kernel[table].rules.get(chain) ?? []);
    for (const fix of fixes) {
      if (fix.action === "add") basePayload.addRule(fix.jump.table, fix.jump.rule, true);
      else basePayload.deleteRule(fix.jump.table, fix.jump.rule);
      report.jumpsFixed++;
    }
    if (fixes.length > 0)
      this.log.info({ fixes: fixes.map((f) => `${f.action} ${f.jump.rule}`) }, "fixing built-in chain jumps");

    // 3.–5. follow in the same iptables-restore process, payload after payload.
    await this.inSession(async () => {
      if (!shared && !basePayload.isEmpty) await this.restore(basePayload);
      await this.fullServices(state, ctx, kernel, base, report, shared);
      await shared?.flush();
    });
    report.restores = this.restores - restoresBefore;
    return report;
  }

  /**
   * Full sync of the per-service chains, the top-level chains and stale chains; the record becomes what
   * `state` wants once the per-service chains are written.
   */
  private async fullServices(
    state: ProxyState,
    ctx: RenderContext,
    kernel: Record<Table, KernelTable>,
    base: ReturnType<typeof renderBase>,
    report: SyncReport,
    shared: Batcher | undefined,
  ): Promise<void> {
    // 3. Per-service chains whose content differs: unreachable ones in larger numbers per restore. A
    //    service port is rendered only when its inputs changed or one of its chains is written, and its
    //    rules are dropped after, so memory stays bounded. What the kernel has for a chain the record
    //    already had is in its slot; for a chain new to the record, in the save's other digests.
    const nat = kernel.nat;
    const apply = (text: string) => this.restore(text);
    const create = shared ?? new Batcher(this.createBudget, apply);
    const update = shared ?? new Batcher(this.updateBudget, apply);
    const desiredTop = new Map<string, string[]>();
    for (const table of ["filter", "nat"] as const)
      for (const chain of TOP_CHAINS[table]) desiredTop.set(`${table} ${chain}`, []);
    const next = new Map<string, Programmed>();
    const kernelDigestOf = (chain: string): number | undefined => {
      const id = this.slots.idOf(chain);
      return id !== undefined ? this.slots.kernelDigest(id) : nat.digests.get(chain);
    };
    for (const key of [...state.ports.keys()].sort()) {
      const svc = state.ports.get(key) as ServicePortInfo;
      const endpoints = state.endpoints.get(key) ?? NO_ENDPOINTS;
      const from = renderedFrom(svc, endpoints, ctx);
      const old = this.record.get(key);
      let programmed: Programmed;
      let texts: string[] | undefined;
      let haves: Array<number | undefined> | undefined;
      if (old && sameInputs(old.from, from)) programmed = old;
      else {
        ({ programmed, texts } = programmedFrom(svc, from, renderServicePort(svc, endpoints, ctx)));
        haves = programmed.chains.map(kernelDigestOf);
      }
      next.set(key, programmed);
      for (const top of programmed.top) desiredTopOf(desiredTop, top).push(top.rule);
      let writes: number[] | undefined;
      let fresh = true;
      const { chains, digests, slots } = programmed;
      for (let i = 0; i < chains.length; i++) {
        const have = haves ? haves[i] : this.slots.kernelDigest(slots[i] as number);
        if (have !== undefined && have !== NO_RULES) fresh = false;
        if (have === digests[i]) continue;
        writes ??= [];
        writes.push(i);
      }
      if (writes) {
        // Unchanged inputs whose chains differ in the kernel (someone changed them): render them again.
        texts ??= programmedFrom(svc, from, renderServicePort(svc, endpoints, ctx)).texts;
        const payload = await (fresh ? create : update).next();
        for (const i of writes) payload.writeChain("nat", chains[i] as string, texts[i] as string);
        report.chainsWritten += writes.length;
      }
    }
    if (!shared) {
      await create.flush();
      await update.flush();
    }
    const staleKnown = this.adoptRecord(next);

    // 4. The shared top-level chains: edit them rule by rule, or re-declare one when that is cheaper.
    const topPayload = shared ? await shared.next() : new PayloadBuilder();
    for (const table of ["filter", "nat"] as const) {
      for (const chain of TOP_CHAINS[table]) {
        const desired = desiredTop.get(`${table} ${chain}`) ?? [];
        const trailer = table === "nat" && chain === KUBE_SERVICES ? base.natServicesTrailer : [];
        report.topRulesChanged += this.planTopChain(
          topPayload,
          table,
          chain,
          desired,
          trailer,
          kernel[table].rules.get(chain) ?? [],
        );
      }
    }
    if (!shared && !topPayload.isEmpty) await this.restore(topPayload);

    // 5. Deckhand's chains nothing wants any more: those declared that the record had no slot for and still
    //    does not want (every chain the record wants has a slot now), and those the record stopped wanting.
    const stale = [
      ...nat.serviceChains.filter((chain) => this.slots.idOf(chain) === undefined),
      ...staleKnown,
    ];
    const blocked = stale.filter((chain) => nat.foreignReferences.has(chain));
    this.blockedStaleChains = blocked.length;
    if (blocked.length > 0) {
      this.log.warn({ chains: blocked }, "not deleting stale chains other programs' rules jump to");
    }
    const removal = shared ?? new Batcher(this.updateBudget, apply);
    for (const prefix of DELETE_ORDER) {
      for (const chain of stale) {
        if (!chain.startsWith(prefix) || nat.foreignReferences.has(chain)) continue;
        (await removal.next()).removeChain("nat", chain);
        report.chainsDeleted++;
      }
    }
    if (!shared) await removal.flush();
  }

  /** Adds the edits turning the kernel's `have` into `desired` (+ `trailer` at the end); returns how many. */
  private planTopChain(
    payload: PayloadBuilder,
    table: "filter" | "nat",
    chain: string,
    desired: readonly string[],
    trailer: readonly string[],
    have: readonly string[],
  ): number {
    const trailerOk =
      have.length >= trailer.length &&
      trailer.every((rule, i) => have[have.length - trailer.length + i] === rule) &&
      !have.slice(0, have.length - trailer.length).some((rule) => trailer.includes(rule));
    const body = trailerOk ? have.slice(0, have.length - trailer.length) : have;
    const desiredSet = new Set(desired);
    const seen = new Set<string>();
    const deletes: string[] = [];
    for (const rule of body) {
      if (!desiredSet.has(rule) || seen.has(rule)) deletes.push(rule);
      seen.add(rule);
    }
    const adds = desired.filter((rule) => !seen.has(rule));
    if (trailerOk && deletes.length === 0 && adds.length === 0) return 0;
    const redeclare =
      !trailerOk || (body.length === 0 && adds.length > 0) || deletes.length > Math.max(64, body.length / 4);
    if (redeclare) {
      payload.writeChain(table, chain, [...desired, ...trailer]);
      return desired.length + trailer.length;
    }
    for (const rule of deletes) payload.deleteRule(table, rule);
    for (const rule of adds) payload.addRule(table, rule, trailer.length > 0);
    return deletes.length + adds.length;
  }

  private async partial(
    state: ProxyState,
    ctx: RenderContext,
    changed: ReadonlySet<string>,
  ): Promise<SyncReport> {
    const restoresBefore = this.restores;
    const report: SyncReport = {
      kind: "partial",
      fellBack: false,
      restores: 0,
      chainsWritten: 0,
      chainsDeleted: 0,
      topRulesChanged: 0,
      jumpsFixed: 0,
    };
    if (changed.size === 0) {
      if (!(await this.canariesPresent())) {
        this.log.info({}, "canary chain missing (tables flushed?); running a full sync");
        throw new Error("canary chain missing");
      }
      return report;
    }
    const keys = new Set<string>();
    for (const [key, programmed] of this.record) if (changed.has(programmed.service)) keys.add(key);
    for (const [key, svc] of state.ports) if (changed.has(svc.service)) keys.add(key);

    const updates = new Map<string, Programmed | undefined>();
    await this.inSession(async () => {
      const apply = (text: string) => this.restore(text);
      const shared = this.single ? new Batcher(Number.POSITIVE_INFINITY, apply) : undefined;
      const create = shared ?? new Batcher(this.createBudget, apply);
      const update = shared ?? new Batcher(this.updateBudget, apply);
      const last = shared ? await shared.next() : new PayloadBuilder();
      for (const key of [...keys].sort()) {
        const old = this.record.get(key);
        const svc = state.ports.get(key);
        const endpoints = state.endpoints.get(key) ?? NO_ENDPOINTS;
        const rules: ServicePortRules | undefined = svc ? renderServicePort(svc, endpoints, ctx) : undefined;
        const rendered =
          svc && rules ? programmedFrom(svc, renderedFrom(svc, endpoints, ctx), rules) : undefined;
        const next = rendered?.programmed;
        const oldDigests = new Map<string, number>();
        for (const [i, chain] of (old?.chains ?? []).entries())
          oldDigests.set(chain, old?.digests[i] as number);

        // The unit's changes; a Service seen for the first time has nothing jumping to its chains yet, so its
        // chains go into creation payloads and its top-level rules into the last payload.
        const ops: Array<(payload: PayloadBuilder) => void> = [];
        const topOps: Array<(payload: PayloadBuilder) => void> = [];
        for (const [i, chain] of (rules?.chains ?? []).entries()) {
          if (oldDigests.get(chain.name) === next?.digests[i]) continue;
          const text = rendered?.texts[i] as string;
          ops.push((p) => p.writeChain("nat", chain.name, text));
          report.chainsWritten++;
        }
        const newTop = new Set((rules?.top ?? []).map(topKey));
        const oldTop = new Set((old?.top ?? []).map(topKey));
        for (const top of old?.top ?? []) {
          if (newTop.has(topKey(top))) continue;
          topOps.push((p) => p.deleteRule(top.table, top.rule));
          report.topRulesChanged++;
        }
        for (const top of rules?.top ?? []) {
          if (oldTop.has(topKey(top))) continue;
          const first = top.table === "nat" && top.rule.startsWith(`-A ${KUBE_SERVICES} `);
          topOps.push((p) => p.addRule(top.table, top.rule, first));
          report.topRulesChanged++;
        }
        const newChains = new Set(next?.chains ?? []);
        for (const chain of old?.chains ?? []) {
          if (newChains.has(chain)) continue;
          topOps.push((p) => p.removeChain("nat", chain));
          report.chainsDeleted++;
        }
        if (old) {
          if (ops.length + topOps.length > 0) {
            const payload = await update.next();
            for (const op of [...ops, ...topOps]) op(payload);
          }
        } else {
          if (ops.length > 0) {
            const payload = await create.next();
            for (const op of ops) op(payload);
          }
          for (const op of topOps) op(last);
        }
        updates.set(key, next);
      }
      if (shared) await shared.flush();
      else {
        await create.flush();
        await update.flush();
        if (!last.isEmpty) await this.restore(last);
      }
    });
    for (const [key, next] of updates) {
      this.retarget(this.record.get(key), next);
      if (next) this.record.set(key, next);
      else this.record.delete(key);
    }
    report.restores = this.restores - restoresBefore;
    return report;
  }
}
