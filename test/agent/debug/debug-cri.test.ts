// The deckhand debug suite (./debug.suite.ts) against the shared test containerd over CRI.
import { debugSuite } from "./debug.suite.ts";

debugSuite("cri");
