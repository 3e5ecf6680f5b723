// The runtime-restart suite (./runtime-restart.suite.ts): a private containerd the test kills and starts again.
import { runtimeRestartSuite } from "./runtime-restart.suite.ts";

runtimeRestartSuite("cri");
