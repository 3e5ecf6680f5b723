// Running one probe: HTTP GET, TCP connect, exec in the container, or gRPC health check — with upstream's
// result semantics and messages (kubelet's pkg/probe/*). Each returns a result, never throws.
import http from "node:http";
import https from "node:https";
import net from "node:net";
import type { Container, Probe } from "../../api/schema/core/container.ts";
import type { Runtime } from "../../runtime/types.ts";
import { KUBERNETES_VERSION } from "../../version.ts";
import { goRequestError, type PreparedGet, prepareGet, sendGet } from "./http-get.ts";

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

/** Per httpGet action (one per probe worker): the request prepared for the pod IP and port it was for. */
const preparedGets = new WeakMap<HttpGet, { host: string; port: number; prepared: PreparedGet }>();

/** The normalized target of an httpGet action (upstream builds it with url.Parse as well). */
function probeUrl(scheme: string, host: string, port: number, path: string | undefined): URL {
  const absolute = path ? (path.startsWith("/") ? path : `/${path}`) : "/";
  return new URL(`${scheme}://${host.includes(":") ? `[${host}]` : host}:${port}${absolute}`);
}

function prepared(action: HttpGet, host: string, port: number): PreparedGet {
  const cached = preparedGets.get(action);
  if (cached && cached.host === host && cached.port === port) return cached.prepared;
  const url = probeUrl("http", host, port, action.path);
  const get = prepareGet(host, port, `${url.pathname}${url.search}`, action.httpHeaders ?? [], {
    userAgent: USER_AGENT,
  });
  preparedGets.set(action, { host, port, prepared: get });
  return get;
}

async function httpProbe(action: HttpGet, target: ProbeTarget, timeoutMs: number): Promise<ProbeResult> {
  const port = resolvePort(action.port, target.container);
  if (port === undefined) return { outcome: "unknown", message: `unknown port ${action.port}` };
  const scheme = (action.scheme ?? "HTTP").toLowerCase();
  const host = action.host || target.podIP;
  if (scheme === "http") {
    let request: PreparedGet;
    try {
      request = prepared(action, host, port);
    } catch (error) {
      return { outcome: "unknown", message: (error as Error).message };
    }
    const answer = await sendGet(request, timeoutMs);
    if ("error" in answer) return { outcome: "failure", message: answer.error };
    if (!(answer.status >= 300 && answer.status < 400 && answer.location)) return verdict(answer);
    // A redirect: rare enough to go through node:http and URL resolution from here on.
    return followRedirects(probeUrl(scheme, host, port, action.path), answer, action, timeoutMs);
  }
  const url = probeUrl(scheme, host, port, action.path);
  const response = await httpGet(url, headersOf(action), timeoutMs);
  if ("error" in response) return { outcome: "failure", message: response.error };
  return followRedirects(url, response, action, timeoutMs);
}

function headersOf(action: HttpGet): Record<string, string> {
  const headers: Record<string, string> = { "User-Agent": USER_AGENT, Accept: "*/*" };
  for (const header of action.httpHeaders ?? []) headers[header.name] = header.value;
  return headers;
}

type Answer = { status: number; location: string | undefined; body: string };

/** 2xx/3xx succeed (a 3xx without a Location is a success too), anything else fails. */
function verdict({ status, body }: Answer): ProbeResult {
  if (status >= 200 && status < 400) return { outcome: "success", message: body };
  return { outcome: "failure", message: `HTTP probe failed with statuscode: ${status}` };
}

/** Redirects are followed only to the same host (upstream: others count as success with a warning). */
async function followRedirects(
  from: URL,
  first: Answer,
  action: HttpGet,
  timeoutMs: number,
): Promise<ProbeResult> {
  let url = from;
  let response: Answer = first;
  const headers = headersOf(action);
  for (let hop = 0; hop < 10; hop++) {
    const { status, location, body } = response;
    if (!(status >= 300 && status < 400 && location)) return verdict(response);
    const next = new URL(location, url);
    if (next.hostname !== url.hostname) {
      return { outcome: "success", message: `Probe terminated redirects, Response body: ${body}` };
    }
    url = next;
    const answer = await httpGet(url, headers, timeoutMs);
    if ("error" in answer) return { outcome: "failure", message: answer.error };
    response = answer;
  }
  return { outcome: "failure", message: "stopped after 10 redirects" };
}

function httpGet(
  url: URL,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<Answer | { error: string }> {
  return new Promise((resolve) => {
    const transport = url.protocol === "https:" ? https : http;
    let request: http.ClientRequest;
    try {
      request = transport.get(url, { headers, rejectUnauthorized: false, timeout: timeoutMs, agent: false });
    } catch (error) {
      // Headers node:http refuses (control characters): the probe cannot run.
      resolve({ error: (error as Error).message });
      return;
    }
    request.on("response", (response: http.IncomingMessage) => {
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
    });
    request.on("timeout", () => {
      request.destroy();
      resolve({
        error: `Get "${url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`,
      });
    });
    request.on("error", (error: NodeJS.ErrnoException) =>
      // node:http's "socket hang up": the server closed the connection before any response.
      resolve({
        error: `Get "${url}": ${goRequestError(error, url.host, error.message === "socket hang up")}`,
      }),
    );
  });
}

/**
 * grpc.health.v1.Health/Check with hand-encoded messages (one string field in, one enum field out). gRPC is
 * loaded on the first gRPC probe: on a Docker node nothing else needs it (~3 MiB of heap).
 */
async function grpcProbe(
  host: string,
  port: number,
  service: string,
  timeoutMs: number,
): Promise<ProbeResult> {
  const grpc = await import("@grpc/grpc-js");
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
