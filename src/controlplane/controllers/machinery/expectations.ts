// Controller expectations (upstream's ControllerExpectations): after a controller asks for N creations or
// deletions it waits until its informer has seen them before acting on that controller again, so a slow
// watch never makes it create or delete twice. Expectations expire after 5 minutes, as upstream, so a lost
// event cannot wedge a controller for ever.
import type { Clock } from "../../../util/clock.ts";

export const EXPECTATIONS_TIMEOUT_MS = 5 * 60_000;

interface Expectation {
  add: number;
  del: number;
  /** Keys of the objects expected to go, to count each deletion once. */
  deleting: Set<string>;
  at: number;
}

export class Expectations {
  private readonly clock: Clock;
  private readonly entries = new Map<string, Expectation>();

  constructor(clock: Clock) {
    this.clock = clock;
  }

  /** True when nothing is outstanding (or the record expired): the controller may act. */
  satisfied(key: string): boolean {
    const e = this.entries.get(key);
    if (!e) return true;
    if (e.add <= 0 && e.del <= 0) return true;
    return this.clock.now() - e.at > EXPECTATIONS_TIMEOUT_MS;
  }

  expectCreations(key: string, n: number): void {
    this.entries.set(key, { add: n, del: 0, deleting: new Set(), at: this.clock.now() });
  }

  expectDeletions(key: string, objectKeys: readonly string[]): void {
    this.entries.set(key, {
      add: 0,
      del: objectKeys.length,
      deleting: new Set(objectKeys),
      at: this.clock.now(),
    });
  }

  /** Creations and deletions at once (a DaemonSet may do both in one sync). */
  expect(key: string, creations: number, deletions: readonly string[]): void {
    this.entries.set(key, {
      add: creations,
      del: deletions.length,
      deleting: new Set(deletions),
      at: this.clock.now(),
    });
  }

  creationObserved(key: string): void {
    const e = this.entries.get(key);
    if (e) e.add--;
  }

  deletionObserved(key: string, objectKey: string): void {
    const e = this.entries.get(key);
    if (e?.deleting.delete(objectKey)) e.del--;
  }

  delete(key: string): void {
    this.entries.delete(key);
  }
}
