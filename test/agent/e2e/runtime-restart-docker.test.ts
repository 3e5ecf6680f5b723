// The runtime-restart suite (./runtime-restart.suite.ts): dockerd behind a socket proxy the test stops and starts.
import { runtimeRestartSuite } from "./runtime-restart.suite.ts";

runtimeRestartSuite("docker");
