// `deckhand agent --cleanup-proxy`: removes every rule and chain the service proxy created (the jumps from
// the built-in chains, the top-level, static, canary and per-service chains) and nothing else. Chains other
// programs' rules still jump to cannot be deleted; they are reported, never touched.
import { isServiceChainName } from "./chain-names.ts";
import { type Iptables, saveTables } from "./iptables.ts";
import { JUMPS } from "./jumps.ts";
import { Batcher, PayloadBuilder } from "./payload.ts";
import { jumpTarget, type Table } from "./rule-text.ts";
import { type KernelTable, SaveParser } from "./save-parser.ts";
import { isOwnedChain } from "./syncer.ts";

export interface CleanupResult {
  jumpsRemoved: number;
  chainsRemoved: number;
  /** Deckhand chains left in place because other programs' rules jump to them. */
  chainsKept: string[];
}

const ORDER = ["KUBE-FW-", "KUBE-EXT-", "KUBE-SVC-", "KUBE-SVL-", "KUBE-SEP-"];

const JUMP_RULES = new Set(JUMPS.map((jump) => jump.rule));

function read(iptables: Iptables): Promise<Record<Table, KernelTable>> {
  return saveTables(
    iptables,
    ["filter", "nat", "mangle"],
    () =>
      new SaveParser({
        keepRules: () => true,
        owned: isOwnedChain,
        ownRule: (rule) => JUMP_RULES.has(rule),
        keepServiceChainRules: true,
      }),
  );
}

/** Chains other programs jump to, and every Deckhand chain those reach: they stay as they are. */
function keptChains(kernel: KernelTable): Set<string> {
  const kept = new Set(kernel.foreignReferences);
  const queue = [...kept];
  for (let chain = queue.pop(); chain !== undefined; chain = queue.pop()) {
    for (const rule of kernel.rules.get(chain) ?? []) {
      const target = jumpTarget(rule);
      if (target && isOwnedChain(target) && !kept.has(target)) {
        kept.add(target);
        queue.push(target);
      }
    }
  }
  return kept;
}

export async function cleanupProxyRules(
  iptables: Iptables,
  options: { maxChainsPerRestore?: number } = {},
): Promise<CleanupResult> {
  const result: CleanupResult = { jumpsRemoved: 0, chainsRemoved: 0, chainsKept: [] };
  const tables = await read(iptables);

  // Unlink: every copy of every jump from a built-in chain.
  for (const jump of JUMPS) {
    const copies = (tables[jump.table].rules.get(jump.from) ?? []).filter(
      (rule) => rule === jump.rule,
    ).length;
    for (let i = 0; i < copies; i++) {
      const outcome = await iptables.run(["-t", jump.table, "-D", jump.from, ...jump.args]);
      if (outcome.code !== 0)
        throw new Error(`iptables -t ${jump.table} -D ${jump.from} failed: ${outcome.stderr.trim()}`);
      result.jumpsRemoved++;
    }
  }

  const budget =
    options.maxChainsPerRestore ?? (iptables.backend === "legacy" ? Number.POSITIVE_INFINITY : 1_000);
  for (const table of ["filter", "nat", "mangle"] as const) {
    const kernel = tables[table];
    const owned = [...kernel.chains].filter(isOwnedChain);
    if (owned.length === 0) continue;
    const kept = keptChains(kernel);
    result.chainsKept.push(...[...kept].map((chain) => `${table}/${chain}`));
    const removable = owned.filter((chain) => !kept.has(chain));
    const statics = removable.filter((chain) => !isServiceChainName(chain));
    // First empty the top-level and static chains (they jump to the per-service chains)…
    if (statics.length > 0) {
      const flush = new PayloadBuilder();
      for (const chain of statics) flush.writeChain(table, chain, []);
      await iptables.restore(flush.text());
    }
    // …then delete per-service chains referrers first, then the static ones.
    const batches = new Batcher(budget, (text) => iptables.restore(text));
    for (const prefix of ORDER) {
      for (const chain of removable)
        if (chain.startsWith(prefix)) (await batches.next()).removeChain(table, chain);
    }
    await batches.flush();
    const last = new PayloadBuilder();
    for (const chain of statics) last.removeChain(table, chain);
    if (!last.isEmpty) await iptables.restore(last.text());
    result.chainsRemoved += removable.length;
  }
  return result;
}
