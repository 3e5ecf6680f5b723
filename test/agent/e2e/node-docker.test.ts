// The node suite (./node.suite.ts) against the shared Docker engine.
import { nodeSuite } from "./node.suite.ts";

nodeSuite("docker");
