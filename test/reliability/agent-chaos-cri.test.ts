// The agent chaos suite (./agent-chaos.suite.ts) on the cri runtime.
import { agentChaosSuite } from "./agent-chaos.suite.ts";

agentChaosSuite("cri");
