// pods/proxy and services/proxy: the API server as an HTTP proxy to a pod's IP, or to one ready endpoint of a
// Service, like kube-apiserver's (pkg/registry/core/pod/strategy.go ResourceLocation and
// pkg/registry/core/service/storage ResourceLocation). The object name carries the scheme and port:
// `[https:]name[:port]` (a pod's port by number or container port name, default its first container port;
// a Service's port by name or number, default its first). Deckhand's control plane runs on a node, so pod
// IPs are reachable from it. Requests and WebSocket upgrades are passed on with the caller's credentials
// removed; TLS to the backend is not verified (upstream's proxy transport does the same).
import {
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import { request as httpsRequest } from "node:https";
import { connect as netConnect, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import { connect as tlsConnect } from "node:tls";
import type { Logger } from "pino";
import type { KubeObject } from "../api/resource.ts";
import { ApiError, badRequest } from "./apiserver/errors.ts";
import { parseLabelSelector } from "./apiserver/selectors.ts";
import type { ApiServer } from "./apiserver/server.ts";
import { rejectUpgrade, type StreamingBackend, type StreamTarget } from "./apiserver/streaming.ts";

export interface PodProxyOptions {
  /** The EndpointSlices of a Service (label kubernetes.io/service-name). */
  listEndpointSlices(namespace: string, service: string): Promise<KubeObject[]>;
  log: Logger;
  /** How long connecting and waiting for the answer's head may take. Default 30 s. */
  timeoutMs?: number;
  random?: () => number;
}

export interface ProxyLocation {
  scheme: "http" | "https";
  host: string;
  port: number;
}

/** Upstream's SplitSchemeNamePort: "name", "name:port" or "scheme:name:port"; undefined when invalid. */
export function splitSchemeNamePort(
  id: string,
): { scheme: "" | "http" | "https"; name: string; port: string } | undefined {
  const parts = id.split(":");
  let scheme = "";
  let name: string;
  let port = "";
  if (parts.length === 1) name = parts[0] as string;
  else if (parts.length === 2) [name, port] = parts as [string, string];
  else if (parts.length === 3) [scheme, name, port] = parts as [string, string, string];
  else return undefined;
  if (name === "" || (scheme !== "" && scheme !== "http" && scheme !== "https")) return undefined;
  return { scheme: scheme as "" | "http" | "https", name, port };
}

/** The name of the object a proxy request is about (`https:web:8443` → `web`). */
export function proxyObjectName(id: string): string {
  return splitSchemeNamePort(id)?.name ?? id;
}

/** Whether a streaming request is a pods/proxy or services/proxy one (served here, not by the agent). */
export function isPodOrServiceProxy(target: Pick<StreamTarget, "resource" | "subresource">): boolean {
  return (
    target.subresource === "proxy" &&
    (target.resource.plural === "pods" || target.resource.plural === "services")
  );
}

interface PodLike {
  spec?: { containers?: Array<{ ports?: Array<{ name?: string; containerPort?: number }> }> };
  status?: { podIP?: string };
}

interface ServiceLike {
  spec?: { type?: string; ports?: Array<{ name?: string; port?: number }> };
}

interface SliceLike {
  ports?: Array<{ name?: string; port?: number }>;
  endpoints?: Array<{ addresses?: string[]; conditions?: { ready?: boolean } }>;
}

function unavailable(message: string): ApiError {
  return new ApiError(503, "ServiceUnavailable", message);
}

/** Where a pods/proxy request goes (pure). */
export function podLocation(id: string, pod: KubeObject): ProxyLocation {
  const parts = splitSchemeNamePort(id);
  if (!parts) throw badRequest(`invalid pod request "${id}"`);
  const spec = (pod as PodLike).spec;
  const ports = (spec?.containers ?? []).flatMap((c) => c.ports ?? []);
  let port: number | undefined;
  if (parts.port === "") port = ports[0]?.containerPort;
  else if (/^\d+$/.test(parts.port)) port = Number(parts.port);
  else {
    port = ports.find((p) => p.name === parts.port)?.containerPort;
    if (port === undefined) throw badRequest(`pod ${parts.name} has no container port named "${parts.port}"`);
  }
  if (port === undefined)
    throw badRequest(`pod ${parts.name} declares no container port; name one: pods/${parts.name}:PORT/proxy`);
  if (port < 1 || port > 65535) throw badRequest(`invalid port ${port} in pod request "${id}"`);
  const ip = (pod as PodLike).status?.podIP;
  if (!ip) throw unavailable(`pod ${parts.name} has no IP address yet (status.podIP is empty)`);
  return { scheme: parts.scheme || "http", host: ip, port };
}

/** Where a services/proxy request goes: one ready endpoint of the chosen port, picked at random. */
export function serviceLocation(
  id: string,
  service: KubeObject,
  slices: readonly KubeObject[],
  random: () => number = Math.random,
): ProxyLocation {
  const parts = splitSchemeNamePort(id);
  if (!parts) throw badRequest(`invalid service request "${id}"`);
  const spec = (service as ServiceLike).spec;
  if (spec?.type === "ExternalName")
    throw unavailable(`services/proxy to ExternalName service ${parts.name} is not supported by Deckhand`);
  const svcPort = (spec?.ports ?? []).find(
    (p) => parts.port === "" || p.name === parts.port || String(p.port) === parts.port,
  );
  if (!svcPort) throw unavailable(`no service port "${parts.port}" found for service "${parts.name}"`);
  const portName = svcPort.name ?? "";
  const candidates: Array<{ ip: string; port: number }> = [];
  for (const slice of slices as readonly SliceLike[]) {
    const port = (slice.ports ?? []).find((p) => (p.name ?? "") === portName)?.port;
    if (port === undefined) continue;
    for (const endpoint of slice.endpoints ?? []) {
      if (endpoint.conditions?.ready === false) continue;
      for (const ip of endpoint.addresses ?? []) candidates.push({ ip, port });
    }
  }
  if (candidates.length === 0) throw unavailable(`no endpoints available for service "${id}"`);
  const pick =
    candidates[Math.floor(random() * candidates.length)] ?? (candidates[0] as { ip: string; port: number });
  return { scheme: parts.scheme || "http", host: pick.ip, port: pick.port };
}

/** Headers never passed on: hop-by-hop ones and the caller's credentials. */
const DROPPED = new Set([
  "host",
  "authorization",
  "proxy-authorization",
  "cookie",
  "impersonate-user",
  "impersonate-group",
  "impersonate-uid",
  "connection",
  "keep-alive",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

function forwardHeaders(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || DROPPED.has(name) || name.startsWith("impersonate-extra-")) continue;
    out[name] = value;
  }
  return out;
}

/** The path after `…/NAME/proxy` in the request, as sent (encoding and trailing slash kept). */
export function proxiedPath(rawUrl: string, id: string): { path: string; search: string } | undefined {
  const url = new URL(rawUrl, "http://x");
  const marker = `/${id}/proxy`;
  let index = url.pathname.lastIndexOf(marker);
  let skip = marker.length;
  if (index < 0) {
    // The client may have percent-encoded the colons of the name.
    const encoded = `/${encodeURIComponent(id)}/proxy`;
    index = url.pathname.lastIndexOf(encoded);
    skip = encoded.length;
  }
  if (index < 0) return undefined;
  return { path: url.pathname.slice(index + skip), search: url.search };
}

export class PodProxy {
  private readonly options: PodProxyOptions;

  constructor(options: PodProxyOptions) {
    this.options = options;
  }

  async location(target: StreamTarget): Promise<ProxyLocation> {
    if (target.resource.plural === "pods") return podLocation(target.name, target.object);
    const slices = await this.options.listEndpointSlices(target.namespace, proxyObjectName(target.name));
    return serviceLocation(target.name, target.object, slices, this.options.random);
  }

  async handle(target: StreamTarget, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const where = proxiedPath(req.url ?? "/", target.name);
    if (!where) throw badRequest(`cannot find the proxied path in ${req.url}`);
    if (where.path === "") {
      // Upstream redirects …/proxy to …/proxy/ so that relative links in the answer resolve below it.
      const url = new URL(req.url ?? "/", "http://x");
      res.writeHead(301, { Location: `${url.pathname}/${url.search}` });
      res.end();
      return;
    }
    const location = await this.location(target);
    const timeoutMs = this.options.timeoutMs ?? 30_000;
    await new Promise<void>((resolve) => {
      const send = location.scheme === "https" ? httpsRequest : httpRequest;
      const upstream = send({
        host: location.host,
        port: location.port,
        method: req.method,
        path: `${where.path}${where.search}`,
        headers: forwardHeaders(req.headers),
        timeout: timeoutMs,
        rejectUnauthorized: false,
        agent: false,
      });
      const fail = (error: unknown) => {
        if (!res.headersSent) {
          res.writeHead(503, { "Content-Type": "application/json" });
          res.end(JSON.stringify(reachError(location, error).toStatus()));
        } else res.destroy();
        resolve();
      };
      res.once("close", () => upstream.destroy());
      upstream.once("timeout", () => upstream.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      upstream.once("error", fail);
      upstream.once("response", (answer) => {
        upstream.setTimeout(0);
        res.writeHead(answer.statusCode ?? 502, forwardHeaders(answer.headers));
        answer.pipe(res);
        answer.once("end", () => resolve());
        answer.once("error", () => {
          res.destroy();
          resolve();
        });
        res.once("close", () => resolve());
      });
      if (req.method === "GET" || req.method === "HEAD") upstream.end();
      else req.pipe(upstream);
    });
  }

  async upgrade(target: StreamTarget, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const where = proxiedPath(req.url ?? "/", target.name);
    if (!where) throw badRequest(`cannot find the proxied path in ${req.url}`);
    const location = await this.location(target);
    let upstream: Socket;
    try {
      upstream = await this.dial(location);
    } catch (error) {
      rejectUpgrade(socket, 503, reachError(location, error).toStatus());
      return;
    }
    const lines = [
      `${req.method ?? "GET"} ${where.path || "/"}${where.search} HTTP/1.1`,
      `Host: ${hostPort(location)}`,
    ];
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
      const name = (req.rawHeaders[i] as string).toLowerCase();
      if (name === "host" || (DROPPED.has(name) && name !== "connection" && name !== "upgrade")) continue;
      if (name.startsWith("impersonate-extra-")) continue;
      lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
    }
    upstream.write(`${lines.join("\r\n")}\r\n\r\n`);
    if (head.length > 0) upstream.write(head);
    upstream.on("error", () => socket.destroy());
    socket.on("error", () => upstream.destroy());
    upstream.on("close", () => socket.destroy());
    socket.on("close", () => upstream.destroy());
    upstream.pipe(socket);
    socket.pipe(upstream);
  }

  private dial(location: ProxyLocation): Promise<Socket> {
    const timeoutMs = this.options.timeoutMs ?? 30_000;
    return new Promise((resolve, reject) => {
      const tls = location.scheme === "https";
      const socket = tls
        ? tlsConnect({ host: location.host, port: location.port, rejectUnauthorized: false })
        : netConnect({ host: location.host, port: location.port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no connection within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once(tls ? "secureConnect" : "connect", () => {
        clearTimeout(timer);
        resolve(socket);
      });
      socket.once("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  }
}

function hostPort(location: ProxyLocation): string {
  return location.host.includes(":")
    ? `[${location.host}]:${location.port}`
    : `${location.host}:${location.port}`;
}

/** Upstream's answer when the backend cannot be reached: 503 "error trying to reach service: …". */
function reachError(location: ProxyLocation, error: unknown): ApiError {
  const e = error as NodeJS.ErrnoException;
  const what =
    e.code === "ECONNREFUSED"
      ? `dial tcp ${hostPort(location)}: connect: connection refused`
      : e.code === "ECONNRESET" && e.message === "socket hang up"
        ? "EOF"
        : e.message;
  return unavailable(`error trying to reach service: ${what}`);
}

/** Serves pods/proxy and services/proxy itself; every other streaming request goes to `inner` (the agents). */
export function withPodAndServiceProxy(inner: StreamingBackend, options: PodProxyOptions): StreamingBackend {
  const proxy = new PodProxy(options);
  return {
    handle: (target, req, res) =>
      isPodOrServiceProxy(target) ? proxy.handle(target, req, res) : inner.handle(target, req, res),
    upgrade: (target, req, socket, head) =>
      isPodOrServiceProxy(target)
        ? proxy.upgrade(target, req, socket, head)
        : inner.upgrade(target, req, socket, head),
  };
}

/** EndpointSlices of a Service straight from an API server's store. */
export function storedEndpointSlices(
  server: Pick<ApiServer, "registry" | "stores">,
): (namespace: string, service: string) => Promise<KubeObject[]> {
  return async (namespace, service) => {
    const resource = server.registry.lookup("discovery.k8s.io", "v1", "endpointslices");
    const store = resource ? server.stores.get(resource) : undefined;
    if (!store)
      throw unavailable("this API server does not serve EndpointSlices, so it cannot proxy to Services");
    const list = await store.list(namespace, {
      labelSelector: parseLabelSelector(`kubernetes.io/service-name=${service}`),
    });
    return list.items;
  };
}
