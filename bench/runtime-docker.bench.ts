// Pod start cost of the Docker driver next to the bare engine, in the same run on the same machine.
//
// For 20 pods started one after another and 20 started at once, the time from "run sandbox" to "container
// running" (startContainer has returned: Docker reports the process started) through:
//   - driver:      createDockerRuntime → runPodSandbox + createContainer + startContainer;
//   - dockerode:   the same pause + app containers (same create options) through raw dockerode calls —
//                  the same engine work without the driver, so driver/dockerode is the driver's overhead;
//   - docker run:  `/usr/bin/docker run -d` of one busybox container (the engine's own tool; one container,
//                  not a pod, so it is a reference point, not a like-for-like comparison).
// Methods are interleaved pod by pod (sequential) and batch by batch (parallel, 5 rounds) so that noise
// from other work on the machine hits them alike. On a busy shared machine whole batches still vary by
// tens of percent, so a third measurement runs driver and dockerode pods in the same batch (20 at once,
// alternating) and compares their per-pod latencies under identical conditions. Teardown is not timed.
//
// Needs the test environment (scripts/setup-host.sh). Writes bench/results/runtime-docker.json.
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { promisify } from "node:util";
import Docker from "dockerode";
import { createDockerRuntime } from "../src/runtime/docker/index.ts";
import { resolveDockerOptions } from "../src/runtime/docker/options.ts";
import { containerCreateOptions, sandboxCreateOptions } from "../src/runtime/docker/specs.ts";
import type { ContainerConfig, PodSandboxConfig } from "../src/runtime/types.ts";

const PODS = 20;
const PARALLEL_ROUNDS = 5;
const MIXED_ROUNDS = 3;
const SOCKET = "/var/run/docker.sock";
const BUSYBOX = "deckhand.local/busybox:1.35";
const PAUSE = "deckhand.local/pause:3.9";
const DOCKER_CLI = "/usr/bin/docker";
const SCRIPT = "trap 'exit 0' TERM; while :; do sleep 1 & wait $!; done";
const BENCH_LABEL = "io.deckhand.bench";

const run = promisify(execFile);
const docker = new Docker({ socketPath: SOCKET });
const driver = createDockerRuntime({ socketPath: SOCKET, pauseImage: PAUSE });
const options = resolveDockerOptions({ socketPath: SOCKET, pauseImage: PAUSE });
const benchId = randomUUID().slice(0, 8);

type Method = "driver" | "dockerode" | "docker run";
const METHODS: Method[] = ["driver", "dockerode", "docker run"];

function podConfigs(method: string, i: number): { sandbox: PodSandboxConfig; container: ContainerConfig } {
  const name = `bench-${method.replace(/\W/g, "")}-${benchId}-${i}`;
  return {
    sandbox: {
      metadata: { name, namespace: "bench", uid: randomUUID(), attempt: 0 },
      hostname: name,
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

/** Starts one pod (or container) with the method; resolves with ms from start to "running" and a teardown. */
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
  if (method === "dockerode") {
    const t0 = performance.now();
    const pause = await docker.createContainer(sandboxCreateOptions(sandbox, options));
    await pause.start();
    const app = await docker.createContainer(containerCreateOptions(pause.id, container, sandbox, options));
    await app.start();
    const ms = performance.now() - t0;
    return {
      ms,
      teardown: async () => {
        await app.remove({ force: true });
        await pause.remove({ force: true });
      },
    };
  }
  const name = `bench-run-${benchId}-${i}`;
  const t0 = performance.now();
  const { stdout } = await run(DOCKER_CLI, [
    "run",
    "-d",
    "--name",
    name,
    "--label",
    `${BENCH_LABEL}=${benchId}`,
    BUSYBOX,
    "sh",
    "-c",
    SCRIPT,
  ]);
  const ms = performance.now() - t0;
  const id = stdout.trim();
  return { ms, teardown: () => docker.getContainer(id).remove({ force: true }) };
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
  const out: Record<Method, number[]> = { driver: [], dockerode: [], "docker run": [] };
  for (let i = 0; i < PODS; i++) {
    // Rotate the order so that no method always runs right after the same other one.
    const order = METHODS.map((_, k) => METHODS[(i + k) % METHODS.length] as Method);
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
  const out: Record<Method, ParallelRound[]> = { driver: [], dockerode: [], "docker run": [] };
  for (let round = 0; round < PARALLEL_ROUNDS; round++) {
    const order = METHODS.map((_, k) => METHODS[(round + k) % METHODS.length] as Method);
    for (const method of order) {
      const t0 = performance.now();
      const started = await Promise.all(
        Array.from({ length: PODS }, (_, i) => startOne(method, 1000 + round * PODS + i)),
      );
      const wallMs = performance.now() - t0;
      out[method].push({ wallMs, perPodMs: started.map((s) => s.ms) });
      await Promise.all(started.map((s) => s.teardown()));
    }
  }
  return out;
}

/** 20 pods at once, alternately through the driver and raw dockerode; per-pod latencies of each. */
async function mixed(): Promise<{ driver: number[]; dockerode: number[] }> {
  const out = { driver: [] as number[], dockerode: [] as number[] };
  for (let round = 0; round < MIXED_ROUNDS; round++) {
    const started = await Promise.all(
      Array.from({ length: PODS }, async (_, i) => {
        const method: Method = (i + round) % 2 === 0 ? "driver" : "dockerode";
        return { method, ...(await startOne(method, 5000 + round * PODS + i)) };
      }),
    );
    for (const s of started) out[s.method as "driver" | "dockerode"].push(s.ms);
    await Promise.all(started.map((s) => s.teardown()));
  }
  return out;
}

async function removeLeftovers(): Promise<void> {
  const left = await docker.listContainers({ all: true, filters: { label: [`${BENCH_LABEL}=${benchId}`] } });
  await Promise.all(
    left.map((c) =>
      docker
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => undefined),
    ),
  );
}

async function main(): Promise<void> {
  const version = await docker.version();
  try {
    // Warm-up: one of each, not recorded (first use of images, code paths, connections).
    for (const method of METHODS) await (await startOne(method, -1)).teardown();
    const load = (await import("node:os")).loadavg()[0] ?? 0;
    const seq = await sequential();
    const par = await parallel();
    const mix = await mixed();

    const seqStats = Object.fromEntries(
      METHODS.map((m) => [
        m,
        {
          p50: round1(quantile(seq[m], 0.5)),
          p90: round1(quantile(seq[m], 0.9)),
          samplesMs: seq[m].map(round1),
        },
      ]),
    ) as Record<Method, { p50: number; p90: number; samplesMs: number[] }>;
    const parStats = Object.fromEntries(
      METHODS.map((m) => {
        const walls = par[m].map((r) => r.wallMs);
        const perPod = par[m].flatMap((r) => r.perPodMs);
        return [
          m,
          {
            wallP50: round1(quantile(walls, 0.5)),
            perPodP50: round1(quantile(perPod, 0.5)),
            wallsMs: walls.map(round1),
          },
        ];
      }),
    ) as Record<Method, { wallP50: number; perPodP50: number; wallsMs: number[] }>;

    const mixStats = {
      driverPerPodP50: round1(quantile(mix.driver, 0.5)),
      dockerodePerPodP50: round1(quantile(mix.dockerode, 0.5)),
    };
    const ratio = (a: number, b: number) => (b > 0 ? a / b : Number.NaN);
    const mixOverhead = ratio(mixStats.driverPerPodP50, mixStats.dockerodePerPodP50);
    const seqOverhead = ratio(seqStats.driver.p50, seqStats.dockerode.p50);
    const parOverhead = ratio(parStats.driver.wallP50, parStats.dockerode.wallP50);
    const pct = (r: number) => `${r >= 1 ? "+" : ""}${((r - 1) * 100).toFixed(1)}%`;
    const summary = [
      `Docker driver, ${PODS} pods one after another (run sandbox → container running): p50 ${seqStats.driver.p50} ms, p90 ${seqStats.driver.p90} ms; the same pause+app work through raw dockerode p50 ${seqStats.dockerode.p50} ms (driver ${pct(seqOverhead)}); \`docker run -d\` of one container p50 ${seqStats["docker run"].p50} ms`,
      `Docker driver, ${PODS} pods at once: all running after ${parStats.driver.wallP50} ms (median of ${PARALLEL_ROUNDS} batches); raw dockerode ${parStats.dockerode.wallP50} ms (driver ${pct(parOverhead)}); ${PODS}× \`docker run -d\` ${parStats["docker run"].wallP50} ms`,
      `Same batch, ${PODS} at once, half through the driver and half through raw dockerode (${MIXED_ROUNDS} batches): per-pod p50 ${mixStats.driverPerPodP50} ms vs ${mixStats.dockerodePerPodP50} ms (driver ${pct(mixOverhead)})`,
      `Goal ≤ +10% over the bare engine doing the same work: sequential ${seqOverhead <= 1.1 ? "met" : "missed"}, parallel batches ${parOverhead <= 1.1 ? "met" : "missed"}, same-batch ${mixOverhead <= 1.1 ? "met" : "missed"} (Docker ${version.Version}, ${(await import("node:os")).cpus().length} CPUs shared with other work, load average ${load.toFixed(1)} at the start)`,
    ];
    const result = {
      name: "runtime-docker",
      summary,
      pods: PODS,
      parallelRounds: PARALLEL_ROUNDS,
      docker: version.Version,
      sequential: seqStats,
      parallel: parStats,
      overhead: {
        sequentialP50: round1((seqOverhead - 1) * 100),
        parallelWallP50: round1((parOverhead - 1) * 100),
      },
      date: new Date().toISOString(),
    };
    const file = join(import.meta.dirname, "results", "runtime-docker.json");
    writeFileSync(`${file}.tmp.json`, `${JSON.stringify(result, null, 2)}\n`);
    renameSync(`${file}.tmp.json`, file);
    for (const line of summary) console.log(line);
  } finally {
    await removeLeftovers();
    await driver.close();
  }
}

await main();
