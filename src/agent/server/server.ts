// The node's HTTP API, kubelet's surface on `address:port` (10250) — /healthz, /pods, /runningpods/,
// /containerLogs, /exec, /attach, /portForward, /metrics, /metrics/probes, /stats/summary — and the bare
// /healthz on `healthzBindAddress:healthzPort` (10248). With `tls` the main port speaks HTTPS and asks for
// client certificates (verified against `tls.clientCaPem`); every request on it passes the authorization
// stage first (./authn.ts: the API server's certificate and node admins in, anonymous out), and the
// serving certificate can be swapped while serving (setServingCertificate). Without `tls` (unit tests) it is
// plain HTTP.
//
// Streams (exec, attach, port-forward) are HTTP upgrades: WebSocket (the channel protocols up to
// v5.channel.k8s.io, and port-forward's channels or its SPDY tunnel) through `ws`, and SPDY/3.1 — what an
// upstream API server speaks to a kubelet — through the project's own SPDY session (src/util/spdy).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import type { Logger } from "pino";
import { createWebSocketStream, type WebSocket, WebSocketServer } from "ws";
import type { LogLine } from "../../runtime/types.ts";
import { SpdySession } from "../../util/spdy/session.ts";
import { badRequest, describeError, NodeApiError, notFound, STATUS_TEXT } from "./errors.ts";
import type { NodeServerHost } from "./host.ts";
import { parseLogOptions, runtimeLogOptions, writeLogLines } from "./logs.ts";
import { type NodeRoute, parseNodePath } from "./paths.ts";
import { podList, runningPodList } from "./pods.ts";
import { StatsProvider } from "./stats.ts";
import {
  PORT_FORWARD_PROTOCOL,
  PORT_FORWARD_TUNNEL_PROTOCOLS,
  type PortForwardTarget,
  parsePortsQuery,
  servePortForwardSpdy,
  servePortForwardWs,
} from "./streams/portforward.ts";
import { writeRawResponse } from "./streams/raw-response.ts";
import { parseRemoteCommandOptions, type RemoteCommandOptions } from "./streams/remotecommand.ts";
import { SPDY_REMOTE_COMMAND_PROTOCOLS, serveRemoteCommandSpdy } from "./streams/remotecommand-spdy.ts";
import { serveRemoteCommandWs, WS_REMOTE_COMMAND_PROTOCOLS } from "./streams/remotecommand-ws.ts";
import { acceptSpdy, isSpdyUpgrade } from "./streams/spdy-upgrade.ts";
import { ChannelConnection } from "./streams/ws-channels.ts";
import { findPod, logInstance, readySandboxId, requireContainerSpec, runningInstance } from "./targets.ts";

/** The outcome of the authorization stage for one request. */
export type AuthDecision = { allowed: true } | { allowed: false; status: 401 | 403; message: string };

/** Decides whether a request may proceed (authentication and authorization, once they exist). */
export type NodeAuthorizer = (req: IncomingMessage) => AuthDecision | Promise<AuthDecision>;

export const allowAll: NodeAuthorizer = () => ({ allowed: true });

export interface NodeServerOptions {
  host: NodeServerHost;
  address: string;
  port: number;
  /** 0 disables the separate healthz listener. */
  healthzAddress: string;
  healthzPort: number;
  log: Logger;
  authorize?: NodeAuthorizer;
  /** Serve HTTPS with this certificate; client certificates are requested and verified against clientCaPem. */
  tls?: { certPem: string; keyPem: string; clientCaPem?: string };
  /** How long a streaming client has to create its streams (kubelet: 30 s). */
  streamCreationTimeoutMs?: number;
  now?: () => number;
}

/** Channel-style WebSocket sub-protocols for port-forward (ports in the query), binary or base64. */
const WS_PORT_FORWARD_CHANNELS: Record<string, { base64: boolean }> = {
  "v4.channel.k8s.io": { base64: false },
  "v4.base64.channel.k8s.io": { base64: true },
  [PORT_FORWARD_PROTOCOL]: { base64: false },
  "": { base64: false },
};

const WS_PORT_FORWARD_PROTOCOLS = [
  ...PORT_FORWARD_TUNNEL_PROTOCOLS,
  ...Object.keys(WS_PORT_FORWARD_CHANNELS),
];

/** The upgrade target of an exec/attach/port-forward request, resolved before anything is upgraded. */
type StreamTarget =
  | { kind: "exec" | "attach"; containerId: string; options: RemoteCommandOptions; what: string }
  | { kind: "portForward"; target: PortForwardTarget; query: URLSearchParams; what: string };

export class NodeServer {
  readonly #options: NodeServerOptions;
  readonly #log: Logger;
  readonly #authorize: NodeAuthorizer;
  readonly #main: Server;
  readonly #healthz: Server | undefined;
  // Sub-protocols are negotiated here, not by `ws`: its parser rejects names that are not HTTP tokens, and
  // kubectl's "SPDY/3.1+portforward.k8s.io" has a "/" in it.
  readonly #wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  readonly #chosenProtocol = new WeakMap<IncomingMessage, string>();
  readonly #stats: StatsProvider;
  readonly #upgraded = new Set<Duplex>();

  constructor(options: NodeServerOptions) {
    this.#options = options;
    this.#log = options.log;
    this.#authorize = options.authorize ?? allowAll;
    this.#stats = new StatsProvider({
      host: options.host,
      startedAtMs: (options.now ?? Date.now)(),
      ...(options.now ? { now: options.now } : {}),
    });
    const handler = (req: IncomingMessage, res: ServerResponse) => void this.#handle(req, res, true);
    this.#main = options.tls
      ? (createHttpsServer(
          {
            requestTimeout: 0,
            cert: options.tls.certPem,
            key: options.tls.keyPem,
            ...(options.tls.clientCaPem ? { ca: options.tls.clientCaPem } : {}),
            // Asked for, checked per request by the authorization stage: anonymous requests get a 401, not a
            // failed handshake, and /healthz stays reachable.
            requestCert: true,
            rejectUnauthorized: false,
          },
          handler,
        ) as unknown as Server)
      : createServer({ requestTimeout: 0 }, handler);
    this.#wss.on("headers", (headers, req) => {
      const protocol = this.#chosenProtocol.get(req);
      if (protocol) headers.push(`Sec-WebSocket-Protocol: ${protocol}`);
    });
    this.#main.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      void this.#onUpgrade(req, socket, head);
    });
    this.#healthz =
      options.healthzPort > 0
        ? createServer((req, res) => {
            const url = new URL(req.url ?? "/", "http://node");
            if (url.pathname === "/healthz") this.#healthzAnswer(res);
            else writeText(res, 404, `no such endpoint: ${url.pathname} (this port serves /healthz only)`);
          })
        : undefined;
  }

  /** Listens on both ports; rejects with a message naming the address and the setting when one cannot. */
  async start(): Promise<void> {
    const { address, port, healthzAddress, healthzPort } = this.#options;
    await listen(this.#main, address, port, "address/port");
    if (this.#healthz) {
      await listen(this.#healthz, healthzAddress, healthzPort, "healthzBindAddress/healthzPort").catch(
        async (error: unknown) => {
          await closeServer(this.#main);
          throw error;
        },
      );
    }
    this.#log.info({ address: this.#main.address(), healthz: this.#healthz?.address() }, "node API serving");
    if (!this.#options.tls && !isLoopback(address)) {
      this.#log.warn(
        { address },
        "the node API (exec, attach, port-forward, logs) has no authentication yet: anyone who reaches this address can run commands in pods; bind it to a loopback or private address (config: address) until TLS and authn/z arrive",
      );
    }
  }

  /** Serves new connections with another certificate (rotation); open connections keep theirs. */
  setServingCertificate(certPem: string, keyPem: string): void {
    if (!this.#options.tls)
      throw new Error("the node API serves plain HTTP; it has no certificate to replace");
    (this.#main as unknown as HttpsServer).setSecureContext({
      cert: certPem,
      key: keyPem,
      ...(this.#options.tls.clientCaPem ? { ca: this.#options.tls.clientCaPem } : {}),
    });
  }

  /** The bound address of the main listener (after start()). */
  get address(): AddressInfo {
    return this.#main.address() as AddressInfo;
  }

  get healthzAddress(): AddressInfo | undefined {
    return (this.#healthz?.address() as AddressInfo | null) ?? undefined;
  }

  async close(): Promise<void> {
    for (const socket of this.#upgraded) socket.destroy();
    for (const ws of this.#wss.clients) ws.terminate();
    this.#main.closeAllConnections();
    this.#healthz?.closeAllConnections();
    await Promise.all([closeServer(this.#main), this.#healthz ? closeServer(this.#healthz) : undefined]);
    this.#wss.close();
  }

  /** Serves until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    if (!signal.aborted)
      await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
    await this.close();
  }

  // -------------------------------------------------------------------------------------------------------
  // Plain requests
  // -------------------------------------------------------------------------------------------------------

  async #handle(req: IncomingMessage, res: ServerResponse, authorize: boolean): Promise<void> {
    const url = new URL(req.url ?? "/", "http://node");
    const route = parseNodePath(url.pathname);
    try {
      if (authorize) await this.#checkAccess(req);
      if (!route) throw notFound(`no such node API endpoint: ${url.pathname}`);
      this.#log.debug({ method: req.method, path: url.pathname }, "node API request");
      if (route.kind === "exec" || route.kind === "attach" || route.kind === "portForward") {
        throw badRequest(
          `unable to upgrade: missing upgrade headers in request: ${route.kind} needs a WebSocket or SPDY/3.1 upgrade`,
        );
      }
      if (req.method !== "GET" && req.method !== "HEAD") {
        throw new NodeApiError(405, `${req.method} is not allowed on ${url.pathname}; use GET`);
      }
      await this.#serve(route, url, req, res);
    } catch (error) {
      const { status, message } = describeError(error);
      if (status >= 500) this.#log.warn({ path: url.pathname, err: error }, "node API request failed");
      if (!res.headersSent) writeText(res, status, message);
      else res.end();
    }
  }

  async #serve(route: NodeRoute, url: URL, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { host } = this.#options;
    switch (route.kind) {
      case "healthz":
        this.#healthzAnswer(res);
        return;
      case "pods":
        writeJson(res, podList(host.pods()));
        return;
      case "runningpods":
        writeJson(res, runningPodList(host.runtimePods()));
        return;
      case "metrics":
        await writeMetrics(res, host.metrics.registry);
        return;
      case "metricsProbes":
        await writeMetrics(res, host.metrics.probeRegistry);
        return;
      case "statsSummary":
        writeJson(res, await this.#stats.summary());
        return;
      case "containerLogs":
        await this.#containerLogs(route, url, req, res);
        return;
      default:
        throw notFound(`no such node API endpoint: ${url.pathname}`);
    }
  }

  #healthzAnswer(res: ServerResponse): void {
    const health = this.#options.host.health?.() ?? { ok: true, message: "" };
    if (health.ok) writeText(res, 200, "ok");
    else writeText(res, 500, `[-]syncloop failed: ${health.message}\nhealthz check failed`);
  }

  async #containerLogs(
    route: Extract<NodeRoute, { kind: "containerLogs" }>,
    url: URL,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    const { host } = this.#options;
    const options = parseLogOptions(url.searchParams, (this.#options.now ?? Date.now)());
    const pod = findPod(host, route.namespace, route.pod);
    requireContainerSpec(pod, route.container);
    const instance = logInstance(
      pod,
      host.runtimeStatus(pod.metadata?.uid ?? ""),
      route.container,
      options.previous,
    );
    const abort = new AbortController();
    const onClose = () => abort.abort(new Error("the client went away"));
    res.once("close", onClose);
    let iterator: AsyncIterator<LogLine> | undefined;
    try {
      const lines = host.runtime.containerLogs(instance.id, runtimeLogOptions(options, abort.signal));
      iterator = lines[Symbol.asyncIterator]();
      const it = iterator;
      // An error before the first line (e.g. the container vanished) becomes an error answer; a follow that
      // has nothing to say yet gets its 200 after a moment, so that clients see the stream is open.
      const firstLine = it.next();
      const first = await Promise.race([
        firstLine,
        new Promise<"pending">((resolve) => setTimeout(() => resolve("pending"), 1000).unref()),
      ]);
      res.writeHead(200, { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-cache" });
      res.flushHeaders();
      if (req.method === "HEAD") return;
      await writeLogLines(
        (async function* () {
          const head = first === "pending" ? await firstLine : first;
          if (head.done) return;
          yield head.value;
          while (true) {
            const next = await it.next();
            if (next.done) return;
            yield next.value;
          }
        })(),
        res,
        options,
        abort.signal,
      );
    } catch (error) {
      if (abort.signal.aborted) return;
      if (res.headersSent) throw error;
      throw new NodeApiError(
        500,
        `failed to read the logs of container "${route.container}" in pod "${route.pod}": ${(error as Error).message}`,
        { cause: error },
      );
    } finally {
      res.off("close", onClose);
      // Stops a follow that is still waiting for lines (limitBytes reached, HEAD, or an error).
      abort.abort(new Error("the log request ended"));
      void iterator?.return?.()?.catch(() => undefined);
      if (!res.writableEnded) res.end();
    }
  }

  // -------------------------------------------------------------------------------------------------------
  // Upgrades: exec, attach, port-forward
  // -------------------------------------------------------------------------------------------------------

  async #onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on("error", () => socket.destroy());
    this.#upgraded.add(socket);
    socket.once("close", () => this.#upgraded.delete(socket));
    const url = new URL(req.url ?? "/", "http://node");
    let target: StreamTarget;
    try {
      await this.#checkAccess(req);
      target = this.#streamTarget(url);
    } catch (error) {
      const { status, message } = describeError(error);
      this.#log.debug({ path: url.pathname, status, message }, "node API upgrade refused");
      writeRawResponse(socket, status, message);
      return;
    }
    const upgrade = (req.headers.upgrade ?? "").toLowerCase();
    const log = this.#log.child({ stream: target.kind, target: target.what });
    try {
      if (upgrade === "websocket") this.#acceptWebSocket(req, socket, head, target, log);
      else if (isSpdyUpgrade(req)) this.#acceptSpdy(req, socket, head, target, log);
      else
        writeRawResponse(
          socket,
          400,
          `unable to upgrade: unsupported upgrade protocol "${req.headers.upgrade ?? ""}"; use websocket or SPDY/3.1`,
        );
    } catch (error) {
      log.warn({ err: error }, "streaming session failed");
      socket.destroy();
    }
  }

  /** Resolves what an upgrade is about, throwing the node API's error when it names nothing runnable. */
  #streamTarget(url: URL): StreamTarget {
    const { host } = this.#options;
    const route = parseNodePath(url.pathname);
    if (route?.kind === "exec" || route?.kind === "attach") {
      const options = parseRemoteCommandOptions(url.searchParams, route.kind);
      const pod = findPod(host, route.namespace, route.pod, route.uid);
      requireContainerSpec(pod, route.container);
      const instance = runningInstance(pod, host.runtimeStatus(pod.metadata?.uid ?? ""), route.container);
      return {
        kind: route.kind,
        containerId: instance.id,
        options,
        what: `${route.namespace}/${route.pod}/${route.container}`,
      };
    }
    if (route?.kind === "portForward") {
      const pod = findPod(host, route.namespace, route.pod, route.uid);
      const sandboxId = readySandboxId(pod, host.runtimeStatus(pod.metadata?.uid ?? ""));
      return {
        kind: "portForward",
        query: url.searchParams,
        what: `${route.namespace}/${route.pod}`,
        target: {
          podName: `${route.pod}_${route.namespace}`,
          podUid: pod.metadata?.uid ?? "",
          connect: (port) => host.runtime.portForward(sandboxId, port),
        },
      };
    }
    throw notFound(`no streaming endpoint at ${url.pathname}: use /exec, /attach or /portForward`);
  }

  #acceptWebSocket(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    target: StreamTarget,
    log: Logger,
  ): void {
    const offered = (req.headers["sec-websocket-protocol"] ?? "")
      .split(",")
      .map((p) => p.trim())
      .filter((p) => p !== "");
    const supported =
      target.kind === "portForward" ? WS_PORT_FORWARD_PROTOCOLS : Object.keys(WS_REMOTE_COMMAND_PROTOCOLS);
    const protocol = offered.length === 0 ? "" : offered.find((p) => supported.includes(p));
    if (protocol === undefined) {
      writeRawResponse(
        socket,
        400,
        `unable to upgrade: requested protocol(s) are not supported: [${offered.join(" ")}]; supports [${supported.filter((p) => p).join(" ")}]`,
      );
      return;
    }
    let ports: number[] = [];
    if (target.kind === "portForward" && !PORT_FORWARD_TUNNEL_PROTOCOLS.includes(protocol)) {
      const parsed = parsePortsQuery(target.query);
      if (typeof parsed === "string") {
        writeRawResponse(socket, 400, parsed);
        return;
      }
      ports = parsed;
    }
    this.#chosenProtocol.set(req, protocol);
    delete req.headers["sec-websocket-protocol"];
    this.#wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      log.debug({ protocol: protocol || "(none)" }, "WebSocket stream opened");
      ws.on("error", (error) => log.debug({ err: error }, "WebSocket error"));
      const session =
        target.kind === "portForward"
          ? PORT_FORWARD_TUNNEL_PROTOCOLS.includes(protocol)
            ? this.#tunnelPortForward(ws, target.target)
            : servePortForwardWs(
                new ChannelConnection(ws, {
                  base64: WS_PORT_FORWARD_CHANNELS[protocol]?.base64 ?? false,
                  closeSignal: false,
                }),
                ports,
                target.target,
              )
          : serveRemoteCommandWs(ws, protocol, {
              runtime: this.#options.host.runtime,
              kind: target.kind,
              containerId: target.containerId,
              options: target.options,
            });
      session.then(
        () => log.debug("WebSocket stream closed"),
        (error: unknown) => {
          log.warn({ err: error }, "WebSocket stream failed");
          ws.terminate();
        },
      );
    });
  }

  /** kubectl 1.30+: the SPDY port-forward protocol carried in binary WebSocket messages. */
  #tunnelPortForward(ws: WebSocket, target: PortForwardTarget): Promise<void> {
    const tunnel = createWebSocketStream(ws);
    tunnel.on("error", () => tunnel.destroy());
    const session = new SpdySession(tunnel, { role: "server" });
    return servePortForwardSpdy(session, target, this.#streamCreationTimeoutMs);
  }

  #acceptSpdy(req: IncomingMessage, socket: Duplex, head: Buffer, target: StreamTarget, log: Logger): void {
    const supported = target.kind === "portForward" ? [PORT_FORWARD_PROTOCOL] : SPDY_REMOTE_COMMAND_PROTOCOLS;
    const accepted = acceptSpdy(req, socket, head, supported);
    if (!accepted) return;
    const { session, protocol } = accepted;
    log.debug({ protocol }, "SPDY stream opened");
    // Registered in the same tick as the session starts, so that no stream the client opens is refused.
    const served =
      target.kind === "portForward"
        ? servePortForwardSpdy(session, target.target, this.#streamCreationTimeoutMs)
        : serveRemoteCommandSpdy(session, protocol, {
            runtime: this.#options.host.runtime,
            kind: target.kind,
            containerId: target.containerId,
            options: target.options,
            streamCreationTimeoutMs: this.#streamCreationTimeoutMs,
          });
    served.then(
      () => log.debug("SPDY stream closed"),
      (error: unknown) => {
        log.warn({ err: error }, "SPDY stream failed");
        session.destroy();
      },
    );
  }

  get #streamCreationTimeoutMs(): number {
    return this.#options.streamCreationTimeoutMs ?? 30_000;
  }

  async #checkAccess(req: IncomingMessage): Promise<void> {
    const decision = await this.#authorize(req);
    if (!decision.allowed) throw new NodeApiError(decision.status, decision.message);
  }
}

function writeText(res: ServerResponse, status: number, text: string): void {
  const body = `${text}\n`;
  res.writeHead(status, STATUS_TEXT[status] ?? "", {
    "Content-Type": "text/plain; charset=utf-8",
    "Content-Length": Buffer.byteLength(body),
    "X-Content-Type-Options": "nosniff",
  });
  res.end(body);
}

function writeJson(res: ServerResponse, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(200, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
  res.end(body);
}

async function writeMetrics(
  res: ServerResponse,
  registry: { metrics(): Promise<string>; contentType: string },
): Promise<void> {
  const body = await registry.metrics();
  res.writeHead(200, { "Content-Type": registry.contentType, "Content-Length": Buffer.byteLength(body) });
  res.end(body);
}

function listen(server: Server, address: string, port: number, setting: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) =>
      reject(
        new Error(
          `the node API cannot listen on ${address}:${port}: ${error.message} (configure ${setting} in the agent configuration)`,
          { cause: error },
        ),
      );
    server.once("error", onError);
    server.listen(port, address, () => {
      server.off("error", onError);
      resolve();
    });
  });
}

function isLoopback(address: string): boolean {
  return address.startsWith("127.") || address === "::1" || address === "localhost";
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
  });
}
