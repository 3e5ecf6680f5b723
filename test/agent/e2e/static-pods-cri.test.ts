// The static-pod suite (./static-pods.suite.ts) against the shared test containerd over CRI.
import { staticPodSuite } from "./static-pods.suite.ts";

staticPodSuite("cri");
