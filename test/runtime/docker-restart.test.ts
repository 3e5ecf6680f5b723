// The Docker driver when the engine goes away mid-test and comes back. The driver is pointed at a unix
// socket proxy in front of the shared dockerd (see conformance/restart.ts for why not restart dockerd
// itself: other test files use it at the same time, and a second dockerd next to it is unsafe on these hosts).
import { createDockerRuntime } from "../../src/runtime/docker/index.ts";
import { requireSocket, testEnv } from "../support/env.ts";
import { runtimeRestartConformance } from "./conformance/index.ts";

requireSocket(testEnv.dockerSocket, "Docker engine");

runtimeRestartConformance("docker", {
  upstreamSocket: testEnv.dockerSocket,
  connectTo: (socketPath) => createDockerRuntime({ socketPath, pauseImage: testEnv.pauseImage }),
  immediateRecovery: true,
});
