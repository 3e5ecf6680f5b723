// Command-line flags of the controller manager part of `deckhand control-plane`, named like upstream's
// kube-controller-manager and kube-apiserver flags. Kept free of heavy imports: flags are checked before the
// control plane is loaded. Each error names the flag, the bad value and what is accepted.
import type { Command } from "commander";
import { formatDuration, parseDuration } from "../../util/duration.ts";
import type { ControllersConfig } from "./embed.ts";

/** Flag values as commander hands them over; a missing one takes its default. */
export interface ControllerFlags {
  leaderElect?: string;
  nodeMonitorPeriod?: string;
  nodeMonitorGracePeriod?: string;
  nodeStartupGracePeriod?: string;
  nodeCidrMaskSize?: string;
  defaultNotReadyTolerationSeconds?: string;
  defaultUnreachableTolerationSeconds?: string;
  clusterSigningDuration?: string;
}

export const CONTROLLER_FLAG_DEFAULTS: Required<ControllerFlags> = {
  leaderElect: "true",
  nodeMonitorPeriod: "5s",
  nodeMonitorGracePeriod: "50s",
  nodeStartupGracePeriod: "1m",
  nodeCidrMaskSize: "24",
  defaultNotReadyTolerationSeconds: "300",
  defaultUnreachableTolerationSeconds: "300",
  clusterSigningDuration: "8760h",
};

export function addControllerOptions(command: Command): Command {
  return command
    .option(
      "--leader-elect <bool>",
      "run the controllers only while holding the kube-system/deckhand-controller-manager Lease",
      CONTROLLER_FLAG_DEFAULTS.leaderElect,
    )
    .option(
      "--node-monitor-period <duration>",
      "how often the node lifecycle controller checks every node",
      CONTROLLER_FLAG_DEFAULTS.nodeMonitorPeriod,
    )
    .option(
      "--node-monitor-grace-period <duration>",
      "heartbeat silence after which a node is marked Unknown and tainted unreachable",
      CONTROLLER_FLAG_DEFAULTS.nodeMonitorGracePeriod,
    )
    .option(
      "--node-startup-grace-period <duration>",
      "silence allowed to a node that never reported Ready",
      CONTROLLER_FLAG_DEFAULTS.nodeStartupGracePeriod,
    )
    .option(
      "--node-cidr-mask-size <bits>",
      "prefix length of the pod CIDR each node gets from --cluster-cidr",
      CONTROLLER_FLAG_DEFAULTS.nodeCidrMaskSize,
    )
    .option(
      "--default-not-ready-toleration-seconds <n>",
      "tolerationSeconds of the not-ready:NoExecute toleration added to every pod",
      CONTROLLER_FLAG_DEFAULTS.defaultNotReadyTolerationSeconds,
    )
    .option(
      "--default-unreachable-toleration-seconds <n>",
      "tolerationSeconds of the unreachable:NoExecute toleration added to every pod (how long pods stay on a failed node)",
      CONTROLLER_FLAG_DEFAULTS.defaultUnreachableTolerationSeconds,
    )
    .option(
      "--cluster-signing-duration <duration>",
      "validity of the node client and serving certificates the CSR signer issues",
      CONTROLLER_FLAG_DEFAULTS.clusterSigningDuration,
    );
}

function duration(flag: string, value: string): number {
  const ms = parseDuration(value.trim());
  if (ms === undefined || ms <= 0) {
    throw new Error(
      `${flag} ${JSON.stringify(value)}: expected a positive duration such as 40s, 500ms or 1m30s`,
    );
  }
  return ms;
}

function integer(flag: string, value: string, min: number, max: number): number {
  const n = Number(value.trim());
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new Error(`${flag} ${JSON.stringify(value)}: expected a whole number from ${min} to ${max}`);
  }
  return n;
}

/** The controller settings the flags describe (everything but which controllers run). */
export function parseControllerOptions(given: ControllerFlags): ControllersConfig {
  const flags: Required<ControllerFlags> = { ...CONTROLLER_FLAG_DEFAULTS };
  for (const [k, v] of Object.entries(given))
    if (k in flags && typeof v === "string") flags[k as keyof ControllerFlags] = v;
  const leaderElect = flags.leaderElect.trim().toLowerCase();
  if (leaderElect !== "true" && leaderElect !== "false") {
    throw new Error(`--leader-elect ${JSON.stringify(flags.leaderElect)}: expected true or false`);
  }
  const monitorPeriodMs = duration("--node-monitor-period", flags.nodeMonitorPeriod);
  const gracePeriodMs = duration("--node-monitor-grace-period", flags.nodeMonitorGracePeriod);
  const startupGracePeriodMs = duration("--node-startup-grace-period", flags.nodeStartupGracePeriod);
  if (gracePeriodMs <= monitorPeriodMs) {
    throw new Error(
      `--node-monitor-grace-period ${formatDuration(gracePeriodMs)} must be longer than --node-monitor-period ${formatDuration(monitorPeriodMs)}`,
    );
  }
  return {
    leaderElection: { enabled: leaderElect === "true" },
    nodeLifecycle: { monitorPeriodMs, gracePeriodMs, startupGracePeriodMs },
    clusterSigningDurationMs: duration("--cluster-signing-duration", flags.clusterSigningDuration),
    nodeCidrMaskSize: integer("--node-cidr-mask-size", flags.nodeCidrMaskSize, 1, 30),
    defaultTolerationSeconds: {
      notReadySeconds: integer(
        "--default-not-ready-toleration-seconds",
        flags.defaultNotReadyTolerationSeconds,
        0,
        2 ** 31 - 1,
      ),
      unreachableSeconds: integer(
        "--default-unreachable-toleration-seconds",
        flags.defaultUnreachableTolerationSeconds,
        0,
        2 ** 31 - 1,
      ),
    },
  };
}
