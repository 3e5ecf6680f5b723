// What the agent says about its Node: the object it registers and the status it reports. Pure functions of
// machine facts, configuration and health signals; node-registration.ts does the API calls.
import { cpuMillis, formatCpu, formatKi, wholeUnits } from "../../api/quantity.ts";
import type { KubeObject } from "../../api/resource.ts";
import type { NodeCondition, NodeStatus } from "../../api/schema/core/node-types.ts";
import { k8sTime } from "../../util/time.ts";
import type { AgentConfig } from "../config.ts";
import type { MachineInfo } from "./machine.ts";

export interface NodeHealth {
  /** Runtime answered its status call with RuntimeReady=true. */
  runtimeReady: boolean;
  runtimeMessage: string;
  /** "containerd://1.6.20" or "docker://20.10.24"; empty while the runtime has never answered. */
  runtimeVersion: string;
  networkReady: boolean;
  networkMessage: string;
  pleg: { ok: boolean; message: string };
  /** Bytes free on the agent's root filesystem and inodes free (for DiskPressure). */
  nodefsAvailableBytes?: number;
  nodefsCapacityBytes?: number;
  memoryAvailableBytes?: number;
}

export interface NodeObject extends KubeObject {
  spec?: {
    podCIDR?: string;
    podCIDRs?: string[];
    taints?: AgentConfig["registerWithTaints"];
    unschedulable?: boolean;
  };
  status?: NodeStatus;
}

export const KUBELET_PORT_DEFAULT = 10250;

/** Labels the kubelet puts on its Node (well-known, from k8s.io/api/core/v1/well_known_labels.go). */
export function nodeLabels(config: AgentConfig, machine: MachineInfo): Record<string, string> {
  return {
    "kubernetes.io/hostname": config.nodeName,
    "kubernetes.io/os": machine.operatingSystem,
    "kubernetes.io/arch": machine.architecture,
    "beta.kubernetes.io/os": machine.operatingSystem,
    "beta.kubernetes.io/arch": machine.architecture,
    ...config.nodeLabels,
  };
}

/** The Node as first registered: labels, annotations, taints and podCIDR; status follows separately. */
export function initialNode(config: AgentConfig, machine: MachineInfo): NodeObject {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: config.nodeName,
      labels: nodeLabels(config, machine),
      annotations: { "volumes.kubernetes.io/controller-managed-attach-detach": "true" },
    },
    spec: {
      ...(config.podCIDR ? { podCIDR: config.podCIDR, podCIDRs: [config.podCIDR] } : {}),
      ...(config.registerWithTaints.length > 0 ? { taints: config.registerWithTaints } : {}),
    },
  };
}

function reserved(config: AgentConfig, resource: string, unit: (q: string) => number | undefined): number {
  return [config.systemReserved[resource], config.kubeReserved[resource]].reduce(
    (sum, q) => sum + (q === undefined ? 0 : (unit(q) ?? 0)),
    0,
  );
}

/** Hard-eviction threshold of a signal in bytes (percentages of `capacity`). */
function evictionBytes(config: AgentConfig, signal: string, capacity: number): number {
  const threshold = config.evictionHard[signal];
  if (!threshold) return 0;
  const percent = /^(\d+(?:\.\d+)?)%$/.exec(threshold);
  if (percent) return Math.ceil((capacity * Number(percent[1])) / 100);
  return wholeUnits(threshold) ?? 0;
}

export function capacityAndAllocatable(config: AgentConfig, machine: MachineInfo) {
  const cpu = machine.cpuCores * 1000;
  const memory = machine.memoryBytes;
  const storage = machine.ephemeralStorageBytes;
  const capacity = {
    cpu: formatCpu(cpu),
    "ephemeral-storage": formatKi(storage),
    "hugepages-1Gi": "0",
    "hugepages-2Mi": "0",
    memory: formatKi(memory),
    pods: String(config.maxPods),
  };
  const allocatable = {
    cpu: formatCpu(Math.max(0, cpu - reserved(config, "cpu", cpuMillis))),
    "ephemeral-storage": String(
      Math.max(
        0,
        storage -
          reserved(config, "ephemeral-storage", wholeUnits) -
          evictionBytes(config, "nodefs.available", storage),
      ),
    ),
    "hugepages-1Gi": "0",
    "hugepages-2Mi": "0",
    memory: formatKi(
      Math.max(
        0,
        memory - reserved(config, "memory", wholeUnits) - evictionBytes(config, "memory.available", memory),
      ),
    ),
    pods: String(config.maxPods),
  };
  return { capacity, allocatable };
}

interface ConditionSpec {
  type: string;
  ok: boolean;
  /** The status when `ok`: "True" for Ready, "False" for the pressure conditions. */
  okStatus: "True" | "False";
  reason: string;
  message: string;
}

function pressure(
  type: string,
  under: boolean,
  okReason: string,
  okMessage: string,
  badReason: string,
  badMessage: string,
): ConditionSpec {
  return under
    ? { type, ok: false, okStatus: "False", reason: badReason, message: badMessage }
    : { type, ok: true, okStatus: "False", reason: okReason, message: okMessage };
}

export function nodeConditionSpecs(
  config: AgentConfig,
  health: NodeHealth,
  machine: MachineInfo,
): ConditionSpec[] {
  const memoryThreshold = evictionBytes(config, "memory.available", machine.memoryBytes);
  const memoryPressure =
    health.memoryAvailableBytes !== undefined && health.memoryAvailableBytes < memoryThreshold;
  const diskThreshold =
    health.nodefsCapacityBytes === undefined
      ? 0
      : evictionBytes(config, "nodefs.available", health.nodefsCapacityBytes);
  const diskPressure =
    health.nodefsAvailableBytes !== undefined && health.nodefsAvailableBytes < diskThreshold;

  const notReady: string[] = [];
  if (!health.runtimeReady) notReady.push(`container runtime is down: ${health.runtimeMessage}`.trim());
  else if (!health.networkReady)
    notReady.push(`container runtime network not ready: ${health.networkMessage}`.trim());
  if (!health.pleg.ok) notReady.push(health.pleg.message);
  // Pressure conditions do not make a node NotReady (upstream's ReadyCondition setter ignores them): the
  // scheduler keeps new pods away through the node.kubernetes.io/*-pressure taints instead.

  return [
    pressure(
      "MemoryPressure",
      memoryPressure,
      "KubeletHasSufficientMemory",
      "kubelet has sufficient memory available",
      "KubeletHasInsufficientMemory",
      "kubelet has insufficient memory available",
    ),
    pressure(
      "DiskPressure",
      diskPressure,
      "KubeletHasNoDiskPressure",
      "kubelet has no disk pressure",
      "KubeletHasDiskPressure",
      "kubelet has disk pressure",
    ),
    pressure(
      "PIDPressure",
      false,
      "KubeletHasSufficientPID",
      "kubelet has sufficient PID available",
      "KubeletHasInsufficientPID",
      "kubelet has insufficient PID available",
    ),
    notReady.length === 0
      ? {
          type: "Ready",
          ok: true,
          okStatus: "True",
          reason: "KubeletReady",
          message: "kubelet is posting ready status",
        }
      : {
          type: "Ready",
          ok: false,
          okStatus: "True",
          reason: "KubeletNotReady",
          message: notReady.join(", "),
        },
  ];
}

function conditions(
  specs: ConditionSpec[],
  previous: readonly NodeCondition[],
  now: string,
): NodeCondition[] {
  return specs.map((spec) => {
    const status = spec.ok ? spec.okStatus : spec.okStatus === "True" ? "False" : "True";
    const before = previous.find((c) => c.type === spec.type);
    return {
      type: spec.type,
      status,
      lastHeartbeatTime: now,
      lastTransitionTime:
        before?.status === status && before.lastTransitionTime ? before.lastTransitionTime : now,
      reason: spec.reason,
      message: spec.message,
    };
  });
}

export interface NodeStatusInput {
  config: AgentConfig;
  machine: MachineInfo;
  health: NodeHealth;
  kubeletVersion: string;
  previous: NodeStatus | undefined;
  now: number;
}

export function nodeStatus(input: NodeStatusInput): NodeStatus {
  const { config, machine, health } = input;
  const { capacity, allocatable } = capacityAndAllocatable(config, machine);
  const addresses = [
    ...machine.internalIPs.slice(0, 1).map((address) => ({ type: "InternalIP", address })),
    { type: "Hostname", address: machine.hostname },
  ];
  return {
    capacity,
    allocatable,
    conditions: conditions(
      nodeConditionSpecs(config, health, machine),
      input.previous?.conditions ?? [],
      k8sTime(input.now),
    ),
    addresses,
    daemonEndpoints: { kubeletEndpoint: { Port: config.port } },
    nodeInfo: {
      machineID: machine.machineID,
      systemUUID: machine.systemUUID,
      bootID: machine.bootID,
      kernelVersion: machine.kernelVersion,
      osImage: machine.osImage,
      containerRuntimeVersion: health.runtimeVersion,
      kubeletVersion: input.kubeletVersion,
      kubeProxyVersion: input.kubeletVersion,
      operatingSystem: machine.operatingSystem,
      architecture: machine.architecture,
    },
  } as NodeStatus;
}

/** Whether a newly computed status differs from the last written one in anything but heartbeat times. */
export function nodeStatusChanged(previous: NodeStatus | undefined, next: NodeStatus): boolean {
  if (!previous) return true;
  const strip = (status: NodeStatus) =>
    JSON.stringify({
      ...status,
      conditions: (status.conditions ?? []).map(({ lastHeartbeatTime: _h, ...rest }) => rest),
    });
  return strip(previous) !== strip(next);
}
