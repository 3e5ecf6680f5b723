// `deckhand token create|list|delete`: bootstrap tokens for joining nodes, stored exactly as kubeadm stores
// them (Secret kube-system/bootstrap-token-<id>). `create` prints the token and the `deckhand join`
// command with the CA pin (--discovery-token-ca-cert-hash sha256:<SPKI hash>), like
// `kubeadm token create --print-join-command`. Talks to the API server as the admin kubeconfig's user.

import type { Command } from "commander";
import { parse } from "yaml";
import {
  BOOTSTRAP_TOKEN_NAMESPACE,
  BOOTSTRAP_TOKEN_SECRET_TYPE,
  DEFAULT_NODE_TOKEN_GROUP,
  formatToken,
  generateToken,
  parseToken,
  readTokenSecret,
  secretName,
  tokenSecret,
  validateExtraGroup,
} from "../api/bootstrap-token.ts";
import { ApiClient } from "../api/client/client.ts";
import { isNotFound } from "../api/client/errors.ts";
import { loadKubeconfig } from "../api/client/kubeconfig.ts";
import type { ConfigMap, Secret } from "../api/schema/core/config-types.ts";
import { parseDuration } from "../util/duration.ts";

/** Where `deckhand control-plane` (systemd unit) keeps its admin kubeconfig. */
export const DEFAULT_ADMIN_KUBECONFIG = "/var/lib/deckhand/control-plane/admin.kubeconfig";

const SECRETS = { version: "v1", resource: "secrets", namespace: BOOTSTRAP_TOKEN_NAMESPACE };

class UsageError extends Error {}

interface CommonFlags {
  kubeconfig?: string;
}

function kubeconfigPath(flags: CommonFlags): string {
  return flags.kubeconfig ?? process.env.KUBECONFIG ?? DEFAULT_ADMIN_KUBECONFIG;
}

async function client(
  flags: CommonFlags,
): Promise<{ client: ApiClient; ca: Buffer | undefined; server: string }> {
  const connection = await loadKubeconfig(kubeconfigPath(flags));
  return {
    client: new ApiClient(connection, { userAgent: "deckhand-token" }),
    ca: connection.ca,
    server: connection.server,
  };
}

/** "24h" → ms; "0" → no expiry. */
export function parseTtl(value: string): number {
  const ms = parseDuration(value.trim());
  if (ms === undefined || ms < 0) {
    throw new UsageError(
      `--ttl ${JSON.stringify(value)}: expected a duration such as 24h, 30m or 1h30m (0: never expires)`,
    );
  }
  return ms;
}

/** RFC 3339 without fractions, as kubeadm writes `expiration`. */
function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** The API server URL joining nodes should use: what cluster-info advertises, else the kubeconfig's. */
async function advertisedServer(api: ApiClient, fallback: string): Promise<string> {
  try {
    const info = await api.get<ConfigMap>({
      version: "v1",
      resource: "configmaps",
      namespace: "kube-public",
      name: "cluster-info",
    });
    const kubeconfig = parse(info.data?.kubeconfig ?? "") as {
      clusters?: Array<{ cluster?: { server?: string } }>;
    } | null;
    return kubeconfig?.clusters?.[0]?.cluster?.server || fallback;
  } catch (error) {
    if (isNotFound(error)) return fallback;
    throw error;
  }
}

/** kubeadm's TTL column (apimachinery's ShortHumanDuration): "23h", "59m", "3d". */
export function shortHumanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 48 * 3600) return `${Math.floor(seconds / 3600)}h`;
  if (seconds < 8 * 365 * 86400) return `${Math.floor(seconds / 86400)}d`;
  return `${Math.floor(seconds / (365 * 86400))}y`;
}

export function joinCommand(server: string, token: string, caHash: string): string {
  return `deckhand join ${server} --token ${token} --discovery-token-ca-cert-hash ${caHash}`;
}

interface CreateFlags extends CommonFlags {
  ttl: string;
  description?: string;
  groups: string;
  usages: string;
  printJoinCommand?: boolean;
  server?: string;
}

async function create(tokenArg: string | undefined, flags: CreateFlags): Promise<void> {
  const token = tokenArg === undefined ? generateToken() : parseToken(tokenArg);
  if (!token)
    throw new UsageError(`token ${JSON.stringify(tokenArg)} does not match [a-z0-9]{6}.[a-z0-9]{16}`);
  const ttlMs = parseTtl(flags.ttl);
  const extraGroups = flags.groups
    .split(",")
    .map((g) => g.trim())
    .filter(Boolean);
  for (const group of extraGroups) {
    const problem = validateExtraGroup(group);
    if (problem) throw new UsageError(`--groups: ${problem}`);
  }
  const usages = flags.usages
    .split(",")
    .map((u) => u.trim())
    .filter(Boolean);
  for (const usage of usages) {
    if (usage !== "authentication" && usage !== "signing") {
      throw new UsageError(`--usages: ${JSON.stringify(usage)} is not one of authentication, signing`);
    }
  }
  const { client: api, ca, server } = await client(flags);
  try {
    // The CA pin printed in the join command; importing the PKI library only here keeps `--help` light.
    const { caCertHash } = await import("../pki/index.ts");
    if (!ca)
      throw new UsageError(
        `${kubeconfigPath(flags)} has no certificate-authority: there is no CA to pin in the join command`,
      );
    const caHash = caCertHash(ca.toString("utf8"));
    await api.create(
      SECRETS,
      tokenSecret({
        ...token,
        usages: usages as Array<"authentication" | "signing">,
        extraGroups,
        ...(ttlMs > 0 ? { expiration: rfc3339(Date.now() + ttlMs) } : {}),
        ...(flags.description ? { description: flags.description } : {}),
      }) as unknown as Secret,
    );
    const joinServer = flags.server ?? (await advertisedServer(api, server));
    if (!flags.server && /^https:\/\/(127\.|\[::1\]|localhost)/.test(joinServer)) {
      process.stderr.write(
        `warning: the API server advertises ${joinServer}, a loopback address other machines cannot reach; pass --server https://<address workers reach>:<port>\n`,
      );
    }
    const command = joinCommand(joinServer, formatToken(token), caHash);
    if (flags.printJoinCommand) process.stdout.write(`${command}\n`);
    else process.stdout.write(`${formatToken(token)}\n${command}\n`);
  } finally {
    api.close();
  }
}

async function list(flags: CommonFlags): Promise<void> {
  const { client: api } = await client(flags);
  try {
    const secrets = await api.list<Secret>(SECRETS);
    const rows = [["TOKEN", "TTL", "EXPIRES", "USAGES", "DESCRIPTION", "EXTRA GROUPS"]];
    const now = Date.now();
    for (const secret of secrets.items) {
      if (secret.type !== BOOTSTRAP_TOKEN_SECRET_TYPE) continue;
      const token = readTokenSecret(secret);
      if ("invalid" in token) continue;
      const expires = token.expiration ? Date.parse(token.expiration) : undefined;
      const ttl =
        expires === undefined
          ? "<forever>"
          : expires <= now
            ? "<invalid>"
            : shortHumanDuration(expires - now);
      rows.push([
        formatToken(token),
        ttl,
        token.expiration ?? "<never>",
        token.usages.join(",") || "<none>",
        token.description ?? "<none>",
        token.extraGroups.join(",") || "<none>",
      ]);
    }
    const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
    for (const row of rows)
      process.stdout.write(
        `${row
          .map((c, i) => c.padEnd((widths[i] ?? 0) + 3))
          .join("")
          .trimEnd()}\n`,
      );
  } finally {
    api.close();
  }
}

async function remove(ids: string[], flags: CommonFlags): Promise<void> {
  if (ids.length === 0) throw new UsageError("name at least one token (or token id) to delete");
  const { client: api } = await client(flags);
  try {
    for (const arg of ids) {
      const id = parseToken(arg)?.id ?? (/^[a-z0-9]{6}$/.test(arg) ? arg : undefined);
      if (!id) throw new UsageError(`${JSON.stringify(arg)} is neither a token nor a token id ([a-z0-9]{6})`);
      try {
        await api.delete({ ...SECRETS, name: secretName(id) });
      } catch (error) {
        if (isNotFound(error)) throw new UsageError(`bootstrap token ${JSON.stringify(id)} not found`);
        throw error;
      }
      process.stdout.write(`bootstrap token "${id}" deleted\n`);
    }
  } finally {
    api.close();
  }
}

export function registerTokenCommand(program: Command): void {
  const token = program
    .command("token")
    .description("manage bootstrap tokens for joining nodes (like kubeadm token)");
  const run = (action: () => Promise<void>) =>
    action().catch((error: unknown) => {
      if (error instanceof UsageError) program.error(`error: ${error.message}`, { exitCode: 2 });
      program.error(`error: ${(error as Error).message}`, { exitCode: 1 });
    });
  token
    .command("create [token]")
    .description("create a bootstrap token and print it with the `deckhand join` command")
    .option("--kubeconfig <file>", `admin kubeconfig (default $KUBECONFIG or ${DEFAULT_ADMIN_KUBECONFIG})`)
    .option("--ttl <duration>", "time until the token expires and is deleted (0: never)", "24h")
    .option("--description <text>", "a human-readable description of the token")
    .option("--groups <list>", "extra groups the token authenticates as", DEFAULT_NODE_TOKEN_GROUP)
    .option("--usages <list>", "what the token may be used for", "signing,authentication")
    .option("--server <url>", "API server URL for the printed join command (default: cluster-info's)")
    .option("--print-join-command", "print only the join command")
    .action((arg: string | undefined, flags: CreateFlags) => run(() => create(arg, flags)));
  token
    .command("list")
    .description("list bootstrap tokens")
    .option("--kubeconfig <file>", `admin kubeconfig (default $KUBECONFIG or ${DEFAULT_ADMIN_KUBECONFIG})`)
    .action((flags: CommonFlags) => run(() => list(flags)));
  token
    .command("delete <token...>")
    .description("delete bootstrap tokens by token or token id")
    .option("--kubeconfig <file>", `admin kubeconfig (default $KUBECONFIG or ${DEFAULT_ADMIN_KUBECONFIG})`)
    .action((ids: string[], flags: CommonFlags) => run(() => remove(ids, flags)));
}
