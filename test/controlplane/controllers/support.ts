// Helpers for controller tests against a real control plane: Node objects created through the API (no agent
// behind them), and a stand-in for the kubelet's status writes where the controller under test only reacts
// to pod status (Running/Ready/Succeeded/Failed with an IP). Everything goes through the public API.
import type { ApiClient } from "../../../src/api/client/client.ts";
import { isConflict, isNotFound } from "../../../src/api/client/errors.ts";
import type { Node } from "../../../src/api/schema/core/node-types.ts";
import type { Pod } from "../../../src/api/schema/core/pod-types.ts";
import { k8sMicroTime, k8sTime } from "../../../src/util/time.ts";
import { type StartOptions, startControlPlane, type TestControlPlane } from "../../support/controlplane.ts";
import { uniqueName } from "../../support/names.ts";
import { waitFor } from "../../support/wait.ts";

export const PODS = { version: "v1", resource: "pods" } as const;
export const NODES = { version: "v1", resource: "nodes" } as const;
export const EVENTS = { version: "v1", resource: "events" } as const;

export interface TestCluster {
  cp: TestControlPlane;
  api: ApiClient;
  kubectl(...args: string[]): Promise<string>;
  /** Creates a namespace of its own for one test. */
  namespace(prefix: string): Promise<string>;
  stop(): Promise<void>;
}

/** An admin ApiClient for a test control plane (its CA, the admin client certificate). */
export function apiClientFor(cp: TestControlPlane): ApiClient {
  return cp.client();
}

export async function startCluster(options: StartOptions = {}): Promise<TestCluster> {
  const cp = await startControlPlane(options);
  const api = apiClientFor(cp);
  const namespaces: string[] = [];
  return {
    cp,
    api,
    async kubectl(...args) {
      return (await cp.kubectl(args)).stdout;
    },
    async namespace(prefix) {
      const name = uniqueName(prefix);
      await api.create(
        { version: "v1", resource: "namespaces" },
        { apiVersion: "v1", kind: "Namespace", metadata: { name } },
      );
      namespaces.push(name);
      return name;
    },
    async stop() {
      api.close();
      await cp.stop();
    },
  };
}

export interface FakeNodeOptions {
  cpu?: string;
  memory?: string;
  pods?: string;
  labels?: Record<string, string>;
  taints?: Array<{ key: string; value?: string; effect: string }>;
  ready?: "True" | "False" | "Unknown";
  unschedulable?: boolean;
  podCIDR?: string;
}

/** A Node object as an agent would register it, with Ready and allocatable set through the status endpoint. */
export async function createFakeNode(
  api: ApiClient,
  name: string,
  options: FakeNodeOptions = {},
): Promise<Node> {
  await api.create<Node>(NODES, {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name,
      labels: { "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", ...options.labels },
    },
    spec: {
      ...(options.taints ? { taints: options.taints } : {}),
      ...(options.unschedulable ? { unschedulable: true } : {}),
      ...(options.podCIDR ? { podCIDR: options.podCIDR, podCIDRs: [options.podCIDR] } : {}),
    },
  } as Node);
  return setNodeStatus(api, name, options);
}

/** Writes the node's status as an agent would (retrying when a controller updated the node meanwhile). */
export async function setNodeStatus(
  api: ApiClient,
  name: string,
  options: FakeNodeOptions = {},
): Promise<Node> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await writeNodeStatus(api, name, options);
    } catch (error) {
      if (!isConflict(error) || attempt >= 10) throw error;
    }
  }
}

async function writeNodeStatus(api: ApiClient, name: string, options: FakeNodeOptions): Promise<Node> {
  const node = await api.get<Node>({ ...NODES, name });
  const now = k8sTime(Date.now());
  const resources = { cpu: options.cpu ?? "4", memory: options.memory ?? "8Gi", pods: options.pods ?? "110" };
  const ready = options.ready ?? "True";
  node.status = {
    ...node.status,
    capacity: resources,
    allocatable: resources,
    conditions: [
      {
        type: "Ready",
        status: ready,
        reason: ready === "True" ? "KubeletReady" : "KubeletNotReady",
        message: ready === "True" ? "kubelet is posting ready status" : "test says not ready",
        lastHeartbeatTime: now,
        lastTransitionTime: now,
      },
    ],
    addresses: [
      { type: "InternalIP", address: "127.0.0.1" },
      { type: "Hostname", address: name },
    ],
  };
  return api.update<Node>({ ...NODES, name, subresource: "status" }, node);
}

/** Renews the node's heartbeat Lease in kube-node-lease, as an agent does every 10 s. */
export async function renewNodeLease(api: ApiClient, name: string): Promise<void> {
  const ref = {
    group: "coordination.k8s.io",
    version: "v1",
    resource: "leases",
    namespace: "kube-node-lease",
  };
  const spec = { holderIdentity: name, leaseDurationSeconds: 40, renewTime: k8sMicroTime(Date.now()) };
  try {
    const lease = await api.get<{ metadata: object; spec: object }>({ ...ref, name });
    await api.update({ ...ref, name }, { ...lease, spec: { ...lease.spec, ...spec } });
  } catch (error) {
    if (!isNotFound(error)) throw error;
    await api.create(ref, {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { name, namespace: "kube-node-lease" },
      spec,
    });
  }
}

export async function deleteNode(api: ApiClient, name: string): Promise<void> {
  await api.delete({ ...NODES, name }).catch((error) => {
    if (!isNotFound(error)) throw error;
  });
}

let nextIp = 1;

/** What a kubelet reports for a running pod: Running, an IP, Ready (or not). */
export async function setPodRunning(api: ApiClient, pod: Pod, ready = true, ip?: string): Promise<Pod> {
  const now = k8sTime(Date.now());
  const n = nextIp++;
  const podIP = ip ?? pod.status?.podIP ?? `10.244.${(n >> 8) & 255}.${n & 255}`;
  const cond = (type: string, status: boolean) => ({
    type,
    status: status ? "True" : "False",
    lastProbeTime: null,
    lastTransitionTime: now,
  });
  return api.patch<Pod>(
    { ...PODS, namespace: pod.metadata?.namespace, name: pod.metadata?.name, subresource: "status" },
    "merge",
    {
      status: {
        phase: "Running",
        podIP,
        podIPs: [{ ip: podIP }],
        hostIP: "127.0.0.1",
        startTime: pod.status?.startTime ?? now,
        conditions: [
          cond("PodReadyToStartContainers", true),
          cond("Initialized", true),
          cond("Ready", ready),
          cond("ContainersReady", ready),
          cond("PodScheduled", true),
        ],
        containerStatuses: (pod.spec?.containers ?? []).map((c) => ({
          name: c.name,
          image: c.image,
          imageID: "",
          ready,
          restartCount: 0,
          started: true,
          state: { running: { startedAt: now } },
        })),
      },
    },
  );
}

/** What a kubelet reports for a pod whose containers exited. */
export async function setPodFinished(
  api: ApiClient,
  pod: Pod,
  phase: "Succeeded" | "Failed",
  exitCode: number,
): Promise<Pod> {
  const now = k8sTime(Date.now());
  return api.patch<Pod>(
    { ...PODS, namespace: pod.metadata?.namespace, name: pod.metadata?.name, subresource: "status" },
    "merge",
    {
      status: {
        phase,
        conditions: [
          {
            type: "Ready",
            status: "False",
            reason: "PodCompleted",
            lastProbeTime: null,
            lastTransitionTime: now,
          },
          { type: "PodScheduled", status: "True", lastProbeTime: null, lastTransitionTime: now },
        ],
        containerStatuses: (pod.spec?.containers ?? []).map((c) => ({
          name: c.name,
          image: c.image,
          imageID: "",
          ready: false,
          restartCount: 0,
          state: {
            terminated: {
              exitCode,
              reason: exitCode === 0 ? "Completed" : "Error",
              startedAt: now,
              finishedAt: now,
            },
          },
        })),
      },
    },
  );
}

/** What a kubelet does once a deleted pod's containers are gone: the final grace-0 delete. */
export async function confirmPodDeletion(api: ApiClient, pod: Pod): Promise<void> {
  await api
    .delete(
      { ...PODS, namespace: pod.metadata?.namespace, name: pod.metadata?.name },
      { gracePeriodSeconds: 0 },
    )
    .catch((error) => {
      if (!isNotFound(error)) throw error;
    });
}

export async function listPods(api: ApiClient, namespace: string, labelSelector?: string): Promise<Pod[]> {
  return (await api.list<Pod>({ ...PODS, namespace }, { labelSelector })).items;
}

/**
 * A minimal kubelet stand-in for fake nodes: every pod bound to one of `nodes` is reported Running and
 * Ready (or as `decide` says), and pods being deleted are confirmed gone. Runs until stop().
 */
export function fakeKubelet(
  api: ApiClient,
  namespace: string,
  nodes: readonly string[],
  decide: (pod: Pod) => "ready" | "unready" | "skip" = () => "ready",
  /** Pods whose deletion is not confirmed (they stay Terminating). */
  holdDeletion: (pod: Pod) => boolean = () => false,
): { stop(): Promise<void> } {
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      try {
        for (const pod of await listPods(api, namespace)) {
          const node = pod.spec?.nodeName;
          if (!node || !nodes.includes(node)) continue;
          if (pod.metadata?.deletionTimestamp) {
            if (!holdDeletion(pod)) await confirmPodDeletion(api, pod);
            continue;
          }
          if (pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed") continue;
          const want = decide(pod);
          if (want === "skip") continue;
          const isReady =
            pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
          if (pod.status?.phase !== "Running" || isReady !== (want === "ready")) {
            await setPodRunning(api, pod, want === "ready");
          }
        }
      } catch {
        // Races with deletions are expected; the next round sees the new state.
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

export async function eventsFor(
  api: ApiClient,
  namespace: string,
  name: string,
): Promise<
  Array<{ reason?: string; message?: string; type?: string; source?: { component?: string }; count?: number }>
> {
  const list = await api.list<
    { reason?: string; message?: string; involvedObject?: { name?: string } } & { metadata?: object }
  >({ ...EVENTS, namespace }, { fieldSelector: `involvedObject.name=${name}` });
  return list.items as Array<{
    reason?: string;
    message?: string;
    type?: string;
    source?: { component?: string };
    count?: number;
  }>;
}

export { uniqueName, waitFor };
