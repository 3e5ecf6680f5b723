// Write bursts and a resuming watcher against a test control plane, for the crash tests. Every write goes
// through cp.fetch; what the API acknowledged (a 2xx answer) is recorded, so that a test can check it after
// a crash. The watcher keeps the newest resourceVersion it saw per object and resumes from its last event.
import type { TestControlPlane } from "../../support/controlplane.ts";

export interface Acknowledged {
  /** ConfigMap name → the highest data.v the API acknowledged for it. */
  versions: Map<string, number>;
  /** Writes answered 2xx. */
  acked: number;
  /** Writes that failed (connection refused/reset while the control plane was down): outcome unknown. */
  unknown: number;
  /** Writes answered 503 ServiceUnavailable (the store was briefly unavailable): outcome unknown. */
  unavailable: number;
  /** Writes answered with any other HTTP error (must be none). */
  errors: string[];
}

export function emptyAcknowledged(): Acknowledged {
  return { versions: new Map(), acked: 0, unknown: 0, unavailable: 0, errors: [] };
}

const json = { "Content-Type": "application/json" };

/**
 * `writers` concurrent writers, each creating ConfigMaps `<prefix>-<writer>-<n>` and updating every third
 * one it created, with data.v counting up per writer, until `stop` is aborted or the API goes away.
 */
export async function writeBurst(
  cp: TestControlPlane,
  namespace: string,
  prefix: string,
  writers: number,
  stop: AbortSignal,
  /** Filled in as the writes are answered, so that a test can wait for progress before a fault. */
  result: Acknowledged = emptyAcknowledged(),
): Promise<Acknowledged> {
  const base = `/api/v1/namespaces/${namespace}/configmaps`;
  const writer = async (w: number) => {
    const mine: string[] = [];
    for (let v = 1; !stop.aborted; v++) {
      const update = v % 3 === 0 && mine.length > 0;
      const name = update ? (mine[(v * 7) % mine.length] as string) : `${prefix}-${w}-${v}`;
      const body = { metadata: { name }, data: { v: String(v), writer: String(w) } };
      let res: Response;
      try {
        res = await cp.fetch(update ? `${base}/${name}` : base, {
          method: update ? "PUT" : "POST",
          headers: json,
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(10_000),
        });
      } catch {
        result.unknown++;
        return; // the control plane is down: this writer's run ends here
      }
      const text = await res.text();
      if (res.status === 503 && text.includes('"ServiceUnavailable"')) {
        // The store could not take the write right now (e.g. etcd electing a leader): outcome unknown, and a
        // client retries it. The writer goes on.
        result.unavailable++;
        continue;
      }
      if (res.ok) {
        result.acked++;
        result.versions.set(name, v);
        if (!update) mine.push(name);
      } else {
        result.errors.push(`${update ? "PUT" : "POST"} ${name} → ${res.status} ${text.slice(0, 200)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: writers }, (_, w) => writer(w)));
  return result;
}

export interface WatchState {
  /** name → resourceVersion of the newest event seen for it (deleted objects removed). */
  seen: Map<string, string>;
  /** resourceVersion of the newest event or bookmark. */
  lastRV: string;
  events: number;
  /** Times a resume answered 410 Gone and the watcher relisted. */
  relists: number;
  resumes: number;
}

/** Lists the ConfigMaps of `namespace`: name → resourceVersion and data, plus the list's resourceVersion. */
export async function listConfigMaps(
  cp: TestControlPlane,
  namespace: string,
): Promise<{ rv: string; items: Map<string, { rv: string; v: number }> }> {
  const res = await cp.fetch(`/api/v1/namespaces/${namespace}/configmaps`);
  if (!res.ok) throw new Error(`list configmaps: ${res.status} ${await res.text()}`);
  const list = (await res.json()) as {
    metadata: { resourceVersion: string };
    items: Array<{ metadata: { name: string; resourceVersion: string }; data?: { v?: string } }>;
  };
  return {
    rv: list.metadata.resourceVersion,
    items: new Map(
      list.items.map((i) => [i.metadata.name, { rv: i.metadata.resourceVersion, v: Number(i.data?.v ?? 0) }]),
    ),
  };
}

/**
 * A ConfigMap watcher that survives control plane restarts: it watches from its last resourceVersion, and
 * when a resume answers 410 (or an ERROR event with code 410) it relists and continues from the list.
 */
export class ResumingWatcher {
  readonly state: WatchState = { seen: new Map(), lastRV: "", events: 0, relists: 0, resumes: 0 };
  readonly #cp: TestControlPlane;
  readonly #namespace: string;
  readonly #stop = new AbortController();
  #loop: Promise<void> = Promise.resolve();

  constructor(cp: TestControlPlane, namespace: string) {
    this.#cp = cp;
    this.#namespace = namespace;
  }

  async start(): Promise<void> {
    await this.#relist();
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#loop;
  }

  async #relist(): Promise<void> {
    const list = await listConfigMaps(this.#cp, this.#namespace);
    this.state.seen = new Map([...list.items].map(([name, item]) => [name, item.rv]));
    this.state.lastRV = list.rv;
  }

  async #run(): Promise<void> {
    while (!this.#stop.signal.aborted) {
      const query = `watch=true&allowWatchBookmarks=true&resourceVersion=${this.state.lastRV}`;
      let res: Response;
      try {
        res = await this.#cp.fetch(`/api/v1/namespaces/${this.#namespace}/configmaps?${query}`, {
          signal: this.#stop.signal,
        });
      } catch {
        await sleepUnlessStopped(200, this.#stop.signal);
        continue;
      }
      this.state.resumes++;
      if (res.status === 410) {
        await res.body?.cancel();
        this.state.relists++;
        await this.#relist().catch(() => {});
        continue;
      }
      if (!res.ok || !res.body) {
        await res.body?.cancel();
        await sleepUnlessStopped(200, this.#stop.signal);
        continue;
      }
      try {
        await this.#consume(res.body);
      } catch {
        // The stream broke (the control plane died, or stop()): resume from lastRV.
      }
    }
  }

  async #consume(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = "";
    // Cancel the reader on stop(): aborting the request does not end every body stream on its own.
    const reader = body.getReader();
    const cancel = () => void reader.cancel().catch(() => {});
    this.#stop.signal.addEventListener("abort", cancel, { once: true });
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        if (await this.#handle(buffer)) return;
        buffer = buffer.slice(buffer.lastIndexOf("\n") + 1);
      }
    } finally {
      this.#stop.signal.removeEventListener("abort", cancel);
    }
  }

  /** Applies the complete lines of `buffer`; true when the watch ended with an ERROR event. */
  async #handle(buffer: string): Promise<boolean> {
    {
      const complete = buffer.slice(0, buffer.lastIndexOf("\n") + 1);
      for (const raw of complete.split("\n")) {
        const line = raw.trim();
        if (!line) continue;
        const event = JSON.parse(line) as {
          type: string;
          object: { code?: number; metadata?: { name?: string; resourceVersion?: string } };
        };
        if (event.type === "ERROR") {
          if (event.object.code === 410) {
            this.state.relists++;
            await this.#relist();
          }
          return true;
        }
        const rv = event.object.metadata?.resourceVersion;
        if (rv) this.state.lastRV = rv;
        if (event.type === "BOOKMARK") continue;
        this.state.events++;
        const name = event.object.metadata?.name as string;
        if (event.type === "DELETED") this.state.seen.delete(name);
        else this.state.seen.set(name, rv as string);
      }
    }
    return false;
  }
}

async function sleepUnlessStopped(ms: number, signal: AbortSignal): Promise<void> {
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
