// The image suite (./images.suite.ts) against the shared Docker engine.
import { imageSuite } from "./images.suite.ts";

imageSuite("docker");
