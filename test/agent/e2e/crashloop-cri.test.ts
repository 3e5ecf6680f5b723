// The CrashLoopBackOff suite (./crashloop.suite.ts) against the shared test containerd over CRI.
import { crashLoopSuite } from "./crashloop.suite.ts";

crashLoopSuite("cri");
