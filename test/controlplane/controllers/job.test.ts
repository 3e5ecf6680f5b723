// The Job and TTL-after-finished controllers against a real control plane with kubectl. A kubelet stand-in
// plays the pods' outcome (succeed, fail, or keep running) through the status endpoint.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Job } from "../../../src/api/schema/batch/types.ts";
import type { Pod } from "../../../src/api/schema/core/pod-types.ts";
import {
  confirmPodDeletion,
  createFakeNode,
  deleteNode,
  eventsFor,
  listPods,
  setPodFinished,
  setPodRunning,
  startCluster,
  type TestCluster,
  uniqueName,
  waitFor,
} from "./support.ts";

const JOBS = { group: "batch", version: "v1", resource: "jobs" } as const;

type Outcome = "succeed" | "fail" | "run";

describe("Job controller", () => {
  let cluster: TestCluster;
  const node = uniqueName("job-node");
  let ns: string;
  let stopped = false;
  let loop: Promise<void> | undefined;
  /** job name → what its pods do. */
  const outcomes = new Map<string, Outcome>();
  /** job name → highest number of pods seen running at once. */
  const peakActive = new Map<string, number>();

  const jobYaml = (name: string, spec: string) => `apiVersion: batch/v1
kind: Job
metadata: { name: ${name}, namespace: ${ns} }
spec:
${spec}
  template:
    spec:
      restartPolicy: Never
      containers: [ { name: main, image: deckhand.local/busybox:1.35, command: [sh, -c, "exit 0"] } ]
`;
  const getJob = (name: string) => cluster.api.get<Job>({ ...JOBS, namespace: ns, name });
  const conditionsOf = (job: Job) =>
    (job.status?.conditions ?? []).map((c) => [c.type, c.status, c.reason, c.message]);

  beforeAll(async () => {
    cluster = await startCluster();
    await createFakeNode(cluster.api, node);
    ns = await cluster.namespace("job");
    // Kubelet stand-in: a bound pod first runs, then finishes as its job's outcome says.
    loop = (async () => {
      while (!stopped) {
        try {
          const pods = await listPods(cluster.api, ns);
          const running = new Map<string, number>();
          for (const pod of pods) {
            const job = pod.metadata?.labels?.["job-name"] ?? "";
            if (!pod.spec?.nodeName) continue;
            if (pod.metadata?.deletionTimestamp) {
              await confirmPodDeletion(cluster.api, pod);
              continue;
            }
            if (pod.status?.phase === "Pending") await setPodRunning(cluster.api, pod);
            else if (pod.status?.phase === "Running") {
              running.set(job, (running.get(job) ?? 0) + 1);
              const outcome = outcomes.get(job) ?? "succeed";
              if (outcome !== "run")
                await setPodFinished(
                  cluster.api,
                  pod,
                  outcome === "succeed" ? "Succeeded" : "Failed",
                  outcome === "succeed" ? 0 : 1,
                );
            }
          }
          for (const [job, n] of running) peakActive.set(job, Math.max(peakActive.get(job) ?? 0, n));
        } catch {
          // Races with the controller are expected; next round.
        }
        await new Promise((r) => setTimeout(r, 150));
      }
    })();
  });

  afterAll(async () => {
    stopped = true;
    await loop;
    if (cluster) await deleteNode(cluster.api, node);
    await cluster?.stop();
  });

  it("runs completions with at most parallelism pods at once and completes like upstream", async () => {
    const name = uniqueName("pi");
    await cluster.cp.kubectl(["apply", "-f", "-"], {
      input: jobYaml(name, "  completions: 4\n  parallelism: 2"),
    });
    const waited = await cluster.cp.kubectl([
      "wait",
      "--for=condition=complete",
      `job/${name}`,
      "-n",
      ns,
      "--timeout=90s",
    ]);
    expect(waited.stdout).toContain("condition met");
    const job = await getJob(name);
    expect(job.status?.succeeded).toBe(4);
    expect(job.status?.active ?? 0).toBe(0);
    expect(job.status?.completionTime).toBeTruthy();
    expect(conditionsOf(job)).toEqual([
      ["SuccessCriteriaMet", "True", "CompletionsReached", "Reached expected number of succeeded pods"],
      ["Complete", "True", "CompletionsReached", "Reached expected number of succeeded pods"],
    ]);
    expect(peakActive.get(name) ?? 0).toBeLessThanOrEqual(2);
    const pods = await listPods(cluster.api, ns, `job-name=${name}`);
    expect(pods.filter((p) => p.status?.phase === "Succeeded")).toHaveLength(4);
    // Counted pods lose the tracking finalizer.
    for (const p of pods)
      expect(p.metadata?.finalizers ?? []).not.toContain("batch.kubernetes.io/job-tracking");
    const events = await eventsFor(cluster.api, ns, name);
    expect(events.filter((e) => e.reason === "SuccessfulCreate")).not.toHaveLength(0);
    expect(events.some((e) => e.reason === "Completed" && e.message === "Job completed")).toBe(true);
    expect(await cluster.kubectl("get", "job", name, "-n", ns)).toMatch(
      new RegExp(`${name}\\s+Complete\\s+4/4`),
    );
  });

  it("fails with BackoffLimitExceeded once failures exceed backoffLimit", async () => {
    const name = uniqueName("fail");
    outcomes.set(name, "fail");
    await cluster.cp.kubectl(["apply", "-f", "-"], { input: jobYaml(name, "  backoffLimit: 1") });
    const job = await waitFor(
      async () => {
        const j = await getJob(name);
        return j.status?.conditions?.some((c) => c.type === "Failed") ? j : undefined;
      },
      { what: "the job to fail", timeoutMs: 90_000 },
    );
    expect(job.status?.failed).toBe(2);
    expect(conditionsOf(job)).toEqual([
      ["FailureTarget", "True", "BackoffLimitExceeded", "Job has reached the specified backoff limit"],
      ["Failed", "True", "BackoffLimitExceeded", "Job has reached the specified backoff limit"],
    ]);
    const events = await eventsFor(cluster.api, ns, name);
    expect(events.some((e) => e.type === "Warning" && e.reason === "BackoffLimitExceeded")).toBe(true);
    // The replacement waited for the failure backoff (10 s), not a hot loop.
    const pods = await listPods(cluster.api, ns, `job-name=${name}`);
    expect(pods).toHaveLength(2);
    const created = pods.map((p) => Date.parse(p.metadata?.creationTimestamp ?? "")).sort();
    expect((created[1] as number) - (created[0] as number)).toBeGreaterThanOrEqual(9_000);
  });

  it("fails with DeadlineExceeded after activeDeadlineSeconds and stops its pods", async () => {
    const name = uniqueName("deadline");
    outcomes.set(name, "run");
    await cluster.cp.kubectl(["apply", "-f", "-"], {
      input: jobYaml(name, "  activeDeadlineSeconds: 2\n  parallelism: 2\n  completions: 5"),
    });
    const job = await waitFor(
      async () => {
        const j = await getJob(name);
        return j.status?.conditions?.some((c) => c.type === "Failed") ? j : undefined;
      },
      { what: "the job to hit its deadline", timeoutMs: 60_000 },
    );
    expect(job.status?.conditions?.find((c) => c.type === "Failed")).toMatchObject({
      reason: "DeadlineExceeded",
      message: "Job was active longer than specified deadline",
    });
    expect(job.status?.active ?? 0).toBe(0);
    await waitFor(
      async () =>
        (await listPods(cluster.api, ns, `job-name=${name}`)).every(
          (p: Pod) => p.status?.phase !== "Running",
        ),
      {
        what: "no running pods",
        timeoutMs: 30_000,
      },
    );
  });

  it("deletes a finished job after ttlSecondsAfterFinished, pods first", async () => {
    const name = uniqueName("ttl");
    await cluster.cp.kubectl(["apply", "-f", "-"], { input: jobYaml(name, "  ttlSecondsAfterFinished: 1") });
    await waitFor(
      async () => {
        const res = await cluster.cp.fetch(`/apis/batch/v1/namespaces/${ns}/jobs/${name}`);
        return res.status === 404;
      },
      { what: "the job deleted by its TTL", timeoutMs: 60_000 },
    );
    await waitFor(async () => (await listPods(cluster.api, ns, `job-name=${name}`)).length === 0, {
      what: "its pods gone",
      timeoutMs: 30_000,
    });
  });
});
