// The node suite (./node.suite.ts) against the shared test containerd over CRI.
import { nodeSuite } from "./node.suite.ts";

nodeSuite("cri");
