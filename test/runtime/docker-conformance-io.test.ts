// The runtime conformance suite against the real Docker engine, second half: exec/attach/port-forward,
// logs, images and stats (pods and faults are in docker-conformance.test.ts).
import { createDockerRuntime } from "../../src/runtime/docker/index.ts";
import { requireSocket, testEnv } from "../support/env.ts";
import { runtimeConformance } from "./conformance/index.ts";

runtimeConformance(
  "docker",
  async () => {
    requireSocket(testEnv.dockerSocket, "Docker engine");
    return {
      runtime: createDockerRuntime({ socketPath: testEnv.dockerSocket, pauseImage: testEnv.pauseImage }),
    };
  },
  {
    connectTo: (socketPath) => createDockerRuntime({ socketPath, pauseImage: testEnv.pauseImage }),
    sections: ["exec", "logs", "images", "stats"],
  },
);
