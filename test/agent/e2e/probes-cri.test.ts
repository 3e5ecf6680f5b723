// The probe suite (./probes.suite.ts) against the shared test containerd over CRI.
import { probeSuite } from "./probes.suite.ts";

probeSuite("cri");
