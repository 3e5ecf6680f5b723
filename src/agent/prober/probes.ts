// Running one probe: HTTP GET, TCP connect, exec in the container, or gRPC health check — with upstream's
// result semantics and messages (kubelet's pkg/probe/*). Each returns a result, never throws.
import http from "node:http";
import https from "node:https";
import net from "node:net";
import * as grpc from "@grpc/grpc-js";
import type { Container, Probe } from "../../api/schema/core/container.ts";
import type { Runtime } from "../../runtime/types.ts";
import { KUBERNETES_VERSION } from "../../version.ts";

export type ProbeOutcome = "success" | "failure" | "unknown";

export interface ProbeResult {
  outcome: ProbeOutcome;
  /** Upstream's text, e.g. "HTTP probe failed with statuscode: 404". */
  message: string;
}

export interface ProbeTarget {
  podIP: string;
  containerId: string;
  container: Container;
  runtime: Pick<Runtime, "execSync">;
}

const USER_AGENT = `kube-probe/${KUBERNETES_VERSION.major}.${KUBERNETES_VERSION.minor}`;
/** Upstream reads at most 10 KiB of a probe's response body. */
const MAX_BODY = 10 * 1024;

/** A named or numbered port of the container. */
export function resolvePort(port: number | string | undefined, container: Container): number | undefined {
  if (typeof port === "number") return port;
  if (port === undefined) return undefined;
  if (/^\d+$/.test(port)) return Number(port);
  return container.ports?.find((p) => p.name === port)?.containerPort;
}

export async function runProbe(probe: Probe, target: ProbeTarget): Promise<ProbeResult> {
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  if (probe.exec) return execProbe(probe.exec.command ?? [], target, probe.timeoutSeconds ?? 1);
  if (probe.httpGet) return httpProbe(probe.httpGet, target, timeoutMs);
  if (probe.tcpSocket) {
    const port = resolvePort(probe.tcpSocket.port, target.container);
    if (port === undefined) return { outcome: "unknown", message: `unknown port ${probe.tcpSocket.port}` };
    return tcpProbe(probe.tcpSocket.host || target.podIP, port, timeoutMs);
  }
  if (probe.grpc) return grpcProbe(target.podIP, probe.grpc.port, probe.grpc.service ?? "", timeoutMs);
  return { outcome: "unknown", message: "probe has no handler" };
}

async function execProbe(
  command: string[],
  target: ProbeTarget,
  timeoutSeconds: number,
): Promise<ProbeResult> {
  try {
    const result = await target.runtime.execSync(target.containerId, command, timeoutSeconds);
    const output = Buffer.concat([result.stdout, result.stderr]).toString("utf8").slice(0, MAX_BODY);
    if (result.exitCode === 0) return { outcome: "success", message: output };
    return {
      outcome: "failure",
      message: output || `command ${JSON.stringify(command.join(" "))} exited with ${result.exitCode}`,
    };
  } catch (error) {
    const message = (error as Error).message;
    if (
      (error as { code?: unknown }).code === "RUNTIME_DEADLINE" ||
      /deadline|timed out|timeout/i.test(message)
    ) {
      return { outcome: "failure", message: `command ${JSON.stringify(command.join(" "))} timed out` };
    }
    return { outcome: "unknown", message };
  }
}

function tcpProbe(host: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (result: ProbeResult) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () =>
      done({ outcome: "failure", message: `dial tcp ${host}:${port}: i/o timeout` }),
    );
    socket.once("connect", () => done({ outcome: "success", message: "" }));
    socket.once("error", (error: NodeJS.ErrnoException) =>
      done({
        outcome: "failure",
        message: `dial tcp ${host}:${port}: connect: ${error.code === "ECONNREFUSED" ? "connection refused" : error.message}`,
      }),
    );
  });
}

interface HttpGet {
  path?: string;
  port: number | string;
  host?: string;
  scheme?: string;
  httpHeaders?: Array<{ name: string; value: string }>;
}

async function httpProbe(action: HttpGet, target: ProbeTarget, timeoutMs: number): Promise<ProbeResult> {
  const port = resolvePort(action.port, target.container);
  if (port === undefined) return { outcome: "unknown", message: `unknown port ${action.port}` };
  const scheme = (action.scheme ?? "HTTP").toLowerCase();
  const host = action.host || target.podIP;
  const path = action.path ? (action.path.startsWith("/") ? action.path : `/${action.path}`) : "/";
  let url = new URL(`${scheme}://${host.includes(":") ? `[${host}]` : host}:${port}${path}`);
  const headers: Record<string, string> = { "User-Agent": USER_AGENT, Accept: "*/*" };
  for (const header of action.httpHeaders ?? []) headers[header.name] = header.value;
  // Redirects are followed only to the same host (upstream: others count as success with a warning).
  for (let hop = 0; hop < 10; hop++) {
    const response = await httpGet(url, headers, timeoutMs);
    if ("error" in response) return { outcome: "failure", message: response.error };
    const { status, location, body } = response;
    if (status >= 300 && status < 400 && location) {
      const next = new URL(location, url);
      if (next.hostname !== url.hostname) {
        return { outcome: "success", message: `Probe terminated redirects, Response body: ${body}` };
      }
      url = next;
      continue;
    }
    if (status >= 200 && status < 400) return { outcome: "success", message: body };
    return { outcome: "failure", message: `HTTP probe failed with statuscode: ${status}` };
  }
  return { outcome: "failure", message: "stopped after 10 redirects" };
}

function httpGet(
  url: URL,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<{ status: number; location: string | undefined; body: string } | { error: string }> {
  return new Promise((resolve) => {
    const transport = url.protocol === "https:" ? https : http;
    const request = transport.get(
      url,
      { headers, rejectUnauthorized: false, timeout: timeoutMs, agent: false },
      (response) => {
        let body = "";
        response.on("data", (chunk: Buffer) => {
          if (body.length < MAX_BODY) body += chunk.toString("utf8");
        });
        response.on("end", () =>
          resolve({
            status: response.statusCode ?? 0,
            location: response.headers.location,
            body: body.slice(0, MAX_BODY),
          }),
        );
        response.on("error", (error) => resolve({ error: error.message }));
      },
    );
    request.on("timeout", () => {
      request.destroy();
      resolve({
        error: `Get "${url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`,
      });
    });
    request.on("error", (error: NodeJS.ErrnoException) =>
      resolve({ error: `Get "${url}": ${goError(error, url)}` }),
    );
  });
}

/** Go's net/http wording for a failed request: dial errors name the address, a closed connection is EOF. */
function goError(error: NodeJS.ErrnoException, url: URL): string {
  const dial = (what: string) => `dial tcp ${url.host}: connect: ${what}`;
  switch (error.code) {
    case "ECONNREFUSED":
      return dial("connection refused");
    case "EHOSTUNREACH":
      return dial("no route to host");
    case "ENETUNREACH":
      return dial("network is unreachable");
    case "ECONNRESET":
      // "socket hang up": the server closed the connection before any response.
      return error.message === "socket hang up" ? "EOF" : "read: connection reset by peer";
    default:
      return error.message;
  }
}

/** grpc.health.v1.Health/Check with hand-encoded messages (one string field in, one enum field out). */
function grpcProbe(host: string, port: number, service: string, timeoutMs: number): Promise<ProbeResult> {
  const target = `${host}:${port}`;
  const client = new grpc.Client(target, grpc.credentials.createInsecure());
  const serialize = (svc: string) => {
    const bytes = Buffer.from(svc, "utf8");
    return bytes.length === 0 ? Buffer.alloc(0) : Buffer.concat([Buffer.from([0x0a, bytes.length]), bytes]);
  };
  const deserialize = (buffer: Buffer) => (buffer.length >= 2 && buffer[0] === 0x08 ? (buffer[1] ?? 0) : 0);
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      "/grpc.health.v1.Health/Check",
      serialize,
      deserialize,
      service,
      new grpc.Metadata(),
      { deadline: Date.now() + timeoutMs },
      (error, status) => {
        client.close();
        if (error) {
          const message =
            error.code === grpc.status.DEADLINE_EXCEEDED
              ? `timeout: health rpc did not complete within ${timeoutMs / 1000}s`
              : error.code === grpc.status.UNAVAILABLE
                ? `timeout: failed to connect service "${target}" within ${timeoutMs / 1000}s: ${error.details}`
                : `error: health rpc probe failed: ${error.details}`;
          resolve({ outcome: "failure", message });
          return;
        }
        if (status === 1) resolve({ outcome: "success", message: "" });
        else
          resolve({
            outcome: "failure",
            message: `service unhealthy (responded with "${["UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"][status ?? 0] ?? status}")`,
          });
      },
    );
  });
}
