// The TTL-after-finished controller (upstream pkg/controller/ttlafterfinished): a finished Job with
// spec.ttlSecondsAfterFinished is deleted (foreground, so its pods go first) that long after it finished.
import { isNotFound } from "../../../api/client/errors.ts";
import type { Job } from "../../../api/schema/batch/types.ts";
import { type ControllerContext, RESOURCES } from "../machinery/context.ts";
import { ControllerLoop, type SyncResult } from "../machinery/controller.ts";
import type { Informer } from "../machinery/informer.ts";
import { keyOf, splitKey } from "../machinery/keys.ts";
import { finishedAt, isFinished } from "./planner.ts";

const COMPONENT = "ttl-after-finished-controller";

/** ms until the job expires; undefined when it has no TTL or has not finished. */
export function expiresInMs(job: Job, now: number): number | undefined {
  const ttl = job.spec?.ttlSecondsAfterFinished;
  if (ttl === undefined || ttl === null || !isFinished(job)) return undefined;
  const at = finishedAt(job);
  if (at === undefined) return undefined;
  return at + ttl * 1000 - now;
}

export class TtlAfterFinishedController {
  readonly loop: ControllerLoop;
  private readonly ctx: ControllerContext;
  private readonly jobs: Informer<Job>;

  constructor(ctx: ControllerContext) {
    this.ctx = ctx;
    this.jobs = ctx.informers.get("jobs");
    this.loop = new ControllerLoop({
      name: COMPONENT,
      log: ctx.log.child({ controller: COMPONENT }),
      clock: ctx.clock,
      sync: (key) => this.sync(key),
    });
    const consider = (job: Job) => {
      if (
        job.spec?.ttlSecondsAfterFinished !== undefined &&
        isFinished(job) &&
        !job.metadata?.deletionTimestamp
      ) {
        this.loop.enqueue(keyOf(job));
      }
    };
    this.jobs.addHandler({ add: consider, update: (_o, j) => consider(j) });
  }

  run(signal: AbortSignal): Promise<void> {
    return this.loop.run(signal);
  }

  private async sync(key: string): Promise<SyncResult | undefined> {
    const cached = this.jobs.get(key);
    if (!cached || cached.metadata?.deletionTimestamp) return undefined;
    const left = expiresInMs(cached, this.ctx.clock.now());
    if (left === undefined) return undefined;
    if (left > 0) return { requeueAfterMs: left };
    const { namespace, name } = splitKey(key);
    const ref = { ...RESOURCES.jobs, namespace, name };
    // Check the live object, as upstream does: the TTL may have been changed since the cache saw it.
    const fresh = await this.ctx.client
      .get<Job>(ref)
      .catch((error) => (isNotFound(error) ? undefined : Promise.reject(error)));
    if (!fresh) return undefined;
    const freshLeft = expiresInMs(fresh, this.ctx.clock.now());
    if (freshLeft === undefined) return undefined;
    if (freshLeft > 0) return { requeueAfterMs: freshLeft };
    this.ctx.log.info({ controller: COMPONENT, job: key }, "deleting a finished job past its TTL");
    await this.ctx.client
      .delete(ref, { propagationPolicy: "Foreground", preconditions: { uid: fresh.metadata?.uid } })
      .catch((error) => {
        if (!isNotFound(error)) throw error;
      });
    return undefined;
  }
}
