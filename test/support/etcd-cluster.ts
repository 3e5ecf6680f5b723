// A private 3-member etcd cluster on loopback for one test file: each member has its own data directory and
// free client/peer ports, all from Debian's etcd-server package (/usr/bin/etcd). kill(i) and start(i) crash
// and bring back one member on its data directory, so tests can check that a client keeps working while
// the cluster has quorum.
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ETCD_BINARY, freePort, requireEtcd } from "./etcd.ts";
import { waitFor } from "./wait.ts";

export interface EtcdCluster {
  /** host:port of each member's client URL. */
  readonly endpoints: string[];
  /** The `--store` value for the control plane: "etcd://a,b,c". */
  readonly storeSpec: string;
  /** PID of member i, undefined while it is down. */
  pid(member: number): number | undefined;
  /** SIGKILL member i and wait until it is gone. */
  kill(member: number): Promise<void>;
  /** Start member i again on its data directory; resolves when it reports healthy. */
  start(member: number): Promise<void>;
  /** The member that currently leads (from each member's /v3 status), for tests that want to hit it. */
  leader(): Promise<number | undefined>;
  /** Stop every member and remove the data directories. */
  stop(): Promise<void>;
}

interface Member {
  name: string;
  clientPort: number;
  peerPort: number;
  dataDir: string;
  logPath: string;
  child?: ChildProcess;
  exited: Promise<void>;
}

export async function startEtcdCluster(size = 3): Promise<EtcdCluster> {
  requireEtcd();
  const root = mkdtempSync(join(tmpdir(), "deckhand-etcd-cluster-"));
  const ports = new Set<number>();
  while (ports.size < size * 2) ports.add(await freePort());
  const list = [...ports];
  const members: Member[] = Array.from({ length: size }, (_, i) => ({
    name: `m${i}-${list[i * 2]}`,
    clientPort: list[i * 2] as number,
    peerPort: list[i * 2 + 1] as number,
    dataDir: join(root, `m${i}`),
    logPath: join(root, `m${i}.log`),
    exited: Promise.resolve(),
  }));
  const initialCluster = members.map((m) => `${m.name}=http://127.0.0.1:${m.peerPort}`).join(",");
  const endpoints = members.map((m) => `127.0.0.1:${m.clientPort}`);

  const alive = (m: Member) =>
    m.child !== undefined && m.child.exitCode === null && m.child.signalCode === null;
  const tail = (m: Member) => {
    try {
      return readFileSync(m.logPath, "utf8").split("\n").slice(-10).join("\n");
    } catch {
      return "(no log)";
    }
  };
  const launch = (m: Member) => {
    const log = openSync(m.logPath, "a");
    const clientUrl = `http://127.0.0.1:${m.clientPort}`;
    const peerUrl = `http://127.0.0.1:${m.peerPort}`;
    const child = spawn(
      ETCD_BINARY,
      [
        "--name",
        m.name,
        "--data-dir",
        m.dataDir,
        "--listen-client-urls",
        clientUrl,
        "--advertise-client-urls",
        clientUrl,
        "--listen-peer-urls",
        peerUrl,
        "--initial-advertise-peer-urls",
        peerUrl,
        "--initial-cluster",
        initialCluster,
        "--initial-cluster-state",
        "new",
        "--initial-cluster-token",
        `deckhand-test-${members[0]?.clientPort}`,
        "--experimental-watch-progress-notify-interval",
        "500ms",
        "--logger",
        "zap",
        "--log-outputs",
        "stderr",
      ],
      { stdio: ["ignore", log, log] },
    );
    closeSync(log);
    m.child = child;
    m.exited = new Promise((resolve) => child.once("exit", () => resolve()));
  };
  const healthy = (m: Member) =>
    waitFor(
      async () => {
        if (!alive(m)) throw new Error(`etcd member ${m.name} exited:\n${tail(m)}`);
        const res = await fetch(`http://127.0.0.1:${m.clientPort}/health`, {
          signal: AbortSignal.timeout(1000),
        });
        return ((await res.json()) as { health?: string }).health === "true";
      },
      {
        what: `etcd member ${m.name} to report healthy (log ${m.logPath})`,
        timeoutMs: 60_000,
        intervalMs: 100,
      },
    );
  const kill = async (m: Member) => {
    if (!alive(m)) return;
    m.child?.kill("SIGKILL");
    await m.exited;
  };
  const member = (i: number) => {
    const m = members[i];
    if (!m) throw new Error(`no etcd member ${i} (the cluster has ${members.length})`);
    return m;
  };

  // Members wait for each other to form the first quorum, so they start together.
  for (const m of members) launch(m);
  try {
    await Promise.all(members.map(healthy));
  } catch (error) {
    await Promise.all(members.map(kill));
    rmSync(root, { recursive: true, force: true });
    throw error;
  }

  return {
    endpoints,
    storeSpec: `etcd://${endpoints.join(",")}`,
    pid: (i) => (alive(member(i)) ? member(i).child?.pid : undefined),
    kill: (i) => kill(member(i)),
    async start(i) {
      const m = member(i);
      if (alive(m)) throw new Error(`etcd member ${m.name} is already running`);
      launch(m);
      await healthy(m);
    },
    async leader() {
      for (const [i, m] of members.entries()) {
        if (!alive(m)) continue;
        const res = await fetch(`http://127.0.0.1:${m.clientPort}/v3/maintenance/status`, {
          method: "POST",
          body: "{}",
          signal: AbortSignal.timeout(2000),
        }).catch(() => undefined);
        if (!res?.ok) continue;
        const status = (await res.json()) as { header?: { member_id?: string }; leader?: string };
        if (status.leader && status.leader === status.header?.member_id) return i;
      }
      return undefined;
    },
    async stop() {
      for (const m of members) {
        if (alive(m)) m.child?.kill("SIGTERM");
      }
      const timer = setTimeout(() => {
        for (const m of members) if (alive(m)) m.child?.kill("SIGKILL");
      }, 10_000);
      await Promise.all(members.map((m) => m.exited));
      clearTimeout(timer);
      rmSync(root, { recursive: true, force: true });
    },
  };
}
