#!/usr/bin/env node
import { Command } from "commander";
import { buildInfo } from "../version.ts";

type Register = (program: Command) => void;

// Each command's module is loaded only when that command runs (or for help): a long-running `deckhand agent`
// would otherwise keep the control plane's modules (API server, storage, scheduler, controllers) in memory
// for its whole life.
const COMMANDS: ReadonlyArray<[name: string, load: () => Promise<Register>]> = [
  ["agent", async () => (await import("./agent.ts")).registerAgentCommand],
  ["control-plane", async () => (await import("./control-plane.ts")).registerControlPlaneCommand],
  ["up", async () => (await import("./up.ts")).registerUpCommand],
  ["token", async () => (await import("./token.ts")).registerTokenCommand],
  ["join", async () => (await import("./join.ts")).registerJoinCommand],
  ["debug", async () => (await import("./debug.ts")).registerDebugCommand],
];

/** The program with every command, or only `only` when it names one. */
export async function buildProgram(only?: string): Promise<Command> {
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

  const selected = COMMANDS.filter(([name]) => name === only);
  for (const [, load] of selected.length > 0 ? selected : COMMANDS) (await load())(program);
  return program;
}

await (await buildProgram(process.argv[2])).parseAsync(process.argv);
