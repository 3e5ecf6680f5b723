// The static-pod suite (./static-pods.suite.ts) against the shared Docker engine.
import { staticPodSuite } from "./static-pods.suite.ts";

staticPodSuite("docker");
