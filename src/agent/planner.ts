// The pure half of a pod sync: given the desired pod and what the runtime has, decide what to do. Mirrors
// kubelet's computePodActions: whether the sandbox must be (re)created, which init container runs next,
// which app containers start and which running ones are killed, or whether the whole pod is killed.
// The executor (sync-pod.ts) carries the plan out; table tests pin the decisions (test/agent/planner.test.ts).
import { createHash } from "node:crypto";
import type { Container } from "../api/schema/core/container.ts";
import type { ContainerStatus, PodSandboxStatus } from "../runtime/types.ts";
import { RuntimeLabels } from "../runtime/types.ts";
import type { PodRuntimeStatus } from "./pleg.ts";

export type RestartPolicy = "Always" | "OnFailure" | "Never";

/** What the planner reads from a pod. */
export interface PlannedPod {
  metadata?: { uid?: string; deletionTimestamp?: string };
  spec?: {
    containers?: Container[];
    initContainers?: Container[];
    restartPolicy?: string;
    hostNetwork?: boolean;
  };
}

export interface ContainerToKill {
  id: string;
  name: string;
  /** Upstream's message, e.g. "Container app definition changed, will be restarted". */
  message: string;
  reason: "SpecChanged" | "Unhealthy" | "NotInSpec" | "InitContainerRestart";
}

export interface PodActions {
  /** Kill every container and the sandbox (sandbox changed, pod finished, or pod terminating). */
  killPod: boolean;
  createSandbox: boolean;
  /** The ready sandbox to use when not creating one. */
  sandboxId: string;
  /** Attempt number for a new sandbox. */
  attempt: number;
  /** The init container to start next (index into spec.initContainers), if any. */
  nextInitContainer: number | undefined;
  /** Init containers have all succeeded (or there are none). */
  initDone: boolean;
  /** App containers to start (indexes into spec.containers). */
  containersToStart: number[];
  containersToKill: ContainerToKill[];
  /** Why, for logs: one short phrase per decision. */
  reasons: string[];
}

export interface PlanInput {
  pod: PlannedPod;
  runtime: PodRuntimeStatus | undefined;
  /** Containers whose liveness or startup probe says they must be restarted (by name). */
  unhealthy?: ReadonlyMap<string, string>;
}

/** A hash of the container's spec alone, stored as a label; a change means the container must be replaced. */
export function containerSpecHash(container: Container): string {
  return createHash("sha256").update(canonicalJson(container)).digest("hex").slice(0, 16);
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

export function restartPolicyOf(pod: PlannedPod): RestartPolicy {
  const policy = pod.spec?.restartPolicy;
  return policy === "OnFailure" || policy === "Never" ? policy : "Always";
}

/** Latest status per container name (the runtime may hold older, exited instances). */
export function latestByName(statuses: readonly ContainerStatus[]): Map<string, ContainerStatus> {
  const latest = new Map<string, ContainerStatus>();
  for (const status of statuses) {
    const name = status.metadata.name;
    const seen = latest.get(name);
    if (
      !seen ||
      status.metadata.attempt > seen.metadata.attempt ||
      (status.metadata.attempt === seen.metadata.attempt && status.createdAt > seen.createdAt)
    ) {
      latest.set(name, status);
    }
  }
  return latest;
}

/** Whether a container that is not running should be started again under the pod's restart policy. */
export function shouldRestart(policy: RestartPolicy, status: ContainerStatus | undefined): boolean {
  if (!status) return true; // never ran
  if (status.state === "running") return false;
  if (status.state === "created") return true; // created but never started: start it
  if (policy === "Always") return true;
  if (policy === "OnFailure") return status.exitCode !== 0;
  return false;
}

interface SandboxDecision {
  create: boolean;
  attempt: number;
  sandboxId: string;
  why: string;
}

function sandboxDecision(pod: PlannedPod, sandboxes: readonly PodSandboxStatus[]): SandboxDecision {
  const newest = [...sandboxes].sort((a, b) => b.createdAt - a.createdAt)[0];
  if (!newest) return { create: true, attempt: 0, sandboxId: "", why: "no sandbox" };
  const next = newest.metadata.attempt + 1;
  const ready = sandboxes.filter((s) => s.state === "ready");
  if (ready.length > 1)
    return { create: true, attempt: next, sandboxId: newest.id, why: "more than one ready sandbox" };
  if (newest.state !== "ready")
    return { create: true, attempt: next, sandboxId: newest.id, why: "sandbox is not ready" };
  if (!pod.spec?.hostNetwork && !newest.ip)
    return { create: true, attempt: next, sandboxId: newest.id, why: "sandbox has no IP" };
  if (Boolean(pod.spec?.hostNetwork) !== newest.hostNetwork) {
    return { create: true, attempt: next, sandboxId: newest.id, why: "sandbox network mode changed" };
  }
  return { create: false, attempt: newest.metadata.attempt, sandboxId: newest.id, why: "" };
}

function emptyActions(): PodActions {
  return {
    killPod: false,
    createSandbox: false,
    sandboxId: "",
    attempt: 0,
    nextInitContainer: undefined,
    initDone: true,
    containersToStart: [],
    containersToKill: [],
    reasons: [],
  };
}

/** Decides what one sync must do. Pure: same input, same plan. */
export function computePodActions(input: PlanInput): PodActions {
  const { pod } = input;
  const actions = emptyActions();
  const policy = restartPolicyOf(pod);
  const sandboxes = input.runtime?.sandboxes ?? [];
  const statuses = input.runtime?.containers ?? [];
  const latest = latestByName(statuses);
  const containers = pod.spec?.containers ?? [];
  const initContainers = pod.spec?.initContainers ?? [];

  if (pod.metadata?.deletionTimestamp) {
    actions.killPod = true;
    actions.reasons.push("pod is being deleted");
    return actions;
  }

  const sandbox = sandboxDecision(pod, sandboxes);
  actions.sandboxId = sandbox.sandboxId;
  actions.attempt = sandbox.attempt;

  if (sandbox.create) {
    actions.createSandbox = true;
    actions.reasons.push(sandbox.why);
    if (sandboxes.length > 0) actions.killPod = true;
    // A pod that must not restart and already ran does not get a new sandbox: it is done.
    if (policy === "Never" && sandbox.attempt > 0 && statuses.length > 0) {
      actions.createSandbox = false;
      actions.killPod = true;
      actions.reasons.push("restartPolicy Never: not recreating the sandbox of a pod that already ran");
      return actions;
    }
    const init = nextInitContainer(initContainers, latest, policy, true);
    actions.initDone = init.done;
    if (!init.done) {
      actions.nextInitContainer = init.next;
      return actions;
    }
    containers.forEach((container, index) => {
      const status = latest.get(container.name);
      // On a new sandbox everything starts again, except what finished for good under the policy.
      if (status && status.state === "exited" && !shouldRestart(policy, status)) return;
      actions.containersToStart.push(index);
    });
    return actions;
  }

  // The sandbox is fine: kill running containers that are not in the spec (any more).
  const wanted = new Set([...containers, ...initContainers].map((c) => c.name));
  for (const status of statuses) {
    if (status.state === "running" && !wanted.has(status.metadata.name)) {
      actions.containersToKill.push({
        id: status.id,
        name: status.metadata.name,
        message: `Container ${status.metadata.name} is not in the pod's spec any more`,
        reason: "NotInSpec",
      });
    }
  }

  const init = nextInitContainer(initContainers, latest, policy, false);
  actions.initDone = init.done;
  if (init.failedForGood) {
    actions.killPod = true;
    actions.reasons.push(`init container ${init.failedForGood} failed and restartPolicy is ${policy}`);
    return actions;
  }
  if (!init.done) {
    if (init.next !== undefined) actions.nextInitContainer = init.next;
    return actions;
  }

  let keep = 0;
  containers.forEach((container, index) => {
    const status = latest.get(container.name);
    if (status?.state !== "running") {
      if (shouldRestart(policy, status)) {
        actions.containersToStart.push(index);
        actions.reasons.push(`container ${container.name} is not running`);
      }
      return;
    }
    const hash = status.labels[RuntimeLabels.specHash];
    if (hash !== undefined && hash !== containerSpecHash(container)) {
      actions.containersToKill.push({
        id: status.id,
        name: container.name,
        message: `Container ${container.name} definition changed, will be restarted`,
        reason: "SpecChanged",
      });
      if (policy !== "Never") actions.containersToStart.push(index);
      return;
    }
    const unhealthy = input.unhealthy?.get(container.name);
    if (unhealthy !== undefined) {
      actions.containersToKill.push({
        id: status.id,
        name: container.name,
        message: unhealthy,
        reason: "Unhealthy",
      });
      if (policy !== "Never") actions.containersToStart.push(index);
      return;
    }
    keep++;
  });

  if (keep === 0 && actions.containersToStart.length === 0) {
    // Nothing runs and nothing will: the pod is finished; release its sandbox.
    actions.killPod = true;
    actions.reasons.push("no container is running or will be started");
  }
  return actions;
}

interface InitDecision {
  done: boolean;
  next: number | undefined;
  failedForGood: string | undefined;
}

/** Init containers run one at a time, in order, each to success. */
function nextInitContainer(
  initContainers: readonly Container[],
  latest: ReadonlyMap<string, ContainerStatus>,
  policy: RestartPolicy,
  freshSandbox: boolean,
): InitDecision {
  if (initContainers.length === 0) return { done: true, next: undefined, failedForGood: undefined };
  // A new sandbox reruns init containers from the first one (upstream does the same).
  if (freshSandbox) return { done: false, next: 0, failedForGood: undefined };
  for (let i = 0; i < initContainers.length; i++) {
    const spec = initContainers[i] as Container;
    const status = latest.get(spec.name);
    if (!status) return { done: false, next: i, failedForGood: undefined };
    if (status.state === "running" || status.state === "created")
      return { done: false, next: undefined, failedForGood: undefined };
    if (status.exitCode === 0) continue;
    // Failed: retry unless the pod never restarts.
    if (policy === "Never") return { done: false, next: undefined, failedForGood: spec.name };
    return { done: false, next: i, failedForGood: undefined };
  }
  return { done: true, next: undefined, failedForGood: undefined };
}
