// Loads a kubeconfig file (the format kubectl reads) into what the API client needs to connect.
import { readFile } from "node:fs/promises";
import { dirname, isAbsolute, resolve } from "node:path";
import { parseYamlStrict } from "../../util/yaml.ts";

export interface ClusterConnection {
  /** Base URL of the API server, e.g. https://10.0.0.1:6443, without a trailing slash. */
  server: string;
  /** PEM CA bundle to verify the server with; undefined = the system's roots. */
  ca?: Buffer;
  insecureSkipTlsVerify: boolean;
  /** Server name for TLS verification when it differs from the URL's host. */
  tlsServerName?: string;
  clientCertificate?: Buffer;
  clientKey?: Buffer;
  token?: string;
  /** Read the token from this file on every request (rotating service-account/bootstrap tokens). */
  tokenFile?: string;
  username?: string;
  password?: string;
  /** The context's default namespace ("default" when unset). */
  namespace: string;
  /** Where this came from, for error messages. */
  source: string;
}

interface KubeconfigFile {
  "current-context"?: string;
  clusters?: Array<{ name: string; cluster?: Record<string, unknown> }>;
  users?: Array<{ name: string; user?: Record<string, unknown> }>;
  contexts?: Array<{ name: string; context?: { cluster?: string; user?: string; namespace?: string } }>;
}

export class KubeconfigError extends Error {
  constructor(path: string, problem: string) {
    super(`kubeconfig ${path}: ${problem}`);
    this.name = "KubeconfigError";
  }
}

/** Loads `path`, using `context` or the file's current-context. Relative file references resolve against the file. */
export async function loadKubeconfig(path: string, context?: string): Promise<ClusterConnection> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new KubeconfigError(
      path,
      `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
    );
  }
  let doc: KubeconfigFile;
  try {
    doc = (parseYamlStrict(text) ?? {}) as KubeconfigFile;
  } catch (error) {
    throw new KubeconfigError(path, `is not valid YAML: ${(error as Error).message}`);
  }
  return resolveKubeconfig(doc, path, context);
}

async function resolveKubeconfig(
  doc: KubeconfigFile,
  path: string,
  contextName?: string,
): Promise<ClusterConnection> {
  const wanted = contextName ?? doc["current-context"];
  if (!wanted) throw new KubeconfigError(path, "has no current-context and no context was given");
  const context = doc.contexts?.find((c) => c.name === wanted)?.context;
  if (!context) throw new KubeconfigError(path, `context "${wanted}" not found`);
  const cluster = doc.clusters?.find((c) => c.name === context.cluster)?.cluster;
  if (!cluster)
    throw new KubeconfigError(path, `cluster "${context.cluster}" (of context "${wanted}") not found`);
  const user = (context.user ? doc.users?.find((u) => u.name === context.user)?.user : undefined) ?? {};

  const server = stringField(cluster, "server");
  if (!server) throw new KubeconfigError(path, `cluster "${context.cluster}" has no server`);
  try {
    new URL(server);
  } catch {
    throw new KubeconfigError(path, `cluster "${context.cluster}" server "${server}" is not a URL`);
  }

  const base = dirname(path);
  const file = async (dataKey: string, fileKey: string, from: Record<string, unknown>) => {
    const data = stringField(from, dataKey);
    if (data) return Buffer.from(data, "base64");
    const ref = stringField(from, fileKey);
    if (!ref) return undefined;
    const full = isAbsolute(ref) ? ref : resolve(base, ref);
    try {
      return await readFile(full);
    } catch (error) {
      throw new KubeconfigError(
        path,
        `${fileKey} ${full} cannot be read (${(error as NodeJS.ErrnoException).code})`,
      );
    }
  };

  const tokenFileRef = stringField(user, "tokenFile");
  return {
    server: server.replace(/\/+$/, ""),
    ca: await file("certificate-authority-data", "certificate-authority", cluster),
    insecureSkipTlsVerify: cluster["insecure-skip-tls-verify"] === true,
    tlsServerName: stringField(cluster, "tls-server-name"),
    clientCertificate: await file("client-certificate-data", "client-certificate", user),
    clientKey: await file("client-key-data", "client-key", user),
    token: stringField(user, "token"),
    tokenFile: tokenFileRef
      ? isAbsolute(tokenFileRef)
        ? tokenFileRef
        : resolve(base, tokenFileRef)
      : undefined,
    username: stringField(user, "username"),
    password: stringField(user, "password"),
    namespace: context.namespace ?? "default",
    source: path,
  };
}

function stringField(from: Record<string, unknown>, key: string): string | undefined {
  const value = from[key];
  return typeof value === "string" && value !== "" ? value : undefined;
}
