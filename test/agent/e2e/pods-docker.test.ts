// The pod suite (./pods.suite.ts) against the shared Docker engine.
import { podSuite } from "./pods.suite.ts";

podSuite("docker");
