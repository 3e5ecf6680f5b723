import { uniqueName } from "./names.ts";
import { type RunOptions, type RunResult, run } from "./run.ts";

export interface NetnsOptions {
  /**
   * Routed to `lo` inside the namespace before anything else happens (the leak guard): a packet to this
   * range that no DNAT rule matches is swallowed locally and never leaves the namespace, and locally
   * generated traffic to a ClusterIP gets a route so that connect() reaches the nat table.
   */
  serviceCidr?: string;
}

export interface TestNetns {
  readonly name: string;
  /** Runs a command inside the namespace. */
  exec(command: string, args: readonly string[], options?: RunOptions): Promise<RunResult>;
  destroy(): Promise<void>;
}

/** Creates a fresh network namespace with `lo` up and, if asked, the service-CIDR leak guard. */
export async function createNetns(prefix: string, options: NetnsOptions = {}): Promise<TestNetns> {
  const name = uniqueName(prefix).slice(0, 31);
  await run("ip", ["netns", "add", name]);
  const ns: TestNetns = {
    name,
    exec: (command, args, runOptions) => run("ip", ["netns", "exec", name, command, ...args], runOptions),
    destroy: async () => {
      await run("ip", ["netns", "delete", name], { allowFailure: true });
    },
  };
  try {
    await ns.exec("ip", ["link", "set", "lo", "up"]);
    if (options.serviceCidr) await ns.exec("ip", ["route", "add", options.serviceCidr, "dev", "lo"]);
  } catch (error) {
    await ns.destroy();
    throw error;
  }
  return ns;
}
