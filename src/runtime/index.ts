// Chooses and builds the container runtime driver the agent's configuration names.
import { createCriRuntime } from "./cri/index.ts";
import { createDockerRuntime } from "./docker/index.ts";
import type { Runtime } from "./types.ts";

export interface RuntimeSelection {
  runtime: "cri" | "docker";
  runtimeEndpoint: string;
  rootDir: string;
  podInfraContainerImage: string;
  allowNegativeOomScoreAdj: boolean;
}

export function createRuntime(selection: RuntimeSelection): Runtime {
  if (selection.runtime === "docker") {
    return createDockerRuntime({
      socketPath: selection.runtimeEndpoint,
      pauseImage: selection.podInfraContainerImage,
      restrictOomScoreAdj: !selection.allowNegativeOomScoreAdj,
    });
  }
  return createCriRuntime({ endpoint: selection.runtimeEndpoint });
}
