// The connection to the engine. Every request opens a fresh unix-socket connection (no keep-alive pool), so
// nothing can hold on to a connection that died with a dockerd restart: the first request after the engine
// is back simply works. Calls get a deadline and their errors are mapped to RuntimeErrors.
import { Agent } from "node:http";
import Docker from "dockerode";
import { RuntimeError } from "../errors.ts";
import { toRuntimeError } from "./errors.ts";
import type { ResolvedDockerOptions } from "./options.ts";

export interface DockerClient {
  readonly docker: Docker;
  readonly endpoint: string;
  /** Runs `fn`, rejecting with RUNTIME_DEADLINE after `timeoutMs` and mapping Docker errors; `what` names the call. */
  call<T>(what: string, fn: (signal: AbortSignal) => Promise<T>, timeoutMs?: number): Promise<T>;
  close(): void;
}

export function createDockerClient(options: ResolvedDockerOptions): DockerClient {
  const agent = new Agent({ keepAlive: false });
  const docker = new Docker({ socketPath: options.socketPath, agent } as Docker.DockerOptions);
  const endpoint = options.endpoint;

  async function call<T>(
    what: string,
    fn: (signal: AbortSignal) => Promise<T>,
    timeoutMs = options.requestTimeoutMs,
  ): Promise<T> {
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
    try {
      return await Promise.race([fn(controller.signal), deadline]);
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
