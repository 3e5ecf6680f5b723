// The agent as operators run it: the compiled JavaScript (`npm run build` → dist/cli/main.js, the systemd
// unit's and the image's `deckhand`), not the TypeScript sources (type stripping keeps ~35 MiB more in the
// process). Benchmarks build the current sources once into a directory of their own inside the repository
// (node_modules must resolve from it), so that a stale or missing dist/ never gets measured.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";

const REPO_ROOT = join(import.meta.dirname, "..", "..");
/** Ignored by git (/tmp/ in .gitignore); one per benchmark process, so that benchmarks can run side by side. */
const OUT_DIR = join(REPO_ROOT, "tmp", "bench-build", String(process.pid));

let built: string | undefined;

/** Compiles src/ with tsconfig.build.json into tmp/bench-build/<pid>/ (once per process); returns its cli/main.js. */
export function buildAgent(): string {
  if (built) return built;
  rmSync(OUT_DIR, { recursive: true, force: true });
  const tsc = join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc");
  const started = performance.now();
  execFileSync(process.execPath, [tsc, "-p", join(REPO_ROOT, "tsconfig.build.json"), "--outDir", OUT_DIR], {
    stdio: "inherit",
  });
  console.log(`built the agent into ${OUT_DIR} in ${Math.round((performance.now() - started) / 1000)} s`);
  process.once("exit", () => rmSync(OUT_DIR, { recursive: true, force: true }));
  built = join(OUT_DIR, "cli", "main.js");
  return built;
}

/**
 * Compiles one benchmark module and what it imports (Deckhand's sources, test support) into
 * tmp/bench-build/<pid>/ (once per process); returns the compiled module, for a benchmark that measures its
 * own process running Deckhand code as operators run it.
 */
export function buildBenchModule(entry: string): string {
  const done = builtModules.get(entry);
  if (done) return done;
  const out = join(OUT_DIR, "module");
  const config = join(OUT_DIR, "tsconfig.module.json");
  mkdirSync(OUT_DIR, { recursive: true });
  writeFileSync(
    config,
    JSON.stringify({
      extends: join(REPO_ROOT, "tsconfig.json"),
      compilerOptions: { noEmit: false, sourceMap: false, rootDir: REPO_ROOT, outDir: out },
      files: [entry],
      include: [],
    }),
  );
  const tsc = join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc");
  const started = performance.now();
  execFileSync(process.execPath, [tsc, "-p", config], { stdio: "inherit" });
  console.log(
    `built ${relative(REPO_ROOT, entry)} into ${out} in ${Math.round((performance.now() - started) / 1000)} s`,
  );
  process.once("exit", () => rmSync(OUT_DIR, { recursive: true, force: true }));
  const compiled = join(out, relative(REPO_ROOT, entry).replace(/\.ts$/, ".js"));
  builtModules.set(entry, compiled);
  return compiled;
}
const builtModules = new Map<string, string>();

/** The pid of the `deckhand agent` process running for `nodeName`. */
export function agentPid(nodeName: string): number {
  const found = execFileSync("pgrep", ["-f", "--", `main\\.(js|ts) agent .*--node-name ${nodeName}( |$)`])
    .toString()
    .trim()
    .split("\n")[0];
  if (!found) throw new Error(`no agent process for node ${nodeName}`);
  return Number(found);
}

/** User + system CPU seconds the process has used (/proc/<pid>/stat utime + stime, at 100 ticks/s). */
export function processCpuSeconds(pid: number): number {
  const fields = readProc(pid, "stat").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export interface Rss {
  /** VmRSS, MiB. */
  total: number;
  /** RssAnon: the heap, code and data the process made (MiB). */
  anon: number;
  /** RssFile: mapped files, mostly the node binary's pages (MiB). */
  file: number;
  /**
   * RssAnon + VmSwap: what upstream calls a container's RSS (cAdvisor's memory "rss", "the amount of anonymous
   * and swap cache memory"; the stats summary's rssBytes), the measure of upstream's e2e kubelet ceiling
   * (test/e2e/node/kubelet_perf.go: MemoryRSSInBytes 300 MiB with 100 pods per node). Mapped file pages, such
   * as the node binary's, are page cache there, not RSS.
   */
  upstreamRss: number;
}

export function processRss(pid: number): Rss {
  const status = readProc(pid, "status");
  const mib = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)?.[1]) / 1024;
  const anon = mib("RssAnon");
  return { total: mib("VmRSS"), anon, file: mib("RssFile"), upstreamRss: anon + (mib("VmSwap") || 0) };
}

/** The 1, 5 and 15 minute load averages, for the results (the machine is shared). */
export function loadAverage(): string {
  return readProc(undefined, "loadavg").split(" ").slice(0, 3).join(" ");
}

function readProc(pid: number | undefined, file: string): string {
  return readFileSync(pid === undefined ? `/proc/${file}` : `/proc/${pid}/${file}`, "utf8");
}
