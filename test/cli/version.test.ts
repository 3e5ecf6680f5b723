import { describe, expect, it } from "vitest";
import { run } from "../support/run.ts";

const cli = ["src/cli/main.ts"];

describe("deckhand CLI", () => {
  it("lists its subcommands in --help", async () => {
    const { stdout } = await run(process.execPath, [...cli, "--help"]);
    expect(stdout).toContain("Usage: deckhand");
    expect(stdout).toMatch(/^\s+version\b/m);
  });

  it("prints version, git commit, Node version and the Kubernetes API version", async () => {
    const { stdout } = await run(process.execPath, [...cli, "version", "-o", "json"]);
    const info = JSON.parse(stdout) as Record<string, string>;
    expect(info.deckhandVersion).toMatch(/^\d+\.\d+\.\d+/);
    expect(info.gitCommit).toMatch(/^([0-9a-f]{7,40}|unknown)$/);
    expect(info.nodeVersion).toBe(process.version);
    expect(info.kubernetesVersion).toMatch(/^v1\.\d+\.\d+$/);
    const text = (await run(process.execPath, [...cli, "version"])).stdout;
    expect(text).toContain(`Node ${process.version}`);
  });

  it("rejects an unknown output format naming the flag", async () => {
    const result = await run(process.execPath, [...cli, "version", "-o", "xml"], { allowFailure: true });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('--output must be "text" or "json"');
  });
});
