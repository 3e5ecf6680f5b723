// The image suite (./images.suite.ts) against the shared test containerd over CRI.
import { imageSuite } from "./images.suite.ts";

imageSuite("cri");
