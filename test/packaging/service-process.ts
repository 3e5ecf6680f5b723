// A service's command as a child process for a packaging test: output captured, stopped with SIGTERM
// (SIGKILL after 15 s) as systemd would stop it, and a readiness wait that fails early when it exits.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ApiClient } from "../../src/api/client/client.ts";
import { loadKubeconfig } from "../../src/api/client/kubeconfig.ts";
import { tlsFetch } from "../support/tls-fetch.ts";
import { waitFor } from "../support/wait.ts";

export interface ServiceProcess {
  readonly child: ChildProcess;
  output(): string;
  /** Waits until probe() is truthy; throws with the output if the process exits first. */
  until<T>(probe: () => Promise<T | false | undefined>, what: string): Promise<T>;
  /** SIGTERM, then the exit code (or signal name). */
  stop(): Promise<number | string>;
}

export function startService(argv: readonly string[], env: Record<string, string> = {}): ServiceProcess {
  const [command, ...args] = argv;
  if (!command) throw new Error("empty command line");
  const child = spawn(command, args, {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | string>((resolve) =>
    child.once("exit", (code, signal) => resolve(code ?? signal ?? "unknown")),
  );
  let exitedWith: number | string | undefined;
  void exited.then((how) => {
    exitedWith = how;
  });
  return {
    child,
    output: () => output,
    until: (probe, what) =>
      waitFor(
        async () => {
          if (exitedWith !== undefined) throw new Error(`${command} exited with ${exitedWith}`);
          return probe();
        },
        { what, timeoutMs: 60_000, intervalMs: 100 },
      ).catch((error: Error) => {
        throw new Error(`${error.message}\n${argv.join(" ")} output:\n${output.slice(-3000)}`);
      }),
    stop: async () => {
      if (exitedWith !== undefined) return exitedWith;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      const how = await exited;
      clearTimeout(timer);
      return how;
    },
  };
}

/**
 * Waits until the control plane with this data directory answers /readyz over HTTPS (verified against
 * its CA) and then lists namespaces with its admin kubeconfig; resolves to those namespaces' names.
 */
export async function controlPlaneReady(
  service: Pick<ServiceProcess, "until">,
  dataDir: string,
  port: number,
): Promise<string[]> {
  await service.until(async () => {
    const ca = readFileSync(join(dataDir, "pki", "ca.crt"), "utf8");
    const res = await tlsFetch(`https://127.0.0.1:${port}/readyz`, {}, { ca });
    const body = await res.text();
    // The admin kubeconfig is written just after the server starts listening.
    return res.status === 200 && body.includes("ok") && existsSync(join(dataDir, "admin.kubeconfig"));
  }, `the control plane's /readyz on 127.0.0.1:${port} and its admin kubeconfig`);
  const client = new ApiClient(await loadKubeconfig(join(dataDir, "admin.kubeconfig")));
  try {
    const list = await client.list({ version: "v1", resource: "namespaces" });
    return list.items.map((ns) => ns.metadata?.name ?? "");
  } finally {
    client.close();
  }
}
