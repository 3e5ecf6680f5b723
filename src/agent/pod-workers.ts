// One serialized worker per pod UID, like kubelet's pod workers: a sync for a pod never overlaps another sync
// of the same pod, and while one runs only the newest requested state is kept (intermediate ones are
// coalesced away). Different pods sync concurrently.

export interface PodWork<T> {
  uid: string;
  /** The newest desired state; `undefined` when only a resync of what is known is wanted. */
  desired: T | undefined;
  /** Why this sync was asked for, for logs ("update", "pleg", "resync", "probe"…). */
  reason: string;
}

/** Runs one sync; returns when the pod is as close to desired as this attempt gets. */
export type SyncPod<T> = (uid: string, desired: T, reasons: string[], signal: AbortSignal) => Promise<void>;

interface WorkerState<T> {
  latest: T | undefined;
  pending: string[];
  running: boolean;
  /** Aborted when the pod is forgotten. */
  abort: AbortController;
}

export interface PodWorkersOptions<T> {
  sync: SyncPod<T>;
  onError?(uid: string, error: unknown): void;
}

export class PodWorkers<T> {
  private readonly workers = new Map<string, WorkerState<T>>();
  private readonly options: PodWorkersOptions<T>;
  private readonly idleWaiters: Array<() => void> = [];

  constructor(options: PodWorkersOptions<T>) {
    this.options = options;
  }

  /** Asks for a sync of `uid`; with `desired`, that becomes the state every later sync works towards. */
  update(work: PodWork<T>): void {
    let state = this.workers.get(work.uid);
    if (!state) {
      // A PLEG event or probe result for a pod no source wants (its objects going away after the cleanup
      // that forgot it) must not bring its worker back: nothing would ever forget it again.
      if (work.desired === undefined) return;
      state = { latest: undefined, pending: [], running: false, abort: new AbortController() };
      this.workers.set(work.uid, state);
    }
    if (work.desired !== undefined) state.latest = work.desired;
    if (state.latest === undefined) return;
    state.pending.push(work.reason);
    if (!state.running) void this.drain(work.uid, state);
  }

  /** The newest desired state known for a pod. */
  desired(uid: string): T | undefined {
    return this.workers.get(uid)?.latest;
  }

  known(): string[] {
    return [...this.workers.keys()];
  }

  isSyncing(uid: string): boolean {
    return this.workers.get(uid)?.running ?? false;
  }

  /** Stops tracking a pod (after it is fully torn down); an in-flight sync is told to abort. */
  forget(uid: string): void {
    const state = this.workers.get(uid);
    if (!state) return;
    state.abort.abort();
    this.workers.delete(uid);
    this.notifyIfIdle();
  }

  /** Resolves when no worker is running or has pending work (for tests and shutdown). */
  whenIdle(): Promise<void> {
    if (this.idle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private idle(): boolean {
    for (const state of this.workers.values()) if (state.running || state.pending.length > 0) return false;
    return true;
  }

  private async drain(uid: string, state: WorkerState<T>): Promise<void> {
    state.running = true;
    try {
      while (state.pending.length > 0 && this.workers.get(uid) === state) {
        const reasons = state.pending.splice(0);
        const desired = state.latest as T;
        try {
          await this.options.sync(uid, desired, reasons, state.abort.signal);
        } catch (error) {
          this.options.onError?.(uid, error);
        }
      }
    } finally {
      state.running = false;
      this.notifyIfIdle();
    }
  }

  private notifyIfIdle(): void {
    if (this.idleWaiters.length > 0 && this.idle())
      for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}
