// The deckhand debug suite (./debug.suite.ts) against the shared Docker engine.
import { debugSuite } from "./debug.suite.ts";

debugSuite("docker");
