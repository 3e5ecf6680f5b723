// Periodic storage compaction, as kube-apiserver does for etcd: every interval, history older than the
// revision seen one interval earlier is dropped. Watchers and paged lists further behind get 410 Gone.

import type { Logger } from "pino";
import type { Clock } from "../../util/clock.ts";
import type { Storage } from "../storage/types.ts";

export class Compactor {
  private readonly storage: Storage;
  private readonly intervalMs: number;
  private readonly clock: Clock;
  private readonly log: Logger;
  private cancel: (() => void) | undefined;
  private previous: number | undefined;
  private stopped = false;

  constructor(deps: { storage: Storage; intervalMs: number; clock: Clock; log: Logger }) {
    this.storage = deps.storage;
    this.intervalMs = deps.intervalMs;
    this.clock = deps.clock;
    this.log = deps.log;
  }

  start(): void {
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    this.cancel?.();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.cancel = this.clock.setTimer(this.intervalMs, () => {
      void this.tick().finally(() => this.schedule());
    });
  }

  /** One round: compact at the revision remembered last round, remember the current one. */
  async tick(): Promise<void> {
    try {
      const current = await this.storage.currentRevision();
      if (this.previous !== undefined && this.previous > 0) {
        await this.storage.compact(this.previous);
        this.log.debug({ revision: this.previous }, "compacted storage");
      }
      this.previous = current;
    } catch (error) {
      if (!this.stopped) this.log.warn({ err: error }, "storage compaction failed; will retry next interval");
    }
  }
}
