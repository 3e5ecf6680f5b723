// The soak: a control plane and one agent under steady pod churn behind a Service, next to long-lived pods
// whose readiness and liveness probes flap, for SOAK_MINUTES (default 30). Samples the agent's RSS, open
// FDs and CPU (and the control plane's RSS) every SOAK_SAMPLE_SECONDS, and at the end checks that nothing
// leaked: no container or sandbox of the node left in the runtime, no pod directory, FDs back near where
// they started, the control plane's peak RSS in the last third of the run within 1.5× the first third's.
// Writes bench/results/soak-<runtime>.csv and .png (one panel per series) and exits non-zero on a leak.
//
//   npm run soak                                   (30 minutes on Docker)
//   SOAK_MINUTES=2 SOAK_RUNTIME=cri npm run soak   (a short run on the CRI runtime)
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { ApiClient } from "../src/api/client/client.ts";
import type { KubeObject } from "../src/api/resource.ts";
import {
  type AgentRuntimeKind,
  connectRuntime,
  describeObjects,
  nodeObjects,
  removeNodeObjects,
  startAgent,
  waitForNodeReady,
} from "../test/support/agent.ts";
import { startControlPlane } from "../test/support/controlplane.ts";
import { testEnv } from "../test/support/env.ts";
import { uniqueName } from "../test/support/names.ts";
import { plotPanels } from "./lib/png.ts";

const MINUTES = Number(process.env.SOAK_MINUTES ?? 30);
const RUNTIME = (process.env.SOAK_RUNTIME ?? "docker") as AgentRuntimeKind;
const SAMPLE_SECONDS = Number(process.env.SOAK_SAMPLE_SECONDS ?? 10);
const BATCH = Number(process.env.SOAK_BATCH ?? 5);
const FLAPPERS = 3;
/** Open FDs may end this much above the first sample after warm-up (sockets, watch streams come and go). */
const FD_BOUND = 25;
/** The control plane's peak RSS in the last third of the run may be at most this times the first third's. */
const CP_GROWTH_BOUND = 1.5;
const CLOCK_TICKS = 100;
const RESULTS = join(import.meta.dirname, "results");

interface PodLike extends KubeObject {
  metadata?: { name?: string; labels?: Record<string, string>; deletionTimestamp?: string };
  status?: {
    phase?: string;
    containerStatuses?: Array<{ ready?: boolean; restartCount?: number; state?: { running?: object } }>;
  };
}

interface Sample {
  elapsedS: number;
  cycles: number;
  agentRssMiB: number;
  agentFds: number;
  agentCpuPercent: number;
  controlPlaneRssMiB: number;
  flapperRestarts: number;
}

function agentPid(nodeName: string): number | undefined {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      const at = args.indexOf("--node-name");
      if (args.includes("agent") && at >= 0 && args[at + 1] === nodeName) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

function rssMiB(pid: number | undefined): number {
  if (!pid) return 0;
  const kib = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
  return Math.round(Number(kib ?? 0) / 102.4) / 10;
}

function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]); // utime + stime
}

function pod(name: string, nodeName: string, labels: Record<string, string>, flapping: boolean): PodLike {
  // Readiness flips every 20 s; a flapper's liveness fails for 30 s out of every 150 s, so it restarts.
  const readiness = {
    exec: { command: ["sh", "-c", "test $(( $(date +%s) / 20 % 2 )) = 0"] },
    periodSeconds: 2,
  };
  const liveness = {
    exec: { command: ["sh", "-c", "test $(( $(date +%s) / 30 % 5 )) != 0"] },
    periodSeconds: 5,
    failureThreshold: 2,
  };
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, labels },
    spec: {
      nodeName,
      terminationGracePeriodSeconds: 1,
      containers: [
        {
          name: "app",
          image: testEnv.busyboxImage,
          imagePullPolicy: "IfNotPresent",
          command: ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1 & wait $!; done"],
          readinessProbe: readiness,
          ...(flapping ? { livenessProbe: liveness } : {}),
        },
      ],
    },
  };
}

async function waitUntil(what: string, probe: () => Promise<boolean>, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`soak: timed out waiting for ${what}`);
    await sleep(250);
  }
}

async function main(): Promise<void> {
  const cp = await startControlPlane();
  const agent = await startAgent({ runtime: RUNTIME, kubeconfigPath: cp.kubeconfigPath, logLevel: "info" });
  const runtime = connectRuntime(RUNTIME, agent.runtimeEndpoint);
  const api: ApiClient = cp.client();
  const ns = uniqueName("soak");
  const pods = { version: "v1", resource: "pods", namespace: ns };
  const list = async (selector: string) => (await api.list<PodLike>(pods, { labelSelector: selector })).items;
  let exitCode = 0;
  try {
    await waitForNodeReady(cp, agent);
    await api.create({ version: "v1", resource: "namespaces" }, { metadata: { name: ns } });
    await api.create({ version: "v1", resource: "services", namespace: ns }, {
      metadata: { name: "soak" },
      spec: { selector: { app: "churn" }, ports: [{ port: 80, targetPort: 8080 }] },
    } as KubeObject);
    for (let i = 0; i < FLAPPERS; i++)
      await api.create(pods, pod(`flapper-${i}`, agent.nodeName, { app: "flapper" }, true));

    const samples: Sample[] = [];
    const started = Date.now();
    const end = started + MINUTES * 60_000;
    let cycles = 0;
    let lastTicks: { at: number; ticks: number } | undefined;
    const sample = async () => {
      const pid = agentPid(agent.nodeName);
      if (!pid) throw new Error("soak: the agent process is gone");
      const ticks = cpuTicks(pid);
      const now = Date.now();
      const cpu = lastTicks
        ? ((ticks - lastTicks.ticks) / CLOCK_TICKS / ((now - lastTicks.at) / 1000)) * 100
        : 0;
      lastTicks = { at: now, ticks };
      const flappers = await list("app=flapper");
      samples.push({
        elapsedS: Math.round((now - started) / 1000),
        cycles,
        agentRssMiB: rssMiB(pid),
        agentFds: readdirSync(`/proc/${pid}/fd`).length,
        agentCpuPercent: Math.round(cpu * 10) / 10,
        controlPlaneRssMiB: rssMiB(cp.pid()),
        flapperRestarts: flappers.reduce(
          (n, p) => n + (p.status?.containerStatuses?.[0]?.restartCount ?? 0),
          0,
        ),
      });
      const s = samples.at(-1) as Sample;
      console.log(
        `soak ${s.elapsedS}s: ${s.cycles} cycles, agent ${s.agentRssMiB} MiB, ${s.agentFds} fds, ${s.agentCpuPercent}% CPU; control plane ${s.controlPlaneRssMiB} MiB; flapper restarts ${s.flapperRestarts}`,
      );
    };
    await sample();
    let nextSample = Date.now() + SAMPLE_SECONDS * 1000;
    while (Date.now() < end) {
      cycles++;
      const names = Array.from({ length: BATCH }, (_, i) => `churn-${cycles}-${i}`);
      for (const name of names) await api.create(pods, pod(name, agent.nodeName, { app: "churn" }, false));
      await waitUntil(`cycle ${cycles} running`, async () => {
        const items = await list("app=churn");
        return items.length === BATCH && items.every((p) => p.status?.phase === "Running");
      });
      for (const name of names) await api.delete({ ...pods, name });
      await waitUntil(`cycle ${cycles} gone`, async () => (await list("app=churn")).length === 0);
      if (Date.now() >= nextSample) {
        await sample();
        nextSample += SAMPLE_SECONDS * 1000;
      }
    }
    await sample();

    // Nothing leaked: delete everything, then the runtime and the pod directories must be empty of this node.
    for (const p of await list("")) await api.delete({ ...pods, name: p.metadata?.name as string });
    await waitUntil("every pod gone", async () => (await list("")).length === 0);
    const podsDir = join(agent.rootDir, "pods");
    await waitUntil(
      "the runtime and pod directories to be clean",
      async () => {
        const left = await nodeObjects(runtime, agent.nodeName);
        const dirs = existsSync(podsDir) ? readdirSync(podsDir) : [];
        return left.sandboxes.length + left.containers.length === 0 && dirs.length === 0;
      },
      90_000,
    ).catch(async (error: Error) => {
      exitCode = 1;
      console.error(`${error.message}: ${describeObjects(await nodeObjects(runtime, agent.nodeName))}`);
    });
    await sample();
    const warm = samples[Math.min(1, samples.length - 1)] as Sample;
    const last = samples.at(-1) as Sample;
    // The control plane's memory is bounded by its watch cache window (75 s of events) and the event TTL
    // (1 h): its peak over the last third of the run stays near the first third's.
    const third = Math.max(1, Math.floor(samples.length / 3));
    const cpPeak = (from: number, to: number) =>
      Math.max(...samples.slice(from, to).map((s) => s.controlPlaneRssMiB));
    const cpFirstPeak = cpPeak(0, third);
    const cpLastPeak = cpPeak(samples.length - third, samples.length);
    const leaks = {
      runtimeObjects: exitCode === 0 ? 0 : 1,
      fdGrowth: last.agentFds - warm.agentFds,
      rssGrowthMiB: Math.round((last.agentRssMiB - warm.agentRssMiB) * 10) / 10,
      controlPlanePeakMiB: { firstThird: cpFirstPeak, lastThird: cpLastPeak },
    };
    if (cpLastPeak > CP_GROWTH_BOUND * cpFirstPeak) {
      exitCode = 1;
      console.error(
        `soak: the control plane's RSS peaked at ${cpLastPeak} MiB in the last third, over ${CP_GROWTH_BOUND} × the first third's ${cpFirstPeak} MiB`,
      );
    }
    if (leaks.fdGrowth > FD_BOUND) {
      exitCode = 1;
      console.error(
        `soak: the agent holds ${leaks.fdGrowth} more FDs than after warm-up (bound ${FD_BOUND})`,
      );
    }

    const base = join(RESULTS, `soak-${RUNTIME}`);
    const header = Object.keys(last).join(",");
    writeFileSync(`${base}.csv`, `${header}\n${samples.map((s) => Object.values(s).join(",")).join("\n")}\n`);
    writeFileSync(
      `${base}.png`,
      plotPanels([
        { label: "RSS MiB", color: [31, 119, 180], values: samples.map((s) => s.agentRssMiB) },
        { label: "FDs", color: [44, 160, 44], values: samples.map((s) => s.agentFds) },
        { label: "CPU %", color: [214, 39, 40], values: samples.map((s) => s.agentCpuPercent) },
        { label: "CP RSS MiB", color: [148, 103, 189], values: samples.map((s) => s.controlPlaneRssMiB) },
      ]),
    );
    console.log(
      `soak done: ${MINUTES} min on ${RUNTIME}, ${cycles} cycles (${cycles * BATCH} pod lifecycles), flapper restarts ${Math.max(...samples.map((s) => s.flapperRestarts))}, leaks ${JSON.stringify(leaks)}; ${base}.csv and .png`,
    );
  } finally {
    api.close();
    await agent.dispose();
    await removeNodeObjects(runtime, agent.nodeName).catch(() => {});
    await runtime.close();
    await cp.stop();
  }
  process.exit(exitCode);
}

await main();
