import { defineConfig } from "vitest/config";

// Integration tests drive real engines (dockerd, containerd, iptables, registries); they run as separate
// processes so that each file keeps its own sockets and child processes, and in parallel because every
// test uses its own names, namespaces and ports.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    pool: "forks",
    // Most integration tests wait on engines, networks and child processes rather than on the CPU: four at
    // once keep a 2-core machine busy without starving any of them.
    maxWorkers: 4,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ["default"],
  },
});
