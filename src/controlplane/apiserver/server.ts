// The API server: a node:https server (node:http without TLS material, for in-process tests) whose every
// request passes the same pipeline — authentication → authorization → (for writes) admission inside the
// object store → storage — and is answered either by a non-resource endpoint (version, health, discovery, OpenAPI) or by a resource
// handler. It owns one watch cache and one object store per resource, the allocators, and the in-process
// loops upstream runs next to kube-apiserver (garbage collection of dependents, namespace cleanup,
// storage compaction).

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import type { Logger } from "pino";
import type { KubeObject, ResourceDefinition } from "../../api/resource.ts";
import { type Clock, systemClock } from "../../util/clock.ts";
import { KUBERNETES_VERSION } from "../../version.ts";
import { storedEndpointSlices, withPodAndServiceProxy } from "../pod-proxy.ts";
import type { Storage } from "../storage/types.ts";
import { IpAllocator } from "./allocators/ip.ts";
import { PortAllocator } from "./allocators/ports.ts";
import type { ObjectLookup } from "./authn/lookup.ts";
import type { ServiceAccountTokens } from "./authn/serviceaccount.ts";
import { impersonate } from "./authz/impersonation.ts";
import { ClusterAuthorization } from "./authz/index.ts";
import { drainBody } from "./body.ts";
import { bootstrapCluster } from "./bootstrap.ts";
import { Compactor } from "./compactor.ts";
import { apiGroup, apiGroupList, apiResourceList, apiVersions } from "./discovery.ts";
import { ApiError } from "./errors.ts";
import { DEFAULT_EVENT_TTL_MS, EventTtlSweeper } from "./event-ttl.ts";
import { GarbageCollector } from "./gc.ts";
import type { RequestScope, ServerContext, WatchSettings } from "./handlers/scope.ts";
import { NamespaceFinalizer } from "./namespace-finalizer.ts";
import { negotiateOutput } from "./negotiation.ts";
import { type OpenApiDocumentSet, OpenApiEndpoint, type OpenApiV2Document } from "./openapi-endpoint.ts";
import type { PatchEngine } from "./patching.ts";
import { AdmissionChain, type AdmissionPlugin } from "./pipeline/admission.ts";
import {
  type Authenticator,
  anonymousAdminAuthenticator,
  anonymousUser,
  authenticate,
  isAnonymous,
  type UserInfo,
} from "./pipeline/authentication.ts";
import { type Authorizer, authorize, forbiddenError, unionAuthorizer } from "./pipeline/authorization.ts";
import { namespaceLifecycle } from "./pipeline/namespace-lifecycle.ts";
import { publicInfoAuthorizer } from "./pipeline/public-info.ts";
import {
  CONNECT_SUBRESOURCES,
  parseRequestInfo,
  type RequestInfo,
  type ResourceRequestInfo,
} from "./request-info.ts";
import { ResourceRegistry, type ServedResource } from "./resources.ts";
import { toApiError, writeError, writeObject, writeText } from "./response.ts";
import { routeResource } from "./routes.ts";
import { ObjectStore } from "./store/object-store.ts";
import { strategyFor } from "./strategies/index.ts";
import { markServiceAllocated, type ServiceAllocators } from "./strategies/services.ts";
import {
  notWiredStreamingBackend,
  rejectUpgrade,
  type StreamingBackend,
  streamObjectName,
} from "./streaming.ts";
import { WatchCache } from "./watch/cache.ts";

export interface ApiServerOptions {
  storage: Storage;
  definitions: readonly ResourceDefinition[];
  patch: PatchEngine;
  /** OpenAPI v3 documents by path ("api/v1"); without them /openapi/v3 answers 404 and kubectl apply needs --validate=false. */
  openapi?: () => OpenApiDocumentSet;
  /** The Swagger 2.0 document for kubectl before 1.29; without it /openapi/v2 answers 404. */
  openapiV2?: () => OpenApiV2Document;
  serviceCidr: string;
  nodePortRange: string;
  log: Logger;
  clock?: Clock;
  /** Serve HTTPS with this certificate; client certificates are asked for and checked against `ca`. */
  tls?: { certPem: string; keyPem: string; caPem: string };
  /** Issues TokenRequests (serviceaccounts/<name>/token); its authenticator goes into `authenticators`. */
  serviceAccountTokens?: ServiceAccountTokens;
  /** Default: everybody is an anonymous admin (in-process test servers only). */
  authenticators?: Authenticator[];
  authorizer?: Authorizer;
  /** Admission plugins after the built-in ones. */
  admission?: AdmissionPlugin[];
  streaming?: StreamingBackend;
  watch?: Partial<WatchSettings> & {
    cacheCapacity?: number;
    /** How long the watch cache keeps events for resuming watchers (upstream's 75 s). */
    cacheFreshMs?: number;
    historyWindow?: number;
  };
  /** Storage compaction: every interval, history older than one interval is dropped. 0 disables. */
  compactionIntervalMs?: number;
  /** How long an event lives after its last write (upstream --event-ttl, default 1 h); 0 keeps events. */
  eventTtlMs?: number;
  /** How the `kubernetes` Service reaches this server (default: the listen address; none for loopback). */
  advertise?: { address: string; port: number };
}

const DEFAULT_WATCH: WatchSettings = { bookmarkIntervalMs: 60_000, minRequestTimeoutSeconds: 1800 };
const GO_ARCH: Record<string, string> = { x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386" };

export class ApiServer {
  readonly registry: ResourceRegistry;
  readonly stores = new Map<ServedResource, ObjectStore>();
  readonly caches = new Map<ServedResource, WatchCache>();
  readonly allocators: ServiceAllocators;
  private readonly options: ApiServerOptions;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly context: ServerContext;
  private readonly authenticators: Authenticator[];
  private readonly authorizer: Authorizer;
  private readonly authorization: ClusterAuthorization;
  private readonly openapi: OpenApiEndpoint | undefined;
  private readonly http: Server;
  private readonly gc: GarbageCollector;
  private readonly namespaceFinalizer: NamespaceFinalizer;
  private readonly compactor: Compactor | undefined;
  private readonly eventTtl: EventTtlSweeper | undefined;
  private ready = false;
  private address: AddressInfo | undefined;

  constructor(options: ApiServerOptions) {
    this.options = options;
    this.log = options.log;
    this.clock = options.clock ?? systemClock;
    this.registry = new ResourceRegistry(options.definitions);
    this.allocators = {
      ips: new IpAllocator(options.serviceCidr),
      ports: new PortAllocator(options.nodePortRange),
    };
    // Node authorizer + RBAC, NodeRestriction and the bootstrap policy (src/controlplane/apiserver/authz).
    this.authorization = new ClusterAuthorization({
      registry: this.registry,
      caches: this.caches,
      stores: this.stores,
      log: this.log,
    });
    const admission = new AdmissionChain([
      namespaceLifecycle((name) => this.getNamespace(name)),
      ...this.authorization.admission,
      ...(options.admission ?? []),
    ]);
    for (const r of this.registry.all) {
      const store = new ObjectStore({
        resource: r,
        strategy: strategyFor(r, this.allocators),
        storage: options.storage,
        admission,
        clock: this.clock,
      });
      this.stores.set(r, store);
      // Create-only resources (bindings) store nothing and are never watched.
      if (!r.def.verbs.includes("watch") && !r.def.verbs.includes("list")) continue;
      const cacheOptions: ConstructorParameters<typeof WatchCache>[0] = {
        storage: options.storage,
        prefix: r.keyPrefix,
        resource: r.qualified.group ? `${r.plural}.${r.group}` : r.plural,
        decode: (kv) => store.decode(kv),
        log: this.log,
        clock: this.clock,
      };
      if (options.watch?.cacheCapacity !== undefined) cacheOptions.capacity = options.watch.cacheCapacity;
      if (options.watch?.cacheFreshMs !== undefined) cacheOptions.freshMs = options.watch.cacheFreshMs;
      if (options.watch?.historyWindow !== undefined)
        cacheOptions.historyWindow = options.watch.historyWindow;
      this.caches.set(r, new WatchCache(cacheOptions));
    }
    this.authenticators = options.authenticators ?? [anonymousAdminAuthenticator()];
    // Health, version, discovery and cluster-info need no role (upstream's default policy).
    this.authorizer = unionAuthorizer([
      publicInfoAuthorizer(),
      options.authorizer ?? this.authorization.authorizer,
    ]);
    this.openapi = options.openapi ? new OpenApiEndpoint(options.openapi, options.openapiV2) : undefined;
    this.context = {
      registry: this.registry,
      stores: this.stores,
      caches: this.caches,
      clock: this.clock,
      log: this.log,
      watch: { ...DEFAULT_WATCH, ...stripUndefined(options.watch ?? {}) },
      // pods/proxy and services/proxy are served here; the other streams go to the node agents.
      streaming: withPodAndServiceProxy(options.streaming ?? notWiredStreamingBackend(), {
        listEndpointSlices: storedEndpointSlices(this),
        log: this.log,
      }),
      patch: options.patch,
      authorizer: this.authorizer,
      ...(options.serviceAccountTokens ? { serviceAccountTokens: options.serviceAccountTokens } : {}),
    };
    this.gc = new GarbageCollector({
      registry: this.registry,
      stores: this.stores,
      caches: this.caches,
      log: this.log,
      clock: this.clock,
    });
    this.namespaceFinalizer = new NamespaceFinalizer({
      registry: this.registry,
      stores: this.stores,
      caches: this.caches,
      log: this.log,
      clock: this.clock,
    });
    const compactionIntervalMs = options.compactionIntervalMs ?? 5 * 60_000;
    this.compactor =
      compactionIntervalMs > 0
        ? new Compactor({
            storage: options.storage,
            intervalMs: compactionIntervalMs,
            clock: this.clock,
            log: this.log,
          })
        : undefined;
    this.eventTtl = this.eventTtlSweeper(options.eventTtlMs ?? DEFAULT_EVENT_TTL_MS);
    const handler = (req: IncomingMessage, res: ServerResponse) => void this.handle(req, res);
    this.http = options.tls
      ? createHttpsServer(
          {
            keepAlive: true,
            requestTimeout: 0,
            cert: options.tls.certPem,
            key: options.tls.keyPem,
            ca: options.tls.caPem,
            // Ask for a client certificate but let token and anonymous clients in; authn/x509.ts decides.
            requestCert: true,
            rejectUnauthorized: false,
          },
          handler,
        )
      : createServer({ keepAlive: true, requestTimeout: 0 }, handler);
    this.http.keepAliveTimeout = 65_000;
    this.http.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      void this.handleUpgrade(req, socket, head);
    });
  }

  /** Loads every watch cache, rebuilds the allocators, creates the built-in objects, starts the loops. */
  async start(): Promise<void> {
    for (const cache of this.caches.values()) cache.start();
    await Promise.all([...this.caches.values()].map((c) => c.ready()));
    const services = this.registry.lookup("", "v1", "services");
    if (services) {
      for (const svc of this.caches.get(services)?.snapshot() ?? [])
        markServiceAllocated(this.allocators, svc);
    }
    await bootstrapCluster({
      registry: this.registry,
      stores: this.stores,
      allocators: this.allocators,
      log: this.log,
      ...(this.advertised() ? { advertise: this.advertised() as { address: string; port: number } } : {}),
    });
    await this.authorization.start();
    this.gc.start();
    this.namespaceFinalizer.start();
    this.compactor?.start();
    this.eventTtl?.start();
    this.ready = true;
  }

  /** Expires core/v1 events (and so events.k8s.io/v1 ones, the same objects); none if ttlMs is 0. */
  private eventTtlSweeper(ttlMs: number): EventTtlSweeper | undefined {
    const events = this.registry.lookup("", "v1", "events");
    const store = events && this.stores.get(events);
    const cache = events && this.caches.get(events);
    if (ttlMs <= 0 || !store || !cache) return undefined;
    return new EventTtlSweeper({ store, cache, ttlMs, clock: this.clock, log: this.log });
  }

  /** Where the `kubernetes` Service points: the configured address, else the listener's own. */
  private advertised(): { address: string; port: number } | undefined {
    if (this.options.advertise) return this.options.advertise;
    return this.address ? { address: this.address.address, port: this.address.port } : undefined;
  }

  /** Starts accepting connections; resource requests answer 503 until start() has finished. */
  async listen(host: string, port: number): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this.http.once("error", reject);
      this.http.listen(port, host, () => {
        this.http.off("error", reject);
        resolve();
      });
    });
    this.address = this.http.address() as AddressInfo;
    return this.address;
  }

  async close(): Promise<void> {
    this.ready = false;
    this.gc.stop();
    this.namespaceFinalizer.stop();
    this.compactor?.stop();
    this.eventTtl?.stop();
    this.authorization.stop();
    for (const cache of this.caches.values()) cache.stop();
    await new Promise<void>((resolve) => {
      this.http.close(() => resolve());
      this.http.closeAllConnections();
    });
  }

  /** An object from the watch cache, else from storage (authenticators check that token owners exist). */
  readonly lookup: ObjectLookup = async (resource, namespace, name) => {
    const r = this.registry.lookup(resource.group, resource.version, resource.plural);
    if (!r) return undefined;
    const store = this.stores.get(r);
    const cached = store ? this.caches.get(r)?.getByKey(store.key(namespace, name)) : undefined;
    if (cached) return cached as KubeObject;
    return (await store?.tryGet(namespace, name))?.object as KubeObject | undefined;
  };

  private async getNamespace(name: string) {
    const r = this.registry.lookup("", "v1", "namespaces");
    if (!r) return undefined;
    const cached = this.caches.get(r)?.getByKey(`${r.keyPrefix}${name}`);
    if (cached) return cached;
    // Not in the cache (yet): ask storage, so a namespace created a moment ago is seen.
    return (await this.stores.get(r)?.tryGet("", name))?.object;
  }

  // Request pipeline -------------------------------------------------------------------------------------------

  private async admitRequest(req: IncomingMessage, info: RequestInfo): Promise<UserInfo> {
    const result = await authenticate(this.authenticators, req);
    if (!result.user && result.rejected.length > 0) {
      this.log.info(
        { path: info.path, remote: req.socket.remoteAddress, rejected: result.rejected },
        "authentication failed",
      );
      throw new ApiError(401, "Unauthorized", "Unauthorized");
    }
    // kubectl --as: act as another user when the requester may impersonate them (authz/impersonation.ts).
    const user = await impersonate(req.headers, result.user ?? anonymousUser(), (a) =>
      authorize(this.authorizer, a),
    );
    const decision = await authorize(this.authorizer, { user, request: info });
    if (!decision.allowed) {
      // Requests without credentials are told to authenticate rather than that they are forbidden.
      if (isAnonymous(user)) throw new ApiError(401, "Unauthorized", "Unauthorized");
      throw forbiddenError(user, info, decision.reason);
    }
    return user;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const url = new URL(req.url ?? "/", "http://apiserver");
    const info = parseRequestInfo(req.method ?? "GET", url.pathname, url.searchParams);
    let user: UserInfo | undefined;
    try {
      user = await this.admitRequest(req, info);
      if (info.isResourceRequest) await this.handleResource(req, res, info, url.searchParams, user);
      else this.handleNonResource(req, res, info, url);
    } catch (error) {
      // An unread request body would otherwise be parsed as the next request on this connection.
      if (!(await drainBody(req))) res.setHeader("Connection", "close");
      const apiError = writeError(res, error);
      if (apiError.code >= 500) {
        this.log.error({ err: error, method: req.method, path: url.pathname }, "request failed");
      }
    } finally {
      if (this.log.isLevelEnabled("debug")) {
        this.log.debug(
          {
            method: req.method,
            path: url.pathname,
            verb: info.verb,
            user: user?.name,
            code: res.statusCode,
            ms: Math.round((performance.now() - started) * 10) / 10,
          },
          "request",
        );
      }
    }
  }

  private resolve(info: ResourceRequestInfo): ServedResource {
    const served = this.registry.lookup(info.apiGroup, info.apiVersion, info.resource);
    const gv = info.apiGroup ? `${info.apiGroup}/${info.apiVersion}` : info.apiVersion;
    if (!served) {
      if (!this.registry.hasGroupVersion(info.apiGroup, info.apiVersion)) {
        throw new ApiError(
          404,
          "NotFound",
          `the server could not find the requested resource: group version "${gv}" is not served`,
        );
      }
      throw new ApiError(
        404,
        "NotFound",
        `the server could not find the requested resource: there is no resource "${info.resource}" in group version "${gv}"`,
      );
    }
    if (!served.namespaced && info.namespace !== "") {
      throw new ApiError(
        404,
        "NotFound",
        `the server could not find the requested resource: ${served.plural} are not namespaced`,
      );
    }
    const needsNamespace = info.name !== "" || info.verb === "create";
    if (served.namespaced && info.namespace === "" && needsNamespace) {
      throw new ApiError(
        404,
        "NotFound",
        `the server could not find the requested resource: ${served.plural} are namespaced; use /namespaces/<namespace>/${served.plural}`,
      );
    }
    return served;
  }

  private async handleResource(
    req: IncomingMessage,
    res: ServerResponse,
    info: ResourceRequestInfo,
    query: URLSearchParams,
    user: UserInfo,
  ): Promise<void> {
    if (!this.ready)
      throw new ApiError(503, "ServiceUnavailable", "the API server is starting; retry shortly");
    const served = this.resolve(info);
    const store = this.stores.get(served) as ObjectStore;
    const cache = this.caches.get(served) as WatchCache;
    // Create-only resources have no cache; their handlers never watch.
    const transforms = info.subresource === "" || info.subresource === "status";
    const scope: RequestScope = {
      ctx: this.context,
      req,
      res,
      info,
      query,
      user,
      served,
      store,
      cache,
      format: negotiateOutput(req.headers.accept, transforms),
      log: this.log,
      warnings: [],
    };
    await routeResource(scope);
  }

  // Non-resource endpoints --------------------------------------------------------------------------------------

  private versionInfo() {
    return {
      major: KUBERNETES_VERSION.major,
      minor: KUBERNETES_VERSION.minor,
      emulationMajor: KUBERNETES_VERSION.major,
      emulationMinor: KUBERNETES_VERSION.minor,
      gitVersion: KUBERNETES_VERSION.gitVersion,
      gitCommit: "deckhand",
      gitTreeState: "clean",
      buildDate: "1970-01-01T00:00:00Z",
      goVersion: `node${process.versions.node}`,
      compiler: "gc",
      platform: `${process.platform}/${GO_ARCH[process.arch] ?? process.arch}`,
    };
  }

  private health(res: ServerResponse, url: URL, check: "healthz" | "livez" | "readyz"): void {
    const checks: Array<[string, boolean]> = [
      ["ping", true],
      ["storage", true],
    ];
    if (check !== "livez") checks.push(["watch-caches", this.ready]);
    const sub = url.pathname.split("/")[2];
    const relevant = sub ? checks.filter(([name]) => name === sub) : checks;
    if (sub && relevant.length === 0) {
      writeText(res, 404, `404 page not found\n`);
      return;
    }
    const ok = relevant.every(([, passed]) => passed);
    if (url.searchParams.has("verbose")) {
      const lines = relevant.map(
        ([name, passed]) => `[${passed ? "+" : "-"}]${name} ${passed ? "ok" : "failed"}`,
      );
      lines.push(ok ? `${check} check passed` : `${check} check failed`);
      writeText(res, ok ? 200 : 500, `${lines.join("\n")}\n`);
      return;
    }
    writeText(
      res,
      ok ? 200 : 500,
      ok ? "ok" : `[-]watch-caches failed: reason withheld\n${check} check failed`,
    );
  }

  private handleNonResource(req: IncomingMessage, res: ServerResponse, info: RequestInfo, url: URL): void {
    const path = url.pathname.replace(/\/+$/, "") || "/";
    const method = req.method ?? "GET";
    if (method !== "GET" && method !== "HEAD") {
      throw new ApiError(405, "MethodNotAllowed", `the server does not allow this method on ${path}`);
    }
    if (path === "/version") {
      writeObject(res, 200, this.versionInfo());
      return;
    }
    const first = path.split("/")[1];
    if (first === "healthz" || first === "livez" || first === "readyz") {
      this.health(res, url, first);
      return;
    }
    const tokens = this.options.serviceAccountTokens;
    if (tokens && path === "/.well-known/openid-configuration") {
      writeObject(res, 200, tokens.openidConfiguration());
      return;
    }
    if (tokens && path === "/openid/v1/jwks") {
      res.writeHead(200, {
        "Content-Type": "application/jwk-set+json",
        "Cache-Control": "public, max-age=3600",
      });
      res.end(JSON.stringify(tokens.jwks()));
      return;
    }
    if (path === "/openapi/v2") {
      if (!this.openapi)
        throw new ApiError(404, "NotFound", "OpenAPI documents are not available on this server");
      this.openapi.serveV2(req, res);
      return;
    }
    if (path === "/openapi/v3" || path.startsWith("/openapi/v3/")) {
      this.serveOpenApi(req, res, path);
      return;
    }
    if (path === "/") {
      const paths = ["/api", "/api/v1", "/apis", "/healthz", "/livez", "/openapi/v3", "/readyz", "/version"];
      for (const g of this.registry.groups()) {
        paths.push(`/apis/${g.group}`);
        for (const v of g.versions) paths.push(`/apis/${g.group}/${v}`);
      }
      writeObject(res, 200, { paths: paths.sort() });
      return;
    }
    if (info.isResourceRequest) throw new Error("resource request routed as non-resource");
    if (info.apiPrefix !== undefined) {
      // Discovery is served as legacy JSON only; kubectl falls back to it from aggregated discovery.
      negotiateOutput(req.headers.accept, false);
      this.serveDiscovery(res, info, url);
      return;
    }
    throw new ApiError(
      404,
      "NotFound",
      `the server could not find the requested resource: no endpoint at ${path}`,
    );
  }

  private serveDiscovery(
    res: ServerResponse,
    info: Extract<RequestInfo, { isResourceRequest: false }>,
    url: URL,
  ): void {
    const host = this.address ? `${this.address.address}:${this.address.port}` : url.host;
    if (info.apiPrefix === "api") {
      if (info.apiVersion === undefined) {
        writeObject(res, 200, apiVersions(host));
        return;
      }
      if (info.apiVersion === "v1") {
        writeObject(res, 200, apiResourceList(this.registry, "", "v1"));
        return;
      }
      throw new ApiError(
        404,
        "NotFound",
        `the server could not find the requested resource: core version "${info.apiVersion}" is not served`,
      );
    }
    if (!info.apiGroup) {
      writeObject(res, 200, apiGroupList(this.registry));
      return;
    }
    if (info.apiVersion === undefined) {
      const group = apiGroup(this.registry, info.apiGroup);
      if (!group)
        throw new ApiError(
          404,
          "NotFound",
          `the server could not find the requested resource: API group "${info.apiGroup}" is not served`,
        );
      writeObject(res, 200, group);
      return;
    }
    if (!this.registry.hasGroupVersion(info.apiGroup, info.apiVersion)) {
      throw new ApiError(
        404,
        "NotFound",
        `the server could not find the requested resource: group version "${info.apiGroup}/${info.apiVersion}" is not served`,
      );
    }
    writeObject(res, 200, apiResourceList(this.registry, info.apiGroup, info.apiVersion));
    return;
  }

  private serveOpenApi(req: IncomingMessage, res: ServerResponse, path: string): void {
    if (!this.openapi)
      throw new ApiError(404, "NotFound", "OpenAPI v3 documents are not available on this server");
    this.openapi.serve(req, res, path);
  }

  // Upgrades (exec, attach, portforward over WebSocket or SPDY) ---------------------------------------------------

  private async handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on("error", () => socket.destroy());
    const url = new URL(req.url ?? "/", "http://apiserver");
    const info = parseRequestInfo(req.method ?? "GET", url.pathname, url.searchParams);
    try {
      await this.admitRequest(req, info);
      if (!info.isResourceRequest || !CONNECT_SUBRESOURCES.has(info.subresource) || info.name === "") {
        throw new ApiError(
          400,
          "BadRequest",
          `upgrade requests are only served for exec, attach, portforward and proxy, not ${url.pathname}`,
        );
      }
      if (!this.ready)
        throw new ApiError(503, "ServiceUnavailable", "the API server is starting; retry shortly");
      const served = this.resolve(info);
      if (!(served.def.subresources as string[]).includes(info.subresource)) {
        throw new ApiError(
          404,
          "NotFound",
          `the server could not find the requested resource: ${served.plural} have no subresource "${info.subresource}"`,
        );
      }
      const object = await (this.stores.get(served) as ObjectStore).get(
        info.namespace,
        streamObjectName(served.plural, info.subresource, info.name),
      );
      await this.context.streaming.upgrade(
        {
          resource: served,
          subresource: info.subresource,
          namespace: info.namespace,
          name: info.name,
          object,
          query: url.searchParams,
          rest: info.rest,
        },
        req,
        socket,
        head,
      );
    } catch (error) {
      const apiError = toApiError(error);
      rejectUpgrade(socket, apiError.code, apiError.toStatus());
    }
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
