// The agent's debugging endpoint for `deckhand debug`: plain HTTP over a unix socket that only root can open
// (mode 0600, created under a temporary name and renamed into place, so it is never reachable with looser
// permissions). It reads the agent's own state, so it answers while the API server is down. Read-only.
import { randomBytes } from "node:crypto";
import { chmodSync, lstatSync, mkdirSync, renameSync, rmSync } from "node:fs";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import net from "node:net";
import { dirname } from "node:path";
import { parseTraceTarget, TraceTargetError } from "../../proxy/trace.ts";
import type { Runtime } from "../../runtime/types.ts";
import { containerRows, type DebugState, podRows, podStory, probeRows } from "./views.ts";

export interface DebugServerOptions {
  socketPath: string;
  state: DebugState;
  runtime: Pick<Runtime, "containerLogs">;
  log: {
    info(fields: object, message: string): void;
    warn(fields: object, message: string): void;
  };
}

class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "Content-Type": "application/json" });
  res.end(`${JSON.stringify(body, null, 2)}\n`);
}

/** Is something answering on this socket (another agent)? A stale file refuses. */
function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(path);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

export class DebugServer {
  private readonly options: DebugServerOptions;
  private server: http.Server | undefined;
  private inode: number | undefined;

  constructor(options: DebugServerOptions) {
    this.options = options;
  }

  /** Listens on the socket; a live socket of another agent is left alone (and this one does not listen). */
  async start(): Promise<boolean> {
    const { socketPath, log } = this.options;
    mkdirSync(dirname(socketPath), { recursive: true, mode: 0o755 });
    let existing: ReturnType<typeof lstatSync> | undefined;
    try {
      existing = lstatSync(socketPath);
    } catch {
      existing = undefined;
    }
    if (existing) {
      if (!existing.isSocket()) {
        log.warn({ socket: socketPath }, "debug socket not started: the path exists and is not a socket");
        return false;
      }
      if (await socketAnswers(socketPath)) {
        log.warn({ socket: socketPath }, "debug socket not started: another agent answers on it");
        return false;
      }
      rmSync(socketPath, { force: true });
    }
    const server = http.createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) {
          const status = error instanceof HttpError ? error.status : 500;
          sendJson(res, status, { error: (error as Error).message });
        } else res.destroy();
      });
    });
    const temporary = `${socketPath}.${randomBytes(4).toString("hex")}.tmp`;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(temporary, () => {
        server.off("error", reject);
        resolve();
      });
    });
    chmodSync(temporary, 0o600);
    renameSync(temporary, socketPath);
    this.inode = lstatSync(socketPath).ino;
    this.server = server;
    log.info({ socket: socketPath }, "debug socket listening (deckhand debug)");
    return true;
  }

  async run(signal: AbortSignal): Promise<void> {
    if (!this.server) return;
    if (!signal.aborted)
      await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
    await this.stop();
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    // Remove the socket file only if it is still ours (another agent may have replaced it).
    try {
      if (lstatSync(this.options.socketPath).ino === this.inode) rmSync(this.options.socketPath);
    } catch {
      // Already gone.
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== "GET") throw new HttpError(405, `method ${req.method} not allowed (read-only)`);
    const url = new URL(req.url ?? "/", "http://debug");
    const parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
    const { state } = this.options;
    const [head, ...rest] = parts;
    switch (head) {
      case "pods":
        if (rest.length === 0) return sendJson(res, 200, podRows(state));
        if (rest.length === 2) {
          const story = podStory(state, rest[0] as string, rest[1] as string);
          if (!story) throw new HttpError(404, `pod ${rest[0]}/${rest[1]} is not known on this node`);
          return sendJson(res, 200, story);
        }
        break;
      case "containers":
        if (rest.length === 0) return sendJson(res, 200, containerRows(state));
        break;
      case "probes":
        if (rest.length === 0) return sendJson(res, 200, probeRows(state));
        break;
      case "services":
        if (rest.length === 0) {
          const view = state.services?.();
          if (!view)
            throw new HttpError(
              404,
              "the service proxy is not running on this node (proxyMode none, or a standalone node)",
            );
          return sendJson(res, 200, view);
        }
        break;
      case "trace":
        if (rest.length === 0) return sendJson(res, 200, await this.trace(url.searchParams));
        break;
      case "config":
        if (rest.length === 0) return sendJson(res, 200, state.config());
        break;
      case "logs":
        return this.logs(rest, url.searchParams, res);
    }
    throw new HttpError(
      404,
      `no such debug view: ${url.pathname} (pods, pods/NS/NAME, containers, probes, services, trace?target=IP:PORT/PROTO, config, logs/…)`,
    );
  }

  /** trace?target=IP:PORT/PROTO[&from=node|external|IP][&rules=kernel] */
  private async trace(query: URLSearchParams) {
    const trace = this.options.state.trace;
    if (!trace)
      throw new HttpError(
        404,
        "the service proxy is not running on this node (proxyMode none, or a standalone node)",
      );
    const rules = query.get("rules") ?? "programmed";
    if (rules !== "programmed" && rules !== "kernel")
      throw new HttpError(
        400,
        `rules=${rules}: must be "programmed" (the proxy's record) or "kernel" (iptables-save)`,
      );
    try {
      const view = await trace(parseTraceTarget(query.get("target") ?? ""), {
        from: query.get("from") ?? "node",
        kernel: rules === "kernel",
      });
      if (!view)
        throw new HttpError(503, "the service proxy has not programmed any rules yet (no sync so far)");
      return view;
    } catch (error) {
      if (error instanceof TraceTargetError) throw new HttpError(400, error.message);
      throw error;
    }
  }

  /** logs/NS/POD/CONTAINER (newest instance, or the one before with previous=true) or logs/CONTAINER-ID. */
  private async logs(parts: string[], query: URLSearchParams, res: ServerResponse): Promise<void> {
    const rows = containerRows(this.options.state);
    let id: string | undefined;
    if (parts.length === 1) {
      const prefix = parts[0] as string;
      const matches = rows.filter((r) => r.id.startsWith(prefix));
      if (matches.length > 1) throw new HttpError(400, `container ID prefix ${prefix} is ambiguous`);
      id = matches[0]?.id;
      if (!id) throw new HttpError(404, `no container with ID ${prefix} on this node`);
    } else if (parts.length === 3) {
      const [namespace, pod, container] = parts;
      // containerRows lists the newest attempt first.
      const instances = rows.filter(
        (r) => r.namespace === namespace && r.pod === pod && r.name === container,
      );
      const wanted = query.get("previous") === "true" ? instances[1] : instances[0];
      if (!wanted)
        throw new HttpError(
          404,
          `no ${query.get("previous") === "true" ? "previous " : ""}instance of container ${container} in pod ${namespace}/${pod} on this node`,
        );
      id = wanted.id;
    } else throw new HttpError(400, "logs/NAMESPACE/POD/CONTAINER or logs/CONTAINER-ID");
    const tailText = query.get("tail");
    const tail = tailText === null ? undefined : Number(tailText);
    if (tail !== undefined && !(Number.isInteger(tail) && tail >= 0))
      throw new HttpError(400, `tail=${tailText}: must be a non-negative integer`);
    const abort = new AbortController();
    res.once("close", () => abort.abort());
    const lines = this.options.runtime.containerLogs(id, {
      ...(tail !== undefined ? { tail } : {}),
      timestamps: query.get("timestamps") === "true",
      signal: abort.signal,
    });
    let started = false;
    try {
      for await (const line of lines) {
        if (!started) {
          res.writeHead(200, { "Content-Type": "text/plain; charset=utf-8" });
          started = true;
        }
        const prefix = query.get("timestamps") === "true" ? `${line.time} ` : "";
        res.write(`${prefix}${line.content.toString("utf8")}${line.partial ? "" : "\n"}`);
      }
    } catch (error) {
      if (!started) throw new HttpError(500, `reading the logs of ${id}: ${(error as Error).message}`);
    } finally {
      abort.abort();
    }
    if (!started) res.writeHead(200, { "Content-Type": "text/plain; charset=utf-8" });
    res.end();
  }
}
