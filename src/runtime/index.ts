// Chooses and builds the container runtime driver the agent's configuration names. Only the chosen driver
// is loaded: the CRI driver brings gRPC and the Docker driver dockerode, and a node needs just one of them.
import type { Runtime } from "./types.ts";

export interface RuntimeSelection {
  runtime: "cri" | "docker";
  runtimeEndpoint: string;
  podInfraContainerImage: string;
  allowNegativeOomScoreAdj: boolean;
}

export async function createRuntime(selection: RuntimeSelection): Promise<Runtime> {
  if (selection.runtime === "docker") {
    const { createDockerRuntime } = await import("./docker/index.ts");
    return createDockerRuntime({
      socketPath: selection.runtimeEndpoint,
      pauseImage: selection.podInfraContainerImage,
      restrictOomScoreAdj: !selection.allowNegativeOomScoreAdj,
    });
  }
  const { createCriRuntime } = await import("./cri/index.ts");
  return createCriRuntime({ endpoint: selection.runtimeEndpoint });
}
