// The API server's way to a node: pods/log, pods/exec, pods/attach, pods/portforward and nodes/proxy are
// answered by the node's agent (its kubelet endpoint), like kube-apiserver does. The pod names its node
// (spec.nodeName); the Node names the agent's address (status.addresses: InternalIP, else Hostname, else
// ExternalIP) and port (status.daemonEndpoints.kubeletEndpoint.Port). The API path becomes kubelet's path
// with kubelet's query names (upstream's LogLocation/streamLocation/PortForwardLocation).
//
// Logs and plain proxy requests are forwarded as HTTP requests and streamed back. Upgrades (WebSocket or
// SPDY/3.1, whichever the client asked for) are passed on as they are: the request goes to the agent with
// the kubelet path, and from then on the two connections are spliced byte for byte, so every streaming
// protocol the agent speaks works end to end. The caller's credentials are never forwarded: with
// `kubeletClient` the API server dials agents over TLS and presents its own client certificate
// (kube-apiserver-kubelet-client, O=system:masters), as kube-apiserver's --kubelet-client-certificate. The
// agents' serving certificates are verified only against `kubeletCaPem` when it is given (upstream's
// --kubelet-certificate-authority); by default, as upstream, they are not.
import {
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import { request as httpsRequest } from "node:https";
import { connect, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import { connect as tlsConnect } from "node:tls";
import type { Logger } from "pino";
import type { KubeObject } from "../api/resource.ts";
import { ApiError, badRequest, serviceUnavailable } from "./apiserver/errors.ts";
import { writeError } from "./apiserver/response.ts";
import type { ApiServer } from "./apiserver/server.ts";
import type { StreamingBackend, StreamTarget } from "./apiserver/streaming.ts";

export const DEFAULT_KUBELET_PORT = 10250;

export interface NodeProxyOptions {
  /** Reads a Node as stored; undefined when it does not exist. */
  getNode(name: string): Promise<KubeObject | undefined>;
  log: Logger;
  /** How long connecting to an agent may take. Default 10 s. */
  dialTimeoutMs?: number;
  /** Dial agents over TLS with this client certificate (the apiserver-kubelet-client identity). */
  kubeletClient?: { certPem: string; keyPem: string };
  /** Verify agents' serving certificates against this CA bundle; unset: not verified (upstream default). */
  kubeletCaPem?: string;
}

/** Where a request goes on the node: kubelet's path and query; `node` is undefined when there is no node. */
export interface KubeletLocation {
  node: string | undefined;
  path: string;
  query: URLSearchParams;
}

interface PodLike {
  metadata?: { name?: string; namespace?: string };
  spec?: {
    nodeName?: string;
    containers?: Array<{ name: string }>;
    initContainers?: Array<{ name: string }>;
    ephemeralContainers?: Array<{ name: string }>;
  };
}

interface NodeLike {
  status?: {
    addresses?: Array<{ type?: string; address?: string }>;
    daemonEndpoints?: { kubeletEndpoint?: { Port?: number } };
  };
}

/** Headers never passed to the agent: hop-by-hop ones and the caller's credentials. */
const DROPPED_HEADERS = new Set([
  "host",
  "authorization",
  "proxy-authorization",
  "cookie",
  "impersonate-user",
  "impersonate-group",
  "impersonate-uid",
  "keep-alive",
  "proxy-connection",
  "te",
  "trailer",
]);

function bool(query: URLSearchParams, name: string): boolean {
  const value = query.get(name);
  if (value === null || value === "" || value === "false" || value === "0") return false;
  if (value === "true" || value === "1") return true;
  throw badRequest(`${name}: invalid value ${JSON.stringify(value)}: must be true or false`);
}

function integer(query: URLSearchParams, name: string): number | undefined {
  const value = query.get(name);
  if (value === null || value === "") return undefined;
  if (!/^-?\d+$/.test(value))
    throw badRequest(`${name}: invalid value ${JSON.stringify(value)}: must be an integer`);
  return Number(value);
}

function invalidLogOptions(name: string, message: string): ApiError {
  return new ApiError(422, "Invalid", `PodLogOptions "${name}" is invalid: ${message}`, {
    name,
    kind: "PodLogOptions",
    causes: [{ reason: "FieldValueInvalid", message }],
  });
}

/** The container a request is about, defaulted like upstream when the pod has exactly one. */
export function resolveContainer(pod: PodLike, name: string, requested: string | null): string {
  const containers = (pod.spec?.containers ?? []).map((c) => c.name);
  const inits = (pod.spec?.initContainers ?? []).map((c) => c.name);
  const ephemeral = (pod.spec?.ephemeralContainers ?? []).map((c) => c.name);
  if (!requested) {
    if (containers.length === 1) return containers[0] as string;
    if (containers.length === 0) throw badRequest(`a container name must be specified for pod ${name}`);
    let message = `a container name must be specified for pod ${name}, choose one of: [${containers.join(" ")}]`;
    if (inits.length > 0) message += ` or one of the init containers: [${inits.join(" ")}]`;
    throw badRequest(message);
  }
  if (![...containers, ...inits, ...ephemeral].includes(requested)) {
    throw badRequest(`container ${requested} is not valid for pod ${name}`);
  }
  return requested;
}

/** Translates an API streaming request into kubelet's location (pure). */
export function kubeletLocation(target: StreamTarget): KubeletLocation {
  const { subresource, namespace, name, query } = target;
  const plural = target.resource.plural;
  if (plural === "nodes" && subresource === "proxy") {
    const rest = target.rest.join("/");
    return { node: name, path: `/${rest}`, query: new URLSearchParams(query) };
  }
  if (plural !== "pods" || !["log", "exec", "attach", "portforward"].includes(subresource)) {
    throw serviceUnavailable(
      `${plural}/${subresource} is not served by this control plane; pods/log, pods/exec, pods/attach, pods/portforward and nodes/proxy are`,
    );
  }
  const pod = target.object as PodLike;
  const node = pod.spec?.nodeName || undefined;
  const ns = encodeURIComponent(namespace);
  const podName = encodeURIComponent(name);
  const out = new URLSearchParams();
  if (subresource === "log") {
    const container = resolveContainer(pod, name, query.get("container"));
    for (const flag of ["follow", "previous", "timestamps"]) if (bool(query, flag)) out.set(flag, "true");
    const sinceSeconds = integer(query, "sinceSeconds");
    const sinceTime = query.get("sinceTime");
    const tailLines = integer(query, "tailLines");
    const limitBytes = integer(query, "limitBytes");
    if (sinceSeconds !== undefined && sinceTime) {
      throw invalidLogOptions(name, "at most one of `sinceTime` or `sinceSeconds` may be specified");
    }
    if (sinceSeconds !== undefined) {
      if (sinceSeconds < 1)
        throw invalidLogOptions(name, "sinceSeconds: Invalid value: must be greater than 0");
      out.set("sinceSeconds", String(sinceSeconds));
    }
    if (sinceTime) {
      if (!Number.isFinite(Date.parse(sinceTime)))
        throw badRequest(`sinceTime: invalid value ${JSON.stringify(sinceTime)}: must be RFC 3339`);
      out.set("sinceTime", sinceTime);
    }
    if (tailLines !== undefined) {
      if (tailLines < 0)
        throw invalidLogOptions(name, "tailLines: Invalid value: must be greater than or equal to 0");
      out.set("tailLines", String(tailLines));
    }
    if (limitBytes !== undefined) {
      if (limitBytes < 1) throw invalidLogOptions(name, "limitBytes: Invalid value: must be greater than 0");
      out.set("limitBytes", String(limitBytes));
    }
    return { node, path: `/containerLogs/${ns}/${podName}/${encodeURIComponent(container)}`, query: out };
  }
  if (!node) throw badRequest(`pod ${name} does not have a host assigned`);
  if (subresource === "portforward") {
    const ports = query
      .getAll("ports")
      .flatMap((p) => p.split(","))
      .filter((p) => p !== "");
    if (ports.length > 0) out.set("port", ports.join(","));
    return { node, path: `/portForward/${ns}/${podName}`, query: out };
  }
  const container = resolveContainer(pod, name, query.get("container"));
  // Upstream's streamParams: the API's stdin/stdout/stderr/tty become kubelet's input/output/error/tty.
  if (bool(query, "stdin")) out.set("input", "1");
  if (bool(query, "stdout")) out.set("output", "1");
  if (bool(query, "stderr")) out.set("error", "1");
  if (bool(query, "tty")) out.set("tty", "1");
  if (subresource === "exec") {
    const command = query.getAll("command");
    if (command.length === 0) throw badRequest("you must specify at least one command for the container");
    for (const c of command) out.append("command", c);
  }
  return { node, path: `/${subresource}/${ns}/${podName}/${encodeURIComponent(container)}`, query: out };
}

/** The agent's address and port from a Node's status. */
export function kubeletEndpoint(nodeName: string, node: NodeLike): { host: string; port: number } {
  const addresses = node.status?.addresses ?? [];
  const pick = (type: string) => addresses.find((a) => a.type === type && a.address)?.address;
  const host = pick("InternalIP") ?? pick("Hostname") ?? pick("ExternalIP");
  if (!host) {
    throw serviceUnavailable(
      `node ${nodeName} reports no address (status.addresses has no InternalIP, Hostname or ExternalIP); is its agent running?`,
    );
  }
  const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port || DEFAULT_KUBELET_PORT;
  return { host, port };
}

/** An HTTP/1.1 request head for the agent: the client's headers minus credentials and hop-by-hop ones. */
export function requestHead(
  method: string,
  pathAndQuery: string,
  rawHeaders: readonly string[],
  host: string,
): string {
  const lines = [`${method} ${pathAndQuery} HTTP/1.1`, `Host: ${host}`];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    if (DROPPED_HEADERS.has(name.toLowerCase())) continue;
    lines.push(`${name}: ${rawHeaders[i + 1]}`);
  }
  return `${lines.join("\r\n")}\r\n\r\n`;
}

function forwardHeaders(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || DROPPED_HEADERS.has(name) || name === "connection") continue;
    out[name] = value;
  }
  return out;
}

/** A kubelet error answer as the Status the API server returns (upstream's GenericHttpResponseChecker). */
export function agentError(status: number, body: string, what: string): ApiError {
  const text = body.trim() || `the node agent answered ${what} with HTTP ${status} and no message`;
  switch (status) {
    case 400:
      return new ApiError(400, "BadRequest", text);
    case 401:
      return new ApiError(401, "Unauthorized", text);
    case 403:
      return new ApiError(403, "Forbidden", text);
    case 404:
      return new ApiError(404, "NotFound", text);
    case 422:
      return new ApiError(422, "Invalid", text);
    case 503:
      return new ApiError(503, "ServiceUnavailable", text);
    default:
      return new ApiError(500, "InternalError", `Internal error occurred: ${text}`);
  }
}

export class NodeProxy implements StreamingBackend {
  readonly #options: NodeProxyOptions;

  constructor(options: NodeProxyOptions) {
    this.#options = options;
  }

  async handle(target: StreamTarget, req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (["exec", "attach", "portforward"].includes(target.subresource)) {
      throw badRequest(
        `Upgrade request required: ${target.resource.plural}/${target.subresource} needs a WebSocket or SPDY/3.1 upgrade`,
      );
    }
    const location = kubeletLocation(target);
    if (!location.node) {
      // Upstream: a pod that is not scheduled yet has no logs; the answer is empty.
      res.writeHead(200, { "Content-Type": "text/plain", "Content-Length": 0 });
      res.end();
      return;
    }
    const endpoint = await this.#endpoint(location.node);
    const logs = target.subresource === "log";
    const query = location.query.toString();
    await new Promise<void>((resolve) => {
      const upstream = (this.#options.kubeletClient ? httpsRequest : httpRequest)({
        ...this.#tlsOptions(),
        host: endpoint.host,
        port: endpoint.port,
        method: logs ? "GET" : req.method,
        path: `${location.path}${query ? `?${query}` : ""}`,
        headers: logs ? { Accept: "text/plain, */*" } : forwardHeaders(req.headers),
        timeout: this.#options.dialTimeoutMs ?? 10_000,
      });
      const fail = (error: unknown) => {
        if (!res.headersSent) writeError(res, error);
        else res.destroy();
        resolve();
      };
      res.once("close", () => upstream.destroy());
      upstream.once("timeout", () =>
        upstream.destroy(new Error(`no answer within ${this.#options.dialTimeoutMs ?? 10_000} ms`)),
      );
      upstream.once("error", (error) => fail(this.#dialError(location.node as string, endpoint, error)));
      upstream.once("response", (answer) => {
        // Streaming from here on: no idle timeout (a followed log may be quiet for a long time).
        upstream.setTimeout(0);
        const status = answer.statusCode ?? 500;
        if (logs && (status < 200 || status > 299)) {
          const chunks: Buffer[] = [];
          let size = 0;
          answer.on("data", (c: Buffer) => {
            if (size < 64 * 1024) chunks.push(c);
            size += c.length;
          });
          answer.once("end", () =>
            fail(agentError(status, Buffer.concat(chunks).toString("utf8"), "a log request")),
          );
          answer.once("error", fail);
          return;
        }
        const headers = logs
          ? {
              "Content-Type": answer.headers["content-type"] ?? "text/plain",
              "Cache-Control": "no-cache, private",
            }
          : forwardHeaders(answer.headers);
        res.writeHead(status, headers);
        res.flushHeaders();
        answer.pipe(res);
        answer.once("end", () => resolve());
        answer.once("error", () => {
          res.destroy();
          resolve();
        });
        res.once("close", () => resolve());
      });
      if (logs || req.method === "GET" || req.method === "HEAD") upstream.end();
      else req.pipe(upstream);
    });
  }

  async upgrade(target: StreamTarget, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const location = kubeletLocation(target);
    if (!location.node)
      throw badRequest(`${target.resource.plural} ${target.name} does not have a host assigned`);
    const endpoint = await this.#endpoint(location.node);
    const upstream = await this.#dial(location.node, endpoint);
    const query = location.query.toString();
    const hostHeader = endpoint.host.includes(":")
      ? `[${endpoint.host}]:${endpoint.port}`
      : `${endpoint.host}:${endpoint.port}`;
    upstream.write(
      requestHead(
        req.method ?? "GET",
        `${location.path}${query ? `?${query}` : ""}`,
        req.rawHeaders,
        hostHeader,
      ),
    );
    if (head.length > 0) upstream.write(head);
    this.#options.log.debug(
      { node: location.node, path: location.path, upgrade: req.headers.upgrade },
      "streaming request passed to the node agent",
    );
    // From here the agent answers the handshake itself; both directions are copied as they are.
    upstream.on("error", () => socket.destroy());
    socket.on("error", () => upstream.destroy());
    upstream.on("close", () => socket.destroy());
    socket.on("close", () => upstream.destroy());
    upstream.pipe(socket);
    socket.pipe(upstream);
  }

  async #endpoint(nodeName: string): Promise<{ host: string; port: number }> {
    const node = await this.#options.getNode(nodeName);
    if (!node)
      throw new ApiError(404, "NotFound", `nodes "${nodeName}" not found`, { name: nodeName, kind: "nodes" });
    return kubeletEndpoint(nodeName, node as NodeLike);
  }

  /** TLS settings for requests to agents (none when the proxy speaks plain HTTP). */
  #tlsOptions(): Record<string, unknown> {
    const client = this.#options.kubeletClient;
    if (!client) return {};
    return {
      cert: client.certPem,
      key: client.keyPem,
      ...(this.#options.kubeletCaPem
        ? { ca: this.#options.kubeletCaPem, rejectUnauthorized: true }
        : { rejectUnauthorized: false }),
      // One connection per request: a pooled TLS session must never carry one caller's stream into another's.
      agent: false,
    };
  }

  #dial(nodeName: string, endpoint: { host: string; port: number }): Promise<Socket> {
    const timeoutMs = this.#options.dialTimeoutMs ?? 10_000;
    const tls = this.#options.kubeletClient !== undefined;
    return new Promise((resolve, reject) => {
      const socket: Socket = tls
        ? tlsConnect({
            host: endpoint.host,
            port: endpoint.port,
            ...this.#tlsOptions(),
            servername: undefined,
          })
        : connect({ host: endpoint.host, port: endpoint.port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(this.#dialError(nodeName, endpoint, new Error(`no connection within ${timeoutMs} ms`)));
      }, timeoutMs);
      socket.once(tls ? "secureConnect" : "connect", () => {
        clearTimeout(timer);
        socket.setNoDelay(true);
        resolve(socket);
      });
      socket.once("error", (error) => {
        clearTimeout(timer);
        reject(this.#dialError(nodeName, endpoint, error));
      });
    });
  }

  #dialError(nodeName: string, endpoint: { host: string; port: number }, error: Error): ApiError {
    return new ApiError(
      500,
      "InternalError",
      `error dialing backend: node ${nodeName} at ${endpoint.host}:${endpoint.port} (status.addresses, daemonEndpoints.kubeletEndpoint.Port): ${error.message}`,
    );
  }
}

/** Reads a Node straight from an API server's store (the control plane's own view, no HTTP round trip). */
export function storedNode(
  server: Pick<ApiServer, "registry" | "stores">,
  name: string,
): Promise<KubeObject> {
  const resource = server.registry.lookup("", "v1", "nodes");
  const store = resource ? server.stores.get(resource) : undefined;
  if (!store)
    throw serviceUnavailable("this API server does not serve nodes, so it cannot reach node agents");
  return store.get("", name);
}

/** A NodeProxy that reads Nodes through `get`, which throws a NotFound ApiError for a missing Node. */
export function nodeProxy(
  get: (name: string) => Promise<KubeObject>,
  log: Logger,
  tls: Pick<NodeProxyOptions, "kubeletClient" | "kubeletCaPem"> = {},
): NodeProxy {
  return new NodeProxy({
    ...tls,
    log,
    getNode: async (name) => {
      try {
        return await get(name);
      } catch (error) {
        if (error instanceof ApiError && error.code === 404) return undefined;
        throw error;
      }
    },
  });
}
