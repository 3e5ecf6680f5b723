import http from "node:http";
import type { AddressInfo } from "node:net";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runProbe } from "../../../src/agent/prober/probes.ts";
import type { Container } from "../../../src/api/schema/core/container.ts";
import { RuntimeError } from "../../../src/runtime/errors.ts";
import type { ExecSyncResult } from "../../../src/runtime/types.ts";

const seenAgents: string[] = [];
const server = http.createServer((req, res) => {
  seenAgents.push(String(req.headers["user-agent"]));
  if (req.url === "/ok") res.writeHead(200).end("fine");
  else if (req.url === "/redirect") res.writeHead(302, { Location: "/ok" }).end();
  else if (req.url === "/away") res.writeHead(302, { Location: "http://127.0.0.2:1/x" }).end();
  else if (req.url === "/slow") setTimeout(() => res.writeHead(200).end(), 3000);
  else res.writeHead(404).end("nope");
});
let port = 0;
const container = (ports: Container["ports"] = []) => ({ name: "app", image: "x", ports }) as Container;
const noExec = {
  execSync: async (): Promise<ExecSyncResult> => ({
    stdout: Buffer.alloc(0),
    stderr: Buffer.alloc(0),
    exitCode: 0,
  }),
};
const target = (c = container()) => ({
  podIP: "127.0.0.1",
  containerId: "c1",
  container: c,
  runtime: noExec,
});

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

describe("probe handlers (against local servers)", () => {
  it("httpGet: 2xx/3xx succeed, a same-host redirect is followed, 404 fails with upstream's message", async () => {
    expect((await runProbe({ httpGet: { path: "/ok", port } }, target())).outcome).toBe("success");
    expect(await runProbe({ httpGet: { path: "/redirect", port } }, target())).toEqual({
      outcome: "success",
      message: "fine",
    });
    expect(await runProbe({ httpGet: { path: "/missing", port } }, target())).toEqual({
      outcome: "failure",
      message: "HTTP probe failed with statuscode: 404",
    });
    expect(seenAgents.at(-1)).toBe("kube-probe/1.32");
  });

  it("httpGet: a redirect to another host is not followed (counts as success, like upstream)", async () => {
    expect((await runProbe({ httpGet: { path: "/away", port } }, target())).outcome).toBe("success");
  });

  it("httpGet: resolves a named port and times out a slow answer", async () => {
    const named = container([{ name: "http", containerPort: port, protocol: "TCP" }]);
    expect((await runProbe({ httpGet: { path: "/ok", port: "http" } }, target(named))).outcome).toBe(
      "success",
    );
    const slow = await runProbe({ httpGet: { path: "/slow", port }, timeoutSeconds: 1 }, target());
    expect(slow.outcome).toBe("failure");
    expect(slow.message).toContain("Client.Timeout exceeded while awaiting headers");
  });

  it("httpGet: a connection closed before any response fails with Go's EOF, a refused one names the dial", async () => {
    const hangUp = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => hangUp.listen(0, "127.0.0.1", resolve));
    const hangUpPort = (hangUp.address() as AddressInfo).port;
    expect(await runProbe({ httpGet: { path: "/", port: hangUpPort } }, target())).toEqual({
      outcome: "failure",
      message: `Get "http://127.0.0.1:${hangUpPort}/": EOF`,
    });
    await new Promise((resolve) => hangUp.close(resolve));
    expect(await runProbe({ httpGet: { path: "/", port: hangUpPort } }, target())).toEqual({
      outcome: "failure",
      message: `Get "http://127.0.0.1:${hangUpPort}/": dial tcp 127.0.0.1:${hangUpPort}: connect: connection refused`,
    });
  });

  it("tcpSocket: open port succeeds, closed port fails with connection refused", async () => {
    expect((await runProbe({ tcpSocket: { port } }, target())).outcome).toBe("success");
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    expect(await runProbe({ tcpSocket: { port: closedPort } }, target())).toEqual({
      outcome: "failure",
      message: `dial tcp 127.0.0.1:${closedPort}: connect: connection refused`,
    });
  });

  it("grpc: nothing listening fails with upstream's connect message (gRPC loaded on first use)", async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const result = await runProbe({ grpc: { port: closedPort }, timeoutSeconds: 1 }, target());
    expect(result.outcome).toBe("failure");
    expect(result.message).toContain(`failed to connect service "127.0.0.1:${closedPort}" within 1s`);
  });

  it("exec: exit code decides; output becomes the message", async () => {
    const failing = {
      execSync: async (): Promise<ExecSyncResult> => ({
        stdout: Buffer.from("not ready\n"),
        stderr: Buffer.alloc(0),
        exitCode: 1,
      }),
    };
    expect(
      await runProbe({ exec: { command: ["cat", "/tmp/ready"] } }, { ...target(), runtime: failing }),
    ).toEqual({
      outcome: "failure",
      message: "not ready\n",
    });
    expect((await runProbe({ exec: { command: ["true"] } }, target())).outcome).toBe("success");
  });

  it("exec: the runtime's deadline error is a failure with upstream's timed-out message", async () => {
    const slow = {
      execSync: async (): Promise<ExecSyncResult> => {
        throw new RuntimeError("RUNTIME_DEADLINE", "exec did not finish within 1s; the process was killed");
      },
    };
    expect(await runProbe({ exec: { command: ["sleep", "5"] } }, { ...target(), runtime: slow })).toEqual({
      outcome: "failure",
      message: 'command "sleep 5" timed out',
    });
  });
});
