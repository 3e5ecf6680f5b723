// The one boundary to the kernel's mount table: tmpfs for memory-backed volumes and cleanup of what is
// mounted under a pod directory. The default uses mount(8)/umount(8) and /proc/self/mountinfo (needs root).
import { execFile } from "node:child_process";
import { readFile, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface Mounter {
  /** Whether `path` (absolute, symlinks resolved) is a mount point. */
  isMountPoint(path: string): Promise<boolean>;
  /** Mounts a fresh tmpfs at `path` (an existing directory). */
  mountTmpfs(path: string, options: { sizeBytes?: number; mode: number }): Promise<void>;
  /** Bind-mounts `source` (a path, or /proc/<pid>/fd/<n>) onto `target` (an existing file or directory). */
  bindMount(source: string, target: string): Promise<void>;
  unmount(path: string): Promise<void>;
  /** Mount points at or below `dir` (absolute, symlinks resolved), deepest first. */
  mountPointsUnder(dir: string): Promise<string[]>;
}

/** Decodes mountinfo's octal escapes (\040 for space, \011, \012, \134). */
function unescapeMountPath(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

/** Mount points listed in a /proc/<pid>/mountinfo text. */
export function parseMountInfo(text: string): string[] {
  const points: string[] = [];
  for (const line of text.split("\n")) {
    const fields = line.split(" ");
    if (fields.length >= 5 && fields[4]) points.push(unescapeMountPath(fields[4]));
  }
  return points;
}

function under(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir.endsWith("/") ? dir : `${dir}/`);
}

async function commandFailed(what: string, error: unknown): Promise<never> {
  const e = error as { stderr?: string; message?: string };
  throw new Error(`${what} failed: ${(e.stderr || e.message || String(error)).trim()}`);
}

export const systemMounter: Mounter = {
  async isMountPoint(path) {
    // On another device than its parent (a tmpfs volume): a mount point for certain, known from two stat
    // calls. Every pod sync asks this of each memory-backed volume, and the mount table grows with the pods
    // (an overlay and a shm mount per container): parsing it each time made a resync of 100 pods cost
    // about a second of CPU. Only a bind mount from the same filesystem needs the table.
    const [self, parent] = await Promise.all([stat(path), stat(dirname(path))]);
    if (self.dev !== parent.dev) return true;
    return parseMountInfo(await readFile("/proc/self/mountinfo", "utf8")).includes(path);
  },
  async mountTmpfs(path, options) {
    const opts = [`mode=${options.mode.toString(8).padStart(4, "0")}`];
    if (options.sizeBytes !== undefined && options.sizeBytes > 0) opts.push(`size=${options.sizeBytes}`);
    await run("mount", ["-t", "tmpfs", "-o", opts.join(","), "tmpfs", path]).catch((error: unknown) =>
      commandFailed(`mount -t tmpfs -o ${opts.join(",")} tmpfs ${path}`, error),
    );
  },
  async bindMount(source, target) {
    await run("mount", ["--bind", source, target]).catch((error: unknown) =>
      commandFailed(`mount --bind ${source} ${target}`, error),
    );
  },
  async unmount(path) {
    await run("umount", [path]).catch((error: unknown) => commandFailed(`umount ${path}`, error));
  },
  async mountPointsUnder(dir) {
    const points = parseMountInfo(await readFile("/proc/self/mountinfo", "utf8")).filter((p) =>
      under(p, dir),
    );
    return [...new Set(points)].sort((a, b) => b.length - a.length);
  },
};
