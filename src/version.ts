import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The Kubernetes release whose API Deckhand speaks; kubectl picks its own binary from this minor. */
export const KUBERNETES_VERSION = { major: "1", minor: "32", gitVersion: "v1.32.0" } as const;

export interface BuildInfo {
  deckhandVersion: string;
  gitCommit: string;
  nodeVersion: string;
  kubernetesVersion: string;
}

/** The directory holding package.json, found by walking up from this module (works from src/ and dist/). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      readFileSync(join(dir, "package.json"));
      return dir;
    } catch {
      const parent = dirname(dir);
      if (parent === dir) throw new Error(`cannot find Deckhand's package.json above ${import.meta.url}`);
      dir = parent;
    }
  }
}

function readGitCommit(root: string): string {
  try {
    const recorded = JSON.parse(readFileSync(join(root, "dist", "build-info.json"), "utf8")) as {
      gitCommit?: string;
    };
    if (recorded.gitCommit) return recorded.gitCommit;
  } catch {
    // Not built: ask git directly (a source checkout).
  }
  try {
    return execFileSync("git", ["rev-parse", "--short=12", "HEAD"], {
      cwd: root,
      stdio: ["ignore", "pipe", "ignore"],
    })
      .toString()
      .trim();
  } catch {
    return "unknown";
  }
}

export function buildInfo(): BuildInfo {
  const root = packageRoot();
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };
  return {
    deckhandVersion: pkg.version,
    gitCommit: readGitCommit(root),
    nodeVersion: process.version,
    kubernetesVersion: KUBERNETES_VERSION.gitVersion,
  };
}
