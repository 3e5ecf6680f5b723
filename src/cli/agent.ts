// `deckhand agent`: runs the node agent until SIGTERM/SIGINT. Containers belong to the node, not to the
// agent process: stopping the agent leaves them running, and a restarted agent adopts them.

import { setFlagsFromString } from "node:v8";
import type { Command } from "commander";
import { pino } from "pino";
import { Agent } from "../agent/agent.ts";
import { type AgentConfig, ConfigError, loadConfig, type RuntimeKind } from "../agent/config.ts";
import { loadKubeconfig } from "../api/client/kubeconfig.ts";
import { createRuntime } from "../runtime/index.ts";

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

/**
 * V8 doubles the young generation (up to 64 MiB per semi-space) whenever many objects survive a scavenge,
 * and gives it back only after the process has been quiet for a while. A node agent is never quiet (the PLEG
 * relists every second, each relist's objects outlive an await), so with 100 pods it kept ~100 MiB more young
 * generation than it uses. Keep the initial 1 MiB semi-space: scavenges are a little more frequent, and
 * each costs in proportion to the objects that survive, not to the space.
 */
function keepYoungGenerationSmall(): void {
  setFlagsFromString("--semi-space-growth-factor=1");
}

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
      keepYoungGenerationSmall();
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
