// The service account token suite (./serviceaccount.suite.ts) against the test containerd (CRI).
import { serviceAccountSuite } from "./serviceaccount.suite.ts";

serviceAccountSuite("cri");
