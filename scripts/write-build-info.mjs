// Records the git commit a build came from, so that `deckhand version` can name it without git.
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";

let gitCommit = "unknown";
try {
  gitCommit = execFileSync("git", ["rev-parse", "--short=12", "HEAD"], {
    stdio: ["ignore", "pipe", "ignore"],
  })
    .toString()
    .trim();
} catch {
  // Not a git checkout (e.g. a source tarball): keep "unknown".
}
mkdirSync("dist", { recursive: true });
writeFileSync("dist/build-info.json", `${JSON.stringify({ gitCommit }, null, 2)}\n`);
