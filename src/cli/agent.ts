// `deckhand agent`: runs the node agent until SIGTERM/SIGINT. Containers belong to the node, not to the
// agent process: stopping the agent leaves them running, and a restarted agent adopts them.

import type { Command } from "commander";
import { pino } from "pino";
import { Agent } from "../agent/agent.ts";
import { type AgentConfig, ConfigError, loadConfig, type RuntimeKind } from "../agent/config.ts";
import { loadKubeconfig } from "../api/client/kubeconfig.ts";
import { createRuntime } from "../runtime/index.ts";
import { capYoungGeneration, limitOldGenerationGrowth } from "./heap-sizing.ts";

interface AgentFlags {
  kubeconfig?: string;
  nodeName?: string;
  runtime?: string;
  runtimeEndpoint?: string;
  rootDir?: string;
  config?: string;
  staticPodDir?: string;
  podInfraContainerImage?: string;
  proxyMode?: string;
  cleanupProxy?: boolean;
  logLevel: string;
}

/** The old generation may grow to 1.5× what the last full collection kept (./heap-sizing.ts). */
const OLD_GENERATION_GROWTH_PERCENT = 50;

/** The young generation the agent lets V8 grow to: two semi-spaces of 8 MiB. */
const YOUNG_GENERATION_CAP_BYTES = 16 * 1024 * 1024;

// V8 doubles the young generation (up to two 32 MiB semi-spaces) whenever many objects survive a scavenge,
// and gives it back only after the process has been quiet for a while. A node agent is never quiet (the PLEG
// relists every second, each relist's objects outlive an await; probes run many times a second): with 100
// pods V8's default kept ~90 MiB more young generation than the agent uses. Pinning the initial semi-space
// (--semi-space-growth-factor=1 for good) saves that, but objects that would have died young get promoted:
// the old generation fills with garbage (50–90 MiB of old and large-object space for ~27 MiB live) and is
// collected more often, which costs CPU (an allocation-heavy loop: 1.7× the CPU). A/B on 100 pods, agent
// restarted with each setting in the same run (shared machine, load 17–86, single samples): RSS idle
// 150–196 MiB pinned vs 124–200 capped, 126–252 uncapped; with 200 HTTP probes a second, agent CPU
// 10.1–14.4% pinned vs 3.3–13.1% capped (RSS 168–210 vs 121–210). Memory the same within the noise, less GC
// CPU: the young generation may grow to a cap of 8 MiB per semi-space. --max-semi-space-size would set
// that cap, but V8 reads it only when the heap is set up, and the agent's command line is not ours (a
// systemd unit, an image, a test harness start it); the growth factor, though, is read at every growth
// (./heap-sizing.ts).

export function registerAgentCommand(program: Command): void {
  program
    .command("agent")
    .description("run the node agent: register the node, run its pods, report their status")
    .option("--kubeconfig <file>", "kubeconfig to reach the API server with (without it: a standalone node)")
    .option("--node-name <name>", "name of this node (default: the hostname)")
    .option("--runtime <kind>", "container runtime: cri (containerd) or docker")
    .option("--runtime-endpoint <url>", "runtime socket, e.g. unix:///run/containerd/containerd.sock")
    .option("--root-dir <dir>", "directory for pod volumes and state (default /var/lib/deckhand)")
    .option("--config <file>", "YAML configuration file (KubeletConfiguration-style); flags override it")
    .option("--static-pod-dir <dir>", "directory of static pod manifests")
    .option("--pod-infra-container-image <image>", "pause image for the Docker runtime's sandboxes")
    .option("--proxy-mode <mode>", "iptables (kube-proxy's rules for Services) or none")
    .option("--cleanup-proxy", "remove every Deckhand iptables rule and chain, then exit")
    .option("--log-level <level>", "trace, debug, info, warn or error", "info")
    .action(async (flags: AgentFlags) => {
      capYoungGeneration(YOUNG_GENERATION_CAP_BYTES);
      limitOldGenerationGrowth(OLD_GENERATION_GROWTH_PERCENT);
      const log = pino({ level: flags.logLevel, base: { component: "agent" } });
      if (flags.cleanupProxy) {
        const { cleanupProxyRules, ExecIptables } = await import("../proxy/index.ts");
        const result = await cleanupProxyRules(await ExecIptables.create());
        process.stdout.write(`${JSON.stringify(result)}\n`);
        return;
      }
      if (flags.proxyMode !== undefined && flags.proxyMode !== "iptables" && flags.proxyMode !== "none") {
        process.stderr.write(
          `deckhand agent: --proxy-mode must be "iptables" or "none", not "${flags.proxyMode}"\n`,
        );
        process.exit(2);
      }
      let config: AgentConfig;
      try {
        config = await loadConfig({
          file: flags.config,
          flags: {
            kubeconfig: flags.kubeconfig,
            nodeName: flags.nodeName,
            runtime: flags.runtime as RuntimeKind | undefined,
            runtimeEndpoint: flags.runtimeEndpoint,
            rootDir: flags.rootDir,
            staticPodPath: flags.staticPodDir,
            podInfraContainerImage: flags.podInfraContainerImage,
            proxyMode: flags.proxyMode as "iptables" | "none" | undefined,
          },
        });
      } catch (error) {
        if (error instanceof ConfigError) {
          process.stderr.write(`deckhand agent: ${error.message}\n`);
          process.exit(2);
        }
        throw error;
      }
      if (flags.runtime && flags.runtime !== "cri" && flags.runtime !== "docker") {
        process.stderr.write(`deckhand agent: --runtime must be "cri" or "docker", not "${flags.runtime}"\n`);
        process.exit(2);
      }
      const connection = config.kubeconfig ? await loadKubeconfig(config.kubeconfig) : undefined;
      if (!connection) log.warn("no --kubeconfig: standalone node, running static pods only");
      const runtime = await createRuntime(config);
      const agent = new Agent({ config, connection, runtime, log });
      const abort = new AbortController();
      for (const signal of ["SIGTERM", "SIGINT"] as const) {
        process.once(signal, () => {
          log.info({ signal }, "stopping agent; containers keep running");
          abort.abort();
        });
      }
      await agent.run(abort.signal);
      await runtime.close();
      log.info("agent stopped");
    });
}
