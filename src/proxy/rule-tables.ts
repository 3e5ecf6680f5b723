// Parses iptables-restore / iptables-save text into tables of chains of rules, for the packet tracer
// (`deckhand debug trace`) and the tests' fake iptables. Quoted arguments ("a b") are one token.

export type TableName = "filter" | "nat" | "mangle";

export const BUILTIN: Record<TableName, string[]> = {
  filter: ["INPUT", "FORWARD", "OUTPUT"],
  nat: ["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"],
  mangle: ["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"],
};

export function tokenize(line: string): string[] {
  const tokens: string[] = [];
  let i = 0;
  while (i < line.length) {
    if (line[i] === " ") {
      i++;
      continue;
    }
    if (line[i] === '"') {
      const end = line.indexOf('"', i + 1);
      if (end < 0) throw new Error(`unterminated quote in: ${line}`);
      tokens.push(line.slice(i + 1, end));
      i = end + 1;
      continue;
    }
    let end = line.indexOf(" ", i);
    if (end < 0) end = line.length;
    tokens.push(line.slice(i, end));
    i = end;
  }
  return tokens;
}

/** Renders argv back into canonical rule text (quotes the comment). */
export function untokenize(tokens: readonly string[]): string {
  return tokens.map((t, i) => (tokens[i - 1] === "--comment" ? `"${t}"` : t)).join(" ");
}

export type Tables = Record<TableName, Map<string, string[]>>;

/** Parses "-A" lines of a restore payload or save output (no -D/-I/-X: use the fake iptables for those). */
export function parseTables(text: string): Tables {
  const tables: Tables = { filter: new Map(), nat: new Map(), mangle: new Map() };
  for (const table of Object.keys(BUILTIN) as TableName[])
    for (const chain of BUILTIN[table]) tables[table].set(chain, []);
  let current: TableName | undefined;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    if (line.startsWith("*")) current = line.slice(1) as TableName;
    else if (line === "COMMIT") current = undefined;
    else if (line.startsWith(":")) {
      const chain = line.slice(1).split(" ")[0] as string;
      if (!current) throw new Error(`chain line outside a table: ${line}`);
      if (!tables[current].has(chain)) tables[current].set(chain, []);
    } else if (line.startsWith("-A ")) {
      if (!current) throw new Error(`rule outside a table: ${line}`);
      const chain = line.split(" ")[1] as string;
      const rules = tables[current].get(chain);
      if (!rules) throw new Error(`rule for undeclared chain ${chain}: ${line}`);
      rules.push(line);
    } else throw new Error(`unsupported line: ${line}`);
  }
  return tables;
}
