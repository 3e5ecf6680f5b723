// The runtime conformance suite against the real Docker engine (scripts/setup-host.sh starts it); the
// suite is spread over two files so that they run in parallel: pods and faults here, I/O in
// docker-conformance-io.test.ts.
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
    sections: ["sandboxes", "containers", "faults"],
  },
);
