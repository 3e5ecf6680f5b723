// The probe suite (./probes.suite.ts) against the shared Docker engine.
import { probeSuite } from "./probes.suite.ts";

probeSuite("docker");
