// The API server against the stores it sits on, in the same run and at the same concurrency:
// - pod creates per second through HTTP (sequential, and 64 in flight), on SQLite and on etcd, next to the
//   raw store's own 2 KB write rate (node:sqlite WAL synchronous=FULL with one writer; etcd3 puts) and the
//   storage backend's create rate;
// - watch fan-out: one writer, 100 and 1,000 watchers of the same pods, delivery latency p50/p99 measured
//   from the moment the create request is sent to the moment each watcher has the event.
// `deckhand control-plane` runs as its own process, as in production. Writes bench/results/apiserver.json.

import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:https";
import { loadavg } from "node:os";
import { join } from "node:path";
import { Etcd3 } from "etcd3";
import { EtcdStorage } from "../src/controlplane/storage/etcd.ts";
import { startControlPlane, type TestControlPlane } from "../test/support/controlplane.ts";
import { freePort, startEtcd } from "../test/support/etcd.ts";
import {
  type Measurement,
  measure,
  percentile,
  rawSqlite,
  round,
  sqliteBackend,
  VALUE,
} from "./lib/store-rates.ts";

const loadBefore = loadavg()[0] ?? 0;

/** utime + stime of a process in milliseconds, from /proc (clock ticks of 10 ms). */
function processCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

// --- HTTP client ------------------------------------------------------------------------------------------------

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/** The admin's TLS material: the API server is HTTPS with client-certificate authentication. */
function tlsOf(cp: TestControlPlane) {
  return { ca: cp.caPem, cert: cp.connection.clientCertificate, key: cp.connection.clientKey };
}

function post(cp: TestControlPlane, path: string, body: string): Promise<number> {
  return postTo(cp.url, tlsOf(cp), path, body);
}

function postTo(url: string, tls: ReturnType<typeof tlsOf>, path: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}${path}`,
      {
        method: "POST",
        agent,
        ...tls,
        headers: { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on("end", () =>
          res.statusCode === 201 ? resolve(201) : reject(new Error(`POST ${path}: ${res.statusCode}`)),
        );
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/**
 * The floor: bench/support/minimal-api-server.ts (parse, store in node:sqlite, answer; nothing else) on the
 * control plane's own serving certificate, measured like the API server.
 */
async function startMinimalApiServer(cp: TestControlPlane, etcdEndpoint?: string) {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      join(import.meta.dirname, "support", "minimal-api-server.ts"),
      String(port),
      join(cp.dataDir, "pki", "apiserver.crt"),
      join(cp.dataDir, "pki", "apiserver.key"),
      ...(etcdEndpoint ? [etcdEndpoint] : []),
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout.once("data", () => resolve());
    child.once("exit", (code) => reject(new Error(`minimal API server exited (${code})`)));
  });
  const url = `https://127.0.0.1:${port}`;
  return {
    creates: (ops: number, inFlight: number, tag: string) =>
      measure(ops, inFlight, (i) =>
        postTo(url, tlsOf(cp), "/api/v1/namespaces/floor/pods", podBody(`${tag}-${i}`)),
      ),
    stop: () => {
      child.kill("SIGTERM");
      return new Promise((resolve) => child.once("exit", resolve));
    },
  };
}

/** A pod of about 2 KB once stored with its defaults, like the raw writes it is compared with. */
function podBody(name: string): string {
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, labels: { app: "bench", tier: "load" }, annotations: { note: "x".repeat(400) } },
    spec: {
      containers: [
        {
          name: "main",
          image: "deckhand.local/busybox:1.35",
          command: ["sh", "-c", "sleep 3600"],
          env: [{ name: "MODE", value: "bench" }],
          ports: [{ containerPort: 8080, name: "http" }],
          resources: { requests: { cpu: "10m", memory: "16Mi" } },
        },
      ],
    },
  });
}

async function createNamespace(cp: TestControlPlane, name: string): Promise<void> {
  await post(cp, "/api/v1/namespaces", JSON.stringify({ metadata: { name } }));
}

async function apiCreates(
  cp: TestControlPlane,
  ns: string,
  ops: number,
  inFlight: number,
): Promise<Measurement> {
  const pid = cp.pid() as number;
  const cpuBefore = processCpuMs(pid);
  const m = await measure(ops, inFlight, (i) =>
    post(cp, `/api/v1/namespaces/${ns}/pods`, podBody(`p-${inFlight}-${i}`)),
  );
  return { ...m, serverCpuUsPerOp: Math.round(((processCpuMs(pid) - cpuBefore) * 1000) / ops) };
}

// --- Watch fan-out ----------------------------------------------------------------------------------------------

const MARKER = Buffer.from('"name":"fan-');

/** Opens `watchers` watches on the namespace's pods; resolves when every watcher got every event. */
async function fanOut(
  cp: TestControlPlane,
  ns: string,
  watchers: number,
  writes: number,
  intervalMs: number,
) {
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  let received = 0;
  const expected = watchers * writes;
  let done: () => void = () => {};
  const allReceived = new Promise<void>((resolve) => {
    done = resolve;
  });
  const list = JSON.parse(
    await new Promise<string>((resolve, reject) => {
      request(`${cp.url}/api/v1/namespaces/${ns}/pods?limit=1`, { agent, ...tlsOf(cp) }, (res) => {
        let text = "";
        res.on("data", (d) => {
          text += d;
        });
        res.on("end", () => resolve(text));
      })
        .on("error", reject)
        .end();
    }),
  ) as { metadata: { resourceVersion: string } };
  const sockets: Array<{ destroy(): void }> = [];
  let connected = 0;
  await new Promise<void>((resolve, reject) => {
    for (let w = 0; w < watchers; w++) {
      const req = request(
        `${cp.url}/api/v1/namespaces/${ns}/pods?watch=true&resourceVersion=${list.metadata.resourceVersion}`,
        { agent: false, ...tlsOf(cp) },
        (res) => {
          connected++;
          if (connected === watchers) resolve();
          // Scan the raw bytes for the pod name: a watcher should cost the benchmark as little as possible,
          // so the figure is the server's delivery, not this process's JSON parsing of 1,000 streams.
          res.on("data", (chunk: Buffer) => {
            let at = chunk.indexOf(MARKER);
            while (at >= 0) {
              const end = chunk.indexOf(34, at + 8);
              const sent = sentAt.get(chunk.toString("latin1", at + 8, end));
              if (sent !== undefined) latencies.push(performance.now() - sent);
              received++;
              if (received === expected) done();
              at = chunk.indexOf(MARKER, end);
            }
          });
        },
      );
      req.on("error", reject);
      req.end();
      sockets.push(req);
    }
  });
  // Let the server register every watcher before the first write.
  await new Promise((r) => setTimeout(r, 500));
  const start = performance.now();
  for (let i = 0; i < writes; i++) {
    const name = `fan-${watchers}-${i}`;
    sentAt.set(name, performance.now());
    await post(cp, `/api/v1/namespaces/${ns}/pods`, podBody(name));
    const wait = start + (i + 1) * intervalMs - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  const timeout = setTimeout(done, 60_000);
  await allReceived;
  clearTimeout(timeout);
  for (const s of sockets) s.destroy();
  latencies.sort((a, b) => a - b);
  return {
    watchers,
    writes,
    writesPerSecond: Math.round(1000 / intervalMs),
    delivered: latencies.length,
    expected,
    p50Ms: round(percentile(latencies, 50), 1),
    p99Ms: round(percentile(latencies, 99), 1),
    maxMs: round(latencies[latencies.length - 1] ?? 0, 1),
  };
}

// --- Runs -----------------------------------------------------------------------------------------------------
// The machine is shared, so its load drifts: every compared figure is measured in the same rounds,
// interleaved, and the median of ROUNDS is reported.

const ROUNDS = 3;

function median(list: Measurement[]): Measurement {
  return [...list].sort((a, b) => a.perSecond - b.perSecond)[Math.floor(list.length / 2)] as Measurement;
}

async function interleaved(runs: Record<string, (round: number) => Promise<Measurement>>) {
  const all: Record<string, Measurement[]> = {};
  for (let r = 0; r < ROUNDS; r++) {
    for (const [label, run] of Object.entries(runs)) {
      const m = await run(r);
      all[label] = [...(all[label] ?? []), m];
      console.log(`round ${r + 1} ${label}: ${m.perSecond}/s (p50 ${m.p50Ms} ms, p99 ${m.p99Ms} ms)`);
    }
  }
  return Object.fromEntries(Object.entries(all).map(([label, list]) => [label, median(list)]));
}

async function fanOutRuns(cp: TestControlPlane, tag: string) {
  const fan: Array<Awaited<ReturnType<typeof fanOut>>> = [];
  for (const watchers of [100, 1000]) {
    const ns = `${tag}-fan-${watchers}`;
    await createNamespace(cp, ns);
    const f = await fanOut(cp, ns, watchers, 50, 100);
    console.log(
      `${tag} fan-out to ${watchers}: p50 ${f.p50Ms} ms, p99 ${f.p99Ms} ms (${f.delivered}/${f.expected})`,
    );
    fan.push(f);
  }
  return fan;
}

async function apiPrepare(cp: TestControlPlane, tag: string) {
  for (let r = 0; r < ROUNDS; r++) {
    await createNamespace(cp, `${tag}-seq-${r}`);
    await createNamespace(cp, `${tag}-64-${r}`);
  }
  // Warm up: JIT, connection pool, caches.
  await createNamespace(cp, `${tag}-warm`);
  await apiCreates(cp, `${tag}-warm`, 300, 8);
}

console.log("SQLite …");
const sqliteCp = await startControlPlane({
  store: "sqlite",
  controllers: false,
  args: ["--log-level", "warn"],
});
let sqlite: Record<string, Measurement>;
let sqliteFan: Awaited<ReturnType<typeof fanOutRuns>>;
try {
  await apiPrepare(sqliteCp, "sqlite");
  const floor = await startMinimalApiServer(sqliteCp);
  try {
    await floor.creates(300, 8, "warm");
    sqlite = await interleaved({
      raw: () => rawSqlite(1000),
      backendSequential: () => sqliteBackend(1000, 1),
      apiSequential: (r) => apiCreates(sqliteCp, `sqlite-seq-${r}`, 500, 1),
      floorSequential: (r) => floor.creates(500, 1, `seq-${r}`),
      backendInFlight64: () => sqliteBackend(6000, 64),
      apiInFlight64: (r) => apiCreates(sqliteCp, `sqlite-64-${r}`, 3000, 64),
      floorInFlight64: (r) => floor.creates(3000, 64, `64-${r}`),
    });
  } finally {
    await floor.stop();
  }
  sqliteFan = await fanOutRuns(sqliteCp, "sqlite");
} finally {
  await sqliteCp.stop();
}

console.log("etcd …");
const etcd = await startEtcd();
let etcdResults: Record<string, Measurement>;
let etcdFan: Awaited<ReturnType<typeof fanOutRuns>>;
try {
  const client = new Etcd3({ hosts: etcd.endpoint });
  const storage = await EtcdStorage.open([etcd.endpoint]);
  const etcdCp = await startControlPlane({
    controllers: false,
    args: ["--store", etcd.storeSpec, "--log-level", "warn"],
  });
  try {
    await apiPrepare(etcdCp, "etcd");
    const floor = await startMinimalApiServer(etcdCp, etcd.endpoint);
    try {
      await floor.creates(300, 8, "warm");
      etcdResults = await interleaved({
        rawSequential: (r) => measure(500, 1, (i) => client.put(`/raw-seq-${r}/k${i}`).value(VALUE)),
        backendSequential: (r) => measure(500, 1, (i) => storage.create(`/be-seq-${r}/k${i}`, VALUE)),
        apiSequential: (r) => apiCreates(etcdCp, `etcd-seq-${r}`, 500, 1),
        floorSequential: (r) => floor.creates(500, 1, `seq-${r}`),
        rawInFlight64: (r) => measure(3000, 64, (i) => client.put(`/raw-64-${r}/k${i}`).value(VALUE)),
        backendInFlight64: (r) => measure(3000, 64, (i) => storage.create(`/be-64-${r}/k${i}`, VALUE)),
        apiInFlight64: (r) => apiCreates(etcdCp, `etcd-64-${r}`, 3000, 64),
        floorInFlight64: (r) => floor.creates(3000, 64, `64-${r}`),
      });
    } finally {
      await floor.stop();
    }
    etcdFan = await fanOutRuns(etcdCp, "etcd");
  } finally {
    await etcdCp.stop();
  }
  client.close();
  await storage.close();
} finally {
  await etcd.stop();
}
agent.destroy();

const m = (results: Record<string, Measurement>, key: string) => results[key] as Measurement;
const ratio = (a: Measurement, b: Measurement) => round(a.perSecond / b.perSecond, 2);
const fanLine = (store: string, f: Awaited<ReturnType<typeof fanOut>>) =>
  `${store} watch fan-out, 1 writer (${f.writesPerSecond} pod creates/s) → ${f.watchers} watchers: delivery p50 ${f.p50Ms} ms, p99 ${f.p99Ms} ms (${f.delivered}/${f.expected} events)`;
const sRaw = m(sqlite, "raw");
const sApiSeq = m(sqlite, "apiSequential");
const sApi64 = m(sqlite, "apiInFlight64");
const sBeSeq = m(sqlite, "backendSequential");
const sBe64 = m(sqlite, "backendInFlight64");
const sFloorSeq = m(sqlite, "floorSequential");
const sFloor64 = m(sqlite, "floorInFlight64");
const eRawSeq = m(etcdResults, "rawSequential");
const eRaw64 = m(etcdResults, "rawInFlight64");
const eApiSeq = m(etcdResults, "apiSequential");
const eApi64 = m(etcdResults, "apiInFlight64");
const eFloorSeq = m(etcdResults, "floorSequential");
const eFloor64 = m(etcdResults, "floorInFlight64");
const result = {
  name: "apiserver",
  summary: [
    `SQLite, sequential: ${sApiSeq.perSecond} pod creates/s through the API = ${ratio(sApiSeq, sRaw)}× raw node:sqlite (${sRaw.perSecond} commits/s), ${ratio(sApiSeq, sBeSeq)}× the storage backend (${sBeSeq.perSecond}/s); server CPU ${sApiSeq.serverCpuUsPerOp} µs per create (incl. its own fsync)`,
    `SQLite, 64 in flight: ${sApi64.perSecond} pod creates/s through the API = ${ratio(sApi64, sBe64)}× the storage backend at 64 in flight (${sBe64.perSecond}/s, group commit), ${ratio(sApi64, sRaw)}× raw single-writer node:sqlite; server CPU ${sApi64.serverCpuUsPerOp} µs per create (≈ ${Math.round(1e6 / (sApi64.serverCpuUsPerOp ?? 1))}/s on one free core)`,
    `SQLite floor, a minimal HTTPS server that only parses, stores (node:sqlite, one commit each) and answers, same TLS: sequential ${sFloorSeq.perSecond} creates/s = ${ratio(sFloorSeq, sRaw)}× raw (the API server reaches ${ratio(sApiSeq, sFloorSeq)}× of it), 64 in flight ${sFloor64.perSecond}/s = ${ratio(sFloor64, sRaw)}× raw (the API server ${ratio(sApi64, sFloor64)}×)`,
    `etcd, sequential: ${eApiSeq.perSecond} pod creates/s through the API = ${ratio(eApiSeq, eRawSeq)}× raw etcd3 put (${eRawSeq.perSecond}/s)`,
    `etcd, 64 in flight: ${eApi64.perSecond} pod creates/s through the API = ${ratio(eApi64, eRaw64)}× raw etcd3 put (${eRaw64.perSecond}/s); server CPU ${eApi64.serverCpuUsPerOp} µs per create`,
    `etcd floor, the same minimal HTTPS server storing with one etcd3 put each: sequential ${eFloorSeq.perSecond}/s = ${ratio(eFloorSeq, eRawSeq)}× raw (the API server reaches ${ratio(eApiSeq, eFloorSeq)}× of it), 64 in flight ${eFloor64.perSecond}/s = ${ratio(eFloor64, eRaw64)}× raw (the API server ${ratio(eApi64, eFloor64)}×)`,
    ...sqliteFan.map((f) => fanLine("SQLite", f)),
    ...etcdFan.map((f) => fanLine("etcd", f)),
    `medians of ${ROUNDS} interleaved rounds; load average ${round(loadBefore, 1)} before, ${round(loadavg()[0] ?? 0, 1)} after (2 cores, shared)`,
  ],
  loadAverage: { before: round(loadBefore, 2), after: round(loadavg()[0] ?? 0, 2) },
  rounds: ROUNDS,
  sqlite: { ...sqlite, fanOut: sqliteFan },
  etcd: { ...etcdResults, fanOut: etcdFan },
};
writeFileSync(join(import.meta.dirname, "results", "apiserver.json"), `${JSON.stringify(result, null, 2)}\n`);
console.log(result.summary.join("\n"));
