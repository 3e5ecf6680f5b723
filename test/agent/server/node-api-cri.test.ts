// The node API end to end with containerd through CRI (see node-api.suite.ts).
import { nodeApiSuite } from "./node-api.suite.ts";

nodeApiSuite("cri");
