// The runtime conformance suite: the same tests for every Runtime driver, run against the real runtimes.
//
//   runtimeConformance("docker", async () => ({ runtime: createDockerRuntime({...}) }), {
//     connectTo: (socketPath) => createDockerRuntime({ socketPath }),
//     sections: ["sandboxes", "containers"],   // optional: spread the suite over several files
//   });
//
// What a driver must do to pass, beyond the Runtime interface's own documentation:
//   - label every sandbox and container with RuntimeLabels derived from the metadata (pod UID, name,
//     namespace; container name and attempt as restartCount) plus RuntimeLabels.managedBy = "true", and
//     return them, with the caller's labels and annotations, from status and list calls;
//   - reject invalid requests with RUNTIME_INVALID whose `field` is the path inside the request object, e.g.
//     "portMappings[0].containerPort", "mounts[0].containerPath", "resources.memoryLimitBytes", "port";
//   - apply a tty resize before pulling the next size from the `resize` iterable;
//   - treat stopPodSandbox/removePodSandbox/removeContainer/removeImage of missing objects as success.
// Every test creates its own pod (unique name, namespace, UID) and asserts afterwards that nothing labelled
// with that UID is left in the runtime.
import { afterAll, beforeAll, describe } from "vitest";
import type { Runtime } from "../../../src/runtime/types.ts";
import { containerTests } from "./containers.ts";
import {
  type ConformanceOptions,
  type ConformanceSection,
  type ConformanceTarget,
  createContext,
  resolveOptions,
  type SuiteContext,
} from "./context.ts";
import { execTests } from "./exec.ts";
import { faultTests } from "./faults.ts";
import { imageTests } from "./images.ts";
import { logTests } from "./logs.ts";
import { sandboxTests } from "./sandboxes.ts";
import { statsTests } from "./stats.ts";

export type { ConformanceOptions, ConformanceSection, ConformanceTarget } from "./context.ts";
export { ALL_SECTIONS } from "./context.ts";
export { type RestartConformanceOptions, runtimeRestartConformance } from "./restart.ts";
export { SocketProxy } from "./socket-proxy.ts";

const SECTIONS: Record<ConformanceSection, (ctx: SuiteContext) => void> = {
  sandboxes: sandboxTests,
  containers: containerTests,
  exec: execTests,
  logs: logTests,
  images: imageTests,
  stats: statsTests,
  faults: faultTests,
};

/**
 * Registers the conformance suite for one driver. `factory` is called once (beforeAll) for the runtime
 * under test; its runtime is closed and `cleanup` called afterAll.
 */
export function runtimeConformance(
  name: string,
  factory: () => Promise<ConformanceTarget>,
  options: ConformanceOptions,
): void {
  const resolved = resolveOptions(options);
  describe(`runtime conformance: ${name}`, () => {
    let target: ConformanceTarget | undefined;
    beforeAll(async () => {
      target = await factory();
    });
    afterAll(async () => {
      await target?.runtime.close();
      await target?.cleanup?.();
    });
    const runtime = (): Runtime => {
      if (!target) throw new Error(`the ${name} runtime was not created (see the beforeAll error)`);
      return target.runtime;
    };
    const ctx = createContext(resolved, runtime);
    for (const section of resolved.sections) SECTIONS[section](ctx);
  });
}
