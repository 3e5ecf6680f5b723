// A small typed client for the public Kubernetes REST API over node:http(s): the verbs the agent and the
// controllers use, plus watch as an async iterator. Keep-alive connections; every request has a timeout.
import { readFileSync, statSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import type { KubeObject } from "../resource.ts";
import { ApiError, type Status } from "./errors.ts";
import type { ClusterConnection } from "./kubeconfig.ts";

export interface ResourceRef {
  /** "" or undefined for the core group. */
  group?: string;
  version: string;
  /** Lower-case plural resource name, e.g. "pods". */
  resource: string;
  namespace?: string;
  name?: string;
  subresource?: string;
}

export interface ListMeta {
  resourceVersion?: string;
  continue?: string;
  remainingItemCount?: number;
}

export interface ObjectList<T> {
  apiVersion?: string;
  kind?: string;
  metadata: ListMeta;
  items: T[];
}

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: "Exact" | "NotOlderThan";
}

export interface WatchOptions {
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
  allowWatchBookmarks?: boolean;
  /** Server-side timeout; the server ends the stream after it. */
  timeoutSeconds?: number;
  signal?: AbortSignal;
}

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK";

export interface WatchEvent<T> {
  type: WatchEventType;
  object: T;
}

export type PatchType = "json" | "merge" | "strategic" | "apply";

const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  json: "application/json-patch+json",
  merge: "application/merge-patch+json",
  strategic: "application/strategic-merge-patch+json",
  apply: "application/apply-patch+yaml",
};

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: "Background" | "Foreground" | "Orphan";
  preconditions?: { uid?: string; resourceVersion?: string };
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface ApiClientOptions {
  userAgent?: string;
  /** Per-request timeout for non-watch calls (default 30 s). */
  timeoutMs?: number;
}

/** The URL path of a resource, collection or subresource. */
export function resourcePath(ref: ResourceRef): string {
  const base = ref.group ? `/apis/${ref.group}/${ref.version}` : `/api/${ref.version}`;
  const ns = ref.namespace ? `/namespaces/${encodeURIComponent(ref.namespace)}` : "";
  const name = ref.name ? `/${encodeURIComponent(ref.name)}` : "";
  const sub = ref.subresource ? `/${ref.subresource}` : "";
  return `${base}${ns}/${ref.resource}${name}${sub}`;
}

export class ApiClient {
  readonly server: string;
  private readonly connection: ClusterConnection;
  private agent: http.Agent;
  private readonly userAgent: string;
  private readonly timeoutMs: number;
  private tokenCache: { token: string; mtimeMs: number } | undefined;

  constructor(connection: ClusterConnection, options: ApiClientOptions = {}) {
    this.connection = { ...connection };
    this.server = connection.server;
    this.userAgent = options.userAgent ?? "deckhand";
    this.timeoutMs = options.timeoutMs ?? 30_000;
    const url = new URL(connection.server);
    this.agent =
      url.protocol === "https:"
        ? new https.Agent({
            keepAlive: true,
            ca: connection.ca,
            cert: connection.clientCertificate,
            key: connection.clientKey,
            rejectUnauthorized: !connection.insecureSkipTlsVerify,
            servername: connection.tlsServerName,
          })
        : new http.Agent({ keepAlive: true });
  }

  /**
   * Presents another client certificate from now on (certificate rotation): new connections use it, and
   * every open one (watches included) is closed, as kubelet does, so nothing keeps using the old one.
   */
  setClientCertificate(certPem: Buffer, keyPem: Buffer): void {
    if (!(this.agent instanceof https.Agent))
      throw new Error(`${this.server} is not HTTPS: there is no client certificate to replace`);
    const old = this.agent;
    this.connection.clientCertificate = certPem;
    this.connection.clientKey = keyPem;
    this.agent = new https.Agent({
      keepAlive: true,
      ca: this.connection.ca,
      cert: certPem,
      key: keyPem,
      rejectUnauthorized: !this.connection.insecureSkipTlsVerify,
      servername: this.connection.tlsServerName,
    });
    old.destroy();
  }

  get<T extends KubeObject>(ref: ResourceRef, options: RequestOptions = {}): Promise<T> {
    return this.request<T>("GET", resourcePath(ref), options);
  }

  list<T extends KubeObject>(ref: ResourceRef, options: ListOptions = {}): Promise<ObjectList<T>> {
    return this.request<ObjectList<T>>("GET", resourcePath(ref), { query: { ...options } });
  }

  create<T extends KubeObject>(ref: ResourceRef, body: T, options: RequestOptions = {}): Promise<T> {
    return this.request<T>("POST", resourcePath(ref), { ...options, body });
  }

  /** PUT; with a resourceVersion in body.metadata the server checks it (optimistic concurrency). */
  update<T extends KubeObject>(ref: ResourceRef, body: T, options: RequestOptions = {}): Promise<T> {
    return this.request<T>("PUT", resourcePath(ref), { ...options, body });
  }

  patch<T extends KubeObject>(
    ref: ResourceRef,
    type: PatchType,
    patch: unknown,
    options: RequestOptions & { fieldManager?: string; force?: boolean } = {},
  ): Promise<T> {
    const { fieldManager, force, ...rest } = options;
    return this.request<T>("PATCH", resourcePath(ref), {
      ...rest,
      query: { ...rest.query, fieldManager, force },
      body: patch,
      contentType: PATCH_CONTENT_TYPES[type],
    });
  }

  delete<T = KubeObject | Status>(ref: ResourceRef, options: DeleteOptions = {}): Promise<T> {
    return this.request<T>("DELETE", resourcePath(ref), {
      body: { apiVersion: "v1", kind: "DeleteOptions", ...options },
    });
  }

  /**
   * Watches a collection. Yields ADDED/MODIFIED/DELETED/BOOKMARK events until the server ends the stream
   * (normal: the caller re-watches from the last resourceVersion) or `signal` aborts (the iterator ends).
   * An ERROR event is thrown as an ApiError carrying its Status (410 → isGone).
   */
  async *watch<T extends KubeObject>(
    ref: ResourceRef,
    options: WatchOptions = {},
  ): AsyncGenerator<WatchEvent<T>> {
    const { signal, ...params } = options;
    const response = await this.send("GET", resourcePath(ref), {
      query: { ...params, watch: true },
      signal,
      timeoutMs: 0,
    });
    if ((response.statusCode ?? 0) >= 400) {
      throw await this.errorFrom(response, "GET", resourcePath(ref));
    }
    let buffered = "";
    try {
      for await (const chunk of response) {
        buffered += (chunk as Buffer).toString("utf8");
        let newline = buffered.indexOf("\n");
        while (newline >= 0) {
          const line = buffered.slice(0, newline).trim();
          buffered = buffered.slice(newline + 1);
          newline = buffered.indexOf("\n");
          if (line) yield this.decodeWatchLine<T>(line);
        }
      }
    } catch (error) {
      if (signal?.aborted) return;
      if (error instanceof ApiError) throw error;
      throw new ApiError(
        "API_UNREACHABLE",
        `watch ${resourcePath(ref)} on ${this.server} broke: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    } finally {
      response.destroy();
    }
    if (buffered.trim() && !signal?.aborted) yield this.decodeWatchLine<T>(buffered.trim());
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.send(method, path, options);
    const body = await readBody(response);
    if ((response.statusCode ?? 0) >= 400)
      throw this.statusError(response.statusCode ?? 0, body, method, path);
    if (body.length === 0) return undefined as T;
    try {
      return JSON.parse(body.toString("utf8")) as T;
    } catch (error) {
      throw new ApiError("API_DECODE", `${method} ${path} on ${this.server}: answer is not JSON`, {
        cause: error,
      });
    }
  }

  close(): void {
    this.agent.destroy();
  }

  private decodeWatchLine<T>(line: string): WatchEvent<T> {
    let event: { type?: string; object?: unknown };
    try {
      event = JSON.parse(line) as typeof event;
    } catch (error) {
      throw new ApiError("API_DECODE", `watch event from ${this.server} is not JSON: ${line.slice(0, 200)}`, {
        cause: error,
      });
    }
    if (event.type === "ERROR") {
      const status = event.object as Status;
      throw new ApiError("API_STATUS", `watch error from ${this.server}: ${status?.message ?? "unknown"}`, {
        httpStatus: status?.code ?? 500,
        status,
      });
    }
    return event as WatchEvent<T>;
  }

  private statusError(httpStatus: number, body: Buffer, method: string, path: string): ApiError {
    let status: Status | undefined;
    try {
      status = JSON.parse(body.toString("utf8")) as Status;
    } catch {
      status = undefined;
    }
    const message = status?.message ?? body.toString("utf8").slice(0, 300);
    return new ApiError(
      "API_STATUS",
      `${method} ${path}: ${httpStatus} ${status?.reason ?? ""} ${message}`.trim(),
      {
        httpStatus,
        status,
      },
    );
  }

  private async errorFrom(response: http.IncomingMessage, method: string, path: string): Promise<ApiError> {
    return this.statusError(response.statusCode ?? 0, await readBody(response), method, path);
  }

  private bearerToken(): string | undefined {
    const file = this.connection.tokenFile;
    if (!file) return this.connection.token;
    const mtimeMs = statSync(file).mtimeMs;
    if (this.tokenCache?.mtimeMs !== mtimeMs) {
      this.tokenCache = { token: readFileSync(file, "utf8").trim(), mtimeMs };
    }
    return this.tokenCache.token;
  }

  private send(method: string, path: string, options: RequestOptions): Promise<http.IncomingMessage> {
    const url = new URL(path, `${this.server}/`);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const headers: Record<string, string> = { Accept: "application/json", "User-Agent": this.userAgent };
    let payload: Buffer | undefined;
    if (options.body !== undefined) {
      payload = Buffer.from(typeof options.body === "string" ? options.body : JSON.stringify(options.body));
      headers["Content-Type"] = options.contentType ?? "application/json";
      headers["Content-Length"] = String(payload.length);
    }
    const token = this.bearerToken();
    if (token) headers.Authorization = `Bearer ${token}`;
    else if (this.connection.username !== undefined) {
      headers.Authorization = `Basic ${Buffer.from(`${this.connection.username}:${this.connection.password ?? ""}`).toString("base64")}`;
    }
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const transport = url.protocol === "https:" ? https : http;

    return new Promise((resolvePromise, reject) => {
      const request = transport.request(url, { method, headers, agent: this.agent, signal: options.signal });
      let timer: NodeJS.Timeout | undefined;
      if (timeoutMs > 0) {
        timer = setTimeout(() => {
          request.destroy(
            new ApiError(
              "API_TIMEOUT",
              `${method} ${url.pathname} on ${this.server} timed out after ${timeoutMs} ms`,
            ),
          );
        }, timeoutMs);
      }
      request.on("response", (response) => {
        if (timer) {
          // Keep the timeout running until the body is read, but not for streams (timeoutMs 0).
          response.once("end", () => clearTimeout(timer));
          response.once("close", () => clearTimeout(timer));
        }
        resolvePromise(response);
      });
      request.on("error", (error) => {
        if (timer) clearTimeout(timer);
        if (error instanceof ApiError) return reject(error);
        if (options.signal?.aborted) return reject(error);
        reject(
          new ApiError(
            "API_UNREACHABLE",
            `${method} ${url.pathname}: cannot reach ${this.server} (${error.message})`,
            {
              cause: error,
            },
          ),
        );
      });
      request.end(payload);
    });
  }
}

function readBody(response: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolvePromise, reject) => {
    const chunks: Buffer[] = [];
    response.on("data", (chunk: Buffer) => chunks.push(chunk));
    response.on("end", () => resolvePromise(Buffer.concat(chunks)));
    response.on("error", reject);
  });
}
