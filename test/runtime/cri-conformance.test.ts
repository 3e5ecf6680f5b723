// The runtime conformance suite against the real test containerd (CRI) that scripts/setup-host.sh starts.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCriRuntime } from "../../src/runtime/cri/index.ts";
import { requireSocket, testEnv } from "../support/env.ts";
import { runtimeConformance } from "./conformance/index.ts";

// Pod log directories of this file's sandboxes (kubelet's /var/log/pods on a node).
const podLogRoot = mkdtempSync(join(tmpdir(), "deckhand-cri-conformance-logs-"));

runtimeConformance(
  "cri (containerd)",
  async () => {
    requireSocket(testEnv.criSocket, "test containerd (CRI)");
    return {
      runtime: createCriRuntime({ endpoint: testEnv.criEndpoint, podLogRoot }),
      cleanup: async () => rmSync(podLogRoot, { recursive: true, force: true }),
    };
  },
  {
    connectTo: (socketPath) =>
      createCriRuntime({ endpoint: socketPath, podLogRoot, requestTimeoutMs: 10_000 }),
  },
);
