// Shared by the storage and API server benchmarks: a rate/latency measurement with N callers in flight, and
// the raw node:sqlite and SQLite-backend write rates both compare against.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { SqliteStorage } from "../../src/controlplane/storage/sqlite.ts";

/** A 2 KB value, the size of a small pod. */
export const VALUE = JSON.stringify({ pad: "v".repeat(2030) });

export interface Measurement {
  ops: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** For API runs: CPU time (user + system) the control plane process spent per create. */
  serverCpuUsPerOp?: number;
}

export function round(n: number, digits: number): number {
  return Number(n.toFixed(digits));
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0;
}

export function tempDir(name: string): string {
  return mkdtempSync(join(tmpdir(), `deckhand-bench-${name}-`));
}

/** Runs `op(i)` for i in [0, ops) with `inFlight` concurrent callers; per-op latency and overall rate. */
export async function measure(
  ops: number,
  inFlight: number,
  op: (i: number) => Promise<unknown> | unknown,
): Promise<Measurement> {
  const latencies: number[] = [];
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < ops) {
        const i = next++;
        const t0 = performance.now();
        await op(i);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    ops,
    seconds: round(seconds, 3),
    perSecond: Math.round(ops / seconds),
    p50Ms: round(percentile(latencies, 50), 3),
    p99Ms: round(percentile(latencies, 99), 3),
  };
}

/** node:sqlite alone: WAL, synchronous=FULL, one writer, one 2 KB row per commit. */
export async function rawSqlite(ops: number): Promise<Measurement> {
  const dir = tempDir("raw-sqlite");
  const db = new DatabaseSync(join(dir, "raw.sqlite"));
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = FULL");
  db.exec("CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
  const insert = db.prepare("INSERT INTO kv (key, value) VALUES (?, ?)");
  const m = await measure(ops, 1, (i) => insert.run(`/bench/k${i}`, VALUE));
  db.close();
  rmSync(dir, { recursive: true, force: true });
  return m;
}

/** Creates through Deckhand's SQLite storage backend. */
export async function sqliteBackend(ops: number, inFlight: number): Promise<Measurement> {
  const dir = tempDir("sqlite");
  const storage = SqliteStorage.open(dir);
  const m = await measure(ops, inFlight, (i) => storage.create(`/bench/k${i}`, VALUE));
  await storage.close();
  rmSync(dir, { recursive: true, force: true });
  return m;
}
