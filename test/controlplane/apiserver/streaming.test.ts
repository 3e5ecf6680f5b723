// The streaming hook: pods/log, exec, attach and portforward reach a StreamingBackend with the stored pod
// (plain requests and upgrades alike); without one, they answer a clear 503 Status.

import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resourceDefinitions } from "../../../src/api/schema/index.ts";
import { schemaPatchEngine } from "../../../src/controlplane/apiserver/patching.ts";
import { ApiServer } from "../../../src/controlplane/apiserver/server.ts";
import type { StreamingBackend, StreamTarget } from "../../../src/controlplane/apiserver/streaming.ts";
import { openStorage } from "../../../src/controlplane/storage/index.ts";
import type { Storage } from "../../../src/controlplane/storage/types.ts";
import { uniqueName } from "../../support/names.ts";
import { call } from "./http.ts";

async function serve(storage: Storage, streaming?: StreamingBackend) {
  const server = new ApiServer({
    storage,
    definitions: resourceDefinitions,
    patch: schemaPatchEngine(),
    serviceCidr: "10.96.0.0/12",
    nodePortRange: "30000-32767",
    log: pino({ level: "warn" }),
    compactionIntervalMs: 0,
    ...(streaming ? { streaming } : {}),
  });
  const address = await server.listen("127.0.0.1", 0);
  await server.start();
  const url = `http://127.0.0.1:${address.port}`;
  return { server, url, cp: { fetch: (path: string, init?: RequestInit) => fetch(`${url}${path}`, init) } };
}

/** Sends an upgrade request and returns the raw answer's status line and body. */
function upgrade(url: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, {
      headers: {
        Connection: "Upgrade",
        Upgrade: "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
      },
    });
    req.on("response", (res) => {
      let body = "";
      res.on("data", (d: Buffer) => {
        body += d.toString();
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("upgrade", (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 101, body: "" });
    });
    req.on("error", reject);
    req.end();
  });
}

describe("streaming subresources", () => {
  let dir: string;
  let storage: Storage;
  const pod = (name: string) => ({
    metadata: { name },
    spec: { containers: [{ name: "main", image: "busybox:1.35" }] },
  });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "deckhand-streaming-"));
    storage = await openStorage("sqlite", dir);
  });

  afterAll(async () => {
    await storage?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("answers 503 naming what is missing when no node connection is wired", async () => {
    const { server, url, cp } = await serve(storage);
    try {
      const name = uniqueName("nostream");
      await call(cp, "POST", "/api/v1/namespaces/default/pods", pod(name));
      const logs = await call<{ reason: string; message: string }>(
        cp,
        "GET",
        `/api/v1/namespaces/default/pods/${name}/log`,
      );
      expect(logs.status).toBe(503);
      expect(logs.body.reason).toBe("ServiceUnavailable");
      expect(logs.body.message).toBe(
        `pods/log for default/${name} is not available yet: the node agent's streaming endpoints are wired in a later issue`,
      );
      const exec = await upgrade(
        url,
        `/api/v1/namespaces/default/pods/${name}/exec?command=true&stdout=true`,
      );
      expect(exec.status).toBe(503);
      expect(JSON.parse(exec.body)).toMatchObject({
        kind: "Status",
        reason: "ServiceUnavailable",
        code: 503,
      });
      const missing = await upgrade(
        url,
        `/api/v1/namespaces/default/pods/${uniqueName("nopod")}/exec?command=true`,
      );
      expect(missing.status).toBe(404);
    } finally {
      await server.close();
    }
  });

  it("hands plain requests and upgrades to the backend with the stored pod", async () => {
    const seen: Array<{ kind: string; target: StreamTarget }> = [];
    const backend: StreamingBackend = {
      async handle(target, _req, res) {
        seen.push({ kind: "plain", target });
        res.writeHead(200, { "Content-Type": "text/plain" });
        res.end(`logs of ${target.name}\n`);
      },
      async upgrade(target, _req, socket) {
        seen.push({ kind: "upgrade", target });
        socket.end("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
      },
    };
    const { server, url, cp } = await serve(storage, backend);
    try {
      const name = uniqueName("stream");
      await call(cp, "POST", "/api/v1/namespaces/default/pods", pod(name));
      const logs = await cp.fetch(`/api/v1/namespaces/default/pods/${name}/log?container=main&follow=true`);
      expect(logs.status).toBe(200);
      expect(await logs.text()).toBe(`logs of ${name}\n`);
      const exec = await upgrade(
        url,
        `/api/v1/namespaces/default/pods/${name}/exec?command=ls&container=main`,
      );
      expect(exec.status).toBe(101);
      expect(
        seen.map((s) => [s.kind, s.target.subresource, s.target.name, s.target.object.metadata?.name]),
      ).toEqual([
        ["plain", "log", name, name],
        ["upgrade", "exec", name, name],
      ]);
      expect(seen[0]?.target.query.get("follow")).toBe("true");
      expect(seen[1]?.target.query.get("command")).toBe("ls");
    } finally {
      await server.close();
    }
  });
});
