// Pod start cost of the CRI driver next to the bare CRI calls, in the same run against the same containerd.
//
// For 20 pods started one after another and 20 started at once, the time from "run sandbox" to "container
// running" (StartContainer has returned: the task is started) through:
//   - driver: createCriRuntime → runPodSandbox + createContainer + startContainer (validation, message
//             mapping, log directories, identity labels, error mapping included);
//   - raw:    RunPodSandbox + CreateContainer + StartContainer with callUnary, sending the very messages the
//             driver sends (built once, outside the timing, log directories made beforehand) — the same
//             runtime work without the driver, so driver/raw is the driver's overhead.
// Methods alternate pod by pod (sequential) and batch by batch (parallel: ABBAAB over 6 rounds) so that
// noise from other work on the machine hits both alike. Teardown is not timed. On a busy shared machine
// the end-to-end figures swing by tens of percent from run to run; the driver's own work per pod
// (measured without the runtime) is the stable figure.
//
// Needs the test environment (scripts/setup-host.sh). Writes bench/results/runtime-cri.json.
import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { callUnary, createCriClients } from "../src/runtime/cri/client.ts";
import { containerLogPath, toCriContainerConfig, toCriSandboxConfig } from "../src/runtime/cri/convert.ts";
import { createCriRuntime } from "../src/runtime/cri/index.ts";
import type { ContainerConfig, PodSandboxConfig } from "../src/runtime/types.ts";
import { validateContainerConfig, validateSandboxConfig } from "../src/runtime/validate.ts";

const PODS = 20;
const PARALLEL_ROUNDS = 6;
const ENDPOINT = process.env.DECKHAND_TEST_CRI_ENDPOINT ?? "unix:///run/deckhand-test/containerd.sock";
const BUSYBOX = "deckhand.local/busybox:1.35";
const SCRIPT = "trap 'exit 0' TERM; while :; do sleep 1 & wait $!; done";
const BENCH_LABEL = "io.deckhand.bench";

const podLogRoot = mkdtempSync(join(tmpdir(), "deckhand-bench-cri-"));
const driver = createCriRuntime({ endpoint: ENDPOINT, podLogRoot });
const cri = createCriClients(ENDPOINT);
const benchId = randomUUID().slice(0, 8);

type Method = "driver" | "raw";
const METHODS: Method[] = ["driver", "raw"];

function podConfigs(method: Method, i: number): { sandbox: PodSandboxConfig; container: ContainerConfig } {
  const name = `bench-${method}-${benchId}-${i}`;
  return {
    sandbox: {
      metadata: { name, namespace: "bench", uid: randomUUID(), attempt: 0 },
      hostname: name.slice(0, 63),
      labels: { [BENCH_LABEL]: benchId },
    },
    container: {
      metadata: { name: "app", attempt: 0 },
      image: BUSYBOX,
      command: ["sh", "-c", SCRIPT],
      labels: { [BENCH_LABEL]: benchId },
    },
  };
}

/** Starts one pod with the method; resolves with ms from start to "running" and a teardown. */
async function startOne(
  method: Method,
  i: number,
): Promise<{ ms: number; teardown: () => Promise<unknown> }> {
  const { sandbox, container } = podConfigs(method, i);
  if (method === "driver") {
    const t0 = performance.now();
    const id = await driver.runPodSandbox(sandbox);
    const cid = await driver.createContainer(id, container, sandbox);
    await driver.startContainer(cid);
    const ms = performance.now() - t0;
    return { ms, teardown: () => driver.removePodSandbox(id) };
  }
  const sandboxMessage = toCriSandboxConfig(sandbox, { podLogRoot });
  const containerMessage = toCriContainerConfig(container, sandbox);
  mkdirSync(dirname(join(sandboxMessage.log_directory ?? "", containerLogPath(container))), {
    recursive: true,
  });
  const t0 = performance.now();
  const { pod_sandbox_id } = await callUnary(
    cri.runtime,
    "RunPodSandbox",
    { config: sandboxMessage },
    { timeoutMs: 120_000 },
  );
  const { container_id } = await callUnary(
    cri.runtime,
    "CreateContainer",
    { pod_sandbox_id, config: containerMessage, sandbox_config: sandboxMessage },
    { timeoutMs: 120_000 },
  );
  await callUnary(cri.runtime, "StartContainer", { container_id }, { timeoutMs: 120_000 });
  const ms = performance.now() - t0;
  return {
    ms,
    teardown: async () => {
      await callUnary(cri.runtime, "StopPodSandbox", { pod_sandbox_id }, { timeoutMs: 120_000 });
      await callUnary(cri.runtime, "RemovePodSandbox", { pod_sandbox_id }, { timeoutMs: 120_000 });
    },
  };
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return (sorted[lo] ?? 0) + ((sorted[hi] ?? 0) - (sorted[lo] ?? 0)) * (pos - lo);
}

const round1 = (n: number) => Math.round(n * 10) / 10;

async function sequential(): Promise<Record<Method, number[]>> {
  const out: Record<Method, number[]> = { driver: [], raw: [] };
  for (let i = 0; i < PODS; i++) {
    const order: Method[] = i % 2 === 0 ? ["driver", "raw"] : ["raw", "driver"];
    for (const method of order) {
      const { ms, teardown } = await startOne(method, i);
      out[method].push(ms);
      await teardown();
    }
  }
  return out;
}

interface ParallelRound {
  wallMs: number;
  perPodMs: number[];
}

async function parallel(): Promise<Record<Method, ParallelRound[]>> {
  const out: Record<Method, ParallelRound[]> = { driver: [], raw: [] };
  // ABBAAB: driver, raw, raw, driver, driver, raw — each method as often first as last.
  const pattern: Method[] = ["driver", "raw", "raw", "driver", "driver", "raw"];
  for (let round = 0; round < PARALLEL_ROUNDS; round++) {
    const method = pattern[round % pattern.length] as Method;
    const t0 = performance.now();
    const started = await Promise.all(
      Array.from({ length: PODS }, (_, i) => startOne(method, 1000 + round * PODS + i)),
    );
    const wallMs = performance.now() - t0;
    out[method].push({ wallMs, perPodMs: started.map((s) => s.ms) });
    await Promise.all(started.map((s) => s.teardown()));
  }
  return out;
}

/**
 * The driver's own work per pod, without the runtime: validation and message mapping of the sandbox and
 * the container (twice for the sandbox: createContainer sends the sandbox config again) and the two log
 * directories (already there after the first pod, as on a node). Noise-free where the end-to-end figures
 * are not.
 */
function driverWorkMicros(): number {
  const samples = 2000;
  const configs = Array.from({ length: samples }, (_, i) => podConfigs("driver", 10_000 + i));
  // CPU time, not wall time: other work on the machine does not inflate it.
  const before = process.cpuUsage();
  for (const { sandbox, container } of configs) {
    validateSandboxConfig(sandbox);
    const message = toCriSandboxConfig(
      { ...sandbox, metadata: { ...sandbox.metadata, uid: "same" } },
      { podLogRoot },
    );
    validateContainerConfig(container);
    validateSandboxConfig(sandbox);
    toCriContainerConfig(container, sandbox);
    toCriSandboxConfig(sandbox, { podLogRoot });
    mkdirSync(message.log_directory ?? "", { recursive: true });
    mkdirSync(join(message.log_directory ?? "", "app"), { recursive: true });
  }
  const used = process.cpuUsage(before);
  return (used.user + used.system) / samples;
}

async function removeLeftovers(): Promise<void> {
  const left = await callUnary(cri.runtime, "ListPodSandbox", {
    filter: { label_selector: { [BENCH_LABEL]: benchId } },
  });
  for (const s of left.items) {
    await callUnary(cri.runtime, "StopPodSandbox", { pod_sandbox_id: s.id }).catch(() => undefined);
    await callUnary(cri.runtime, "RemovePodSandbox", { pod_sandbox_id: s.id }).catch(() => undefined);
  }
}

async function main(): Promise<void> {
  const version = await driver.version();
  try {
    // Warm-up: one of each, not recorded (connections, code paths, page cache).
    for (const method of METHODS) await (await startOne(method, -1)).teardown();
    const workMicros = round1(driverWorkMicros());
    const seq = await sequential();
    const par = await parallel();

    const seqStats = Object.fromEntries(
      METHODS.map((m) => [
        m,
        {
          p50: round1(quantile(seq[m], 0.5)),
          p90: round1(quantile(seq[m], 0.9)),
          mean: round1(seq[m].reduce((a, b) => a + b, 0) / seq[m].length),
          samplesMs: seq[m].map(round1),
        },
      ]),
    ) as Record<Method, { p50: number; p90: number; mean: number; samplesMs: number[] }>;
    const parStats = Object.fromEntries(
      METHODS.map((m) => {
        const walls = par[m].map((r) => r.wallMs);
        const perPod = par[m].flatMap((r) => r.perPodMs);
        return [
          m,
          {
            wallP50: round1(quantile(walls, 0.5)),
            perPodP50: round1(quantile(perPod, 0.5)),
            perPodP90: round1(quantile(perPod, 0.9)),
            wallsMs: walls.map(round1),
          },
        ];
      }),
    ) as Record<Method, { wallP50: number; perPodP50: number; perPodP90: number; wallsMs: number[] }>;

    const ratio = (a: number, b: number) => (b > 0 ? a / b : Number.NaN);
    const seqOverhead = ratio(seqStats.driver.p50, seqStats.raw.p50);
    const parOverhead = ratio(parStats.driver.wallP50, parStats.raw.wallP50);
    const pct = (r: number) => `${r >= 1 ? "+" : ""}${((r - 1) * 100).toFixed(1)}%`;
    const runtime = `${version.runtimeName} ${version.runtimeVersion}`;
    const summary = [
      `CRI driver, ${PODS} pods sequentially (run sandbox → container running): p50 ${seqStats.driver.p50} ms, p90 ${seqStats.driver.p90} ms; the same three CRI calls made directly p50 ${seqStats.raw.p50} ms, p90 ${seqStats.raw.p90} ms (driver overhead ${pct(seqOverhead)})`,
      `CRI driver, ${PODS} pods in parallel: all running after ${parStats.driver.wallP50} ms (median of ${PARALLEL_ROUNDS / 2} rounds), per pod p50 ${parStats.driver.perPodP50} ms; direct CRI calls ${parStats.raw.wallP50} ms, per pod p50 ${parStats.raw.perPodP50} ms (driver overhead ${pct(parOverhead)})`,
      `The driver's own work per pod (validation, message mapping, log directories; no runtime calls): ${workMicros} µs of CPU`,
      `Goal ≤ +10% over the bare CRI calls: sequential ${seqOverhead <= 1.1 ? "met" : "missed"}, parallel ${parOverhead <= 1.1 ? "met" : "missed"} (${runtime}, ${cpus().length} CPUs, shared machine)`,
    ];
    const result = {
      name: "runtime-cri",
      summary,
      pods: PODS,
      parallelRounds: PARALLEL_ROUNDS,
      runtime,
      sequential: seqStats,
      parallel: parStats,
      overhead: {
        sequentialP50: round1((seqOverhead - 1) * 100),
        parallelWallP50: round1((parOverhead - 1) * 100),
      },
      date: new Date().toISOString(),
    };
    const file = join(import.meta.dirname, "results", "runtime-cri.json");
    writeFileSync(`${file}.tmp.json`, `${JSON.stringify(result, null, 2)}\n`);
    renameSync(`${file}.tmp.json`, file);
    for (const line of summary) console.log(line);
  } finally {
    await removeLeftovers();
    await driver.close();
    cri.close();
    rmSync(podLogRoot, { recursive: true, force: true });
  }
}

await main();
