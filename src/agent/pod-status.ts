// The pure function from "what the pod should be + what the runtime has + what probes say" to the PodStatus
// the agent reports, following kubelet's generateAPIPodStatus/getPhase: phase, conditions, container and
// init container statuses with upstream's reasons, IPs, start time and QoS class.
import { cpuMillis, wholeUnits } from "../api/quantity.ts";
import type { Container } from "../api/schema/core/container.ts";
import type {
  ContainerStatus as ApiContainerStatus,
  ContainerState,
  Pod,
  PodCondition,
  PodStatus,
} from "../api/schema/core/pod-types.ts";
import type { ContainerStatus } from "../runtime/types.ts";
import { k8sTime } from "../util/time.ts";
import { latestByName, restartPolicyOf } from "./planner.ts";
import type { PodRuntimeStatus } from "./pleg.ts";

/** Why a container is not running, as the last sync saw it (ErrImagePull, CrashLoopBackOff …). */
export interface WaitingReason {
  reason: string;
  message?: string;
}

export interface PodStatusInput {
  pod: Pod;
  runtime: PodRuntimeStatus | undefined;
  /** "containerd" or "docker": the containerID scheme. */
  runtimeName: string;
  hostIPs: string[];
  now: number;
  /** Per container name, why it is waiting (from the last sync). */
  waiting?: ReadonlyMap<string, WaitingReason>;
  /** Readiness probe results per container name; a container without a readiness probe is ready when running. */
  readiness?: ReadonlyMap<string, boolean>;
  /** Startup probe results per container name; without a startup probe, started = running. */
  startup?: ReadonlyMap<string, boolean>;
  /** The pod will not run again (admission rejected it, or it finished under its restart policy). */
  terminal?: { phase: "Failed" | "Succeeded"; reason?: string; message?: string };
}

export type QosClass = "Guaranteed" | "Burstable" | "BestEffort";

/** Upstream's QoS rules: Guaranteed when every container's cpu and memory limits equal its requests. */
export function qosClass(pod: Pod): QosClass {
  const containers = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  let anySet = false;
  let guaranteed = true;
  for (const container of containers) {
    const requests = (container.resources?.requests ?? {}) as Record<string, string>;
    const limits = (container.resources?.limits ?? {}) as Record<string, string>;
    for (const resource of ["cpu", "memory"]) {
      const request = requests[resource] ?? limits[resource];
      const limit = limits[resource];
      if (request !== undefined || limit !== undefined) anySet = true;
      if (limit === undefined || request === undefined) {
        guaranteed = false;
        continue;
      }
      const amount = resource === "cpu" ? cpuMillis : wholeUnits;
      if (amount(request) !== amount(limit)) guaranteed = false;
    }
  }
  if (!anySet) return "BestEffort";
  return guaranteed ? "Guaranteed" : "Burstable";
}

function containerId(runtimeName: string, id: string): string {
  return `${runtimeName}://${id}`;
}

function terminatedState(runtimeName: string, status: ContainerStatus): ContainerState {
  return {
    terminated: {
      exitCode: status.exitCode,
      reason: status.reason || (status.exitCode === 0 ? "Completed" : "Error"),
      ...(status.message ? { message: status.message } : {}),
      ...(status.startedAt ? { startedAt: k8sTime(status.startedAt) } : {}),
      ...(status.finishedAt ? { finishedAt: k8sTime(status.finishedAt) } : {}),
      containerID: containerId(runtimeName, status.id),
    },
  };
}

/** The previous instance of a container (the newest one older than `current`), for lastState. */
function previousInstance(
  all: readonly ContainerStatus[],
  current: ContainerStatus,
): ContainerStatus | undefined {
  return all
    .filter((s) => s.metadata.name === current.metadata.name && s.id !== current.id && s.state === "exited")
    .sort((a, b) => b.metadata.attempt - a.metadata.attempt || b.createdAt - a.createdAt)[0];
}

function containerStatuses(
  specs: readonly Container[],
  input: PodStatusInput,
  defaultWaiting: WaitingReason,
  readinessApplies: boolean,
): ApiContainerStatus[] {
  const all = input.runtime?.containers ?? [];
  const latest = latestByName(all);
  return specs.map((spec) => {
    const current = latest.get(spec.name);
    const waiting = input.waiting?.get(spec.name);
    const base = {
      name: spec.name,
      image: spec.image ?? "",
      imageID: current?.imageRef ?? "",
      restartCount: current?.metadata.attempt ?? 0,
      ...(current ? { containerID: containerId(input.runtimeName, current.id) } : {}),
    };
    if (!current) {
      const why = waiting ?? defaultWaiting;
      return { ...base, ready: false, started: false, state: { waiting: why }, lastState: {} };
    }
    const previous = previousInstance(all, current);
    const lastState: ContainerState = previous ? terminatedState(input.runtimeName, previous) : {};
    if (current.state === "running") {
      const started = input.startup?.get(spec.name) ?? true;
      const ready = readinessApplies && started && (input.readiness?.get(spec.name) ?? !spec.readinessProbe);
      return {
        ...base,
        ready,
        started,
        state: { running: { startedAt: k8sTime(current.startedAt || current.createdAt) } },
        lastState,
      };
    }
    if (current.state === "exited") {
      // An exited container waiting to be restarted shows as waiting, with its death as lastState.
      if (waiting) {
        return {
          ...base,
          ready: false,
          started: false,
          state: { waiting },
          lastState: terminatedState(input.runtimeName, current),
        };
      }
      return {
        ...base,
        ready: false,
        started: false,
        state: terminatedState(input.runtimeName, current),
        lastState,
      };
    }
    return {
      ...base,
      ready: false,
      started: false,
      state: { waiting: waiting ?? { reason: "ContainerCreating" } },
      lastState,
    };
  });
}

/** kubelet's getPhase. */
export function podPhase(
  pod: Pod,
  init: readonly ApiContainerStatus[],
  app: readonly ApiContainerStatus[],
): NonNullable<PodStatus["phase"]> {
  const policy = restartPolicyOf(pod);
  let pendingInit = 0;
  let failedInit = 0;
  for (const status of init) {
    const { state, lastState } = status;
    if (state?.running || (!state?.terminated && !state?.waiting)) pendingInit++;
    else if (state.terminated) {
      if (state.terminated.exitCode !== 0) failedInit++;
    } else if (lastState?.terminated && lastState.terminated.exitCode !== 0) failedInit++;
    else pendingInit++;
  }
  let unknown = 0;
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const status of app) {
    const { state, lastState } = status;
    if (state?.running) running++;
    else if (state?.terminated) {
      stopped++;
      if (state.terminated.exitCode === 0) succeeded++;
    } else if (state?.waiting) {
      if (lastState?.terminated) stopped++;
      else waiting++;
    } else unknown++;
  }
  if (failedInit > 0 && policy === "Never") return "Failed";
  if (pendingInit > 0 || failedInit > 0) return "Pending";
  if (waiting > 0) return "Pending";
  if (running > 0 && unknown === 0) return "Running";
  if (running === 0 && stopped > 0 && unknown === 0) {
    if (policy === "Always") return "Running";
    if (stopped === succeeded) return "Succeeded";
    return policy === "OnFailure" ? "Running" : "Failed";
  }
  return "Pending";
}

function condition(
  type: string,
  ok: boolean,
  previous: readonly PodCondition[],
  now: string,
  reason?: string,
  message?: string,
): PodCondition {
  const status = ok ? "True" : "False";
  const before = previous.find((c) => c.type === type);
  const lastTransitionTime =
    before?.status === status && before.lastTransitionTime ? before.lastTransitionTime : now;
  return {
    type,
    status,
    lastTransitionTime,
    ...(!ok && reason ? { reason } : {}),
    ...(!ok && message ? { message } : {}),
  };
}

export function generatePodStatus(input: PodStatusInput): PodStatus {
  const { pod } = input;
  const now = k8sTime(input.now);
  const previous = pod.status ?? {};
  const previousConditions = previous.conditions ?? [];
  const initSpecs = pod.spec?.initContainers ?? [];
  const appSpecs = pod.spec?.containers ?? [];
  const sandbox = input.runtime?.sandboxes.find((s) => s.state === "ready") ?? input.runtime?.sandboxes[0];

  const init = containerStatuses(initSpecs, input, { reason: "PodInitializing" }, false);
  const initDone = init.every((s) => s.state?.terminated?.exitCode === 0);
  const app = containerStatuses(
    appSpecs,
    input,
    { reason: initDone ? "ContainerCreating" : "PodInitializing" },
    true,
  );

  const phase = input.terminal?.phase ?? podPhase(pod, init, app);
  const finished = phase === "Succeeded" || phase === "Failed";
  const notInitialized = init.filter((s) => s.state?.terminated?.exitCode !== 0).map((s) => s.name);
  const notReady = app.filter((s) => !s.ready).map((s) => s.name);
  const sandboxReady = sandbox?.state === "ready" && (Boolean(sandbox.ip) || sandbox.hostNetwork);

  const gates = pod.spec?.readinessGates ?? [];
  const gatesOk = gates.every(
    (g) => previousConditions.find((c) => c.type === g.conditionType)?.status === "True",
  );
  const containersReady = notReady.length === 0 && !finished;
  const completed = finished ? "PodCompleted" : undefined;
  const conditions: PodCondition[] = [
    condition("PodReadyToStartContainers", sandboxReady, previousConditions, now),
    condition(
      "Initialized",
      notInitialized.length === 0 || (finished && initDone),
      previousConditions,
      now,
      completed ?? "ContainersNotInitialized",
      `containers with incomplete status: [${notInitialized.join(" ")}]`,
    ),
    condition(
      "Ready",
      containersReady && gatesOk,
      previousConditions,
      now,
      completed ?? (containersReady ? "ReadinessGatesNotReady" : "ContainersNotReady"),
      completed
        ? undefined
        : containersReady
          ? 'the status of pod readiness gates is not "True"'
          : `containers with unready status: [${notReady.join(" ")}]`,
    ),
    condition(
      "ContainersReady",
      containersReady,
      previousConditions,
      now,
      completed ?? "ContainersNotReady",
      completed ? undefined : `containers with unready status: [${notReady.join(" ")}]`,
    ),
    previousConditions.find((c) => c.type === "PodScheduled") ?? condition("PodScheduled", true, [], now),
  ];
  // Conditions other writers own (readiness gates, DisruptionTarget …) are kept as they are.
  const owned = new Set(conditions.map((c) => c.type));
  for (const other of previousConditions) if (!owned.has(other.type)) conditions.push(other);

  const podIPs =
    sandbox && !sandbox.hostNetwork ? [sandbox.ip, ...sandbox.additionalIps].filter(Boolean) : [];
  const ips = pod.spec?.hostNetwork ? input.hostIPs.slice(0, 1) : podIPs;
  const status: PodStatus = {
    phase,
    conditions,
    hostIP: input.hostIPs[0] ?? "",
    hostIPs: input.hostIPs.map((ip) => ({ ip })),
    ...(ips.length > 0 ? { podIP: ips[0], podIPs: ips.map((ip) => ({ ip })) } : {}),
    startTime: previous.startTime ?? now,
    ...(initSpecs.length > 0 ? { initContainerStatuses: init } : {}),
    containerStatuses: app,
    qosClass: qosClass(pod),
    ...(input.terminal?.reason ? { reason: input.terminal.reason } : {}),
    ...(input.terminal?.message ? { message: input.terminal.message } : {}),
  };
  return status;
}
