// The pod suite (./pods.suite.ts) against the shared test containerd over CRI.
import { podSuite } from "./pods.suite.ts";

podSuite("cri");
