// The doing half of a pod sync: carries out the plan computePodActions made (sandbox, init containers, app
// containers, kills), pulls images per imagePullPolicy, applies back-offs (CrashLoopBackOff,
// ImagePullBackOff), records upstream's events, and hands the resulting status to the status manager.
// Terminating (graceful deletion, pods gone from every source) lives here too.

import type { EventType, ObjectReference } from "../api/client/events.ts";
import type { Container } from "../api/schema/core/container.ts";
import type { Pod } from "../api/schema/core/pod-types.ts";
import { isNotFound } from "../runtime/errors.ts";
import type { AuthConfig, ContainerStatus, Image, PodSandboxConfig, Runtime } from "../runtime/types.ts";
import type { Clock } from "../util/clock.ts";
import { CrashBackoff } from "./crash-backoff.ts";
import { computePodActions, latestByName } from "./planner.ts";
import type { PodRuntimeStatus } from "./pleg.ts";
import {
  buildContainerConfig,
  buildSandboxConfig,
  checkImageReference,
  cleanupPodDirs,
  type PodConfigContext,
  PodConfigError,
  type PodVolumes,
  prepareVolumes,
} from "./pod-config/index.ts";
import { generatePodStatus, type WaitingReason } from "./pod-status.ts";

export interface SyncLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

export interface SyncDeps {
  runtime: Runtime;
  /** Labels added to every sandbox and container this agent creates (its node name), see RuntimeLabels.nodeName. */
  scopeLabels: Record<string, string>;
  /** containerID scheme: "containerd" or "docker". */
  runtimeName: string;
  /** Reads the pod's runtime status now (after the agent changed it). */
  readRuntimeStatus(uid: string): Promise<PodRuntimeStatus | undefined>;
  /** The pod's runtime status at the start of a sync: the cache when it covers the last sync, else a read. */
  runtimeStatusForSync(uid: string, newPod: boolean): Promise<PodRuntimeStatus | undefined>;
  /** The status last read covers everything this sync did: the next sync may start from the cache. */
  settleRuntimeStatus(uid: string): void;
  setPodStatus(pod: Pod, status: NonNullable<Pod["status"]>): void;
  finishDeletion(pod: Pod): void;
  recordEvent(involved: ObjectReference, type: EventType, reason: string, message: string): void;
  podConfigContext: PodConfigContext;
  /** Registry credentials from the pod's imagePullSecrets (dockerconfigjson), best match first. */
  pullCredentials(pod: Pod, image: string): Promise<AuthConfig[]>;
  hostIPs(): string[];
  /** Ask for another sync of the pod after `afterMs` (back-off expiry). */
  resyncAfter(uid: string, afterMs: number): void;
  /** The runtime state of a pod after a sync (the prober follows running containers from it). */
  observed?(pod: Pod, runtime: PodRuntimeStatus | undefined): void;
  /** Liveness/startup failures and readiness, per container name. */
  probes(uid: string): {
    unhealthy: ReadonlyMap<string, string>;
    readiness: ReadonlyMap<string, boolean>;
    startup: ReadonlyMap<string, boolean>;
  };
  clock: Clock;
  log: SyncLogger;
  crashBackoff?: CrashBackoff;
  imageBackoff?: CrashBackoff;
}

/** Upstream's grace default when neither the pod nor the deletion names one. */
const DEFAULT_GRACE_SECONDS = 30;

export class PodSyncer {
  private readonly deps: SyncDeps;
  private readonly crashBackoff: CrashBackoff;
  private readonly imageBackoff: CrashBackoff;
  /** The last failed pull per `<uid>/image:<ref>`: when, and the runtime's error (ImagePullBackOff message). */
  private readonly pullFailures = new Map<string, { at: number; message: string }>();
  /** Why each container of a pod is waiting, as of the last sync (for status). */
  private readonly waiting = new Map<string, Map<string, WaitingReason>>();

  constructor(deps: SyncDeps) {
    this.deps = deps;
    this.crashBackoff = deps.crashBackoff ?? new CrashBackoff();
    this.imageBackoff = deps.imageBackoff ?? new CrashBackoff({ initialMs: 10_000, maxMs: 300_000 });
  }

  /** One sync towards `pod`: plan, act, report status. `newPod`: a source has just announced it. */
  async sync(pod: Pod, signal: AbortSignal, newPod = false): Promise<void> {
    const uid = pod.metadata?.uid ?? "";
    let runtime = await this.deps.runtimeStatusForSync(uid, newPod);
    if (pod.metadata?.deletionTimestamp) {
      await this.terminate(pod, runtime, deletionGrace(pod));
      runtime = await this.deps.readRuntimeStatus(uid);
      this.report(pod, runtime);
      if (!anythingRunning(runtime)) this.deps.finishDeletion(pod);
      return;
    }
    if (isFinished(pod)) {
      // A pod that reached Succeeded/Failed never runs again; just release what it holds.
      if (anythingRunning(runtime)) await this.killPod(pod, runtime, deletionGrace(pod), "pod finished");
      return;
    }

    const probes = this.deps.probes(uid);
    const plan = computePodActions({ pod, runtime, unhealthy: probes.unhealthy });
    const waiting = new Map<string, WaitingReason>();
    this.waiting.set(uid, waiting);

    if (plan.killPod) {
      await this.killPod(pod, runtime, podGrace(pod), plan.reasons.join("; "));
      runtime = await this.deps.readRuntimeStatus(uid);
    }
    for (const kill of plan.containersToKill) {
      this.event(pod, "Normal", "Killing", kill.message, containerPath(pod, kill.name));
      await this.stopContainer(kill.id, podGrace(pod));
    }
    if (signal.aborted) return;

    let sandboxId = plan.sandboxId;
    const existing = runtime?.sandboxes.find((s) => s.id === sandboxId);
    let podIPs = existing ? [existing.ip, ...existing.additionalIps].filter(Boolean) : [];
    let volumes: PodVolumes | undefined;
    try {
      volumes = await prepareVolumes(pod, this.deps.podConfigContext);
    } catch (error) {
      if (!(error instanceof PodConfigError)) throw error;
      this.event(pod, "Warning", "FailedMount", error.message);
      this.report(pod, runtime, waitingFor(pod, { reason: "ContainerCreating" }));
      this.deps.resyncAfter(uid, 10_000);
      return;
    }

    let sandboxConfig: PodSandboxConfig | undefined;
    if (plan.createSandbox) {
      if (plan.attempt > 0)
        this.event(pod, "Normal", "SandboxChanged", "Pod sandbox changed, it will be killed and re-created.");
      sandboxConfig = this.scoped(buildSandboxConfig(pod, this.deps.podConfigContext, plan.attempt));
      try {
        sandboxId = await this.deps.runtime.runPodSandbox(sandboxConfig);
      } catch (error) {
        this.event(
          pod,
          "Warning",
          "FailedCreatePodSandBox",
          `Failed to create pod sandbox: ${(error as Error).message}`,
        );
        this.report(pod, runtime, waitingFor(pod, { reason: "ContainerCreating" }));
        this.deps.resyncAfter(uid, 10_000);
        return;
      }
      const created = await this.deps.runtime.podSandboxStatus(sandboxId);
      podIPs = [created.ip, ...created.additionalIps].filter(Boolean);
    } else if (plan.nextInitContainer !== undefined || plan.containersToStart.length > 0) {
      sandboxConfig = this.scoped(buildSandboxConfig(pod, this.deps.podConfigContext, plan.attempt));
    }

    const start = async (container: Container, isInit: boolean) => {
      if (!sandboxConfig || signal.aborted) return;
      const why = await this.startContainer(pod, container, isInit, {
        sandboxId,
        sandboxConfig,
        podIP: podIPs[0] ?? "",
        podIPs,
        volumes: volumes as PodVolumes,
        runtime,
      });
      if (why) waiting.set(container.name, why);
    };
    if (plan.nextInitContainer !== undefined) {
      const init = pod.spec?.initContainers?.[plan.nextInitContainer];
      if (init) await start(init, true);
    }
    for (const index of plan.containersToStart) {
      const container = pod.spec?.containers?.[index];
      if (container) await start(container, false);
    }

    const acted =
      plan.killPod ||
      plan.containersToKill.length > 0 ||
      plan.createSandbox ||
      plan.nextInitContainer !== undefined ||
      plan.containersToStart.length > 0;
    this.report(pod, acted ? await this.deps.readRuntimeStatus(uid) : runtime, waiting);
    this.deps.settleRuntimeStatus(uid);
  }

  /** Stops everything of a pod (deletion, or gone from the sources) within the grace period. */
  async terminate(pod: Pod, runtime: PodRuntimeStatus | undefined, graceSeconds: number): Promise<void> {
    if (!anythingRunning(runtime)) return;
    await this.killPod(pod, runtime, graceSeconds, "pod is being deleted");
  }

  /**
   * Stops what still runs of a pod a source has but no pod worker owns (rejected at admission, or terminal
   * when the agent started): upstream's HandlePodCleanups kills such running pods. What is dead stays until
   * the pod leaves the sources and cleanup() removes it.
   */
  async stopUnowned(pod: Pod): Promise<void> {
    const runtime = await this.deps.readRuntimeStatus(pod.metadata?.uid ?? "");
    if (!anythingRunning(runtime)) return;
    await this.killPod(pod, runtime, deletionGrace(pod), "pod is not admitted on this node");
  }

  /** Removes every runtime object and directory of a pod that no source claims any more. */
  async cleanup(uid: string): Promise<void> {
    const runtime = await this.deps.readRuntimeStatus(uid);
    for (const container of runtime?.containers ?? []) {
      if (container.state === "running") await this.stopContainer(container.id, 0);
      await this.deps.runtime.removeContainer(container.id);
    }
    for (const sandbox of runtime?.sandboxes ?? []) {
      await this.deps.runtime.stopPodSandbox(sandbox.id);
      await this.deps.runtime.removePodSandbox(sandbox.id);
    }
    await cleanupPodDirs(uid, this.deps.podConfigContext);
    this.crashBackoff.forget(`${uid}/`);
    this.imageBackoff.forget(`${uid}/`);
    for (const key of this.pullFailures.keys()) if (key.startsWith(`${uid}/`)) this.pullFailures.delete(key);
    this.waiting.delete(uid);
  }

  /** Removes exited instances beyond the newest of each container (upstream keeps one dead instance). */
  async pruneDeadContainers(runtime: PodRuntimeStatus | undefined): Promise<void> {
    if (!runtime) return;
    const keep = new Set([...latestByName(runtime.containers).values()].map((c) => c.id));
    for (const container of runtime.containers) {
      if (container.state === "exited" && !keep.has(container.id))
        await this.deps.runtime.removeContainer(container.id);
    }
  }

  private async killPod(
    pod: Pod,
    runtime: PodRuntimeStatus | undefined,
    graceSeconds: number,
    why: string,
  ): Promise<void> {
    this.deps.log.info({ pod: podName(pod), why, graceSeconds }, "killing pod");
    const containers = runtime?.containers ?? [];
    // A container created but never started (the agent died in between) cannot be stopped: neither
    // containerd nor Docker moves it out of "created" on a stop. Remove it, or the pod would never be done.
    for (const container of containers.filter((c) => c.state === "created")) {
      await this.deps.runtime.removeContainer(container.id);
    }
    await Promise.all(
      containers
        .filter((c) => c.state === "running")
        .map(async (container) => {
          this.event(
            pod,
            "Normal",
            "Killing",
            `Stopping container ${container.metadata.name}`,
            containerPath(pod, container.metadata.name),
          );
          await this.runPreStop(pod, container, graceSeconds);
          await this.stopContainer(container.id, graceSeconds);
        }),
    );
    for (const sandbox of runtime?.sandboxes ?? []) {
      if (sandbox.state === "ready") await this.deps.runtime.stopPodSandbox(sandbox.id);
    }
  }

  private async runPreStop(pod: Pod, container: ContainerStatus, graceSeconds: number): Promise<void> {
    const spec = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find(
      (c) => c.name === container.metadata.name,
    );
    const command = spec?.lifecycle?.preStop?.exec?.command;
    if (!command || container.state !== "running" || graceSeconds <= 0) return;
    try {
      const result = await this.deps.runtime.execSync(container.id, command, graceSeconds);
      if (result.exitCode !== 0) {
        this.event(
          pod,
          "Warning",
          "FailedPreStopHook",
          `PreStopHook failed: command '${command.join(" ")}' exited with ${result.exitCode}: ${result.stderr.toString().trim()}`,
          containerPath(pod, container.metadata.name),
        );
      }
    } catch (error) {
      this.event(
        pod,
        "Warning",
        "FailedPreStopHook",
        `PreStopHook failed: ${(error as Error).message}`,
        containerPath(pod, container.metadata.name),
      );
    }
  }

  private async stopContainer(id: string, graceSeconds: number): Promise<void> {
    try {
      await this.deps.runtime.stopContainer(id, graceSeconds);
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  /** Starts one container; returns why it is waiting when it could not be started. */
  private async startContainer(
    pod: Pod,
    container: Container,
    isInit: boolean,
    ctx: {
      sandboxId: string;
      sandboxConfig: PodSandboxConfig;
      podIP: string;
      podIPs: string[];
      volumes: PodVolumes;
      runtime: PodRuntimeStatus | undefined;
    },
  ): Promise<WaitingReason | undefined> {
    const uid = pod.metadata?.uid ?? "";
    const fieldPath = containerPath(pod, container.name, isInit);
    const now = this.deps.clock.now();
    const previous = ctx.runtime ? latestByName(ctx.runtime.containers).get(container.name) : undefined;
    const restartCount = previous ? previous.metadata.attempt + 1 : 0;

    if (previous?.state === "exited") {
      const decision = this.crashBackoff.tryRestart(
        `${uid}/${container.name}`,
        previous.finishedAt || now,
        now,
      );
      if (!decision.allowed) {
        const message = `back-off ${formatSeconds(decision.delayMs)} restarting failed container=${container.name} pod=${podName(pod)}(${uid})`;
        this.event(
          pod,
          "Warning",
          "BackOff",
          `Back-off restarting failed container ${container.name} in pod ${podName(pod)}(${uid})`,
          fieldPath,
        );
        this.deps.resyncAfter(uid, decision.remainingMs);
        return { reason: "CrashLoopBackOff", message };
      }
    }

    try {
      checkImageReference(container.image);
    } catch (error) {
      if (!(error instanceof PodConfigError)) throw error;
      this.event(pod, "Warning", "InspectFailed", error.message, fieldPath);
      return { reason: error.reason, message: error.message };
    }
    const ensured = await this.ensureImage(pod, container, fieldPath, ctx.sandboxConfig);
    if ("waiting" in ensured) {
      // Upstream's startContainer: every image failure also reads "Error: <reason>" (ErrImagePull,
      // ImagePullBackOff, ErrImageNeverPull).
      this.event(pod, "Warning", "Failed", `Error: ${ensured.waiting.reason}`, fieldPath);
      return ensured.waiting;
    }
    const image = ensured.image;

    let config: Awaited<ReturnType<typeof buildContainerConfig>>;
    try {
      config = await buildContainerConfig(pod, container, {
        podIP: ctx.podIP,
        podIPs: ctx.podIPs,
        imageUser: image ? { uid: image.uid, username: image.username } : undefined,
        restartCount,
        volumes: ctx.volumes,
        ctx: this.deps.podConfigContext,
        isInit,
      });
    } catch (error) {
      if (!(error instanceof PodConfigError)) throw error;
      this.event(pod, "Warning", "Failed", `Error: ${error.message}`, fieldPath);
      this.deps.resyncAfter(uid, 10_000);
      return { reason: error.reason, message: error.message };
    }

    let id: string;
    try {
      id = await this.deps.runtime.createContainer(ctx.sandboxId, this.scoped(config), ctx.sandboxConfig);
    } catch (error) {
      const message = (error as Error).message;
      this.event(pod, "Warning", "Failed", `Error: ${message}`, fieldPath);
      this.deps.resyncAfter(uid, 10_000);
      return { reason: "CreateContainerError", message };
    }
    this.event(pod, "Normal", "Created", `Created container ${container.name}`, fieldPath);
    try {
      await this.deps.runtime.startContainer(id);
    } catch (error) {
      const message = (error as Error).message;
      this.event(pod, "Warning", "Failed", `Error: ${message}`, fieldPath);
      this.deps.resyncAfter(uid, 10_000);
      return { reason: "RunContainerError", message };
    }
    this.event(pod, "Normal", "Started", `Started container ${container.name}`, fieldPath);
    return this.runPostStart(pod, container, id, fieldPath);
  }

  private async runPostStart(
    pod: Pod,
    container: Container,
    id: string,
    fieldPath: string,
  ): Promise<WaitingReason | undefined> {
    const command = container.lifecycle?.postStart?.exec?.command;
    if (!command) return undefined;
    let failure: string | undefined;
    try {
      const result = await this.deps.runtime.execSync(id, command, 30);
      if (result.exitCode !== 0)
        failure = `command '${command.join(" ")}' exited with ${result.exitCode}: ${result.stderr.toString().trim()}`;
    } catch (error) {
      failure = (error as Error).message;
    }
    if (!failure) return undefined;
    this.event(pod, "Warning", "FailedPostStartHook", `PostStartHook failed: ${failure}`, fieldPath);
    this.event(pod, "Normal", "Killing", `FailedPostStartHook`, fieldPath);
    await this.stopContainer(id, podGrace(pod));
    return { reason: "PostStartHookError", message: failure };
  }

  /** Pulls per imagePullPolicy; the image's status, or why the container waits when it is not (yet) there. */
  private async ensureImage(
    pod: Pod,
    container: Container,
    fieldPath: string,
    sandboxConfig: PodSandboxConfig,
  ): Promise<{ image: Image | undefined } | { waiting: WaitingReason }> {
    const image = container.image ?? "";
    const uid = pod.metadata?.uid ?? "";
    const policy =
      container.imagePullPolicy ??
      (image.endsWith(":latest") || !/:[^/]+$/.test(image) ? "Always" : "IfNotPresent");
    const present = policy === "Always" ? undefined : await this.deps.runtime.imageStatus(image);
    if (present) {
      this.event(pod, "Normal", "Pulled", `Container image "${image}" already present on machine`, fieldPath);
      return { image: present };
    }
    if (policy === "Never") {
      const message = `Container image "${image}" is not present with pull policy of Never`;
      this.event(pod, "Warning", "ErrImageNeverPull", message, fieldPath);
      return { waiting: { reason: "ErrImageNeverPull", message } };
    }
    const key = `${uid}/image:${image}`;
    const now = this.deps.clock.now();
    const failed = this.pullFailures.get(key);
    if (failed) {
      // In back-off since the last failed pull (10 s, doubling): like upstream's IsInBackOffSince.
      const decision = this.imageBackoff.tryRestart(key, failed.at, now);
      if (!decision.allowed) {
        const message = `Back-off pulling image "${image}"`;
        this.event(pod, "Normal", "BackOff", message, fieldPath);
        this.deps.resyncAfter(uid, decision.remainingMs);
        // Upstream (1.32) carries the last pull error into the waiting message.
        return {
          waiting: { reason: "ImagePullBackOff", message: `${message}: ErrImagePull: ${failed.message}` },
        };
      }
    }
    this.event(pod, "Normal", "Pulling", `Pulling image "${image}"`, fieldPath);
    const started = this.deps.clock.now();
    const credentials = await this.deps.pullCredentials(pod, image);
    let lastError: unknown;
    for (const auth of credentials.length > 0 ? credentials : [undefined]) {
      try {
        await this.deps.runtime.pullImage(image, auth, sandboxConfig);
        const seconds = ((this.deps.clock.now() - started) / 1000).toFixed(3);
        const pulled = await this.deps.runtime.imageStatus(image);
        const size = pulled?.sizeBytes;
        this.event(
          pod,
          "Normal",
          "Pulled",
          `Successfully pulled image "${image}" in ${seconds}s (${seconds}s including waiting)${size ? `. Image size: ${size} bytes.` : ""}`,
          fieldPath,
        );
        this.imageBackoff.forget(key);
        this.pullFailures.delete(key);
        return { image: pulled };
      } catch (error) {
        lastError = error;
      }
    }
    const message = (lastError as Error).message;
    this.event(pod, "Warning", "Failed", `Failed to pull image "${image}": ${message}`, fieldPath);
    // The first failure starts the back-off at its initial delay; a retry allowed above already doubled it.
    if (!failed) this.imageBackoff.tryRestart(key, now, now);
    const failedAt = this.deps.clock.now();
    this.pullFailures.set(key, { at: failedAt, message });
    this.deps.resyncAfter(uid, this.imageBackoff.currentDelay(key));
    // As upstream: the waiting message is the runtime's error itself.
    return { waiting: { reason: "ErrImagePull", message } };
  }

  private scoped<T extends { labels?: Record<string, string> }>(config: T): T {
    return { ...config, labels: { ...config.labels, ...this.deps.scopeLabels } };
  }

  private report(
    pod: Pod,
    runtime: PodRuntimeStatus | undefined,
    waiting?: ReadonlyMap<string, WaitingReason>,
  ): void {
    const uid = pod.metadata?.uid ?? "";
    this.deps.observed?.(pod, runtime);
    const probes = this.deps.probes(uid);
    const status = generatePodStatus({
      pod,
      runtime,
      runtimeName: this.deps.runtimeName,
      hostIPs: this.deps.hostIPs(),
      now: this.deps.clock.now(),
      waiting: waiting ?? this.waiting.get(uid),
      readiness: probes.readiness,
      startup: probes.startup,
    });
    this.deps.setPodStatus(pod, status);
  }

  private event(pod: Pod, type: EventType, reason: string, message: string, fieldPath?: string): void {
    this.deps.recordEvent(
      {
        apiVersion: "v1",
        kind: "Pod",
        namespace: pod.metadata?.namespace,
        name: pod.metadata?.name ?? "",
        uid: pod.metadata?.uid,
        ...(fieldPath ? { fieldPath } : {}),
      },
      type,
      reason,
      message,
    );
  }
}

function podName(pod: Pod): string {
  return `${pod.metadata?.name}_${pod.metadata?.namespace}`;
}

function containerPath(pod: Pod, name: string, isInit?: boolean): string {
  const init = isInit ?? (pod.spec?.initContainers ?? []).some((c) => c.name === name);
  return init ? `spec.initContainers{${name}}` : `spec.containers{${name}}`;
}

function waitingFor(pod: Pod, why: WaitingReason): Map<string, WaitingReason> {
  return new Map((pod.spec?.containers ?? []).map((c) => [c.name, why]));
}

/** A running or created container, or a ready sandbox: the pod still holds resources. */
export function anythingRunning(runtime: PodRuntimeStatus | undefined): boolean {
  return (
    (runtime?.containers ?? []).some((c) => c.state === "running" || c.state === "created") ||
    (runtime?.sandboxes ?? []).some((s) => s.state === "ready")
  );
}

function isFinished(pod: Pod): boolean {
  return pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed";
}

function podGrace(pod: Pod): number {
  return pod.spec?.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS;
}

function deletionGrace(pod: Pod): number {
  return pod.metadata?.deletionGracePeriodSeconds ?? podGrace(pod);
}

function formatSeconds(ms: number): string {
  const seconds = Math.round(ms / 1000);
  return seconds >= 60 && seconds % 60 === 0
    ? `${seconds / 60}m0s`
    : seconds >= 60
      ? `${Math.floor(seconds / 60)}m${seconds % 60}s`
      : `${seconds}s`;
}
