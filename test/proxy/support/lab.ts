// A small network for proxy traffic tests, all inside namespaces the test creates:
//   node  — where the rules are programmed; a bridge (10.244.0.1/24, the "pod network" 10.244.0.0/16),
//           ip_forward on, the service-CIDR leak guard (createNetns), and 192.168.77.1 towards "outside";
//   pods  — one namespace each on the bridge (10.244.0.N), running lab-server.ts;
//   outside — a namespace at 192.168.77.2 that reaches the node like an external client.
// Traffic never leaves these namespaces.
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { createNetns, type TestNetns } from "../../support/netns.ts";
import { waitFor } from "../../support/wait.ts";

export const POD_CIDR = "10.244.0.0/16";
export const NODE_IP = "192.168.77.1";
export const OUTSIDE_IP = "192.168.77.2";
export const BACKEND_PORT = 8080;
export const BACKEND_UDP_PORT = 5353;

const SERVER = join(import.meta.dirname, "lab-server.ts");
const CLIENT = join(import.meta.dirname, "lab-client.ts");

export interface LabPod {
  name: string;
  ip: string;
  netns: TestNetns;
}

export interface ClientResult {
  answers: Record<string, number>;
  errors: Record<string, number>;
}

export interface Lab {
  node: TestNetns;
  outside: TestNetns;
  pods: LabPod[];
  /** Runs lab-client.ts in a namespace: COUNT requests to host:port. */
  request(
    from: TestNetns,
    mode: "tcp" | "udp",
    host: string,
    port: number,
    count: number,
    options?: { intervalMs?: number; timeoutMs?: number },
  ): Promise<ClientResult>;
  destroy(): Promise<void>;
}

export async function createLab(prefix: string, serviceCidr: string, podCount: number): Promise<Lab> {
  const created: TestNetns[] = [];
  const servers: ChildProcess[] = [];
  const destroy = async () => {
    for (const server of servers) server.kill("SIGKILL");
    for (const ns of created.reverse()) await ns.destroy();
  };
  try {
    const node = await createNetns(`${prefix}-node`, { serviceCidr });
    created.push(node);
    // The leak guard routes the service range to lo. Rejected connections then get no ICMP answer (the
    // kernel treats the route as local), so move the guard onto an empty bridge, atomically: unmatched
    // packets still go nowhere, and REJECT answers reach local clients as they do on a real node, where the
    // service range follows the default route.
    await node.exec("ip", ["link", "add", "svcguard0", "type", "bridge"]);
    await node.exec("ip", ["link", "set", "svcguard0", "up"]);
    await node.exec("ip", ["route", "replace", serviceCidr, "dev", "svcguard0"]);
    const outside = await createNetns(`${prefix}-out`);
    created.push(outside);
    const n = (args: string[]) => node.exec("ip", args);
    await node.exec("sh", ["-c", "echo 1 > /proc/sys/net/ipv4/ip_forward"]);
    await n(["link", "add", "dhbr0", "type", "bridge"]);
    await n(["addr", "add", "10.244.0.1/24", "dev", "dhbr0"]);
    await n(["link", "set", "dhbr0", "up"]);
    await n(["link", "add", "ext0", "type", "veth", "peer", "name", "eth0", "netns", outside.name]);
    await n(["addr", "add", `${NODE_IP}/24`, "dev", "ext0"]);
    await n(["link", "set", "ext0", "up"]);
    await outside.exec("ip", ["addr", "add", `${OUTSIDE_IP}/24`, "dev", "eth0"]);
    await outside.exec("ip", ["link", "set", "eth0", "up"]);
    await outside.exec("ip", ["route", "add", "default", "via", NODE_IP]);

    const pods: LabPod[] = [];
    for (let i = 1; i <= podCount; i++) {
      const netns = await createNetns(`${prefix}-p${i}`);
      created.push(netns);
      const ip = `10.244.0.${i + 1}`;
      const name = `pod-${i}`;
      await n(["link", "add", `vp${i}`, "type", "veth", "peer", "name", "eth0", "netns", netns.name]);
      await n(["link", "set", `vp${i}`, "master", "dhbr0"]);
      // Like the CNI bridge plugin's hairpinMode: with br_netfilter, a pod's packet DNATed back to that same
      // pod is bridged out of the port it came in on, which the bridge only does in hairpin mode.
      await n(["link", "set", `vp${i}`, "type", "bridge_slave", "hairpin", "on"]);
      await n(["link", "set", `vp${i}`, "up"]);
      await netns.exec("ip", ["addr", "add", `${ip}/24`, "dev", "eth0"]);
      await netns.exec("ip", ["link", "set", "eth0", "up"]);
      await netns.exec("ip", ["route", "add", "default", "via", "10.244.0.1"]);
      const server = spawn(
        "ip",
        [
          "netns",
          "exec",
          netns.name,
          process.execPath,
          SERVER,
          name,
          String(BACKEND_PORT),
          String(BACKEND_UDP_PORT),
        ],
        { stdio: ["ignore", "pipe", "inherit"] },
      );
      servers.push(server);
      let out = "";
      server.stdout?.on("data", (chunk: Buffer) => {
        out += chunk.toString();
      });
      await waitFor(
        () =>
          out.includes("ready") || (server.exitCode !== null && Promise.reject(new Error(`${name} exited`))),
        {
          what: `backend ${name} in ${netns.name} to listen`,
          timeoutMs: 30_000,
          intervalMs: 20,
        },
      );
      pods.push({ name, ip, netns });
    }

    return {
      node,
      outside,
      pods,
      async request(from, mode, host, port, count, options = {}) {
        const result = await from.exec(
          process.execPath,
          [
            CLIENT,
            mode,
            host,
            String(port),
            String(count),
            String(options.intervalMs ?? 0),
            String(options.timeoutMs ?? 3000),
          ],
          { timeoutMs: 600_000 },
        );
        return JSON.parse(result.stdout.trim().split("\n").pop() as string) as ClientResult;
      },
      destroy,
    };
  } catch (error) {
    await destroy();
    throw error;
  }
}
