// The control plane under 50 concurrent clients doing a fixed count of mixed operations: single-object reads,
// lists, creates, conditional updates that race each other, deletes and short watches.
// "Nothing lost" here: every operation succeeds except the 409 Conflicts a client expects (two clients
// updating the same object with the same resourceVersion; one wins), every object a client created and did
// not delete is there at the end with the last value a client wrote successfully. Latency percentiles are
// reported next to upstream's SLOs (mutating and single-object reads ≤ 1 s at p99), not asserted: the
// machine is shared.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApiClient } from "../../src/api/client/client.ts";
import { isConflict } from "../../src/api/client/errors.ts";
import type { KubeObject } from "../../src/api/resource.ts";
import { startControlPlane, type TestControlPlane } from "../support/controlplane.ts";
import { uniqueName } from "../support/names.ts";

const CLIENTS = Number(process.env.DECKHAND_LOAD_CLIENTS ?? "50");
const OPS_PER_CLIENT = Number(process.env.DECKHAND_LOAD_OPS ?? "40");
/** Objects every client shares, so that conditional updates conflict. */
const SHARED = 10;

type Kind = "get" | "list" | "create" | "update" | "delete" | "watch";

interface ConfigMap extends KubeObject {
  metadata: { name: string; namespace?: string; resourceVersion?: string };
  data?: Record<string, string>;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

describe(`control plane under ${CLIENTS} concurrent clients`, () => {
  let cp: TestControlPlane;
  let ns: string;
  const clients: ApiClient[] = [];

  beforeAll(async () => {
    cp = await startControlPlane({ controllers: false });
    ns = uniqueName("load");
    const admin = cp.client();
    await admin.create({ version: "v1", resource: "namespaces" }, { metadata: { name: ns } } as ConfigMap);
    for (let i = 0; i < SHARED; i++) {
      await admin.create({ version: "v1", resource: "configmaps", namespace: ns }, {
        metadata: { name: `shared-${i}` },
        data: { v: "0" },
      } as ConfigMap);
    }
    admin.close();
    for (let i = 0; i < CLIENTS; i++) clients.push(cp.client());
  });

  afterAll(async () => {
    for (const c of clients) c.close();
    await cp?.stop();
  });

  it("answers every operation (409s only where expected) and keeps every successful write", async () => {
    const latencies: Record<Kind, number[]> = {
      get: [],
      list: [],
      create: [],
      update: [],
      delete: [],
      watch: [],
    };
    const errors: string[] = [];
    let conflicts = 0;
    /** name → value of the last successful write (per client objects are written by one client only). */
    const own = new Map<string, string>();
    const deleted = new Set<string>();
    const ref = (name?: string) => ({
      version: "v1",
      resource: "configmaps",
      namespace: ns,
      ...(name ? { name } : {}),
    });

    const timed = async (kind: Kind, op: () => Promise<unknown>) => {
      const start = performance.now();
      try {
        await op();
      } catch (error) {
        if (kind === "update" && isConflict(error)) conflicts++;
        else errors.push(`${kind}: ${(error as Error).message}`);
      }
      latencies[kind].push(performance.now() - start);
    };

    const client = async (c: number) => {
      const api = clients[c] as ApiClient;
      const mine: string[] = [];
      for (let i = 0; i < OPS_PER_CLIENT; i++) {
        const roll = (c * 31 + i * 17) % 100;
        const shared = `shared-${(c + i) % SHARED}`;
        if (roll < 35) {
          await timed("get", () => api.get(ref(shared)));
        } else if (roll < 50) {
          await timed("list", () => api.list(ref(), { limit: 50 }));
        } else if (roll < 65) {
          const name = `c${c}-${i}`;
          await timed("create", async () => {
            await api.create(ref(), { metadata: { name }, data: { v: String(i) } } as ConfigMap);
            mine.push(name);
            own.set(name, String(i));
          });
        } else if (roll < 88) {
          // A read-modify-write on a shared object: races with the other clients, a 409 is expected.
          await timed("update", async () => {
            const current = await api.get<ConfigMap>(ref(shared));
            await api.update(ref(shared), { ...current, data: { v: `${c}-${i}` } });
          });
        } else if (roll < 94 && mine.length > 0) {
          const name = mine.shift() as string;
          await timed("delete", async () => {
            await api.delete(ref(name));
            deleted.add(name);
            own.delete(name);
          });
        } else {
          await timed("watch", async () => {
            for await (const _event of api.watch(ref(), { timeoutSeconds: 1 })) {
              // the initial events and whatever arrives within a second
            }
          });
        }
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)));
    const wallMs = performance.now() - started;

    const report = (Object.keys(latencies) as Kind[])
      .map((kind) => {
        const sorted = [...latencies[kind]].sort((a, b) => a - b);
        return `${kind}: n=${sorted.length} p50=${Math.round(percentile(sorted, 50))}ms p99=${Math.round(percentile(sorted, 99))}ms`;
      })
      .join("; ");
    const ops = Object.values(latencies).reduce((n, l) => n + l.length, 0);
    console.log(
      `load: ${CLIENTS} clients, ${ops} operations in ${Math.round(wallMs)} ms, ${conflicts} expected 409s, ${errors.length} errors; ${report} (upstream SLO: p99 ≤ 1000 ms for mutating calls and single-object reads; the watch figure includes its 1 s server timeout)`,
    );
    expect(errors).toEqual([]);
    expect(ops).toBe(CLIENTS * OPS_PER_CLIENT);

    // Nothing lost: the objects written and not deleted are there with their last written value.
    const list = await (clients[0] as ApiClient).list<ConfigMap>(ref());
    const stored = new Map(list.items.map((cm) => [cm.metadata.name, cm.data?.v]));
    for (const [name, v] of own) expect(stored.get(name), name).toBe(v);
    for (const name of deleted) expect(stored.has(name), name).toBe(false);
  }, 300_000);
});
