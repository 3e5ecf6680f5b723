// `deckhand join`: the kubeadm-join flow for a Deckhand node, step by step, each step printed as it
// happens:
//   1. discovery: read kube-public/cluster-info anonymously, check the token's signature on it and pin the
//      CA by its public key hash (./discovery.ts);
//   2. TLS bootstrap: over TLS verified against that CA, authenticated with the bootstrap token, ask for a
//      node client certificate (CN system:node:<name>, O system:nodes) and wait for it (./csr-request.ts);
//   3. write the CA, the client certificate + key (0600), the node kubeconfig and the agent configuration;
//   4. install and start the deckhand-agent systemd unit through scripts/install.sh (H4's interface).
// With dryRun nothing changes anywhere: discovery runs (it only reads), everything else is described.

import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { formatToken, parseToken } from "../../api/bootstrap-token.ts";
import { ApiClient } from "../../api/client/client.ts";
import { nodeClientRequest, requestCertificate } from "./csr-request.ts";
import {
  DiscoveryError,
  fetchClusterInfoUnverified,
  validateCaHash,
  verifyClusterInfo,
} from "./discovery.ts";
import {
  mergeAgentConfig,
  nodeFiles,
  readIfExists,
  renderNodeKubeconfig,
  writeCertFile,
  writeClientPem,
  writeKeyFile,
} from "./files.ts";

export interface JoinOptions {
  server: string;
  token: string;
  caHash: string;
  nodeName: string;
  runtime?: "docker" | "cri";
  configDir: string;
  dataDir: string;
  dryRun: boolean;
  /** false: write everything but leave systemd alone (tests, images that start the agent themselves). */
  installService: boolean;
  /** How long to wait for the certificate to be approved and issued. */
  timeoutMs: number;
  /** Extra agent configuration written into agent.yaml (KubeletConfiguration keys). */
  agentSettings?: Record<string, unknown>;
  /** Where each step is reported. */
  say: (line: string) => void;
}

export class JoinError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "JoinError";
  }
}

const INSTALLED_SCRIPT = "/opt/deckhand/scripts/install.sh";

/**
 * The installer call join hands over to (scripts/install.sh's interface): the installed copy only writes
 * the units and starts the agent (--units-only); from a source checkout it installs Deckhand itself too.
 */
export function installCommand(dryRun: boolean, installed = existsSync(INSTALLED_SCRIPT)): string[] {
  const script = installed
    ? INSTALLED_SCRIPT
    : join(import.meta.dirname, "..", "..", "..", "scripts", "install.sh");
  return [script, ...(installed ? ["--units-only"] : []), "--agent", ...(dryRun ? ["--dry-run"] : [])];
}

export function validateJoinOptions(
  options: Pick<JoinOptions, "server" | "token" | "caHash" | "nodeName">,
): string[] {
  const problems: string[] = [];
  let url: URL | undefined;
  try {
    url = new URL(options.server);
  } catch {
    problems.push(`${JSON.stringify(options.server)} is not a URL; expected https://HOST:6443`);
  }
  if (url && url.protocol !== "https:")
    problems.push(`the API server URL must be https://, not ${url.protocol}//`);
  if (!parseToken(options.token))
    problems.push("--token must look like [a-z0-9]{6}.[a-z0-9]{16} (from `deckhand token create`)");
  const hashProblem = validateCaHash(options.caHash);
  if (hashProblem) problems.push(`--discovery-token-ca-cert-hash ${hashProblem}`);
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(options.nodeName) || options.nodeName.length > 253) {
    problems.push(
      `--node-name ${JSON.stringify(options.nodeName)} is not a valid node name (lower-case DNS subdomain)`,
    );
  }
  return problems;
}

export async function joinCluster(options: JoinOptions): Promise<void> {
  const { say } = options;
  const problems = validateJoinOptions(options);
  if (problems.length > 0) throw new JoinError(problems.join("; "));
  const token = parseToken(options.token) as NonNullable<ReturnType<typeof parseToken>>;
  const server = options.server.replace(/\/+$/, "");
  const files = nodeFiles(options.configDir, options.dataDir);

  say(`[discovery] reading kube-public/cluster-info from ${server} (TLS not verified for this request only)`);
  const info = verifyClusterInfo(await fetchClusterInfoUnverified(server), token, options.caHash);
  say(
    `[discovery] cluster-info is signed by token "${token.id}" and its CA matches ${options.caHash}; CA pinned`,
  );

  const certificateRequest = nodeClientRequest(options.nodeName);
  if (options.dryRun) {
    say(
      `[dry-run] would ask for a client certificate: CN ${certificateRequest.commonName}, O ${certificateRequest.organizations.join(",")}, signer ${certificateRequest.signerName}`,
    );
  }
  let issued: { certPem: string; keyPem: string } | undefined;
  if (!options.dryRun) {
    const api = new ApiClient(
      {
        server,
        ca: Buffer.from(info.caPem),
        insecureSkipTlsVerify: false,
        token: formatToken(token),
        namespace: "default",
        source: "deckhand join (bootstrap token)",
      },
      { userAgent: "deckhand-join" },
    );
    try {
      say(
        `[tls-bootstrap] requesting a client certificate for ${certificateRequest.commonName} (TLS verified against the pinned CA)`,
      );
      issued = await requestCertificate(api, certificateRequest, {
        timeoutMs: options.timeoutMs,
        caPem: info.caPem,
        onCreated: (name) =>
          say(`[tls-bootstrap] created CertificateSigningRequest ${name}; waiting for approval and signing`),
      });
      say("[tls-bootstrap] certificate issued and checked against the CA and the local key");
    } catch (error) {
      if (error instanceof DiscoveryError) throw error;
      throw new JoinError(`TLS bootstrap failed: ${(error as Error).message}`);
    } finally {
      api.close();
    }
  }

  const settings: Record<string, unknown> = {
    nodeName: options.nodeName,
    kubeconfig: files.kubeconfig,
    rootDir: options.dataDir,
    staticPodPath: files.staticPodPath,
    rotateCertificates: true,
    // The node API's certificate from the cluster's kubelet-serving signer (approved for the node's own
    // addresses); the self-signed one serves until it arrives.
    serverTLSBootstrap: true,
    authentication: { x509: { clientCAFile: files.caFile } },
    ...(options.runtime ? { runtime: options.runtime } : {}),
    ...options.agentSettings,
  };
  const writes: Array<{ path: string; mode: string; write: () => Promise<void> }> = [
    { path: files.caFile, mode: "0644", write: () => writeCertFile(files.caFile, info.caPem) },
    {
      path: files.clientPem,
      mode: "0600",
      write: () => writeClientPem(files.clientPem, issued?.certPem ?? "", issued?.keyPem ?? ""),
    },
    {
      path: files.kubeconfig,
      mode: "0600",
      write: () =>
        writeKeyFile(files.kubeconfig, renderNodeKubeconfig({ server, nodeName: options.nodeName, files })),
    },
    {
      path: files.agentConfig,
      mode: "0600",
      write: async () =>
        writeKeyFile(files.agentConfig, mergeAgentConfig(await readIfExists(files.agentConfig), settings)),
    },
  ];
  for (const file of writes) {
    if (options.dryRun) {
      say(`[dry-run] would write ${file.path} (${file.mode})`);
    } else {
      await file.write();
      say(`[kubelet-start] wrote ${file.path} (${file.mode})`);
    }
  }
  if (!options.dryRun) await mkdir(files.staticPodPath, { recursive: true, mode: 0o755 });

  const install = installCommand(options.dryRun);
  if (!options.installService) {
    say(
      `[kubelet-start] not installing the systemd unit (--no-service); start the agent with: deckhand agent --config ${files.agentConfig}`,
    );
  } else if (options.dryRun) {
    say(`[dry-run] would run: ${install.join(" ")}`);
  } else {
    say(`[kubelet-start] installing and starting deckhand-agent.service: ${install.join(" ")}`);
    await runInstaller(install, say);
  }
  say(
    options.dryRun
      ? "[dry-run] nothing was changed"
      : `This node has joined the cluster as ${options.nodeName}. Run 'kubectl get nodes' on the control plane to see it.`,
  );
}

function runInstaller(command: string[], say: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = execFile("bash", command, { maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      for (const line of `${stdout}${stderr}`.split("\n")) if (line.trim()) say(line);
      if (error) reject(new JoinError(`${command.join(" ")} failed: ${error.message}`));
      else resolve();
    });
    child.stdin?.end();
  });
}
