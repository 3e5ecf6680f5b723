// The agent killed with SIGKILL at random points while pods are created, deleted and rolled out, stopped
// with SIGTERM, and put through create/delete churn with a Service selecting the pods; on one runtime (the
// -docker and -cri test files run it on both).
// "Nothing lost, nothing leaked" here:
// - after the kills, the runtime holds exactly one ready sandbox per pod the API binds to the node and one
//   running container per spec container (no duplicates), nothing for pods that are gone (no leaks), and
//   every pod is Running with the desired spec (final state = desired state);
// - a pod that was healthy throughout keeps its container IDs and restart counts (never restarted);
// - SIGTERM: the agent logs a clean stop (it did not need the helper's SIGKILL fallback) and its containers
//   keep running;
// - churn: after N create/delete cycles nothing of the node is left in the runtime, no pod directory is left,
//   and the agent's open file descriptors and RSS, sampled after every cycle, stay within a stated bound.
import { readdirSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import type { Pod } from "../../src/api/schema/core/pod-types.ts";
import { RuntimeLabels } from "../../src/runtime/types.ts";
import { type E2E, type Json, SLEEP_FOREVER, shContainer, useE2E } from "../agent/e2e/harness.ts";
import { type AgentRuntimeKind, nodeObjects, waitForNodeReady } from "../support/agent.ts";
import { waitFor } from "../support/wait.ts";

/** Kill rounds in CI; DECKHAND_CHAOS_ROUNDS for longer local runs. */
const KILL_ROUNDS = Number(process.env.DECKHAND_CHAOS_ROUNDS ?? "4");
/** Churn cycles × pods per cycle in CI (30 pod lifecycles); DECKHAND_CHURN_CYCLES=100 for 1,000. */
const CHURN_CYCLES = Number(process.env.DECKHAND_CHURN_CYCLES ?? "3");
const CHURN_BATCH = 10;
/** The stated bounds for churn: FDs may grow by this many, RSS by this factor of the first sample. */
const FD_GROWTH_BOUND = 25;
const RSS_GROWTH_FACTOR = 1.5;

const random = (max: number) => Math.floor(Math.random() * max);

/** PID of the agent process serving `nodeName` (from /proc: the test helper does not expose it). */
export function agentPid(nodeName: string): number | undefined {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      const at = args.indexOf("--node-name");
      if (args.includes("agent") && at >= 0 && args[at + 1] === nodeName) return Number(entry);
    } catch {
      // the process went away while we looked
    }
  }
  return undefined;
}

/** Open FDs and RSS (KiB) of a process. */
export function processSample(pid: number): { fds: number; rssKiB: number } {
  const fds = readdirSync(`/proc/${pid}/fd`).length;
  const rss = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
  return { fds, rssKiB: Number(rss ?? 0) };
}

async function listPods(e: E2E, selector = ""): Promise<Pod[]> {
  const query = selector ? `?labelSelector=${encodeURIComponent(selector)}` : "";
  const res = await e.cp.fetch(`/api/v1/namespaces/${e.ns}/pods${query}`);
  if (!res.ok) throw new Error(`list pods: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { items: Pod[] }).items;
}

/**
 * The runtime matches the API: per pod bound here one ready sandbox and one running container per spec
 * container; nothing for any other pod. Returns the problems found (empty when consistent).
 */
async function runtimeProblems(e: E2E): Promise<string[]> {
  const pods = (await listPods(e)).filter((p) => p.spec?.nodeName === e.agent.nodeName);
  const objects = await nodeObjects(e.runtime, e.agent.nodeName);
  const problems: string[] = [];
  const uids = new Set(pods.map((p) => p.metadata?.uid));
  for (const s of objects.sandboxes) {
    if (!uids.has(s.metadata.uid)) problems.push(`leaked sandbox ${s.id.slice(0, 12)} of ${s.metadata.name}`);
  }
  for (const c of objects.containers) {
    if (!uids.has(c.labels[RuntimeLabels.podUid]))
      problems.push(`leaked container ${c.id.slice(0, 12)} of ${c.labels[RuntimeLabels.podName]}`);
  }
  for (const pod of pods) {
    const uid = pod.metadata?.uid;
    const name = pod.metadata?.name;
    const ready = objects.sandboxes.filter((s) => s.metadata.uid === uid && s.state === "ready");
    if (ready.length !== 1) problems.push(`pod ${name}: ${ready.length} ready sandboxes`);
    for (const spec of pod.spec?.containers ?? []) {
      const running = objects.containers.filter(
        (c) =>
          c.labels[RuntimeLabels.podUid] === uid &&
          c.labels[RuntimeLabels.containerName] === spec.name &&
          c.state === "running",
      );
      if (running.length !== 1)
        problems.push(`pod ${name}: ${running.length} running ${spec.name} containers`);
    }
  }
  return problems;
}

/** How many times the agent has logged that it is ready (once per start that got that far). */
const agentReadyCount = (e: E2E) => (e.agent.logs().match(/"msg":"agent ready"/g) ?? []).length;

const running = (p: Pod) =>
  p.status?.phase === "Running" && (p.status.containerStatuses ?? []).every((c) => c.state?.running);

export function agentChaosSuite(kind: AgentRuntimeKind): void {
  describe(`agent chaos on ${kind}`, () => {
    const env = useE2E(kind);

    it("kill -9 at random points of creation, deletion and rolling updates: no duplicates, no leaks, desired state", async () => {
      const e = env();
      // Every pod selects this node by its hostname label, as the Deployment's do: a restarted agent must not
      // admit pods before it knows its Node's labels (it once rejected them with NodeAffinity).
      const onThisNode = { "kubernetes.io/hostname": e.agent.nodeName };
      await e.createPod("steady", {
        nodeSelector: onThisNode,
        containers: [shContainer("app", SLEEP_FOREVER)],
      });
      const steady = await e.waitRunning("steady");
      const steadyIds = (steady.status?.containerStatuses ?? []).map((c) => [c.containerID, c.restartCount]);
      const deployment = (generation: number): Json => ({
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "roller", namespace: e.ns },
        spec: {
          replicas: 3,
          selector: { matchLabels: { app: "roller" } },
          strategy: { rollingUpdate: { maxUnavailable: 1, maxSurge: 1 } },
          template: {
            metadata: { labels: { app: "roller" }, annotations: { generation: String(generation) } },
            spec: {
              nodeSelector: onThisNode,
              terminationGracePeriodSeconds: 1,
              containers: [shContainer("app", SLEEP_FOREVER)],
            },
          },
        },
      });
      await e.apply(deployment(0));
      const bare = new Set<string>();
      let generation = 0;
      let kills = 0;
      const readyBefore = agentReadyCount(e);
      for (let round = 0; round < KILL_ROUNDS; round++) {
        // One burst of changes per round, then the kill at a random moment while the agent works on it.
        const name = `bare-${round}`;
        await e.createPod(name, {
          nodeSelector: onThisNode,
          containers: [shContainer("app", SLEEP_FOREVER)],
          terminationGracePeriodSeconds: 1,
        });
        bare.add(name);
        if (round > 0) {
          const victim = `bare-${round - 1}`;
          await e.deletePod(victim);
          bare.delete(victim);
        }
        generation++;
        await e.apply(deployment(generation));
        await sleep(random(3000));
        await e.agent.kill9();
        kills++;
        await sleep(random(500));
        await e.agent.start();
        // The next kill lands while the agent works on pods, not while it is still starting (on a loaded
        // machine a random delay alone mostly killed it before it had listed a pod).
        await waitFor(() => agentReadyCount(e) >= readyBefore + kills, {
          what: `the agent to be ready again after kill ${kills}`,
          timeoutMs: 120_000,
        });
      }
      await waitForNodeReady(e.cp, e.agent);

      // Converged: the bare pods wanted, the Deployment fully rolled out at the last generation, and the
      // runtime in step with the API.
      const converged = await waitFor(
        async () => {
          const pods = await listPods(e);
          const names = new Set(pods.map((p) => p.metadata?.name));
          const rollers = pods.filter((p) => p.metadata?.labels?.app === "roller");
          const done =
            [...bare].every((n) => names.has(n)) &&
            pods.filter((p) => p.metadata?.name?.startsWith("bare-")).length === bare.size &&
            rollers.length === 3 &&
            rollers.every(
              (p) =>
                p.metadata?.annotations?.generation === String(generation) &&
                !p.metadata?.deletionTimestamp &&
                running(p),
            ) &&
            pods
              .filter((p) => p.metadata?.name?.startsWith("bare-") || p.metadata?.name === "steady")
              .every(running);
          if (!done) return false;
          const problems = await runtimeProblems(e);
          return problems.length === 0 ? pods : false;
        },
        {
          what: "the node to converge on the desired pods after the kills",
          timeoutMs: 180_000,
          intervalMs: 1000,
        },
      ).catch(async (error: Error) => {
        const notRunning = (await listPods(e))
          .filter((p) => !running(p))
          .map((p) => `${p.metadata?.name} ${p.status?.phase} ${p.status?.reason ?? ""}`);
        throw new Error(
          `${error.message}\npods not running: ${notRunning.join("; ")}\nruntime problems: ${(await runtimeProblems(e)).join("; ")}\nagent log:\n${e.agent.tail(30)}`,
        );
      });
      const after = converged.find((p) => p.metadata?.name === "steady") as Pod;
      expect((after.status?.containerStatuses ?? []).map((c) => [c.containerID, c.restartCount])).toEqual(
        steadyIds,
      );
      console.log(
        `agent chaos (${kind}): ${kills} kill -9 during creates, deletes and ${generation} rollouts; ${converged.length} pods converged (${converged.map((p) => p.metadata?.name).join(" ")}), 0 duplicates, 0 leaks, steady pod untouched`,
      );
      await e.kubectl("delete", "deployment", "roller", "-n", e.ns, "--wait=false");
    }, 420_000);

    it("SIGTERM: the agent stops cleanly at once and its containers keep running", async () => {
      const e = env();
      await e.createPod("term", {
        nodeSelector: { "kubernetes.io/hostname": e.agent.nodeName },
        containers: [shContainer("app", SLEEP_FOREVER)],
      });
      const pod = await e.waitRunning("term");
      const id = e.containerId(pod, "app");
      const stoppedBefore = (e.agent.logs().match(/"agent stopped"/g) ?? []).length;
      await e.agent.stop();
      // A clean stop logs "agent stopped" on its way out; the helper's SIGKILL fallback would not.
      expect((e.agent.logs().match(/"agent stopped"/g) ?? []).length).toBe(stoppedBefore + 1);
      expect((await e.runtime.containerStatus(id)).state).toBe("running");
      await e.agent.start();
      await waitForNodeReady(e.cp, e.agent);
      const again = await e.waitRunning("term");
      expect(e.containerId(again, "app")).toBe(id);
      expect(again.status?.containerStatuses?.[0]?.restartCount).toBe(0);
    }, 180_000);

    it("a pod the restarted agent no longer admits (its node label went meanwhile) goes Failed and stops running", async () => {
      // Upstream's kubelet does the same after a restart: admission rejects the pod (NodeAffinity), and its
      // housekeeping kills running pods no pod worker owns. Nothing of it may keep running.
      const e = env();
      const label = `deckhand-chaos-${kind}`;
      await e.kubectl("label", "node", e.agent.nodeName, `${label}=present`);
      // The pod is bound directly (no scheduler to wait for the label): a restart makes sure the agent has
      // the label before the pod arrives, rather than racing its watch of the Node.
      await e.agent.stop();
      await e.agent.start();
      await waitForNodeReady(e.cp, e.agent);
      await e.createPod("relabel", {
        nodeSelector: { [label]: "present" },
        terminationGracePeriodSeconds: 1,
        containers: [shContainer("app", SLEEP_FOREVER)],
      });
      const id = e.containerId(await e.waitRunning("relabel"), "app");
      await e.agent.stop();
      await e.kubectl("label", "node", e.agent.nodeName, `${label}-`);
      await e.agent.start();
      await waitForNodeReady(e.cp, e.agent);
      const failed = await e.waitPod(
        "relabel",
        (p) => p.status?.phase === "Failed",
        "phase Failed after the restarted agent rejected it",
      );
      expect(failed.status?.reason).toBe("NodeAffinity");
      await waitFor(
        async () => {
          const objects = await nodeObjects(e.runtime, e.agent.nodeName);
          const uid = failed.metadata?.uid;
          return (
            (await e.runtime.containerStatus(id)).state === "exited" &&
            !objects.sandboxes.some((s) => s.metadata.uid === uid && s.state === "ready")
          );
        },
        { what: "the rejected pod's container to exit and its sandbox to stop", timeoutMs: 120_000 },
      ).catch(async (error: Error) => {
        const objects = await nodeObjects(e.runtime, e.agent.nodeName);
        const uid = failed.metadata?.uid;
        const mine = [
          ...objects.sandboxes
            .filter((s) => s.metadata.uid === uid)
            .map((s) => `sandbox ${s.id.slice(0, 12)} ${s.state}`),
          ...objects.containers
            .filter((c) => c.labels[RuntimeLabels.podUid] === uid)
            .map((c) => `container ${c.id.slice(0, 12)} ${c.state}`),
        ];
        // The pod would otherwise stay for the tests after this one to trip over.
        await e.deletePod("relabel").catch(() => undefined);
        throw new Error(
          `${error.message}: app container ${id.slice(0, 12)}; runtime: ${mine.join(", ")}\nagent log:\n${e.agent.tail(20)}`,
        );
      });
      await e.deletePod("relabel");
      await waitFor(async () => (await runtimeProblems(e)).length === 0, {
        what: "the rejected pod's objects to go with the pod",
        timeoutMs: 120_000,
      }).catch(async (error: Error) => {
        throw new Error(`${error.message}: ${(await runtimeProblems(e)).join("; ")}`);
      });
    }, 420_000);

    it(`churn: ${CHURN_CYCLES} cycles of ${CHURN_BATCH} pods behind a Service leave nothing behind, FDs and RSS bounded`, async () => {
      const e = env();
      await e.apply({
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "churn" },
        spec: { selector: { app: "churn" }, ports: [{ port: 80, targetPort: 8080 }] },
      });
      const samples: Array<{ cycle: number; fds: number; rssKiB: number }> = [];
      const sample = (cycle: number) => {
        const pid = agentPid(e.agent.nodeName);
        if (pid) samples.push({ cycle, ...processSample(pid) });
      };
      sample(0);
      for (let cycle = 1; cycle <= CHURN_CYCLES; cycle++) {
        const names = Array.from({ length: CHURN_BATCH }, (_, i) => `churn-${cycle}-${i}`);
        await e.apply(
          ...names.map((name) =>
            e.pod(
              name,
              {
                terminationGracePeriodSeconds: 1,
                containers: [shContainer("app", SLEEP_FOREVER)],
              },
              { labels: { app: "churn" } },
            ),
          ),
        );
        await waitFor(async () => (await listPods(e, "app=churn")).filter(running).length === CHURN_BATCH, {
          what: `cycle ${cycle}: ${CHURN_BATCH} churn pods running`,
          timeoutMs: 120_000,
          intervalMs: 250,
        });
        await e.kubectl("delete", "pods", "-l", "app=churn", "-n", e.ns, "--wait=false");
        await waitFor(async () => (await listPods(e, "app=churn")).length === 0, {
          what: `cycle ${cycle}: churn pods gone`,
          timeoutMs: 120_000,
          intervalMs: 250,
        });
        sample(cycle);
      }
      await waitFor(async () => (await runtimeProblems(e)).length === 0, {
        what: "the runtime to hold nothing but the pods the API binds here",
        timeoutMs: 60_000,
      }).catch(async (error: Error) => {
        throw new Error(`${error.message}: ${(await runtimeProblems(e)).join("; ")}`);
      });
      const churnLeft = (await nodeObjects(e.runtime, e.agent.nodeName)).containers.filter((c) =>
        c.labels[RuntimeLabels.podName]?.startsWith("churn-"),
      );
      expect(churnLeft).toEqual([]);
      console.log(
        `churn (${kind}): ${CHURN_CYCLES * CHURN_BATCH} pod lifecycles, agent samples (cycle fds rssMiB): ${samples
          .map((s) => `${s.cycle}:${s.fds}:${Math.round(s.rssKiB / 1024)}`)
          .join(" ")}`,
      );
      // The bound on the trend: compare the last third of the samples with the first sample after warm-up.
      expect(samples.length).toBeGreaterThan(2);
      const base = samples[1] as (typeof samples)[number];
      for (const s of samples.slice(Math.floor((samples.length * 2) / 3))) {
        expect(s.fds, `open FDs at cycle ${s.cycle}`).toBeLessThanOrEqual(base.fds + FD_GROWTH_BOUND);
        expect(s.rssKiB, `RSS at cycle ${s.cycle}`).toBeLessThanOrEqual(base.rssKiB * RSS_GROWTH_FACTOR);
      }
      await e.kubectl("delete", "service", "churn", "-n", e.ns);
    }, 900_000);
  });
}
