// `deckhand join https://HOST:6443 --token T --discovery-token-ca-cert-hash sha256:H`: join this machine to
// a cluster as a node (the flow lives in src/agent/bootstrap/join.ts). Flags are checked before anything
// happens; each error names the flag and what is accepted.

import { hostname } from "node:os";
import type { Command } from "commander";
import { parseDuration } from "../util/duration.ts";

interface JoinFlags {
  token?: string;
  discoveryTokenCaCertHash?: string;
  nodeName?: string;
  runtime?: string;
  configDir: string;
  dataDir: string;
  dryRun?: boolean;
  service: boolean;
  timeout: string;
}

export function registerJoinCommand(program: Command): void {
  program
    .command("join <server>")
    .description(
      "join this machine to a cluster as a node: pin the CA, get a client certificate, install the agent",
    )
    .option("--token <token>", "bootstrap token from `deckhand token create` ([a-z0-9]{6}.[a-z0-9]{16})")
    .option(
      "--discovery-token-ca-cert-hash <sha256:hex>",
      "hash of the cluster CA's public key (printed by `deckhand token create`)",
    )
    .option("--node-name <name>", "name of this node (default: the hostname)")
    .option("--runtime <kind>", "container runtime the agent uses: cri (containerd) or docker")
    .option("--config-dir <dir>", "where the kubeconfig, CA and agent.yaml go", "/etc/deckhand")
    .option(
      "--data-dir <dir>",
      "the agent's state directory (client certificate under pki/)",
      "/var/lib/deckhand",
    )
    .option("--dry-run", "check the token and the CA, print what would be written and run, change nothing")
    .option("--no-service", "write the files but do not install or start the systemd unit")
    .option("--timeout <duration>", "how long to wait for the certificate to be approved and issued", "5m")
    .action(async (server: string, flags: JoinFlags) => {
      const fail = (message: string, exitCode: number) => program.error(`error: ${message}`, { exitCode });
      if (!flags.token)
        fail("--token is required (create one with `deckhand token create` on the control plane)", 2);
      if (!flags.discoveryTokenCaCertHash) {
        fail(
          "--discovery-token-ca-cert-hash is required: without a pinned CA anybody between here and the server could pose as it",
          2,
        );
      }
      if (flags.runtime !== undefined && flags.runtime !== "cri" && flags.runtime !== "docker") {
        fail(`--runtime must be "cri" or "docker", not ${JSON.stringify(flags.runtime)}`, 2);
      }
      const timeoutMs = parseDuration(flags.timeout);
      if (timeoutMs === undefined || timeoutMs <= 0)
        fail(`--timeout ${JSON.stringify(flags.timeout)}: expected a duration such as 5m or 30s`, 2);
      const { joinCluster, JoinError, validateJoinOptions } = await import("../agent/bootstrap/join.ts");
      const { DiscoveryError } = await import("../agent/bootstrap/discovery.ts");
      const options = {
        server,
        token: flags.token as string,
        caHash: flags.discoveryTokenCaCertHash as string,
        nodeName: flags.nodeName ?? hostname().toLowerCase(),
      };
      const problems = validateJoinOptions(options);
      if (problems.length > 0) fail(problems.join("; "), 2);
      try {
        await joinCluster({
          ...options,
          ...(flags.runtime ? { runtime: flags.runtime as "cri" | "docker" } : {}),
          configDir: flags.configDir,
          dataDir: flags.dataDir,
          dryRun: flags.dryRun === true,
          installService: flags.service,
          timeoutMs: timeoutMs as number,
          say: (line) => process.stdout.write(`${line}\n`),
        });
      } catch (error) {
        if (error instanceof JoinError || error instanceof DiscoveryError) fail(error.message, 1);
        throw error;
      }
    });
}
