// `deckhand up`: a single-node cluster in one process — the control plane on embedded SQLite and the node
// agent joined to it with a node client certificate from the cluster CA (CN=system:node:<name>,
// O=system:nodes, as a joined node's) — until SIGTERM/SIGINT.
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { pino } from "pino";
import { Agent } from "../agent/agent.ts";
import { ConfigError, loadConfig, type RuntimeKind } from "../agent/config.ts";
import { loadKubeconfig } from "../api/client/kubeconfig.ts";
import { writeKubeconfig } from "../controlplane/kubeconfig.ts";
import { ensureClientCertificate } from "../controlplane/pki.ts";
import { startControlPlane } from "../controlplane/server.ts";
import { createRuntime } from "../runtime/index.ts";
import { parseListen } from "./control-plane.ts";

interface UpFlags {
  dataDir: string;
  runtime: string;
  runtimeEndpoint?: string;
  listen: string;
  nodeName?: string;
  podInfraContainerImage?: string;
  config?: string;
  proxyMode?: string;
  logLevel: string;
}

export function registerUpCommand(program: Command): void {
  program
    .command("up")
    .description("run a single-node cluster: control plane (SQLite) and node agent in one process")
    .option(
      "--data-dir <dir>",
      "state of the cluster: database, kubeconfig, pod volumes",
      "/var/lib/deckhand",
    )
    .option("--runtime <kind>", "container runtime: docker or cri (containerd)", "docker")
    .option("--runtime-endpoint <url>", "runtime socket (default: the runtime's standard socket)")
    .option("--listen <host:port>", "address of the Kubernetes API", "127.0.0.1:6443")
    .option("--node-name <name>", "name of the node (default: the hostname)")
    .option("--pod-infra-container-image <image>", "pause image for the Docker runtime's sandboxes")
    .option("--config <file>", "agent configuration file (KubeletConfiguration-style)")
    .option("--proxy-mode <mode>", "iptables (Service rules on this host) or none")
    .option("--log-level <level>", "trace, debug, info, warn or error", "info")
    .action(async (flags: UpFlags) => {
      const log = pino({ level: flags.logLevel });
      if (flags.runtime !== "docker" && flags.runtime !== "cri") {
        program.error(`error: --runtime must be "docker" or "cri", not "${flags.runtime}"`, { exitCode: 2 });
      }
      let listen: { host: string; port: number };
      try {
        listen = parseListen(flags.listen);
      } catch (error) {
        program.error(`error: ${(error as Error).message}`, { exitCode: 2 });
      }
      const dataDir = resolve(flags.dataDir);
      const agentKubeconfig = join(dataDir, "agent.kubeconfig");
      let config: Awaited<ReturnType<typeof loadConfig>>;
      try {
        config = await loadConfig({
          file: flags.config,
          flags: {
            kubeconfig: agentKubeconfig,
            nodeName: flags.nodeName,
            runtime: flags.runtime as RuntimeKind,
            runtimeEndpoint: flags.runtimeEndpoint,
            rootDir: join(dataDir, "agent"),
            podInfraContainerImage: flags.podInfraContainerImage,
            proxyMode: flags.proxyMode as "iptables" | "none" | undefined,
          },
        });
      } catch (error) {
        if (error instanceof ConfigError) program.error(`error: ${error.message}`, { exitCode: 2 });
        throw error;
      }

      const controlPlane = await startControlPlane({
        dataDir: join(dataDir, "control-plane"),
        listen,
        store: "sqlite",
        serviceCidr: "10.96.0.0/12",
        clusterCidr: "10.244.0.0/16",
        nodePortRange: "30000-32767",
        log: log.child({ component: "control-plane" }),
      });
      const nodeIdentity = await ensureClientCertificate(controlPlane.pki, {
        name: `node-${config.nodeName}`,
        commonName: `system:node:${config.nodeName}`,
        organizations: ["system:nodes"],
      });
      await writeKubeconfig(agentKubeconfig, {
        server: controlPlane.url,
        caPem: controlPlane.pki.ca.certPem,
        credentials: nodeIdentity,
        userName: `system:node:${config.nodeName}`,
      });
      const runtime = await createRuntime(config);
      const agent = new Agent({
        config,
        connection: await loadKubeconfig(agentKubeconfig),
        runtime,
        log: log.child({ component: "agent" }),
      });
      const abort = new AbortController();
      const running = agent.run(abort.signal);
      await agent.ready;
      process.stdout.write(
        `Deckhand is up: node ${config.nodeName} on ${runtime.name} (${runtime.endpoint}).\n` +
          `  export KUBECONFIG=${controlPlane.kubeconfigPath}\n` +
          `  kubectl get nodes\n`,
      );
      const stop = async (signal: string) => {
        log.info({ signal }, "stopping; containers keep running");
        abort.abort();
        await running;
        await runtime.close();
        await controlPlane.stop();
        process.exit(0);
      };
      process.once("SIGTERM", () => void stop("SIGTERM"));
      process.once("SIGINT", () => void stop("SIGINT"));
    });
}
