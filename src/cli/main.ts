#!/usr/bin/env node
import { Command } from "commander";
import { buildInfo } from "../version.ts";
import { registerAgentCommand } from "./agent.ts";
import { registerControlPlaneCommand } from "./control-plane.ts";
import { registerDebugCommand } from "./debug.ts";
import { registerJoinCommand } from "./join.ts";
import { registerTokenCommand } from "./token.ts";
import { registerUpCommand } from "./up.ts";

export function buildProgram(): Command {
  const program = new Command("deckhand")
    .description(
      "Kubernetes node agent (kubelet + kube-proxy in one daemon) and a small companion control plane",
    )
    .version(buildInfo().deckhandVersion, "--version", "print Deckhand's version");

  program
    .command("version")
    .description(
      "print Deckhand's version, git commit, Node version and the Kubernetes API version it speaks",
    )
    .option("-o, --output <format>", "text or json", "text")
    .action((opts: { output: string }) => {
      const info = buildInfo();
      if (opts.output === "json") {
        process.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
        return;
      }
      if (opts.output !== "text") {
        program.error(`error: --output must be "text" or "json", not "${opts.output}"`);
      }
      process.stdout.write(
        `Deckhand ${info.deckhandVersion} (commit ${info.gitCommit})\n` +
          `Node ${info.nodeVersion}\n` +
          `Kubernetes API ${info.kubernetesVersion}\n`,
      );
    });

  registerAgentCommand(program);
  registerControlPlaneCommand(program);
  registerUpCommand(program);
  registerTokenCommand(program);
  registerJoinCommand(program);
  registerDebugCommand(program);
  return program;
}

await buildProgram().parseAsync(process.argv);
