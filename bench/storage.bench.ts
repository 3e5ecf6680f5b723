// Storage backends against the raw stores they sit on, at the same concurrency, with 2 KB values:
// - node:sqlite, WAL, synchronous=FULL, one writer committing one row per transaction, vs. the SQLite backend
//   awaited one write at a time and with 64 writes in flight (group commit: each group's commit writes the WAL
//   and one fsync on the thread pool covers every group committed before it, acknowledged only then);
// - etcd 3.4 (one private member on loopback) through the etcd3 client's plain put, sequential and with 64
//   in flight, vs. the etcd backend's create (a transaction) the same ways.
// Each figure is the median of five runs, interleaved with the runs it is compared with. Writes bench/results/storage.json.

import { writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { Etcd3 } from "etcd3";
import { EtcdStorage } from "../src/controlplane/storage/etcd.ts";
import { startEtcd } from "../test/support/etcd.ts";
import { type Measurement, measure, rawSqlite, round, sqliteBackend, VALUE } from "./lib/store-rates.ts";

const loadBefore = loadavg()[0] ?? 0;
const RUNS = 5;

/** Runs each labelled measurement RUNS times, interleaved round by round so load drift hits all alike. */
async function interleaved(
  runs: Record<string, (round: number) => Promise<Measurement>>,
): Promise<Record<string, Measurement>> {
  const results: Record<string, Measurement[]> = {};
  const entries = Object.entries(runs);
  for (let r = 0; r < RUNS; r++) {
    // Alternate the order (ABC, CBA, …) so that whatever drifts during a round favours nobody.
    for (const [label, run] of r % 2 === 0 ? entries : [...entries].reverse()) {
      const list = results[label] ?? [];
      list.push(await run(r));
      results[label] = list;
    }
  }
  const medians: Record<string, Measurement> = {};
  for (const [label, list] of Object.entries(results)) {
    list.sort((a, b) => a.perSecond - b.perSecond);
    const m = list[Math.floor(RUNS / 2)] as Measurement;
    medians[label] = m;
    console.log(
      `${label}: ${m.perSecond}/s (runs ${list.map((x) => x.perSecond).join(", ")}; p50 ${m.p50Ms} ms, p99 ${m.p99Ms} ms)`,
    );
  }
  return medians;
}

// --- SQLite -------------------------------------------------------------------------------------------------

const sqliteResults = await interleaved({
  "raw node:sqlite WAL FULL, 1 writer": () => rawSqlite(3000),
  "SQLite backend, sequential": () => sqliteBackend(3000, 1),
  "SQLite backend, 64 in flight": () => sqliteBackend(20_000, 64),
});
const [sqliteRaw, sqliteSeq, sqlite64] = Object.values(sqliteResults) as [
  Measurement,
  Measurement,
  Measurement,
];

// --- etcd -----------------------------------------------------------------------------------------------------

const etcd = await startEtcd();
let etcdResults: [Measurement, Measurement, Measurement, Measurement];
try {
  const client = new Etcd3({ hosts: etcd.endpoint });
  const storage = await EtcdStorage.open([etcd.endpoint]);
  const rawPut = (prefix: string) => (i: number) => client.put(`${prefix}/k${i}`).value(VALUE);
  const create = (prefix: string) => (i: number) => storage.create(`${prefix}/k${i}`, VALUE);
  const results = await interleaved({
    "raw etcd3 put, sequential": (r) => measure(1000, 1, rawPut(`/raw-seq-${r}`)),
    "etcd backend, sequential": (r) => measure(1000, 1, create(`/be-seq-${r}`)),
    "raw etcd3 put, 64 in flight": (r) => measure(5000, 64, rawPut(`/raw-64-${r}`)),
    "etcd backend, 64 in flight": (r) => measure(5000, 64, create(`/be-64-${r}`)),
  });
  etcdResults = Object.values(results) as typeof etcdResults;
  client.close();
  await storage.close();
} finally {
  await etcd.stop();
}
const [etcdRawSeq, etcdSeq, etcdRaw64, etcd64] = etcdResults;

const ratio = (a: Measurement, b: Measurement): number => round(a.perSecond / b.perSecond, 2);
const ratios = {
  sqliteSequentialVsRaw: ratio(sqliteSeq, sqliteRaw),
  sqlite64InFlightVsRaw: ratio(sqlite64, sqliteRaw),
  etcdSequentialVsRaw: ratio(etcdSeq, etcdRawSeq),
  etcd64InFlightVsRaw: ratio(etcd64, etcdRaw64),
};

const result = {
  name: "storage",
  summary: [
    `node:sqlite WAL synchronous=FULL, one writer, one 2 KB row per commit: ${sqliteRaw.perSecond} commits/s`,
    `SQLite backend creates, sequential: ${sqliteSeq.perSecond}/s (${ratios.sqliteSequentialVsRaw}× raw), p50 ${sqliteSeq.p50Ms} ms`,
    `SQLite backend creates, 64 in flight (group commit, fsync off the event loop): ${sqlite64.perSecond}/s (${ratios.sqlite64InFlightVsRaw}× raw single-writer), p99 ${sqlite64.p99Ms} ms`,
    `etcd 3.4 (1 member) raw etcd3 put: ${etcdRawSeq.perSecond}/s sequential, ${etcdRaw64.perSecond}/s with 64 in flight`,
    `etcd backend creates (txn): ${etcdSeq.perSecond}/s sequential (${ratios.etcdSequentialVsRaw}× raw), ${etcd64.perSecond}/s with 64 in flight (${ratios.etcd64InFlightVsRaw}× raw)`,
    `(medians of ${RUNS} interleaved runs, 2 KB values; 1-minute load average ${round(loadBefore, 1)} before, ${round(loadavg()[0] ?? 0, 1)} after)`,
  ],
  valueBytes: VALUE.length,
  /** The 1-minute load average before and after: the machine is shared, so figures vary with it. */
  loadAverage: { before: round(loadBefore, 2), after: round(loadavg()[0] ?? 0, 2) },
  runs: RUNS,
  sqlite: { raw: sqliteRaw, sequential: sqliteSeq, inFlight64: sqlite64 },
  etcd: { rawSequential: etcdRawSeq, rawInFlight64: etcdRaw64, sequential: etcdSeq, inFlight64: etcd64 },
  ratios,
};
writeFileSync(join(import.meta.dirname, "results", "storage.json"), `${JSON.stringify(result, null, 2)}\n`);
console.log(result.summary.join("\n"));
