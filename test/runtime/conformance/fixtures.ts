// Building blocks of the conformance suite: per-test pods with unique identity, config builders, waits and
// the "runtime is clean afterwards" check. Everything goes through the Runtime interface only.
import { randomUUID } from "node:crypto";
import { Writable } from "node:stream";
import { expect } from "vitest";
import type {
  ContainerConfig,
  ContainerState,
  ContainerStatus,
  PodSandboxConfig,
  Runtime,
} from "../../../src/runtime/types.ts";
import { RuntimeLabels } from "../../../src/runtime/types.ts";
import { uniqueName } from "../../support/names.ts";
import { waitFor } from "../../support/wait.ts";

/** A test's own pod: unique name, namespace and UID; tracks what it created and removes it in `dispose`. */
export class TestPod {
  readonly uid = randomUUID();
  readonly name: string;
  readonly namespace: string;
  readonly runtime: Runtime;
  readonly busybox: string;
  private readonly sandboxes: string[] = [];
  private readonly containers: string[] = [];

  constructor(runtime: Runtime, busybox: string, prefix: string) {
    this.runtime = runtime;
    this.busybox = busybox;
    this.name = uniqueName(prefix).toLowerCase();
    this.namespace = uniqueName("ns").toLowerCase();
  }

  /** A sandbox config for this pod; `extra` is merged over the defaults. */
  sandboxConfig(extra: Partial<PodSandboxConfig> = {}, attempt = 0): PodSandboxConfig {
    return {
      metadata: { name: this.name, namespace: this.namespace, uid: this.uid, attempt },
      hostname: this.name
        .slice(0, 63)
        .replace(/[^a-z0-9-]/g, "-")
        .replace(/-+$/, ""),
      labels: { "conformance.deckhand.io/pod": this.name },
      annotations: { "conformance.deckhand.io/note": "sandbox" },
      ...extra,
    };
  }

  containerConfig(name: string, script: string, extra: Partial<ContainerConfig> = {}): ContainerConfig {
    return {
      metadata: { name, attempt: 0 },
      image: this.busybox,
      command: ["sh", "-c", script],
      labels: { "conformance.deckhand.io/container": name },
      annotations: { "conformance.deckhand.io/note": `container ${name}` },
      ...extra,
    };
  }

  async runSandbox(
    extra: Partial<PodSandboxConfig> = {},
    attempt = 0,
  ): Promise<{ id: string; config: PodSandboxConfig }> {
    const config = this.sandboxConfig(extra, attempt);
    const id = await this.runtime.runPodSandbox(config);
    this.sandboxes.push(id);
    return { id, config };
  }

  async createContainer(
    sandbox: { id: string; config: PodSandboxConfig },
    config: ContainerConfig,
  ): Promise<string> {
    const id = await this.runtime.createContainer(sandbox.id, config, sandbox.config);
    this.containers.push(id);
    return id;
  }

  async startContainer(
    sandbox: { id: string; config: PodSandboxConfig },
    config: ContainerConfig,
  ): Promise<string> {
    const id = await this.createContainer(sandbox, config);
    await this.runtime.startContainer(id);
    return id;
  }

  /** A sandbox plus one running container executing `script` (default: sleep until stopped). */
  async runPod(
    script = "trap 'exit 0' TERM; while :; do sleep 1 & wait $!; done",
    extra: Partial<ContainerConfig> = {},
    sandboxExtra: Partial<PodSandboxConfig> = {},
  ): Promise<{ sandbox: { id: string; config: PodSandboxConfig }; containerId: string }> {
    const sandbox = await this.runSandbox(sandboxExtra);
    const containerId = await this.startContainer(sandbox, this.containerConfig("main", script, extra));
    return { sandbox, containerId };
  }

  /** The label selector that matches everything of this pod. */
  get selector(): Record<string, string> {
    return { [RuntimeLabels.podUid]: this.uid };
  }

  /** Removes everything this pod created, then asserts nothing with its UID label is left in the runtime. */
  async dispose(): Promise<void> {
    for (const id of this.containers) await this.runtime.removeContainer(id).catch(() => undefined);
    for (const id of this.sandboxes) {
      await this.runtime.stopPodSandbox(id).catch(() => undefined);
      await this.runtime.removePodSandbox(id);
    }
    await expectClean(this.runtime, this.uid);
  }
}

/** Asserts the runtime holds no sandbox and no container labelled with this pod UID. */
export async function expectClean(runtime: Runtime, uid: string): Promise<void> {
  const selector = { [RuntimeLabels.podUid]: uid };
  const sandboxes = await runtime.listPodSandboxes({ labelSelector: selector });
  const containers = await runtime.listContainers({ labelSelector: selector });
  expect(
    { sandboxes: sandboxes.map((s) => s.id), containers: containers.map((c) => c.id) },
    `runtime objects left behind for pod UID ${uid}`,
  ).toEqual({ sandboxes: [], containers: [] });
}

export async function waitForState(
  runtime: Runtime,
  id: string,
  state: ContainerState,
  timeoutMs = 60_000,
): Promise<ContainerStatus> {
  return waitFor(
    async () => {
      const status = await runtime.containerStatus(id);
      return status.state === state ? status : undefined;
    },
    { what: `container ${id} to be ${state}`, timeoutMs },
  );
}

/** Runs `command` in the container until it exits 0 and its stdout satisfies `accept`; returns that stdout. */
export async function execUntil(
  runtime: Runtime,
  id: string,
  command: string[],
  what: string,
  accept: (stdout: string) => boolean = () => true,
): Promise<string> {
  return waitFor(
    async () => {
      const r = await runtime.execSync(id, command, 10);
      const out = r.stdout.toString();
      return r.exitCode === 0 && accept(out) ? out : undefined;
    },
    { what, timeoutMs: 30_000, intervalMs: 200 },
  );
}

/** A Writable that keeps everything written to it. */
export class Sink extends Writable {
  private readonly chunks: Buffer[] = [];
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.chunks.push(Buffer.from(chunk));
    callback();
  }
  get text(): string {
    return Buffer.concat(this.chunks).toString();
  }
}

/** Drains an async iterable with a bound on how long the test may hang. */
export async function collect<T>(iterable: AsyncIterable<T>, limit = Number.POSITIVE_INFINITY): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) {
    out.push(item);
    if (out.length >= limit) break;
  }
  return out;
}
