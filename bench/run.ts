// Runs every bench/*.bench.ts (or the ones named on the command line) one after another, each in its own
// Node process so that no benchmark warms or pollutes another. Each benchmark writes
// bench/results/<name>.json itself; this runner then rewrites the README's benchmark summary from them.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";

interface BenchResult {
  name: string;
  /** One line per measured figure, already in words, e.g. "CRI driver: 20 sequential pods, p50 162 ms (1.04× bare CRI)". */
  summary: string[];
}

const benchDir = import.meta.dirname;
const resultsDir = join(benchDir, "results");
const readme = join(benchDir, "..", "README.md");

const wanted = process.argv.slice(2);
const files = readdirSync(benchDir)
  .filter((f) => f.endsWith(".bench.ts"))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.includes(w)))
  .sort();

if (files.length === 0) {
  console.error(wanted.length ? `no benchmark matches ${wanted.join(", ")}` : "no benchmarks in bench/");
  process.exit(1);
}

let failed = 0;
for (const file of files) {
  console.log(`\n== ${file}`);
  const { status } = spawnSync(process.execPath, [join(benchDir, file)], { stdio: "inherit" });
  if (status !== 0) {
    console.error(`${file} failed with exit code ${status}`);
    failed++;
  }
}

const results = readdirSync(resultsDir)
  .filter((f) => f.endsWith(".json") && !f.endsWith(".tmp.json"))
  .sort()
  .map((f) => JSON.parse(readFileSync(join(resultsDir, f), "utf8")) as BenchResult);
const block = results
  .map((r) => [`**${r.name}**`, "", ...r.summary.map((line) => `- ${line}`)].join("\n"))
  .join("\n\n");
const text = readFileSync(readme, "utf8");
const start = "<!-- bench:start -->";
const end = "<!-- bench:end -->";
if (text.includes(start) && text.includes(end)) {
  const updated = `${text.slice(0, text.indexOf(start) + start.length)}\n${block}\n${text.slice(text.indexOf(end))}`;
  writeFileSync(readme, updated);
  console.log(
    `\nREADME benchmark summary updated from ${results.length} result file(s) in ${basename(resultsDir)}/`,
  );
}
process.exit(failed ? 1 : 0);
