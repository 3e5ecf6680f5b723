// The resilience suite (./resilience.suite.ts) against the shared test containerd over CRI.
import { resilienceSuite } from "./resilience.suite.ts";

resilienceSuite("cri");
