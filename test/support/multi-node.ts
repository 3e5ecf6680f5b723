// Several Deckhand nodes on one machine: an L2 segment (a Linux bridge inside a network namespace of its
// own, so the host's br_netfilter and Docker's FORWARD DROP policy never see the traffic between nodes), the
// host joined to it by a veth with the segment's first address (the control plane listens there), and one
// network namespace per node joined by a veth with an address of its own. Each node runs its own containerd
// and agent inside its namespace (networkPlugin kubenet, iptables proxy), so its pods' bridge, its host
// routes and its iptables rules all live in that namespace and go with it.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { writeKubeconfig } from "../../src/controlplane/kubeconfig.ts";
import { issueKeyAndCertificate } from "../../src/pki/index.ts";
import { createCriRuntime } from "../../src/runtime/cri/index.ts";
import { describeObjects, nodeObjects, removeNodeObjects, startAgent, type TestAgent } from "./agent.ts";
import type { TestControlPlane } from "./controlplane.ts";
import { requirePrerequisite, requireRoot } from "./env.ts";
import { freePort } from "./etcd.ts";
import { createNetns, type TestNetns } from "./netns.ts";
import { PrivateContainerd } from "./private-containerd.ts";
import { run } from "./run.ts";

const CLI = join(import.meta.dirname, "..", "..", "src", "cli", "main.ts");

export interface Segment {
  /** "10.73.<n>" — the segment is <prefix>.0/24; the host is <prefix>.1. */
  readonly prefix: string;
  readonly hostAddress: string;
  /** The namespace holding the segment's bridge. */
  readonly lan: TestNetns;
  /** Joins a new namespace to the segment with <prefix>.<host> on its `eth0`. */
  addNetns(name: string, host: number, serviceCidr: string): Promise<TestNetns>;
  destroy(): Promise<void>;
}

/** A /24 of 10.73.0.0/16 that no interface or route of this machine uses yet (picked at random). */
async function freeSegmentPrefix(): Promise<string> {
  const used = (await run("ip", ["-4", "route", "show", "table", "all"])).stdout;
  for (let attempt = 0; attempt < 50; attempt++) {
    const prefix = `10.73.${1 + Math.floor(Math.random() * 254)}`;
    if (!used.includes(`${prefix}.`)) return prefix;
  }
  throw new Error("no free /24 in 10.73.0.0/16 for the test segment");
}

export async function createSegment(): Promise<Segment> {
  requireRoot();
  for (const tool of ["nsenter", "curl", "iptables-save"]) {
    const found = await run("sh", ["-c", `command -v ${tool}`], { allowFailure: true });
    requirePrerequisite(
      found.code === 0,
      `${tool} is not installed`,
      "install util-linux, curl and iptables",
    );
  }
  const lan = await createNetns("dh-mn-lan");
  const prefix = await freeSegmentPrefix();
  const hostAddress = `${prefix}.1`;
  // Host-side veth names are global: derive them from the namespace's unique name.
  const suffix = lan.name.slice(-6);
  const hostVeth = `dhmn${suffix}`;
  const members: TestNetns[] = [];
  const segment: Segment = {
    prefix,
    hostAddress,
    lan,
    async addNetns(name, host, serviceCidr) {
      // The leak guard (serviceCidr → lo, so a ClusterIP reached from the node itself leaves with
      // 127.0.0.1 as source and must be masqueraded by the node's proxy) goes in before any address.
      const ns = await createNetns(name, { serviceCidr });
      members.push(ns);
      const port = `p${members.length}`;
      await lan.exec("ip", ["link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns.name]);
      await lan.exec("ip", ["link", "set", port, "master", "br0", "up"]);
      await ns.exec("ip", ["addr", "add", `${prefix}.${host}/24`, "dev", "eth0"]);
      await ns.exec("ip", ["link", "set", "eth0", "up"]);
      return ns;
    },
    async destroy() {
      for (const ns of members) await ns.destroy();
      await run("ip", ["link", "delete", hostVeth], { allowFailure: true });
      await lan.destroy();
    },
  };
  try {
    await lan.exec("ip", ["link", "add", "br0", "type", "bridge"]);
    await lan.exec("ip", ["link", "set", "br0", "up"]);
    await run("ip", ["link", "add", hostVeth, "type", "veth", "peer", "name", "host", "netns", lan.name]);
    await lan.exec("ip", ["link", "set", "host", "master", "br0", "up"]);
    await run("ip", ["addr", "add", `${hostAddress}/24`, "dev", hostVeth]);
    await run("ip", ["link", "set", hostVeth, "up"]);
  } catch (error) {
    await segment.destroy();
    throw error;
  }
  return segment;
}

export interface LabNode {
  readonly name: string;
  readonly address: string;
  readonly netns: TestNetns;
  readonly containerd: PrivateContainerd;
  readonly agent: TestAgent;
  /**
   * Stops the agent, removes its pods from its containerd, stops containerd and removes their directories;
   * idempotent. Resolves to what the runtime still held after the removal ("nothing" when clean).
   */
  dispose(): Promise<string>;
}

export interface LabNodeOptions {
  segment: Segment;
  name: string;
  /** Last octet of the node's address on the segment. */
  host: number;
  serviceCidr: string;
  /** The control plane (its URL must be reachable from the segment). */
  controlPlane: Pick<TestControlPlane, "url" | "dataDir" | "caPem" | "kubeconfigPath">;
  /**
   * How the node gets its identity: "certificate" — a client certificate issued from the cluster CA
   * directly (a node provisioned out of band); "join" — `deckhand join` with a bootstrap token from
   * inside the node's namespace, then the agent with the configuration join wrote (client certificate
   * rotation, serving certificate from the kubelet-serving signer, node API clients checked against the CA).
   */
  identity: "certificate" | "join";
  /** Extra agent configuration. */
  config?: Record<string, unknown>;
}

/** A node in a namespace of its own on the segment: containerd and agent (kubenet, iptables proxy). */
export async function startLabNode(options: LabNodeOptions): Promise<LabNode> {
  const address = `${options.segment.prefix}.${options.host}`;
  const netns = await options.segment.addNetns(`dh-mn-${options.host}`, options.host, options.serviceCidr);
  let containerd: PrivateContainerd | undefined;
  let agent: TestAgent | undefined;
  const dir = await mkdtemp(join(tmpdir(), "dh-mn-node-"));
  let disposed: Promise<string> | undefined;
  const dispose = () => {
    disposed ??= (async () => {
      await agent?.dispose();
      let left = "nothing";
      if (containerd?.running) {
        const runtime = createCriRuntime({ endpoint: containerd.endpoint, requestTimeoutMs: 60_000 });
        try {
          await removeNodeObjects(runtime, options.name).catch(() => {});
          left = describeObjects(await nodeObjects(runtime, options.name));
        } finally {
          await runtime.close();
        }
      }
      await containerd?.destroy();
      await rm(dir, { recursive: true, force: true });
      return left;
    })();
    return disposed;
  };
  try {
    const identity =
      options.identity === "join"
        ? await joinWithToken(options.controlPlane, options.name, netns.name, dir)
        : await issuedIdentity(options.controlPlane, options.name, dir);
    containerd = await PrivateContainerd.create(undefined, { netns: netns.name });
    agent = await startAgent({
      runtime: "cri",
      runtimeEndpoint: containerd.endpoint,
      kubeconfigPath: identity.kubeconfigPath,
      nodeName: options.name,
      netns: netns.name,
      config: {
        address,
        nodeIP: address,
        port: await freePort(),
        healthzPort: await freePort(),
        proxyMode: "iptables",
        networkPlugin: "kubenet",
        cniConfDir: containerd.cniConfDir,
        ...identity.config,
        ...options.config,
      },
    });
  } catch (error) {
    await dispose();
    throw error;
  }
  return { name: options.name, address, netns, containerd, agent, dispose };
}

interface NodeIdentity {
  kubeconfigPath: string;
  /** Agent configuration that goes with it. */
  config: Record<string, unknown>;
}

/**
 * A node's client certificate from the cluster CA (CN system:node:<name>, O system:nodes): the identity a
 * joined node gets through its CSR, so the Node authorizer and NodeRestriction apply to the agent.
 */
async function issuedIdentity(
  cp: LabNodeOptions["controlPlane"],
  nodeName: string,
  dir: string,
): Promise<NodeIdentity> {
  const ca = { certPem: cp.caPem, keyPem: await readFile(join(cp.dataDir, "pki", "ca.key"), "utf8") };
  const kubeconfigPath = join(dir, "node.kubeconfig");
  await writeKubeconfig(kubeconfigPath, {
    server: cp.url,
    caPem: cp.caPem,
    credentials: await issueKeyAndCertificate(ca, {
      commonName: `system:node:${nodeName}`,
      organizations: ["system:nodes"],
      usage: "client",
    }),
    userName: `system:node:${nodeName}`,
  });
  return { kubeconfigPath, config: {} };
}

/** `deckhand token create` on the control plane, `deckhand join --no-service` inside the node's namespace. */
async function joinWithToken(
  cp: LabNodeOptions["controlPlane"],
  nodeName: string,
  netns: string,
  dir: string,
): Promise<NodeIdentity> {
  const created = await run(process.execPath, [CLI, "token", "create", "--kubeconfig", cp.kubeconfigPath]);
  // Line 1: the token; line 2: the join command with the server and the CA hash.
  const command = (created.stdout.trim().split("\n")[1] ?? "").split(" ");
  const flag = (name: string) => command[command.indexOf(name) + 1] ?? "";
  const configDir = join(dir, "etc");
  const joined = await run(
    "nsenter",
    [
      `--net=/run/netns/${netns}`,
      "--",
      process.execPath,
      CLI,
      "join",
      cp.url,
      "--token",
      flag("--token"),
      "--discovery-token-ca-cert-hash",
      flag("--discovery-token-ca-cert-hash"),
      "--node-name",
      nodeName,
      "--runtime",
      "cri",
      "--config-dir",
      configDir,
      "--data-dir",
      join(dir, "var"),
      "--no-service",
      "--timeout",
      "2m",
    ],
    { timeoutMs: 180_000 },
  );
  if (!joined.stdout.includes("[tls-bootstrap] certificate issued"))
    throw new Error(`deckhand join did not get a certificate:\n${joined.stdout}\n${joined.stderr}`);
  const written = parse(await readFile(join(configDir, "agent.yaml"), "utf8")) as Record<string, unknown>;
  const { rotateCertificates, serverTLSBootstrap, authentication } = written;
  return {
    kubeconfigPath: join(configDir, "node.kubeconfig"),
    config: { rotateCertificates, serverTLSBootstrap, authentication },
  };
}
