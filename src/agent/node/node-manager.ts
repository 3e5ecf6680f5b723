// Registers the agent's Node (or adopts an existing one) and keeps its status current: computed every
// nodeStatusUpdateFrequency, written when it changed or every nodeStatusReportFrequency, like kubelet.
import { readFile, statfs } from "node:fs/promises";
import type { ApiClient, ResourceRef } from "../../api/client/client.ts";
import { isAlreadyExists } from "../../api/client/errors.ts";
import type { NodeStatus } from "../../api/schema/core/node-types.ts";
import type { Runtime } from "../../runtime/types.ts";
import { type Clock, systemClock } from "../../util/clock.ts";
import type { AgentConfig } from "../config.ts";
import type { MachineInfo } from "./machine.ts";
import {
  initialNode,
  type NodeHealth,
  type NodeObject,
  nodeStatus,
  nodeStatusChanged,
} from "./node-status.ts";

export interface NodeManagerOptions {
  client: Pick<ApiClient, "get" | "create" | "patch">;
  runtime: Runtime;
  config: AgentConfig;
  machine: MachineInfo;
  kubeletVersion: string;
  pleg: () => { ok: boolean; message: string };
  clock?: Clock;
  onError?(error: unknown): void;
}

/** Memory available as the kernel estimates it (MemAvailable), in bytes. */
async function memoryAvailable(): Promise<number | undefined> {
  try {
    const meminfo = await readFile("/proc/meminfo", "utf8");
    const kb = /^MemAvailable:\s+(\d+) kB$/m.exec(meminfo)?.[1];
    return kb === undefined ? undefined : Number(kb) * 1024;
  } catch {
    return undefined;
  }
}

export class NodeManager {
  private readonly options: NodeManagerOptions;
  private readonly clock: Clock;
  private readonly ref: ResourceRef;
  private node: NodeObject | undefined;
  /** The newest Node seen: as this agent wrote it, or as its watch of its own Node delivered it. */
  private latest: NodeObject | undefined;
  private lastWritten: NodeStatus | undefined;
  private lastWrittenAt = Number.NEGATIVE_INFINITY;
  private runtimeVersion = "";

  constructor(options: NodeManagerOptions) {
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.ref = { version: "v1", resource: "nodes", name: options.config.nodeName };
  }

  get uid(): string | undefined {
    return this.node?.metadata?.uid;
  }

  /** The Node as last read, written or watched (labels, allocatable) for admission. */
  get current(): NodeObject | undefined {
    return this.latest ?? this.node;
  }

  /**
   * The Node as the API server has it now, from the agent's watch of its own Node: labels an admin adds
   * after registration count for the next pod's admission (upstream's kubelet reads its Node from an
   * informer).
   */
  observe(node: NodeObject): void {
    if (node.metadata?.name === this.options.config.nodeName) this.latest = node;
  }

  /** Creates the Node, or adopts the existing one, merging in our labels. Retries are the caller's. */
  async register(): Promise<NodeObject> {
    const desired = initialNode(this.options.config, this.options.machine);
    try {
      this.node = await this.options.client.create<NodeObject>({ ...this.ref, name: undefined }, desired);
    } catch (error) {
      if (!isAlreadyExists(error)) throw error;
      const existing = await this.options.client.get<NodeObject>(this.ref);
      // Adopt: our well-known labels win; everything others set (roles, taints by admins) stays.
      this.node = await this.options.client.patch<NodeObject>(this.ref, "merge", {
        metadata: { labels: desired.metadata?.labels },
        ...(desired.spec?.podCIDR && !existing.spec?.podCIDR
          ? { spec: { podCIDR: desired.spec.podCIDR, podCIDRs: desired.spec.podCIDRs } }
          : {}),
      });
    }
    this.lastWritten = this.node?.status;
    this.latest = this.node;
    return this.node as NodeObject;
  }

  async health(): Promise<NodeHealth> {
    const { runtime, config } = this.options;
    let runtimeReady = false;
    let runtimeMessage = "";
    let networkReady = false;
    let networkMessage = "";
    try {
      if (!this.runtimeVersion) {
        const version = await runtime.version();
        this.runtimeVersion = `${version.runtimeName}://${version.runtimeVersion}`;
      }
      const status = await runtime.status();
      const find = (type: string) => status.conditions.find((c) => c.type === type);
      const rt = find("RuntimeReady");
      const net = find("NetworkReady");
      runtimeReady = rt?.status ?? false;
      runtimeMessage = rt && !rt.status ? `${rt.reason}: ${rt.message}` : "";
      networkReady = net?.status ?? false;
      networkMessage =
        net && !net.status ? `NetworkReady=false reason:${net.reason} message:${net.message}` : "";
    } catch (error) {
      runtimeMessage = (error as Error).message;
    }
    let nodefsAvailableBytes: number | undefined;
    let nodefsCapacityBytes: number | undefined;
    try {
      const fs = await statfs(config.rootDir);
      nodefsAvailableBytes = fs.bavail * fs.bsize;
      nodefsCapacityBytes = fs.blocks * fs.bsize;
    } catch {
      // Root dir not there yet: no disk signal.
    }
    return {
      runtimeReady,
      runtimeMessage,
      runtimeVersion: this.runtimeVersion,
      networkReady,
      networkMessage,
      pleg: this.options.pleg(),
      nodefsAvailableBytes,
      nodefsCapacityBytes,
      memoryAvailableBytes: await memoryAvailable(),
    };
  }

  /** Computes the status and writes it when it changed or the report interval passed. Returns whether it wrote. */
  async updateStatus(force = false): Promise<boolean> {
    const now = this.clock.now();
    const next = nodeStatus({
      config: this.options.config,
      machine: this.options.machine,
      health: await this.health(),
      kubeletVersion: this.options.kubeletVersion,
      previous: this.lastWritten,
      now,
    });
    const due = now - this.lastWrittenAt >= this.options.config.nodeStatusReportFrequencyMs;
    if (!force && !due && !nodeStatusChanged(this.lastWritten, next)) return false;
    this.node = await this.options.client.patch<NodeObject>({ ...this.ref, subresource: "status" }, "merge", {
      status: next,
    });
    this.latest = this.node;
    this.lastWritten = next;
    this.lastWrittenAt = now;
    return true;
  }

  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        if (!this.node) await this.register();
        await this.updateStatus();
      } catch (error) {
        this.options.onError?.(error);
      }
      await this.clock.sleep(this.options.config.nodeStatusUpdateFrequencyMs, signal).catch(() => undefined);
    }
  }
}
