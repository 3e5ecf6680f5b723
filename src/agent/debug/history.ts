// What `deckhand debug` tells about a pod's past, kept in the agent's memory with fixed bounds: the events the
// agent recorded for it, each probe's recent results, its syncs and the last sync error. It answers even when
// the API server is down (the events may never have reached it).
import type { ProbeEvent } from "../prober/manager.ts";

export interface DebugEvent {
  time: number;
  type: string;
  reason: string;
  message: string;
  fieldPath?: string;
}

export interface ProbeRecord {
  time: number;
  outcome: string;
  message: string;
}

export interface ProbeHistory {
  container: string;
  type: string;
  results: ProbeRecord[];
}

export interface SyncRecord {
  syncs: number;
  lastSyncAt: number;
  lastError?: { time: number; message: string };
}

const EVENTS_PER_POD = 50;
const RESULTS_PER_PROBE = 20;
/** Longer probe outputs are cut (an HTTP body or exec output can be up to 10 KiB). */
const MESSAGE_LIMIT = 512;

function push<T>(list: T[], item: T, limit: number): void {
  list.push(item);
  if (list.length > limit) list.splice(0, list.length - limit);
}

export class DebugHistory {
  private readonly events = new Map<string, DebugEvent[]>();
  private readonly probes = new Map<string, Map<string, ProbeHistory>>();
  private readonly syncs = new Map<string, SyncRecord>();
  private readonly now: () => number;

  constructor(now: () => number = Date.now) {
    this.now = now;
  }

  recordEvent(uid: string, event: Omit<DebugEvent, "time">): void {
    let list = this.events.get(uid);
    if (!list) {
      list = [];
      this.events.set(uid, list);
    }
    push(list, { time: this.now(), ...event }, EVENTS_PER_POD);
  }

  recordProbe(event: ProbeEvent): void {
    let byProbe = this.probes.get(event.podUid);
    if (!byProbe) {
      byProbe = new Map();
      this.probes.set(event.podUid, byProbe);
    }
    const key = `${event.container}/${event.type}`;
    let history = byProbe.get(key);
    if (!history) {
      history = { container: event.container, type: event.type, results: [] };
      byProbe.set(key, history);
    }
    push(
      history.results,
      {
        time: this.now(),
        outcome: event.result.outcome,
        message: event.result.message.slice(0, MESSAGE_LIMIT),
      },
      RESULTS_PER_PROBE,
    );
  }

  recordSync(uid: string, error?: unknown): void {
    const record = this.syncs.get(uid) ?? { syncs: 0, lastSyncAt: 0 };
    record.syncs++;
    record.lastSyncAt = this.now();
    if (error !== undefined) {
      record.lastError = {
        time: record.lastSyncAt,
        message: error instanceof Error ? error.message : String(error),
      };
    } else delete record.lastError;
    this.syncs.set(uid, record);
  }

  /** The pod is gone from the node: its history goes too. */
  forget(uid: string): void {
    this.events.delete(uid);
    this.probes.delete(uid);
    this.syncs.delete(uid);
  }

  eventsOf(uid: string): readonly DebugEvent[] {
    return this.events.get(uid) ?? [];
  }

  probesOf(uid: string): ProbeHistory[] {
    return [...(this.probes.get(uid)?.values() ?? [])];
  }

  syncOf(uid: string): SyncRecord | undefined {
    return this.syncs.get(uid);
  }
}
