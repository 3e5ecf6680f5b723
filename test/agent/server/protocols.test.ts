// The node server's streaming protocols in process, against clients written independently of it: the CRI
// driver's SPDY/3.1 client (runRemoteCommand, openPortForward) and the `ws` WebSocket client speaking the
// channel protocols by hand. The runtime behind the server is a small scripted one (exec of `cat`, `exit N`,
// `resize`, a failing command; port-forward to a local echo server), so each protocol detail — v4 status,
// stdin half-close over SPDY and v5, resize order, base64 framing, port prefixes, the SPDY tunnel inside a
// WebSocket — is checked on its own. The real runtimes and real kubectl are in node-api-*.test.ts.
import { once } from "node:events";
import { request } from "node:http";
import { createServer, type Server, connect as tcpConnect } from "node:net";
import { PassThrough } from "node:stream";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWebSocketStream, WebSocket } from "ws";
import { AgentMetrics } from "../../../src/agent/metrics.ts";
import type { PodRuntimeStatus } from "../../../src/agent/pleg.ts";
import type { NodeServerHost } from "../../../src/agent/server/host.ts";
import { NodeServer } from "../../../src/agent/server/server.ts";
import type { Pod } from "../../../src/api/schema/core/pod-types.ts";
import { openPortForward } from "../../../src/runtime/cri/streaming/portforward.ts";
import { runRemoteCommand } from "../../../src/runtime/cri/streaming/remotecommand.ts";
import type {
  ExecOptions,
  LogLine,
  Runtime,
  StreamOptions,
  TerminalSize,
} from "../../../src/runtime/types.ts";
import { SpdySession } from "../../../src/util/spdy/session.ts";

const POD: Pod = {
  metadata: { name: "p", namespace: "ns", uid: "u1" },
  spec: { containers: [{ name: "c", image: "busybox" }] },
} as Pod;

const STATUS: PodRuntimeStatus = {
  uid: "u1",
  name: "p",
  namespace: "ns",
  observedAt: 0,
  sandboxes: [
    {
      id: "sb1",
      state: "ready",
      createdAt: 1,
      metadata: { name: "p", namespace: "ns", uid: "u1", attempt: 0 },
    },
  ],
  containers: [
    { id: "c1", state: "running", createdAt: 1, startedAt: 1, metadata: { name: "c", attempt: 0 } },
  ],
} as unknown as PodRuntimeStatus;

function collect(stream: PassThrough): () => string {
  let text = "";
  stream.on("data", (c: Buffer) => {
    text += c.toString();
  });
  return () => text;
}

/** A runtime that runs a few scripted commands. */
function scriptedRuntime(echoPort: () => number): Runtime {
  const exec = async (_id: string, options: ExecOptions) => {
    const [cmd, arg] = options.command;
    if (cmd === "cat" && options.stdin && options.stdout) {
      options.stdin.pipe(options.stdout, { end: false });
      await once(options.stdin, "end");
      return { exitCode: 0 };
    }
    if (cmd === "exit") {
      options.stdout?.write("out\n");
      options.stderr?.write("err\n");
      return { exitCode: Number(arg) };
    }
    if (cmd === "burst") {
      // Writes without waiting and ends at once: the output is still queued when the command is over.
      for (let i = 0; i < 64; i++) options.stdout?.write(Buffer.alloc(16 * 1024, 97 + (i % 26)));
      return { exitCode: 0 };
    }
    if (cmd === "resize" && options.resize) {
      const sizes: TerminalSize[] = [];
      for await (const size of options.resize) {
        sizes.push(size);
        if (sizes.length === 3) break;
      }
      options.stdout?.write(JSON.stringify(sizes));
      return { exitCode: 0 };
    }
    throw new Error(`executable file not found in $PATH: ${cmd}`);
  };
  return {
    name: "cri",
    endpoint: "scripted",
    exec,
    attach: async (_id: string, options: StreamOptions) => {
      options.stdout?.write("attached\n");
      return { exitCode: undefined };
    },
    portForward: async (_sandbox: string, port: number) => {
      if (port !== echoPort()) throw new Error(`dial tcp 127.0.0.1:${port}: connect: connection refused`);
      const socket = tcpConnect({ host: "127.0.0.1", port });
      await once(socket, "connect");
      return socket;
    },
    async *containerLogs(_id: string, options: { follow?: boolean; signal?: AbortSignal }) {
      for (const text of ["one", "two"]) {
        yield {
          time: "2026-01-01T00:00:00.000000001Z",
          timestampMs: 0,
          stream: "stdout",
          content: Buffer.from(text),
          partial: false,
        } satisfies LogLine;
      }
      if (options.follow && options.signal && !options.signal.aborted) await once(options.signal, "abort");
    },
    listContainerStats: async () => [],
    imageFsInfo: async () => [],
  } as unknown as Runtime;
}

describe("node server streaming protocols", () => {
  let echo: Server;
  let server: NodeServer;
  let base: string;

  beforeAll(async () => {
    echo = createServer((socket) => socket.pipe(socket));
    echo.listen(0, "127.0.0.1");
    await once(echo, "listening");
    const echoPort = () => (echo.address() as { port: number }).port;
    const host: NodeServerHost = {
      nodeName: "n1",
      rootDir: "/nonexistent",
      runtime: scriptedRuntime(echoPort),
      metrics: new AgentMetrics({ nodeName: "n1", processMetrics: false }),
      pods: () => [POD],
      runtimeStatus: (uid) => (uid === "u1" ? STATUS : undefined),
      runtimePods: () => [STATUS],
    };
    server = new NodeServer({
      host,
      address: "127.0.0.1",
      port: 0,
      healthzAddress: "127.0.0.1",
      healthzPort: 0,
      log: pino({ level: "silent" }),
    });
    await server.start();
    base = `http://127.0.0.1:${server.address.port}`;
  });

  afterAll(async () => {
    await server?.close();
    echo?.close();
  });

  describe("exec over SPDY/3.1 (the CRI driver's client)", () => {
    it("copies stdin to stdout until the client's FIN and reports success", async () => {
      const stdin = new PassThrough();
      const stdout = new PassThrough();
      const out = collect(stdout);
      const payload = "x".repeat(200_000);
      stdin.end(payload);
      const result = await runRemoteCommand(`${base}/exec/ns/p/c?command=cat&input=1&output=1`, {
        stdin,
        stdout,
        connectTimeoutMs: 10_000,
      });
      expect(result.exitCode).toBe(0);
      expect(out()).toBe(payload);
    });

    it("sends output still queued when the command ends before finishing", async () => {
      const stdout = new PassThrough();
      const out = collect(stdout);
      const result = await runRemoteCommand(`${base}/exec/ns/p/c?command=burst&output=1`, {
        stdout,
        connectTimeoutMs: 10_000,
      });
      expect(result.exitCode).toBe(0);
      expect(out().length).toBe(64 * 16 * 1024);
    });

    it("reports a non-zero exit code as NonZeroExitCode and keeps stdout and stderr apart", async () => {
      const stdout = new PassThrough();
      const stderr = new PassThrough();
      const out = collect(stdout);
      const err = collect(stderr);
      const result = await runRemoteCommand(`${base}/exec/ns/p/c?command=exit&command=7&output=1&error=1`, {
        stdout,
        stderr,
        connectTimeoutMs: 10_000,
      });
      expect(result.exitCode).toBe(7);
      expect(result.status?.reason).toBe("NonZeroExitCode");
      expect([out(), err()]).toEqual(["out\n", "err\n"]);
    });

    it("delivers terminal resizes in order", async () => {
      const stdout = new PassThrough();
      const out = collect(stdout);
      async function* sizes() {
        yield { width: 80, height: 24 };
        yield { width: 100, height: 30 };
        yield { width: 1, height: 2 };
      }
      await runRemoteCommand(`${base}/exec/ns/p/c?command=resize&output=1&tty=1`, {
        stdout,
        tty: true,
        resize: sizes(),
        connectTimeoutMs: 10_000,
      });
      expect(JSON.parse(out())).toEqual([
        { width: 80, height: 24 },
        { width: 100, height: 30 },
        { width: 1, height: 2 },
      ]);
    });

    it("reports a command that cannot run as an internal error", async () => {
      await expect(
        runRemoteCommand(`${base}/exec/ns/p/c?command=nope&output=1`, {
          stdout: new PassThrough(),
          connectTimeoutMs: 10_000,
        }),
      ).rejects.toThrow("error executing command in container: executable file not found in $PATH: nope");
    });

    it("attaches", async () => {
      const stdout = new PassThrough();
      const out = collect(stdout);
      const result = await runRemoteCommand(`${base}/attach/ns/p/c?output=1`, {
        stdout,
        connectTimeoutMs: 10_000,
      });
      expect(result.exitCode).toBe(0);
      expect(out()).toBe("attached\n");
    });

    it("refuses an upgrade with no common protocol, naming both sides", async () => {
      const answer = await rawUpgrade(`${base}/exec/ns/p/c?command=cat&output=1`, {
        Upgrade: "SPDY/3.1",
        "X-Stream-Protocol-Version": "v9.channel.k8s.io",
      });
      expect(answer.status).toBe(403);
      expect(answer.body).toContain("unable to negotiate protocol: client supports [v9.channel.k8s.io]");
    });
  });

  describe("port-forward over SPDY/3.1 (the CRI driver's client)", () => {
    it("carries bytes both ways and half-closes", async () => {
      const port = (echo.address() as { port: number }).port;
      const conn = await openPortForward(`${base}/portForward/ns/p`, port, { connectTimeoutMs: 10_000 });
      const chunks: Buffer[] = [];
      conn.on("data", (c: Buffer) => chunks.push(c));
      conn.end("ping over spdy");
      await once(conn, "end");
      expect(Buffer.concat(chunks).toString()).toBe("ping over spdy");
    });

    it("reports an unreachable port on the error stream", async () => {
      const conn = await openPortForward(`${base}/portForward/ns/p`, 1, { connectTimeoutMs: 10_000 });
      conn.resume();
      const [error] = (await once(conn, "error")) as [Error];
      expect(error.message).toContain("error forwarding port 1 to pod p_ns, uid u1: dial tcp 127.0.0.1:1");
    });
  });

  describe("exec over WebSocket channels", () => {
    it("v5.channel.k8s.io: stdin ends with the CLOSE signal, the status arrives on channel 3", async () => {
      const ws = new WebSocket(`${base.replace("http", "ws")}/exec/ns/p/c?command=cat&input=1&output=1`, [
        "v5.channel.k8s.io",
      ]);
      const messages = messagesOf(ws);
      await once(ws, "open");
      expect(ws.protocol).toBe("v5.channel.k8s.io");
      ws.send(Buffer.concat([Buffer.from([0]), Buffer.from("hello ")]));
      ws.send(Buffer.concat([Buffer.from([0]), Buffer.from("world")]));
      ws.send(Buffer.from([255, 0]));
      await once(ws, "close");
      const byChannel = channels(messages());
      expect(byChannel.get(1)).toBe("hello world");
      expect(JSON.parse(byChannel.get(3) ?? "")).toEqual({ metadata: {}, status: "Success" });
    });

    it("sends output still queued when the command ends before the status", async () => {
      const ws = new WebSocket(`${base.replace("http", "ws")}/exec/ns/p/c?command=burst&output=1`, [
        "v5.channel.k8s.io",
      ]);
      const messages = messagesOf(ws);
      await once(ws, "close");
      const all = messages();
      expect(channels(all).get(1)?.length).toBe(64 * 16 * 1024);
      // The status is the last message.
      expect(all.at(-1)?.[0]).toBe(3);
    });

    it("v4.base64.channel.k8s.io: text frames with base64 payloads and the exit code in the status", async () => {
      const ws = new WebSocket(
        `${base.replace("http", "ws")}/exec/ns/p/c?command=exit&command=3&output=1&error=1`,
        ["v4.base64.channel.k8s.io"],
      );
      const messages = messagesOf(ws);
      await once(ws, "close");
      const decoded = new Map<number, string>();
      for (const m of messages()) {
        const text = m.toString();
        const ch = text.charCodeAt(0) - 48;
        decoded.set(ch, (decoded.get(ch) ?? "") + Buffer.from(text.slice(1), "base64").toString());
      }
      expect(decoded.get(1)).toBe("out\n");
      expect(decoded.get(2)).toBe("err\n");
      expect(JSON.parse(decoded.get(3) ?? "")).toMatchObject({ reason: "NonZeroExitCode" });
    });

    it("refuses a sub-protocol it does not speak before upgrading", async () => {
      const answer = await rawUpgrade(`${base}/exec/ns/p/c?command=cat&output=1`, {
        Upgrade: "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Protocol": "v9.channel.k8s.io",
      });
      expect(answer.status).toBe(400);
      expect(answer.body).toContain("requested protocol(s) are not supported: [v9.channel.k8s.io]");
    });
  });

  describe("port-forward over WebSocket", () => {
    it("channels: each stream starts with its port (little-endian), data goes both ways", async () => {
      const port = (echo.address() as { port: number }).port;
      const ws = new WebSocket(`${base.replace("http", "ws")}/portForward/ns/p?port=${port}`, [
        "v4.channel.k8s.io",
      ]);
      const messages = messagesOf(ws);
      await once(ws, "open");
      const portBytes = Buffer.alloc(2);
      portBytes.writeUInt16LE(port, 0);
      ws.send(Buffer.concat([Buffer.from([0]), Buffer.from("echo me")]));
      const deadline = Date.now() + 10_000;
      while (!(channels(messages()).get(0) ?? "").includes("echo me") && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      const all = messages();
      expect(all[0]).toEqual(Buffer.concat([Buffer.from([0]), portBytes]));
      expect(all[1]).toEqual(Buffer.concat([Buffer.from([1]), portBytes]));
      expect(channels(all.slice(2)).get(0)).toBe("echo me");
      ws.close();
    });

    it("tunnels the SPDY protocol inside binary WebSocket messages (kubectl 1.30+)", async () => {
      const port = (echo.address() as { port: number }).port;
      // kubectl 1.31+ names it SPDY/3.1+portforward.k8s.io, which the `ws` client refuses to send (not an
      // HTTP token); the 1.30 prototype's name takes the same path on the server.
      const ws = new WebSocket(`${base.replace("http", "ws")}/portForward/ns/p`, ["v2.portforward.k8s.io"]);
      await once(ws, "open");
      const session = new SpdySession(createWebSocketStream(ws), { role: "client" });
      const headers = { port: String(port), requestid: "0" };
      const error = await session.openStream({ ...headers, streamtype: "error" });
      const data = await session.openStream({ ...headers, streamtype: "data" });
      error.end();
      const chunks: Buffer[] = [];
      data.on("data", (c: Buffer) => chunks.push(c));
      data.end("through the tunnel");
      await once(data, "end");
      expect(Buffer.concat(chunks).toString()).toBe("through the tunnel");
      session.destroy();
    });
  });

  describe("plain endpoints", () => {
    it("streams logs and stops a follow when the client goes away", async () => {
      const res = await fetch(`${base}/containerLogs/ns/p/c?timestamps=true`);
      expect(res.headers.get("content-type")).toContain("text/plain");
      expect(await res.text()).toBe(
        "2026-01-01T00:00:00.000000001Z one\n2026-01-01T00:00:00.000000001Z two\n",
      );
      const abort = new AbortController();
      const follow = await fetch(`${base}/containerLogs/ns/p/c?follow=true`, { signal: abort.signal });
      const reader = follow.body?.getReader();
      const first = await reader?.read();
      expect(Buffer.from(first?.value ?? []).toString()).toContain("one\n");
      abort.abort();
    });

    it("answers a stream request without an upgrade with 400", async () => {
      const res = await fetch(`${base}/exec/ns/p/c?command=true&output=1`, { method: "POST" });
      expect(res.status).toBe(400);
      expect(await res.text()).toContain("unable to upgrade: missing upgrade headers in request");
    });

    it("answers 404 for a pod the node does not run, through an upgrade too", async () => {
      expect((await fetch(`${base}/containerLogs/ns/other/c`)).status).toBe(404);
      const answer = await rawUpgrade(`${base}/portForward/ns/other`, {
        Upgrade: "SPDY/3.1",
        "X-Stream-Protocol-Version": "portforward.k8s.io",
      });
      expect(answer.status).toBe(404);
      expect(answer.body).toContain('pod "other" does not exist in namespace "ns"');
    });

    it("serves /healthz, /pods and /metrics", async () => {
      expect(await (await fetch(`${base}/healthz`)).text()).toBe("ok\n");
      expect(((await (await fetch(`${base}/pods`)).json()) as { items: unknown[] }).items).toHaveLength(1);
      expect(await (await fetch(`${base}/metrics`)).text()).toContain('kubelet_node_name{node="n1"} 1');
      expect((await fetch(`${base}/metrics`, { method: "POST" })).status).toBe(405);
    });
  });
});

function messagesOf(ws: WebSocket): () => Buffer[] {
  const all: Buffer[] = [];
  ws.on("message", (data: Buffer) => all.push(Buffer.from(data)));
  return () => all;
}

/** Binary channel messages joined per channel (the first byte of each message). */
function channels(messages: Buffer[]): Map<number, string> {
  const out = new Map<number, string>();
  for (const m of messages) {
    const ch = m[0] as number;
    out.set(ch, (out.get(ch) ?? "") + m.subarray(1).toString());
  }
  return out;
}

/** An upgrade request whose answer is expected to be a refusal. */
function rawUpgrade(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "GET", headers: { Connection: "Upgrade", ...headers } });
    req.once("upgrade", (_res, socket) => {
      socket.destroy();
      reject(new Error("the request was upgraded"));
    });
    req.once("response", (res) => {
      let body = "";
      res.on("data", (c: Buffer) => {
        body += c.toString();
      });
      res.once("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.once("error", reject);
    req.end();
  });
}
