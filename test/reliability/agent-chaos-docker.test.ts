// The agent chaos suite (./agent-chaos.suite.ts) on the docker runtime.
import { agentChaosSuite } from "./agent-chaos.suite.ts";

agentChaosSuite("docker");
