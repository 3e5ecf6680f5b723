// The connection to the engine. Requests share keep-alive connections of the driver's own agent, and
// nothing outlives the engine: when dockerd exits, the kernel closes its side and Node drops those idle
// connections from the pool. For the one race left (a request sent on a pooled connection in the instant
// the engine closed it: ECONNRESET / EPIPE / "socket hang up" before any answer) a plain call is retried
// once on a new connection; streaming calls (exec, attach, logs, pull) are never retried because they could
// run a command twice. Calls get a deadline and their errors are mapped to RuntimeErrors.
import { Agent } from "node:http";
import { inspect } from "node:util";
import Docker from "dockerode";
import { RuntimeError } from "../errors.ts";
import { toRuntimeError } from "./errors.ts";
import type { ResolvedDockerOptions } from "./options.ts";

export interface CallOptions {
  /** Deadline; default the runtime's requestTimeoutMs. */
  timeoutMs?: number;
  /** Retry once when a pooled connection turned out dead (default true; false for streaming calls). */
  retryOnReset?: boolean;
}

export interface DockerClient {
  readonly docker: Docker;
  readonly endpoint: string;
  /** Runs `fn`, rejecting with RUNTIME_DEADLINE after the deadline and mapping Docker errors; `what` names the call. */
  call<T>(what: string, fn: (signal: AbortSignal) => Promise<T>, options?: CallOptions): Promise<T>;
  close(): void;
}

function isReset(error: unknown): boolean {
  const e = error as { code?: string; message?: string; statusCode?: number };
  if (e?.statusCode !== undefined) return false;
  return e?.code === "ECONNRESET" || e?.code === "EPIPE" || /socket hang up/.test(e?.message ?? "");
}

/**
 * docker-modem formats every request's options with util.inspect(…, { depth: null, showHidden: true }) for
 * a debug line, even with debugging off. With a plain Agent in those options that walks the whole socket
 * pool on every request: measured 1–2 s per request with 20 concurrent ones (vs ~50 ms). This agent
 * inspects as one word.
 */
class DockerAgent extends Agent {
  [inspect.custom](): string {
    return "DockerAgent";
  }
}

export function createDockerClient(options: ResolvedDockerOptions): DockerClient {
  const agent = new DockerAgent({ keepAlive: true });
  const docker = new Docker({ socketPath: options.socketPath, agent } as Docker.DockerOptions);
  const endpoint = options.endpoint;

  async function call<T>(
    what: string,
    fn: (signal: AbortSignal) => Promise<T>,
    callOptions: CallOptions = {},
  ): Promise<T> {
    const timeoutMs = callOptions.timeoutMs ?? options.requestTimeoutMs;
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(
          new RuntimeError(
            "RUNTIME_DEADLINE",
            `${what}: Docker at ${endpoint} did not answer within ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
    });
    const attempt = async (): Promise<T> => {
      try {
        return await fn(controller.signal);
      } catch (error) {
        if (callOptions.retryOnReset === false || !isReset(error) || controller.signal.aborted) throw error;
        return await fn(controller.signal);
      }
    };
    try {
      return await Promise.race([attempt(), deadline]);
    } catch (error) {
      throw toRuntimeError(endpoint, what, error);
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    docker,
    endpoint,
    call,
    close: () => agent.destroy(),
  };
}
