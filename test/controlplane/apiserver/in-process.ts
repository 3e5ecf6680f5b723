// An API server in this process on a plain-HTTP loopback port with a private SQLite store, everybody an
// anonymous admin, and a kubeconfig of its own for kubectl: for tests of API semantics that need neither
// the control plane's process nor its authentication.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import type { ResourceDefinition } from "../../../src/api/resource.ts";
import { resourceDefinitions } from "../../../src/api/schema/index.ts";
import { schemaPatchEngine } from "../../../src/controlplane/apiserver/patching.ts";
import { ApiServer, type ApiServerOptions } from "../../../src/controlplane/apiserver/server.ts";
import { openStorage } from "../../../src/controlplane/storage/index.ts";
import { KUBECTL, requireKubectl } from "../../support/controlplane.ts";
import { type RunResult, run } from "../../support/run.ts";

export interface InProcessServer {
  server: ApiServer;
  fetch(path: string, init?: RequestInit): Promise<Response>;
  kubectl(args: readonly string[]): Promise<RunResult>;
  stop(): Promise<void>;
}

export async function startInProcess(
  options: { definitions?: readonly ResourceDefinition[]; extra?: Partial<ApiServerOptions> } = {},
): Promise<InProcessServer> {
  const dir = mkdtempSync(join(tmpdir(), "deckhand-inproc-"));
  const storage = await openStorage("sqlite", join(dir, "data"));
  const server = new ApiServer({
    storage,
    definitions: options.definitions ?? resourceDefinitions,
    patch: schemaPatchEngine(),
    serviceCidr: "10.96.0.0/12",
    nodePortRange: "30000-32767",
    log: pino({ level: "warn" }),
    compactionIntervalMs: 0,
    ...options.extra,
  });
  const address = await server.listen("127.0.0.1", 0);
  await server.start();
  const url = `http://127.0.0.1:${address.port}`;
  const kubeconfig = join(dir, "kubeconfig");
  writeFileSync(
    kubeconfig,
    JSON.stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "c", cluster: { server: url } }],
      users: [{ name: "u", user: {} }],
      contexts: [{ name: "c", context: { cluster: "c", user: "u" } }],
      "current-context": "c",
    }),
  );
  return {
    server,
    fetch: (path, init) => fetch(`${url}${path}`, init),
    kubectl: (args) =>
      run(requireKubectl(KUBECTL), ["--kubeconfig", kubeconfig, "--cache-dir", join(dir, "cache"), ...args]),
    async stop() {
      await server.close();
      await storage.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
