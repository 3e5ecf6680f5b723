// The service account token suite (./serviceaccount.suite.ts) against the shared Docker engine.
import { serviceAccountSuite } from "./serviceaccount.suite.ts";

serviceAccountSuite("docker");
