// The resilience suite (./resilience.suite.ts) against the shared Docker engine.
import { resilienceSuite } from "./resilience.suite.ts";

resilienceSuite("docker");
