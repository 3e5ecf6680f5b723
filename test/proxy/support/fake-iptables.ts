// An in-memory iptables for the syncer's unit tests. It enforces what the kernel and iptables-restore
// enforce for the subset Deckhand uses: a restore is applied per table all or nothing; rules need their chain
// and jump targets to exist; -D needs an identical rule; -X needs an empty, unreferenced user chain; a chain
// line creates or flushes. It saves in iptables-save's layout. The integration tests check the real thing.
import type { CommandResult, Iptables, RestoreSession, SaveLine } from "../../../src/proxy/iptables.ts";
import { RestoreError } from "../../../src/proxy/iptables.ts";
import { BUILTIN, type TableName, tokenize, untokenize } from "../../../src/proxy/rule-tables.ts";
import { jumpTarget, type Table } from "../../../src/proxy/rule-text.ts";

const BUILTIN_TARGETS = new Set(["ACCEPT", "DROP", "REJECT", "RETURN", "MARK", "DNAT", "SNAT", "MASQUERADE"]);

type TableState = Map<string, string[]>;

function emptyTable(table: TableName): TableState {
  return new Map(BUILTIN[table].map((chain) => [chain, []]));
}

function targetOf(rule: string): string | undefined {
  return jumpTarget(rule);
}

export class FakeIptables implements Iptables {
  readonly backend: "nft" | "legacy";
  readonly tables: Record<TableName, TableState> = {
    filter: emptyTable("filter"),
    nat: emptyTable("nat"),
    mangle: emptyTable("mangle"),
  };
  constructor(backend: "nft" | "legacy" = "nft") {
    this.backend = backend;
  }

  /** Every payload restored (successfully or not), in order. */
  readonly restores: string[] = [];
  /** Every `iptables` command run, space-joined. */
  readonly commands: string[] = [];
  saves = 0;
  /** iptables-restore processes started for several payloads. */
  sessions = 0;
  /** When set and it returns a message for a payload, that restore fails with the message. */
  failRestore: ((payload: string) => string | undefined) | undefined;

  async restore(payload: string): Promise<void> {
    this.restores.push(payload);
    const injected = this.failRestore?.(payload);
    if (injected)
      throw new RestoreError(`iptables-restore: ${injected}\nError occurred at line: 1`, payload, 1);
    const lines = payload.split("\n");
    let table: TableName | undefined;
    let work: TableState | undefined;
    const staged: Array<[TableName, TableState]> = [];
    for (const [index, raw] of lines.entries()) {
      const line = raw.trim();
      const fail = (message: string): never => {
        throw new RestoreError(
          `iptables-restore v1.8.9 (fake): ${message}\nError occurred at line: ${index + 1}`,
          payload,
          2,
        );
      };
      if (!line || line.startsWith("#")) continue;
      if (line.startsWith("*")) {
        table = line.slice(1) as TableName;
        if (!(table in this.tables)) fail(`unknown table ${table}`);
        work = new Map([...this.tables[table]].map(([chain, rules]) => [chain, [...rules]]));
        continue;
      }
      if (!table || !work) fail("line outside a table");
      const t = table as TableName;
      const w = work as TableState;
      if (line === "COMMIT") {
        for (const [chain, rules] of w) {
          for (const rule of rules) {
            const target = targetOf(rule);
            if (target && !BUILTIN_TARGETS.has(target) && !w.has(target))
              fail(`Chain '${target}' does not exist (in ${chain})`);
          }
        }
        staged.push([t, w]);
        table = undefined;
        work = undefined;
        continue;
      }
      if (line.startsWith(":")) {
        const chain = line.slice(1).split(" ")[0] as string;
        if (!BUILTIN[t].includes(chain)) w.set(chain, []);
        continue;
      }
      const tokens = tokenize(line);
      const [op, chain] = tokens as [string, string];
      const rules = w.get(chain);
      if (op === "-X") {
        if (!rules) fail(`No chain/target/match by that name: ${chain}`);
        if (BUILTIN[t].includes(chain)) fail(`cannot delete built-in chain ${chain}`);
        if ((rules as string[]).length > 0) fail(`Directory not empty: ${chain}`);
        for (const [other, otherRules] of w) {
          if (otherRules.some((r) => targetOf(r) === chain))
            fail(`Device or resource busy: ${chain} is used by ${other}`);
        }
        w.delete(chain);
        continue;
      }
      if (!rules) fail(`Chain '${chain}' does not exist`);
      const r = rules as string[];
      if (op === "-A") r.push(line);
      else if (op === "-I") {
        const position = /^\d+$/.test(tokens[2] ?? "") ? Number(tokens[2]) : 1;
        const rest = /^\d+$/.test(tokens[2] ?? "") ? tokens.slice(3) : tokens.slice(2);
        if (position < 1 || position > r.length + 1) fail(`Index of insertion too big`);
        r.splice(position - 1, 0, `-A ${chain} ${untokenize(rest)}`);
      } else if (op === "-D") {
        const wanted = `-A ${chain} ${untokenize(tokens.slice(2))}`;
        const at = r.indexOf(wanted);
        if (at < 0) fail(`Bad rule (does a matching rule exist in that chain?): ${wanted}`);
        r.splice(at, 1);
      } else fail(`unsupported command ${op}`);
    }
    if (table) throw new RestoreError("iptables-restore: COMMIT expected at line: 1", payload, 1);
    for (const [t, w] of staged) this.tables[t] = w;
  }

  /** Like one iptables-restore process reading payloads in turn: each applies (or fails) as it arrives. */
  openRestore(): RestoreSession {
    this.sessions++;
    let failed: unknown;
    return {
      write: async (payload) => {
        if (failed) throw failed;
        try {
          await this.restore(payload);
        } catch (error) {
          failed = error;
          throw error;
        }
      },
      close: async () => {
        if (failed) throw failed;
      },
      abort: () => {},
    };
  }

  async save(table: Table | undefined, onLine: SaveLine): Promise<void> {
    this.saves++;
    for (const t of table ? [table] : (["filter", "nat", "mangle"] as const)) {
      for (const line of this.saveLines(t)) {
        const bytes = Buffer.from(line);
        onLine(bytes, 0, bytes.length);
      }
    }
  }

  saveLines(table: Table): string[] {
    const state = this.tables[table];
    const builtins = BUILTIN[table];
    const users = [...state.keys()].filter((c) => !builtins.includes(c)).sort();
    const out = [
      `*${table}`,
      ...builtins.map((c) => `:${c} ACCEPT [0:0]`),
      ...users.map((c) => `:${c} - [0:0]`),
    ];
    for (const chain of [...builtins, ...users]) out.push(...(state.get(chain) ?? []));
    out.push("COMMIT");
    return out;
  }

  async run(args: readonly string[]): Promise<CommandResult> {
    this.commands.push(args.join(" "));
    let table: TableName = "filter";
    let rest = [...args];
    if (rest[0] === "-t") {
      table = rest[1] as TableName;
      rest = rest.slice(2);
    }
    const state = this.tables[table];
    const [op, chain] = rest as [string, string];
    const rules = state.get(chain);
    const fail = (stderr: string): CommandResult => ({ code: 1, stdout: "", stderr });
    if (op === "-S")
      return rules
        ? { code: 0, stdout: `-N ${chain}\n${rules.join("\n")}`, stderr: "" }
        : fail("No chain/target/match by that name.");
    if (op === "-N") {
      if (rules) return fail("Chain already exists.");
      state.set(chain, []);
      return { code: 0, stdout: "", stderr: "" };
    }
    if (!rules) return fail("No chain/target/match by that name.");
    if (op === "-I") {
      const numbered = /^\d+$/.test(rest[2] ?? "");
      const spec = numbered ? rest.slice(3) : rest.slice(2);
      const target = spec[spec.indexOf("-j") + 1];
      if (target && !BUILTIN_TARGETS.has(target) && !state.has(target))
        return fail(`Chain '${target}' does not exist`);
      rules.splice(numbered ? Number(rest[2]) - 1 : 0, 0, `-A ${chain} ${untokenize(spec)}`);
      return { code: 0, stdout: "", stderr: "" };
    }
    if (op === "-D" || op === "-C") {
      const wanted = `-A ${chain} ${untokenize(rest.slice(2))}`;
      const at = rules.indexOf(wanted);
      if (at < 0) return fail("Bad rule (does a matching rule exist in that chain?).");
      if (op === "-D") rules.splice(at, 1);
      return { code: 0, stdout: "", stderr: "" };
    }
    return fail(`unsupported: ${args.join(" ")}`);
  }

  async hasRandomFully(): Promise<boolean> {
    return true;
  }

  /** The rules of a chain. */
  chain(table: TableName, chain: string): string[] | undefined {
    return this.tables[table].get(chain);
  }

  /** Everything, as one iptables-save text (for the tracer and for comparisons). */
  dump(): string {
    return [...this.saveLines("filter"), ...this.saveLines("nat"), ...this.saveLines("mangle")].join("\n");
  }
}
