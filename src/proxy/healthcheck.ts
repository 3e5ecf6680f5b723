// kube-proxy's health servers (pkg/proxy/healthcheck):
// - per Service with externalTrafficPolicy Local and a healthCheckNodePort, an HTTP listener on that port
//   that load balancers probe: 200 while the node has local ready endpoints for the Service, 503 otherwise,
//   with the count in a small JSON body;
// - the proxy's own /healthz and /livez (default 0.0.0.0:10256): 503 once a queued sync has waited longer
//   than the health timeout (2 × syncPeriod), as upstream.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface HealthLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

/** "namespace/name" → its healthCheckNodePort. */
export type HealthCheckPorts = ReadonlyMap<string, number>;

export interface ServiceHealthServerOptions {
  /** Addresses to listen on for every port; default all IPv4 addresses ("0.0.0.0"). */
  addresses?: readonly string[];
  log: HealthLogger;
  /** Whether the proxy as a whole is healthy (upstream reports it in the body and answers 503 when not). */
  proxyHealthy?: () => boolean;
  /** A listener could not be opened (for an event on the Service, upstream's FailedToStartServiceHealthcheck). */
  onListenError?(service: string, port: number, error: Error): void;
}

interface Listener {
  port: number;
  servers: Server[];
  /** The listeners are being opened (and what opening them gave). */
  opened: Promise<void>;
}

function send(resp: ServerResponse, status: number, body: string, extra: Record<string, string> = {}): void {
  resp.writeHead(status, {
    "Content-Type": "application/json",
    "X-Content-Type-Options": "nosniff",
    ...extra,
  });
  resp.end(body);
}

/** One listener per Service with a health check node port; answers with the node's local endpoint count. */
export class ServiceHealthServer {
  private readonly options: ServiceHealthServerOptions;
  private readonly listeners = new Map<string, Listener>();
  private readonly localEndpoints = new Map<string, number>();

  constructor(options: ServiceHealthServerOptions) {
    this.options = options;
  }

  /** Opens listeners for new ports, closes those of Services gone (or whose port changed). */
  async syncServices(ports: HealthCheckPorts): Promise<void> {
    const work: Promise<void>[] = [];
    for (const [service, listener] of this.listeners) {
      if (ports.get(service) === listener.port) continue;
      this.listeners.delete(service);
      work.push(this.close(service, listener));
    }
    await Promise.all(work);
    const opening: Promise<void>[] = [];
    for (const [service, port] of ports) {
      if (this.listeners.has(service)) continue;
      const listener = this.open(service, port);
      this.listeners.set(service, listener);
      opening.push(listener.opened);
    }
    for (const service of [...this.localEndpoints.keys()])
      if (!ports.has(service)) this.localEndpoints.delete(service);
    await Promise.all(opening);
  }

  /** Local ready endpoints per Service ("namespace/name"); Services not named have none. */
  syncEndpoints(counts: ReadonlyMap<string, number>): void {
    this.localEndpoints.clear();
    for (const [service, count] of counts)
      if (this.listeners.has(service)) this.localEndpoints.set(service, count);
  }

  /** The port each Service's listener is bound to (the health check node port). */
  ports(): Map<string, number> {
    return new Map([...this.listeners].map(([service, listener]) => [service, listener.port]));
  }

  async stop(): Promise<void> {
    const all = [...this.listeners];
    this.listeners.clear();
    await Promise.all(all.map(([service, listener]) => this.close(service, listener)));
  }

  private open(service: string, port: number): Listener {
    const addresses = this.options.addresses?.length ? this.options.addresses : ["0.0.0.0"];
    const servers = addresses.map(() => createServer((req, resp) => this.answer(service, req, resp)));
    const opened = Promise.all(
      servers.map(
        (server, i) =>
          new Promise<void>((resolve) => {
            server.once("error", (error) => {
              this.options.log.warn(
                { err: error, service, port, address: addresses[i] },
                "service proxy: cannot open the health check node port",
              );
              this.options.onListenError?.(service, port, error);
              resolve();
            });
            server.listen({ port, host: addresses[i] }, () => {
              this.options.log.info(
                { service, port, address: addresses[i] },
                "service health check listening",
              );
              resolve();
            });
          }),
      ),
    ).then(() => undefined);
    return { port, servers, opened };
  }

  private async close(service: string, listener: Listener): Promise<void> {
    await listener.opened;
    await Promise.all(
      listener.servers.map(
        (server) =>
          new Promise<void>((resolve) => {
            if (!server.listening) return resolve();
            server.close(() => resolve());
            server.closeAllConnections();
          }),
      ),
    );
    this.options.log.info({ service, port: listener.port }, "service health check closed");
  }

  private answer(service: string, _req: IncomingMessage, resp: ServerResponse): void {
    const count = this.localEndpoints.get(service) ?? 0;
    const healthy = this.options.proxyHealthy?.() ?? true;
    const slash = service.indexOf("/");
    const body = {
      service: { namespace: service.slice(0, slash), name: service.slice(slash + 1) },
      localEndpoints: count,
      serviceProxyHealthy: healthy,
    };
    send(resp, count > 0 && healthy ? 200 : 503, JSON.stringify(body, null, 2), {
      "X-Load-Balancing-Endpoint-Weight": String(count),
    });
  }
}

/** What the proxy's own health depends on (clock times in ms). */
export interface ProxyHealthState {
  /** The last successful sync; 0 before the first. */
  lastUpdatedMs: number;
  /** The oldest sync request not served yet; undefined when nothing waits. */
  oldestQueuedMs: number | undefined;
}

export interface ProxyHealthServerOptions {
  /** "host:port", e.g. "0.0.0.0:10256" (upstream's healthzBindAddress). */
  bindAddress: string;
  /** A queued sync older than this makes the proxy unhealthy (upstream: 2 × syncPeriod). */
  healthTimeoutMs: number;
  state: () => ProxyHealthState;
  now: () => number;
  log: HealthLogger;
}

/** Splits "host:port" ("[::1]:10256" too); throws a message naming the value when it is not one. */
export function parseBindAddress(value: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(value);
  const port = Number(match?.[3]);
  if (!match || !(port >= 0 && port <= 65_535))
    throw new Error(`service proxy: healthz bind address ${JSON.stringify(value)} is not host:port`);
  return { host: match[1] ?? match[2] ?? "", port };
}

/** kube-proxy's /healthz and /livez. */
export class ProxyHealthServer {
  private readonly options: ProxyHealthServerOptions;
  private server: Server | undefined;

  constructor(options: ProxyHealthServerOptions) {
    this.options = options;
  }

  /** Healthy unless a sync has been waiting longer than the health timeout. */
  healthy(): boolean {
    const { oldestQueuedMs } = this.options.state();
    return (
      oldestQueuedMs === undefined || this.options.now() - oldestQueuedMs <= this.options.healthTimeoutMs
    );
  }

  async start(): Promise<AddressInfo> {
    const { host, port } = parseBindAddress(this.options.bindAddress);
    const server = createServer((req, resp) => this.answer(req, resp));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ port, host: host || undefined }, () => {
        server.off("error", reject);
        resolve();
      });
    });
    this.server = server;
    const address = server.address() as AddressInfo;
    this.options.log.info(
      { address: `${address.address}:${address.port}` },
      "service proxy healthz listening",
    );
    return address;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  private answer(req: IncomingMessage, resp: ServerResponse): void {
    const path = (req.url ?? "/").split("?")[0];
    if (path !== "/healthz" && path !== "/livez") {
      resp.writeHead(404, { "Content-Type": "text/plain" });
      resp.end("404 page not found\n");
      return;
    }
    const { lastUpdatedMs } = this.options.state();
    const healthy = this.healthy();
    const body: Record<string, unknown> = {
      lastUpdated: new Date(lastUpdatedMs).toISOString(),
      currentTime: new Date(this.options.now()).toISOString(),
    };
    // /healthz also says whether the node takes traffic (upstream: false while the node is being deleted).
    if (path === "/healthz") body.nodeEligible = true;
    send(resp, healthy ? 200 : 503, JSON.stringify(body));
  }
}
