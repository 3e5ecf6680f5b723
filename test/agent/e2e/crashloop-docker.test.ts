// The CrashLoopBackOff suite (./crashloop.suite.ts) against the shared Docker engine.
import { crashLoopSuite } from "./crashloop.suite.ts";

crashLoopSuite("docker");
