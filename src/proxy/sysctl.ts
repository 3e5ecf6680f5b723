// Kernel parameters the proxy reads or sets (route_localnet for node ports on 127.0.0.1,
// nf_conntrack_tcp_be_liberal to decide on the INVALID-drop rule), on the host or inside a network namespace.
import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";

export interface Sysctl {
  /** "net/ipv4/conf/all/route_localnet" → its value, undefined when it does not exist. */
  get(name: string): Promise<string | undefined>;
  set(name: string, value: string): Promise<void>;
}

function path(name: string): string {
  if (!/^[a-z0-9_/.-]+$/i.test(name) || name.includes("..")) throw new Error(`invalid sysctl name ${name}`);
  return `/proc/sys/${name}`;
}

/** /proc/sys of this process, or of the network namespace `netns` (through `ip netns exec`). */
export function procSysctl(netns?: string): Sysctl {
  if (!netns) {
    return {
      get: async (name) => (await readFile(path(name), "utf8").catch(() => undefined))?.trim(),
      set: (name, value) => writeFile(path(name), value),
    };
  }
  const inNetns = (script: string, args: string[]) =>
    new Promise<string>((resolve, reject) => {
      execFile("ip", ["netns", "exec", netns, "sh", "-c", script, "sh", ...args], (error, stdout, stderr) => {
        if (error) reject(new Error(`sysctl in netns ${netns}: ${stderr.trim() || error.message}`));
        else resolve(stdout);
      });
    });
  return {
    get: async (name) => (await inNetns('cat "$1"', [path(name)]).catch(() => undefined))?.trim(),
    set: async (name, value) => {
      await inNetns('printf %s "$1" > "$2"', [value, path(name)]);
    },
  };
}
