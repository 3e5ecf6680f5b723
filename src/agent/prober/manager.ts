// Probe workers, one per (pod, container, probe type), like kubelet's prober manager: each waits
// initialDelaySeconds, then probes every periodSeconds (first tick jittered), counts consecutive results
// against successThreshold/failureThreshold, and reports only changes. A startup probe gates liveness and
// readiness until it succeeds. A new container instance starts from the initial results again.
import type { Container, Probe } from "../../api/schema/core/container.ts";
import type { Pod } from "../../api/schema/core/pod-types.ts";
import type { Runtime } from "../../runtime/types.ts";
import { type Clock, systemClock } from "../../util/clock.ts";
import { type ProbeOutcome, type ProbeResult, runProbe } from "./probes.ts";

export type ProbeType = "liveness" | "readiness" | "startup";

export interface ProbeEvent {
  podUid: string;
  container: string;
  type: ProbeType;
  result: ProbeResult;
}

export interface ProberOptions {
  runtime: Pick<Runtime, "execSync">;
  clock?: Clock;
  random?: () => number;
  /** A result changed: the pod should be synced (liveness/startup) or its status updated (readiness). */
  onChange(podUid: string, type: ProbeType): void;
  /** Every failed probe (upstream records an Unhealthy event for each). */
  onFailure?(event: ProbeEvent, pod: Pod): void;
  onResult?(event: ProbeEvent): void;
}

/** What a running container looks like to the prober. */
export interface ProbedContainer {
  name: string;
  containerId: string;
  podIP: string;
  /** Milliseconds since the epoch the container started (for initialDelaySeconds). */
  startedAt: number;
}

interface WorkerState {
  key: string;
  pod: Pod;
  podUid: string;
  container: Container;
  target: ProbedContainer;
  type: ProbeType;
  probe: Probe;
  /** The current reported result. */
  ok: boolean;
  /** The last probe's outcome and how many times in a row it came out so. */
  lastOutcome: ProbeOutcome | undefined;
  streak: number;
  /** For liveness/startup: a failure was reported and the container must be restarted. */
  message: string;
  /** The worker was stopped (container replaced, pod gone, prober stopped). */
  stopped: boolean;
  /** Cancels the worker's pending timer. */
  cancelTimer: (() => void) | undefined;
  /** The current tick (ms since the epoch). */
  tick: number;
}

/** A probe worker as `deckhand debug probes` shows it. */
export interface ProbeWorkerView {
  podUid: string;
  namespace: string;
  pod: string;
  container: string;
  containerId: string;
  type: ProbeType;
  /** e.g. "httpGet http://:8080/healthz", "tcpSocket :5432", "exec cat /tmp/ready". */
  handler: string;
  periodSeconds: number;
  /** The current result (readiness/startup: passed; liveness: not failed). */
  ok: boolean;
  lastOutcome: ProbeOutcome | undefined;
  /** How many probes in a row came out as lastOutcome. */
  streak: number;
  /** Held back by a startup probe that has not succeeded yet. */
  gated: boolean;
}

function handlerOf(probe: Probe): string {
  if (probe.httpGet) {
    const { scheme, host, port, path } = probe.httpGet;
    return `httpGet ${(scheme ?? "HTTP").toLowerCase()}://${host ?? ""}:${port}${path ?? "/"}`;
  }
  if (probe.tcpSocket) return `tcpSocket ${probe.tcpSocket.host ?? ""}:${probe.tcpSocket.port}`;
  if (probe.exec) return `exec ${(probe.exec.command ?? []).join(" ")}`;
  if (probe.grpc) return `grpc :${probe.grpc.port}${probe.grpc.service ? ` ${probe.grpc.service}` : ""}`;
  return "none";
}

const PROBE_TYPES: ProbeType[] = ["startup", "liveness", "readiness"];

function probeOf(container: Container, type: ProbeType): Probe | undefined {
  if (type === "startup") return container.startupProbe;
  if (type === "liveness") return container.livenessProbe;
  return container.readinessProbe;
}

/** Upstream's initial result: readiness starts false, liveness starts true, startup starts false. */
function initialOk(type: ProbeType): boolean {
  return type === "liveness";
}

function periodOf(probe: Probe): number {
  return Math.max(1, probe.periodSeconds ?? 10) * 1000;
}

function stopWorker(state: WorkerState): void {
  state.stopped = true;
  state.cancelTimer?.();
  state.cancelTimer = undefined;
}

export class ProberManager {
  private readonly options: ProberOptions;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly workers = new Map<string, WorkerState>();

  constructor(options: ProberOptions) {
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
  }

  /**
   * Aligns the workers of a pod with its running containers: starts workers for new container instances,
   * stops those of containers that are gone or were replaced.
   */
  syncPod(pod: Pod, running: readonly ProbedContainer[]): void {
    const uid = pod.metadata?.uid ?? "";
    const wanted = new Set<string>();
    for (const target of running) {
      const container = (pod.spec?.containers ?? []).find((c) => c.name === target.name);
      if (!container) continue;
      for (const type of PROBE_TYPES) {
        const probe = probeOf(container, type);
        if (!probe) continue;
        const key = `${uid}/${target.name}/${type}`;
        wanted.add(key);
        const existing = this.workers.get(key);
        if (existing?.target.containerId === target.containerId) {
          existing.pod = pod;
          continue;
        }
        if (existing) stopWorker(existing);
        const state: WorkerState = {
          key,
          pod,
          podUid: uid,
          container,
          target,
          type,
          probe,
          ok: initialOk(type),
          lastOutcome: undefined,
          streak: 0,
          message: "",
          stopped: false,
          cancelTimer: undefined,
          tick: 0,
        };
        this.workers.set(key, state);
        this.startWorker(state);
      }
    }
    for (const [key, state] of this.workers) {
      if (state.podUid === uid && !wanted.has(key)) {
        stopWorker(state);
        this.workers.delete(key);
      }
    }
  }

  removePod(uid: string): void {
    for (const [key, state] of this.workers) {
      if (state.podUid === uid) {
        stopWorker(state);
        this.workers.delete(key);
      }
    }
  }

  stop(): void {
    for (const state of this.workers.values()) stopWorker(state);
    this.workers.clear();
  }

  /** Every worker's current state (for `deckhand debug probes`). */
  describe(): ProbeWorkerView[] {
    return [...this.workers.values()].map((state) => ({
      podUid: state.podUid,
      namespace: state.pod.metadata?.namespace ?? "",
      pod: state.pod.metadata?.name ?? "",
      container: state.container.name,
      containerId: state.target.containerId,
      type: state.type,
      handler: handlerOf(state.probe),
      periodSeconds: state.probe.periodSeconds ?? 10,
      ok: state.ok,
      lastOutcome: state.lastOutcome,
      streak: state.streak,
      gated: state.type !== "startup" && !this.startupDone(state),
    }));
  }

  /** Per container: why it must be restarted (liveness or startup failed), readiness, and whether it started. */
  results(uid: string): {
    unhealthy: Map<string, string>;
    readiness: Map<string, boolean>;
    startup: Map<string, boolean>;
  } {
    const unhealthy = new Map<string, string>();
    const readiness = new Map<string, boolean>();
    const startup = new Map<string, boolean>();
    for (const state of this.workers.values()) {
      if (state.podUid !== uid) continue;
      const name = state.container.name;
      if (state.type === "readiness") readiness.set(name, state.ok);
      if (state.type === "startup") startup.set(name, state.ok);
      if ((state.type === "liveness" || state.type === "startup") && !state.ok && state.message) {
        unhealthy.set(name, state.message);
      }
    }
    return { unhealthy, readiness, startup };
  }

  private startupDone(state: WorkerState): boolean {
    const startup = this.workers.get(`${state.podUid}/${state.container.name}/startup`);
    return !startup || startup.target.containerId !== state.target.containerId || startup.ok;
  }

  private startWorker(state: WorkerState): void {
    const { probe } = state;
    const periodMs = periodOf(probe);
    const initialDelayMs = (probe.initialDelaySeconds ?? 0) * 1000;
    const sinceStart = this.clock.now() - state.target.startedAt;
    // Jitter the first tick so that many workers started together do not probe in lockstep.
    const firstWait =
      Math.max(0, initialDelayMs - sinceStart) + Math.floor(this.random() * Math.min(periodMs, 1000));
    state.cancelTimer = this.clock.setTimer(firstWait, () => {
      state.tick = this.clock.now();
      void this.runTick(state);
    });
  }

  /**
   * One tick of a worker, then the timer for the next. Probes run on a fixed tick (kubelet's time.Ticker),
   * so a probe's own duration does not stretch the period: a probe that overran its tick is followed at once
   * by one more, and the ticks in between are dropped. One timer per worker at a time, no promise or abort
   * listener per tick.
   */
  private async runTick(state: WorkerState): Promise<void> {
    const periodMs = periodOf(state.probe);
    state.cancelTimer = undefined;
    for (;;) {
      if (state.stopped) return;
      try {
        if (state.type === "startup" ? !state.ok : this.startupDone(state)) await this.probeOnce(state);
      } catch {
        // A listener failed; the worker keeps its schedule.
      }
      if (state.stopped) return;
      const now = this.clock.now();
      if (state.tick + periodMs <= now) {
        state.tick += periodMs * Math.floor((now - state.tick) / periodMs);
        continue;
      }
      state.tick += periodMs;
      state.cancelTimer = this.clock.setTimer(state.tick - now, () => void this.runTick(state));
      return;
    }
  }

  private async probeOnce(state: WorkerState): Promise<void> {
    const result = await runProbe(state.probe, {
      podIP: state.target.podIP,
      containerId: state.target.containerId,
      container: state.container,
      runtime: this.options.runtime,
    });
    if (state.stopped) return;
    const event: ProbeEvent = {
      podUid: state.podUid,
      container: state.container.name,
      type: state.type,
      result,
    };
    this.options.onResult?.(event);
    // "unknown" (the probe could not run) keeps the current result, as upstream does.
    if (result.outcome === "unknown") return;
    if (result.outcome === "failure") this.options.onFailure?.(event, state.pod);
    state.streak = state.lastOutcome === result.outcome ? state.streak + 1 : 1;
    state.lastOutcome = result.outcome;
    const threshold =
      result.outcome === "success"
        ? (state.probe.successThreshold ?? 1)
        : (state.probe.failureThreshold ?? 3);
    if (state.streak < threshold) return;
    const ok = result.outcome === "success";
    if (ok === state.ok) return;
    state.ok = ok;
    state.message = ok
      ? ""
      : state.type === "liveness"
        ? `Container ${state.container.name} failed liveness probe, will be restarted`
        : `Container ${state.container.name} failed startup probe, will be restarted`;
    this.options.onChange(state.podUid, state.type);
  }
}
