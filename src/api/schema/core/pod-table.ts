// The Pod table kubectl shows (upstream printPod): NAME READY STATUS RESTARTS AGE, and with -o wide
// IP NODE NOMINATED NODE READINESS GATES. STATUS is computed from the container states like upstream.

import type { KindTable } from "../kind.ts";
import { AGE_COLUMN, column, NAME_COLUMN, since } from "../printing.ts";
import type { Container } from "./container.ts";
import type { ContainerStatus, Pod } from "./pod-types.ts";

const NODE_UNREACHABLE_REASON = "NodeLost";

function isRestartableInit(c: Container | undefined): boolean {
  return c?.restartPolicy === "Always";
}

function later(a: string | undefined, b: string | undefined): string | undefined {
  if (!a) return b;
  if (!b) return a;
  return Date.parse(b) > Date.parse(a) ? b : a;
}

function lastTerminated(s: ContainerStatus): string | undefined {
  return s.lastState?.terminated?.finishedAt;
}

/** READY, STATUS and RESTARTS of a pod, as upstream's printer computes them. */
export function podStatusColumns(pod: Pod, now: Date): { ready: string; status: string; restarts: string } {
  const spec = pod.spec ?? { containers: [] };
  const status = pod.status ?? {};
  let restarts = 0;
  let restartableInitRestarts = 0;
  let totalContainers = (spec.containers ?? []).length;
  let readyContainers = 0;
  let lastRestart: string | undefined;
  let lastRestartableInitRestart: string | undefined;
  const phase = status.phase ?? "";
  let reason: string = status.reason || phase;
  for (const c of status.conditions ?? []) {
    if (c.type === "PodScheduled" && c.reason === "SchedulingGated") reason = "SchedulingGated";
  }
  const initContainers = new Map<string, Container>();
  for (const c of spec.initContainers ?? []) {
    initContainers.set(c.name, c);
    if (isRestartableInit(c)) totalContainers++;
  }
  let initializing = false;
  const initStatuses = status.initContainerStatuses ?? [];
  for (let i = 0; i < initStatuses.length; i++) {
    const cs = initStatuses[i] as ContainerStatus;
    restarts += cs.restartCount ?? 0;
    lastRestart = later(lastRestart, lastTerminated(cs));
    const restartable = isRestartableInit(initContainers.get(cs.name));
    if (restartable) {
      restartableInitRestarts += cs.restartCount ?? 0;
      lastRestartableInitRestart = later(lastRestartableInitRestart, lastTerminated(cs));
    }
    const terminated = cs.state?.terminated;
    const waiting = cs.state?.waiting;
    if (terminated && terminated.exitCode === 0) continue;
    if (restartable && cs.started) {
      if (cs.ready) readyContainers++;
      continue;
    }
    if (terminated) {
      if (!terminated.reason) {
        reason = terminated.signal
          ? `Init:Signal:${terminated.signal}`
          : `Init:ExitCode:${terminated.exitCode}`;
      } else {
        reason = `Init:${terminated.reason}`;
      }
    } else if (waiting?.reason && waiting.reason !== "PodInitializing") {
      reason = `Init:${waiting.reason}`;
    } else {
      reason = `Init:${i}/${(spec.initContainers ?? []).length}`;
    }
    initializing = true;
    break;
  }
  const initialized = (status.conditions ?? []).some((c) => c.type === "Initialized" && c.status === "True");
  if (!initializing || initialized) {
    restarts = restartableInitRestarts;
    lastRestart = lastRestartableInitRestart;
    let hasRunning = false;
    const statuses = status.containerStatuses ?? [];
    for (let i = statuses.length - 1; i >= 0; i--) {
      const cs = statuses[i] as ContainerStatus;
      restarts += cs.restartCount ?? 0;
      lastRestart = later(lastRestart, lastTerminated(cs));
      const waiting = cs.state?.waiting;
      const terminated = cs.state?.terminated;
      if (waiting?.reason) {
        reason = waiting.reason;
      } else if (terminated?.reason) {
        reason = terminated.reason;
      } else if (terminated) {
        reason = terminated.signal ? `Signal:${terminated.signal}` : `ExitCode:${terminated.exitCode}`;
      } else if (cs.ready && cs.state?.running) {
        hasRunning = true;
        readyContainers++;
      }
    }
    if (reason === "Completed" && hasRunning) {
      const podReady = (status.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");
      reason = podReady ? "Running" : "NotReady";
    }
  }
  const deleting = pod.metadata?.deletionTimestamp !== undefined;
  if (deleting && status.reason === NODE_UNREACHABLE_REASON) {
    reason = "Unknown";
  } else if (deleting && phase !== "Succeeded" && phase !== "Failed") {
    reason = "Terminating";
  }
  const restartsText =
    restarts !== 0 && lastRestart ? `${restarts} (${since(lastRestart, now)} ago)` : String(restarts);
  return { ready: `${readyContainers}/${totalContainers}`, status: reason, restarts: restartsText };
}

export const podTable: KindTable<Pod> = {
  columns: [
    NAME_COLUMN,
    column("Ready", "The aggregate readiness state of this pod for accepting traffic."),
    column("Status", "The aggregate status of the containers in this pod."),
    column(
      "Restarts",
      "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
    ),
    AGE_COLUMN,
    column("IP", "IP address allocated to the pod. Routable at least within the cluster.", 1),
    column("Node", "The node the pod is scheduled to (spec.nodeName).", 1),
    column("Nominated Node", "The node this pod may be placed on once preemption victims are gone.", 1),
    column("Readiness Gates", "How many of the pod's readiness gates are true.", 1),
  ],
  row(pod, now = new Date()) {
    const { ready, status, restarts } = podStatusColumns(pod, now);
    const podIP = pod.status?.podIPs?.[0]?.ip || "<none>";
    const gates = pod.spec?.readinessGates ?? [];
    let readinessGates = "<none>";
    if (gates.length > 0) {
      let trueConditions = 0;
      for (const gate of gates) {
        const cond = (pod.status?.conditions ?? []).find((c) => c.type === gate.conditionType);
        if (cond?.status === "True") trueConditions++;
      }
      readinessGates = `${trueConditions}/${gates.length}`;
    }
    return [
      pod.metadata?.name ?? "",
      ready,
      status,
      restarts,
      since(pod.metadata?.creationTimestamp, now),
      podIP,
      pod.spec?.nodeName || "<none>",
      pod.status?.nominatedNodeName || "<none>",
      readinessGates,
    ];
  },
};
