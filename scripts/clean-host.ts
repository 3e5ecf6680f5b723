// Removes what killed test and benchmark runs left in the shared test engines: every sandbox and container a
// Deckhand node made (label io.deckhand.node), in dockerd and in the test containerd. Run by
// scripts/clean-host.sh, which also removes unused network namespaces; never while tests are running.

import { RuntimeLabels } from "../src/runtime/types.ts";
import {
  type AgentRuntimeKind,
  connectRuntime,
  nodeObjects,
  removeNodeObjects,
} from "../test/support/agent.ts";

for (const kind of ["docker", "cri"] as AgentRuntimeKind[]) {
  const runtime = connectRuntime(kind);
  try {
    const nodes = new Set<string>();
    for (const object of [...(await runtime.listPodSandboxes({})), ...(await runtime.listContainers({}))]) {
      const node = object.labels?.[RuntimeLabels.nodeName];
      if (node) nodes.add(node);
    }
    let sandboxes = 0;
    let containers = 0;
    for (const node of nodes) {
      const left = await nodeObjects(runtime, node);
      sandboxes += left.sandboxes.length;
      containers += left.containers.length;
      await removeNodeObjects(runtime, node);
    }
    console.log(
      `${kind}: removed ${sandboxes} sandboxes and ${containers} containers of ${nodes.size} nodes`,
    );
  } catch (error) {
    console.error(`${kind}: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  } finally {
    await runtime.close();
  }
}
