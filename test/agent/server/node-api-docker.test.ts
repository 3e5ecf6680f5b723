// The node API end to end with the Docker runtime (see node-api.suite.ts).
import { nodeApiSuite } from "./node-api.suite.ts";

nodeApiSuite("docker");
