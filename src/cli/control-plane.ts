// `deckhand control-plane`: runs the API server (HTTPS, certificates under DATA_DIR/pki) on SQLite or etcd
// until SIGTERM/SIGINT and writes an admin kubeconfig into the data directory. Flags are validated before anything starts; each error names the
// flag, the bad value and what is accepted.

import { accessSync, constants } from "node:fs";
import { isIP } from "node:net";
import { resolve } from "node:path";
import type { Command } from "commander";
import { pino } from "pino";
import { parseIpv4Cidr } from "../controlplane/apiserver/allocators/ip.ts";
import { parsePortRange } from "../controlplane/apiserver/allocators/ports.ts";
import {
  addControllerOptions,
  type ControllerFlags,
  parseControllerOptions,
} from "../controlplane/controllers/flags.ts";
import { parseDuration } from "../util/duration.ts";

interface ControlPlaneFlags extends ControllerFlags {
  dataDir?: string;
  listen: string;
  store: string;
  serviceCidr: string;
  clusterCidr: string;
  nodePortRange: string;
  controllers: string;
  logLevel: string;
  tlsSan?: string[];
  tokenAuthFile?: string;
  serviceAccountIssuer?: string;
  eventTtl?: string;
}

export class FlagError extends Error {}

const LOG_LEVELS = ["trace", "debug", "info", "warn", "error"];

/** Parses host:port (IPv6 in brackets); port 0 picks a free one. */
export function parseListen(value: string): { host: string; port: number } {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(value.trim());
  const port = match ? Number(match[3]) : Number.NaN;
  if (!match || port > 65535) {
    throw new FlagError(
      `--listen ${JSON.stringify(value)}: expected host:port such as 127.0.0.1:6443 (IPv6 as [::1]:6443)`,
    );
  }
  return { host: (match[1] ?? match[2]) as string, port };
}

/**
 * `--controllers` like kube-controller-manager's: "*" for all, names to add, "-name" to leave one out;
 * "" or "none" runs the API server alone. Resolves to the names to run, or false.
 */
export async function parseControllers(value: string): Promise<string[] | false> {
  const tokens = value
    .split(",")
    .map((t) => t.trim())
    .filter(Boolean);
  if (tokens.length === 0 || (tokens.length === 1 && tokens[0] === "none")) return false;
  const { CONTROLLER_NAMES } = await import("../controlplane/controllers/index.ts");
  const enabled = new Set<string>();
  for (const token of tokens) {
    const name = token.startsWith("-") ? token.slice(1) : token;
    if (name !== "*" && !CONTROLLER_NAMES.includes(name)) {
      throw new FlagError(
        `--controllers ${JSON.stringify(value)}: unknown controller ${JSON.stringify(name)}; known: ${CONTROLLER_NAMES.join(", ")} ("*" for all, "-name" to leave one out, "none" for the API server alone)`,
      );
    }
    if (name === "*") for (const n of CONTROLLER_NAMES) enabled.add(n);
    else if (token.startsWith("-")) enabled.delete(name);
    else enabled.add(name);
  }
  return enabled.size === 0 ? false : [...enabled];
}

/** Checks every flag; the control plane itself (storage, schemas) is only loaded once they are valid. */
export async function validateFlags(flags: ControlPlaneFlags) {
  if (!flags.dataDir) {
    throw new FlagError("--data-dir is required: the directory for the SQLite database and admin.kubeconfig");
  }
  const listen = parseListen(flags.listen);
  const cidr = (flag: string, value: string) => {
    try {
      return parseIpv4Cidr(value).text;
    } catch (error) {
      throw new FlagError(`${flag} ${(error as Error).message}`);
    }
  };
  const serviceCidr = cidr("--service-cidr", flags.serviceCidr);
  const clusterCidr = cidr("--cluster-cidr", flags.clusterCidr);
  let nodePortRange: string;
  try {
    nodePortRange = parsePortRange(flags.nodePortRange).text;
  } catch (error) {
    throw new FlagError(`--node-port-range ${(error as Error).message}`);
  }
  if (!LOG_LEVELS.includes(flags.logLevel)) {
    throw new FlagError(`--log-level ${JSON.stringify(flags.logLevel)}: use one of ${LOG_LEVELS.join(", ")}`);
  }
  const tlsSans = parseTlsSans(flags.tlsSan ?? []);
  let tokenAuthFile: string | undefined;
  if (flags.tokenAuthFile !== undefined) {
    tokenAuthFile = resolve(flags.tokenAuthFile);
    try {
      accessSync(tokenAuthFile, constants.R_OK);
    } catch {
      throw new FlagError(
        `--token-auth-file ${JSON.stringify(flags.tokenAuthFile)}: the file cannot be read`,
      );
    }
  }
  const eventTtl = flags.eventTtl ?? "1h";
  const eventTtlMs = parseDuration(eventTtl.trim());
  if (eventTtlMs === undefined) {
    throw new FlagError(
      `--event-ttl ${JSON.stringify(eventTtl)}: expected a duration such as 1h, 30m or 1h30m (0: events never expire)`,
    );
  }
  const serviceAccountIssuer = flags.serviceAccountIssuer?.trim();
  if (serviceAccountIssuer !== undefined && !URL.canParse(serviceAccountIssuer)) {
    throw new FlagError(
      `--service-account-issuer ${JSON.stringify(flags.serviceAccountIssuer)}: expected a URL such as https://kubernetes.default.svc.cluster.local`,
    );
  }
  const controllers = await parseControllers(flags.controllers);
  let controllerOptions: ReturnType<typeof parseControllerOptions>;
  try {
    controllerOptions = parseControllerOptions(flags);
  } catch (error) {
    throw new FlagError((error as Error).message);
  }
  // Last: this loads the storage backends.
  const { parseStorageSpec } = await import("../controlplane/storage/index.ts");
  try {
    parseStorageSpec(flags.store);
  } catch (error) {
    throw new FlagError((error as Error).message);
  }
  return {
    dataDir: resolve(flags.dataDir),
    listen,
    store: flags.store.trim(),
    serviceCidr,
    clusterCidr,
    nodePortRange,
    tlsSans,
    ...(tokenAuthFile ? { tokenAuthFile } : {}),
    ...(serviceAccountIssuer ? { serviceAccountIssuer } : {}),
    eventTtlMs,
    controllers,
    controllerOptions,
  };
}

const DNS_NAME = /^(\*\.)?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/** --tls-san values (repeatable, comma-separated): IP addresses or DNS names. */
export function parseTlsSans(values: readonly string[]): string[] {
  const sans: string[] = [];
  for (const value of values.flatMap((v) => v.split(","))) {
    const san = value.trim();
    if (san === "") continue;
    if (isIP(san) === 0 && !DNS_NAME.test(san)) {
      throw new FlagError(`--tls-san ${JSON.stringify(san)}: expected an IP address or a DNS name`);
    }
    sans.push(san);
  }
  return sans;
}

export function registerControlPlaneCommand(program: Command): void {
  const command = program
    .command("control-plane")
    .description("run the companion control plane: a Kubernetes-compatible API server on SQLite or etcd")
    .option("--data-dir <dir>", "directory for the SQLite database and the admin kubeconfig (required)")
    .option("--listen <host:port>", "address to serve the Kubernetes API on (HTTPS)", "127.0.0.1:6443")
    .option("--store <spec>", "sqlite, or etcd://host:port[,host:port…]", "sqlite")
    .option(
      "--service-cidr <cidr>",
      "ClusterIP range; its first address goes to the kubernetes Service",
      "10.96.0.0/12",
    )
    .option("--cluster-cidr <cidr>", "pod network of the cluster", "10.244.0.0/16")
    .option("--node-port-range <low-high>", "NodePort range", "30000-32767")
    .option(
      "--controllers <list>",
      'controllers to run next to the API server: "*" for all, names, "-name" to leave one out, "none"',
      "*",
    )
    .option(
      "--tls-san <name>",
      "extra DNS name or IP address for the serving certificate (repeatable, comma-separated)",
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .option("--token-auth-file <file>", 'static bearer tokens, CSV lines token,user,uid,"group1,group2"')
    .option(
      "--service-account-issuer <url>",
      "iss of service-account tokens, also the API audience (default https://kubernetes.default.svc.cluster.local)",
    )
    .option("--event-ttl <duration>", "how long an event is kept after its last write (0: forever)", "1h")
    .option("--log-level <level>", "trace, debug, info, warn or error", "info");
  addControllerOptions(command);
  command.action(async (flags: ControlPlaneFlags) => {
    let config: Awaited<ReturnType<typeof validateFlags>>;
    try {
      config = await validateFlags(flags);
    } catch (error) {
      if (error instanceof FlagError) program.error(`error: ${error.message}`, { exitCode: 2 });
      throw error;
    }
    const log = pino({ level: flags.logLevel, base: { component: "control-plane" } });
    const { startControlPlane } = await import("../controlplane/server.ts");
    const { controllers, controllerOptions, ...rest } = config;
    const running = await startControlPlane({
      ...rest,
      log,
      controllers: controllers === false ? false : { ...controllerOptions, controllers },
    });
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, "stopping");
      running.stop().then(
        () => process.exit(0),
        (error: unknown) => {
          log.error({ err: error }, "stop failed");
          process.exit(1);
        },
      );
    };
    process.on("SIGTERM", () => stop("SIGTERM"));
    process.on("SIGINT", () => stop("SIGINT"));
  });
}
