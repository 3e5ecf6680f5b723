// One agent end-to-end environment per test file: a throwaway control plane, a `deckhand agent` on one of the
// two real runtimes, a namespace, and the helpers the suites share (pods via real kubectl, status and events
// read from the API, exec through the runtime driver). Teardown deletes every pod through the API, waits for
// the agent to remove them, and then asserts that nothing labelled with the agent's node is left in the
// runtime and that the agent's per-pod directories are gone.
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect } from "vitest";
import { stringify as stringifyYaml } from "yaml";
import type { Pod } from "../../../src/api/schema/core/pod-types.ts";
import type { Runtime } from "../../../src/runtime/types.ts";
import {
  type AgentRuntimeKind,
  connectRuntime,
  describeObjects,
  nodeObjects,
  removeNodeObjects,
  type StartAgentOptions,
  startAgent,
  type TestAgent,
  waitForNodeReady,
} from "../../support/agent.ts";
import { startControlPlane, type TestControlPlane } from "../../support/controlplane.ts";
import { testEnv } from "../../support/env.ts";
import { uniqueName } from "../../support/names.ts";
import { waitFor } from "../../support/wait.ts";

export const BUSYBOX = testEnv.busyboxImage;

// biome-ignore lint/suspicious/noExplicitAny: test manifests are free-form JSON.
export type Json = Record<string, any>;

export interface KubeEvent {
  reason?: string;
  message?: string;
  type?: string;
  count?: number;
  involvedObject?: { name?: string; fieldPath?: string; uid?: string };
  firstTimestamp?: string;
  lastTimestamp?: string;
  metadata?: { creationTimestamp?: string; name?: string };
}

export interface E2EOptions {
  /** Agent configuration file fields (KubeletConfiguration spelling). */
  config?: Record<string, unknown>;
  /** Another runtime socket than the shared one; `connect` gives the test a driver for it. */
  runtimeEndpoint?: () => string;
  /** Skip the automatic start of the agent (the test starts it itself). */
  agentOptions?: Partial<StartAgentOptions>;
}

export class E2E {
  readonly kind: AgentRuntimeKind;
  readonly cp: TestControlPlane;
  readonly agent: TestAgent;
  /** The test's own driver to the same runtime the agent uses. */
  readonly runtime: Runtime;
  readonly ns: string;

  constructor(kind: AgentRuntimeKind, cp: TestControlPlane, agent: TestAgent, runtime: Runtime, ns: string) {
    this.kind = kind;
    this.cp = cp;
    this.agent = agent;
    this.runtime = runtime;
    this.ns = ns;
  }

  /** containerID scheme the agent reports. */
  get scheme(): string {
    return this.kind === "docker" ? "docker" : "containerd";
  }

  async kubectl(...args: string[]): Promise<string> {
    return (await this.cp.kubectl(args, { timeoutMs: 60_000 })).stdout;
  }

  /** `kubectl apply -f -` of one or more objects (namespace defaulted). */
  async apply(...objects: Json[]): Promise<string> {
    const input = objects
      .map((o) => stringifyYaml({ ...o, metadata: { namespace: this.ns, ...o.metadata } }))
      .join("---\n");
    return (await this.cp.kubectl(["apply", "-f", "-"], { input, timeoutMs: 60_000 })).stdout;
  }

  /** A pod bound to this agent's node, grace 2 s unless the spec says otherwise. */
  pod(name: string, spec: Json, metadata: Json = {}): Json {
    return {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, namespace: this.ns, ...metadata },
      spec: { nodeName: this.agent.nodeName, terminationGracePeriodSeconds: 2, ...spec },
    };
  }

  async createPod(name: string, spec: Json, metadata: Json = {}): Promise<void> {
    await this.apply(this.pod(name, spec, metadata));
  }

  async getPod(name: string): Promise<Pod | undefined> {
    const res = await this.cp.fetch(`/api/v1/namespaces/${this.ns}/pods/${name}`);
    if (res.status === 404) return undefined;
    if (!res.ok) throw new Error(`GET pod ${name}: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as Pod;
  }

  /** Polls the pod until `predicate` holds; the timeout bounds a hang, it is not a speed assertion. */
  async waitPod(
    name: string,
    predicate: (pod: Pod) => boolean,
    what: string,
    timeoutMs = 120_000,
  ): Promise<Pod> {
    let last: Pod | undefined;
    try {
      return await waitFor(
        async () => {
          last = await this.getPod(name);
          return last && predicate(last) ? last : undefined;
        },
        { what: `pod ${name}: ${what}`, timeoutMs, intervalMs: 250 },
      );
    } catch (error) {
      throw new Error(
        `${(error as Error).message}\nlast status: ${JSON.stringify(last?.status)}\nagent log tail:\n${this.agent.tail(30)}`,
      );
    }
  }

  waitRunning(name: string, timeoutMs?: number): Promise<Pod> {
    return this.waitPod(
      name,
      (p) =>
        p.status?.phase === "Running" &&
        (p.status.containerStatuses ?? []).every((c) => c.state?.running !== undefined),
      "phase Running with every container running",
      timeoutMs,
    );
  }

  async waitGone(name: string, timeoutMs = 120_000): Promise<void> {
    await waitFor(async () => (await this.getPod(name)) === undefined, {
      what: `pod ${name} to be gone from the API`,
      timeoutMs,
      intervalMs: 250,
    });
  }

  async events(podName: string): Promise<KubeEvent[]> {
    const selector = encodeURIComponent(`involvedObject.name=${podName}`);
    const res = await this.cp.fetch(`/api/v1/namespaces/${this.ns}/events?fieldSelector=${selector}`);
    if (!res.ok) throw new Error(`list events of ${podName}: HTTP ${res.status} ${await res.text()}`);
    const items = ((await res.json()) as { items?: KubeEvent[] }).items ?? [];
    // The field selector is the server's job; filter again so a server ignoring it cannot pass a test.
    return items
      .filter((e) => e.involvedObject?.name === podName)
      .sort((a, b) => eventTime(a).localeCompare(eventTime(b)));
  }

  async waitEvent(
    podName: string,
    predicate: (event: KubeEvent) => boolean,
    what: string,
    timeoutMs = 120_000,
  ): Promise<KubeEvent> {
    let seen: KubeEvent[] = [];
    try {
      return await waitFor(
        async () => {
          seen = await this.events(podName);
          return seen.find(predicate);
        },
        { what: `an event on pod ${podName}: ${what}`, timeoutMs, intervalMs: 500 },
      );
    } catch (error) {
      const list = seen.map((e) => `${e.type} ${e.reason} x${e.count ?? 1}: ${e.message}`).join("\n");
      throw new Error(`${(error as Error).message}\nevents so far:\n${list}`);
    }
  }

  /** The runtime ID of a container from the pod's status (scheme stripped). */
  containerId(pod: Pod, container: string, init = false): string {
    const statuses = (init ? pod.status?.initContainerStatuses : pod.status?.containerStatuses) ?? [];
    const id = statuses.find((c) => c.name === container)?.containerID;
    if (!id) throw new Error(`pod ${pod.metadata?.name} has no containerID for ${container} yet`);
    const [scheme, raw] = id.split("://");
    expect(scheme).toBe(this.scheme);
    return raw as string;
  }

  /** Runs a command in a container through the runtime driver (kubectl exec is not wired yet). */
  async exec(pod: Pod, container: string, command: string[]): Promise<string> {
    const result = await this.runtime.execSync(this.containerId(pod, container), command, 30);
    if (result.exitCode !== 0)
      throw new Error(
        `exec ${command.join(" ")} in ${container} exited ${result.exitCode}: ${result.stderr.toString()}`,
      );
    return result.stdout.toString();
  }

  async deletePod(name: string, ...flags: string[]): Promise<void> {
    await this.kubectl("delete", "pod", name, "-n", this.ns, "--wait=false", ...flags);
  }

  /** Deletes every pod, waits for the agent to confirm and clean up, then asserts the runtime is clean. */
  async teardown(): Promise<void> {
    const problems: string[] = [];
    const podsDir = join(this.agent.rootDir, "pods");
    const podDirs = () => (existsSync(podsDir) ? readdirSync(podsDir) : []);
    if (this.agent.running) {
      await this.kubectl("delete", "pods", "--all", "-n", this.ns, "--wait=false").catch((e: Error) =>
        problems.push(`deleting the pods failed: ${e.message}`),
      );
      await waitFor(
        async () => {
          const res = await this.cp.fetch(`/api/v1/namespaces/${this.ns}/pods`);
          const list = (await res.json()) as { items?: Pod[] };
          return (list.items ?? []).length === 0;
        },
        { what: `every pod of ${this.ns} to be deleted (confirmed by the agent)`, timeoutMs: 120_000 },
      ).catch((e: Error) => problems.push(e.message));
      await waitFor(
        async () => {
          const left = await nodeObjects(this.runtime, this.agent.nodeName);
          return left.sandboxes.length === 0 && left.containers.length === 0 && podDirs().length === 0;
        },
        {
          what: `the agent to remove its pods from the ${this.kind} runtime and their directories`,
          timeoutMs: 120_000,
        },
      ).catch((e: Error) => problems.push(e.message));
    }
    if (podDirs().length > 0) problems.push(`pod directories left under ${podsDir}: ${podDirs().join(", ")}`);
    try {
      await this.agent.stop();
      const left = await nodeObjects(this.runtime, this.agent.nodeName);
      if (left.sandboxes.length + left.containers.length > 0) {
        const stuck = await removeNodeObjects(this.runtime, this.agent.nodeName);
        // A container containerd left in CREATED state (its StartContainer was cut short by a kill -9) can
        // be removed through no CRI call; the agent cannot be blamed for it or for its sandbox.
        const blamed = left.containers.filter((c) => !stuck.includes(c.id));
        if (stuck.length > 0) {
          process.stderr.write(
            `teardown: containerd had left ${stuck.length} task(s) in CREATED state that CRI cannot remove (${stuck.map((id) => id.slice(0, 12)).join(", ")}); removed with ctr\n`,
          );
        }
        if (blamed.length > 0 || stuck.length === 0) {
          problems.push(
            `left in the ${this.kind} runtime for node ${this.agent.nodeName}: ${describeObjects(left)}`,
          );
        }
      }
      if (problems.length > 0) {
        process.stderr.write(`agent log tail (${this.agent.logPath}):\n${this.agent.tail(80)}\n`);
      }
    } finally {
      await this.agent.dispose();
      await this.runtime.close();
      await this.cp.stop();
    }
    expect(problems, "teardown found leftovers").toEqual([]);
  }
}

function eventTime(event: KubeEvent): string {
  return event.lastTimestamp ?? event.firstTimestamp ?? event.metadata?.creationTimestamp ?? "";
}

/** Starts a control plane and an agent, waits for the Node to be Ready, creates a namespace. */
export async function startE2E(kind: AgentRuntimeKind, options: E2EOptions = {}): Promise<E2E> {
  const cp = await startControlPlane();
  let agent: TestAgent | undefined;
  try {
    const runtimeEndpoint = options.runtimeEndpoint?.();
    agent = await startAgent({
      runtime: kind,
      kubeconfigPath: cp.kubeconfigPath,
      config: { nodeStatusUpdateFrequency: "2s", ...options.config },
      ...(runtimeEndpoint ? { runtimeEndpoint } : {}),
      ...options.agentOptions,
    });
    await waitForNodeReady(cp, agent);
    const ns = uniqueName(`e2e-${kind}`);
    await cp.kubectl(["create", "namespace", ns]);
    return new E2E(kind, cp, agent, connectRuntime(kind, agent.runtimeEndpoint), ns);
  } catch (error) {
    await agent?.dispose();
    await cp.stop();
    throw error;
  }
}

/** Registers beforeAll/afterAll for one E2E environment in the current describe block. */
export function useE2E(kind: AgentRuntimeKind, options: E2EOptions = {}): () => E2E {
  let env: E2E | undefined;
  beforeAll(async () => {
    env = await startE2E(kind, options);
  }, 180_000);
  afterAll(async () => {
    await env?.teardown();
  }, 240_000);
  return () => {
    if (!env) throw new Error("the e2e environment did not start (see beforeAll)");
    return env;
  };
}

/** A busybox container running `script` with sh -c. */
export function shContainer(name: string, script: string, extra: Json = {}): Json {
  return { name, image: BUSYBOX, imagePullPolicy: "IfNotPresent", command: ["sh", "-c", script], ...extra };
}

/** A shell loop that exits 0 on SIGTERM (PID 1 ignores TERM otherwise). */
export const SLEEP_FOREVER = "trap 'exit 0' TERM; while :; do sleep 1 & wait $!; done";

/** An HTTP GET from the test to a pod IP (docker0 / dhtest0 bridges on this host). */
export async function httpGet(ip: string, port: number, path = "/"): Promise<string> {
  const res = await fetch(`http://${ip}:${port}${path}`, { signal: AbortSignal.timeout(5_000) });
  if (!res.ok) throw new Error(`GET http://${ip}:${port}${path}: HTTP ${res.status}`);
  return res.text();
}
