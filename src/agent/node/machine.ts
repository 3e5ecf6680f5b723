// Facts about this machine that go into the Node object: identity, OS, kernel, capacity and addresses.
import { readFile, statfs } from "node:fs/promises";
import { arch, cpus, hostname, networkInterfaces, release, totalmem } from "node:os";

export interface MachineInfo {
  hostname: string;
  machineID: string;
  systemUUID: string;
  bootID: string;
  kernelVersion: string;
  osImage: string;
  operatingSystem: string;
  /** Kubernetes spelling: amd64, arm64. */
  architecture: string;
  cpuCores: number;
  memoryBytes: number;
  /** Filesystem holding the agent's root dir. */
  ephemeralStorageBytes: number;
  /** Non-loopback IPv4 addresses, preferred first (the default route's interface). */
  internalIPs: string[];
}

const ARCH: Record<string, string> = {
  x64: "amd64",
  arm64: "arm64",
  arm: "arm",
  ppc64: "ppc64le",
  s390x: "s390x",
};

async function readTrimmed(path: string): Promise<string> {
  try {
    return (await readFile(path, "utf8")).trim();
  } catch {
    return "";
  }
}

async function osImage(): Promise<string> {
  const text = await readTrimmed("/etc/os-release");
  const pretty = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(text);
  return pretty?.[1] ?? "Linux";
}

/** The interface of the IPv4 default route, from /proc/net/route, so InternalIP is the address others reach. */
async function defaultRouteInterface(): Promise<string | undefined> {
  const table = await readTrimmed("/proc/net/route");
  for (const line of table.split("\n").slice(1)) {
    const [iface, destination, , flags] = line.split(/\s+/);
    // Destination 0.0.0.0 with the RTF_UP flag.
    if (destination === "00000000" && (Number.parseInt(flags ?? "0", 16) & 1) === 1) return iface;
  }
  return undefined;
}

/** Bridges and veths that container runtimes create are never the node's address. */
const VIRTUAL_INTERFACE = /^(docker\d*|cni\d*|veth|br-|dhtest|cbr|flannel|kube-|virbr|ifb)/;

export async function internalIPs(): Promise<string[]> {
  const preferred = await defaultRouteInterface();
  const found: Array<{ ip: string; rank: number }> = [];
  for (const [name, addresses] of Object.entries(networkInterfaces())) {
    if (VIRTUAL_INTERFACE.test(name)) continue;
    for (const address of addresses ?? []) {
      if (address.family !== "IPv4" || address.internal) continue;
      found.push({ ip: address.address, rank: name === preferred ? 0 : 1 });
    }
  }
  return found.sort((a, b) => a.rank - b.rank).map((f) => f.ip);
}

export async function readMachineInfo(rootDir: string): Promise<MachineInfo> {
  let ephemeralStorageBytes = 0;
  try {
    const fs = await statfs(rootDir);
    ephemeralStorageBytes = fs.blocks * fs.bsize;
  } catch {
    const fs = await statfs("/");
    ephemeralStorageBytes = fs.blocks * fs.bsize;
  }
  const machineID = (await readTrimmed("/etc/machine-id")) || (await readTrimmed("/var/lib/dbus/machine-id"));
  return {
    hostname: hostname().toLowerCase(),
    machineID,
    systemUUID: (await readTrimmed("/sys/class/dmi/id/product_uuid")).toLowerCase() || machineID,
    bootID: await readTrimmed("/proc/sys/kernel/random/boot_id"),
    kernelVersion: release(),
    osImage: await osImage(),
    operatingSystem: "linux",
    architecture: ARCH[arch()] ?? arch(),
    cpuCores: cpus().length,
    memoryBytes: totalmem(),
    ephemeralStorageBytes,
    internalIPs: await internalIPs(),
  };
}
