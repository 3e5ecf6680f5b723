// Records core/v1 Events the way client-go's recorder does: one Event per (object, type, reason, message),
// repeated occurrences bump `count` and `lastTimestamp` on the same Event instead of creating new ones.
// Recording never throws and never blocks the caller: events are best-effort, like upstream.

import { type Clock, systemClock } from "../../util/clock.ts";
import { k8sTime } from "../../util/time.ts";
import type { KubeObject } from "../resource.ts";
import type { ApiClient } from "./client.ts";
import { isNotFound } from "./errors.ts";

export interface ObjectReference {
  apiVersion?: string;
  kind: string;
  namespace?: string;
  name: string;
  uid?: string;
  resourceVersion?: string;
  fieldPath?: string;
}

export type EventType = "Normal" | "Warning";

export interface EventSource {
  /** e.g. "kubelet", "default-scheduler", "deployment-controller". */
  component: string;
  host?: string;
}

interface Recorded {
  name: string;
  namespace: string;
  count: number;
  firstTimestamp: string;
}

export interface EventRecorderOptions {
  client: Pick<ApiClient, "create" | "patch">;
  source: EventSource;
  clock?: Clock;
  onError?(error: unknown): void;
  /** How many distinct events to remember for aggregation (LRU). */
  cacheSize?: number;
}

export function referenceTo(obj: KubeObject, fieldPath?: string): ObjectReference {
  return {
    apiVersion: obj.apiVersion,
    kind: obj.kind ?? "",
    namespace: obj.metadata?.namespace,
    name: obj.metadata?.name ?? "",
    uid: obj.metadata?.uid,
    resourceVersion: obj.metadata?.resourceVersion,
    ...(fieldPath ? { fieldPath } : {}),
  };
}

export class EventRecorder {
  private readonly options: EventRecorderOptions;
  private readonly clock: Clock;
  private readonly recent = new Map<string, Recorded>();
  /** Serializes writes so that aggregation sees its own previous write. */
  private queue: Promise<void> = Promise.resolve();

  constructor(options: EventRecorderOptions) {
    this.options = options;
    this.clock = options.clock ?? systemClock;
  }

  record(involved: ObjectReference, type: EventType, reason: string, message: string): void {
    this.queue = this.queue
      .then(() => this.write(involved, type, reason, message))
      .catch((error) => this.options.onError?.(error));
  }

  /** Resolves when every event recorded so far has been written (or failed). */
  flush(): Promise<void> {
    return this.queue;
  }

  private async write(
    involved: ObjectReference,
    type: EventType,
    reason: string,
    message: string,
  ): Promise<void> {
    const namespace = involved.namespace || "default";
    const key = [
      involved.uid ?? "",
      involved.kind,
      namespace,
      involved.name,
      involved.fieldPath ?? "",
      type,
      reason,
      message,
    ].join("\u0000");
    const now = k8sTime(this.clock.now());
    const ref = { version: "v1", resource: "events", namespace };
    const seen = this.recent.get(key);
    if (seen) {
      try {
        await this.options.client.patch({ ...ref, name: seen.name }, "merge", {
          count: seen.count + 1,
          lastTimestamp: now,
        });
        seen.count++;
        this.touch(key, seen);
        return;
      } catch (error) {
        if (!isNotFound(error)) throw error;
        this.recent.delete(key);
      }
    }
    const name = `${involved.name}.${(BigInt(this.clock.now()) * 1_000_000n + BigInt(this.recent.size)).toString(16)}`;
    await this.options.client.create(ref, {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name, namespace },
      involvedObject: involved,
      reason,
      message,
      type,
      source: this.options.source,
      count: 1,
      firstTimestamp: now,
      lastTimestamp: now,
      reportingComponent: this.options.source.component,
      reportingInstance: this.options.source.host ?? "",
    });
    this.touch(key, { name, namespace, count: 1, firstTimestamp: now });
  }

  private touch(key: string, value: Recorded): void {
    this.recent.delete(key);
    this.recent.set(key, value);
    const limit = this.options.cacheSize ?? 4096;
    while (this.recent.size > limit) {
      const oldest = this.recent.keys().next().value;
      if (oldest === undefined) break;
      this.recent.delete(oldest);
    }
  }
}
