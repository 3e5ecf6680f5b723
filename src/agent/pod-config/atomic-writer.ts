// Atomic projection of a set of files into a volume directory, in the scheme of upstream's AtomicWriter so
// consumers never see a half-updated volume and updates reach running containers:
//
//   <dir>/..2026_11_22_10_00_00.123456789/   the real files (a fresh directory per change)
//   <dir>/..data -> ..2026_11_22_10_00_00.123456789
//   <dir>/<top-level name> -> ..data/<top-level name>
//
// A write fills a new timestamped directory, points `..data_tmp` at it and renames that over `..data`
// (rename(2) is atomic), then prunes names that went away and the old directory. Names starting with ".."
// are reserved. Callers serialize writes per directory (the pod worker does).
import { randomBytes } from "node:crypto";
import {
  chmod,
  chown,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rename,
  rm,
  stat,
  symlink,
  unlink,
  writeFile,
} from "node:fs/promises";
import { dirname, join, posix } from "node:path";

export interface FileProjection {
  data: Buffer;
  /** Permission bits, e.g. 0o644. */
  mode: number;
}

export interface AtomicWriteOptions {
  /** Milliseconds since the epoch, for the directory name. */
  now?: () => number;
  /** fsGroup: files and directories get this group, group read (and setgid directories). */
  fsGroup?: number;
}

const DATA_DIR = "..data";
const NEW_DATA_DIR = "..data_tmp";
const MAX_FILE_NAME = 255;
const MAX_PATH = 4096;
/** With fsGroup: group-readable files, group-searchable setgid directories. */
const FSGROUP_FILE_MODE = 0o040;
const FSGROUP_DIR_MODE = 0o2050;

/** Upstream's validatePath: relative, no ".." element, no leading "..", bounded lengths. */
export function validateProjectedPath(path: string): string | undefined {
  if (path === "") return "invalid path: must not be empty";
  if (path.startsWith("/")) return `invalid path: must be relative path: ${path}`;
  if (path.length > MAX_PATH) return `invalid path: must be less than or equal to ${MAX_PATH} characters`;
  const items = path.split("/");
  for (const item of items) {
    if (item === "..") return `invalid path: must not contain '..': ${path}`;
    if (item.length > MAX_FILE_NAME) {
      return `invalid path: filenames must be less than or equal to ${MAX_FILE_NAME} characters`;
    }
  }
  if ((items[0] as string).startsWith("..") && (items[0] as string).length > 2) {
    return `invalid path: must not start with '..': ${path}`;
  }
  return undefined;
}

function clean(path: string): string {
  return posix.normalize(path).replace(/\/+$/, "");
}

function exists(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code !== "ENOENT";
}

async function readLink(path: string): Promise<string | undefined> {
  try {
    return await readlink(path);
  } catch (error) {
    if (!exists(error)) return undefined;
    throw error;
  }
}

/** Relative paths of everything (files and directories) below `dir`. */
async function walk(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    out.push(rel);
    if (entry.isDirectory()) out.push(...(await walk(join(dir, entry.name), rel)));
  }
  return out;
}

async function unchanged(
  payload: ReadonlyMap<string, FileProjection>,
  oldDir: string,
  extraMode: number,
): Promise<boolean> {
  for (const [path, file] of payload) {
    try {
      const full = join(oldDir, path);
      const [info, content] = await Promise.all([lstat(full), readFile(full)]);
      if ((info.mode & 0o7777) !== (file.mode | extraMode) || !content.equals(file.data)) return false;
    } catch (error) {
      if (!exists(error)) return false;
      throw error;
    }
  }
  return true;
}

function timestampName(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return `..${d.getUTCFullYear()}_${p(d.getUTCMonth() + 1)}_${p(d.getUTCDate())}_${p(d.getUTCHours())}_${p(d.getUTCMinutes())}_${p(d.getUTCSeconds())}.`;
}

async function setGroup(path: string, gid: number, extraMode: number): Promise<void> {
  const info = await stat(path);
  await chown(path, info.uid, gid);
  await chmod(path, (info.mode & 0o7777) | extraMode);
}

/**
 * Projects `payload` (relative path → content and mode) into `targetDir`, which must exist. Returns whether
 * anything changed. Throws on an invalid path before touching the directory.
 */
export async function atomicWrite(
  targetDir: string,
  payload: ReadonlyMap<string, FileProjection>,
  options: AtomicWriteOptions = {},
): Promise<boolean> {
  const files = new Map<string, FileProjection>();
  for (const [path, file] of payload) {
    const problem = validateProjectedPath(path);
    if (problem) throw new Error(problem);
    files.set(clean(path), file);
  }

  const dataDir = join(targetDir, DATA_DIR);
  const oldTs = await readLink(dataDir);
  const oldTsDir = oldTs === undefined ? undefined : join(targetDir, oldTs);
  let toRemove: string[] = [];
  if (oldTsDir) {
    const keep = new Set<string>();
    for (const path of files.keys()) {
      for (let p = path; p !== "." && p !== ""; p = posix.dirname(p)) keep.add(p);
    }
    let old: string[] = [];
    try {
      old = await walk(oldTsDir);
    } catch (error) {
      if (exists(error)) throw error;
    }
    toRemove = old.filter((p) => !keep.has(p));
    const extraMode = options.fsGroup === undefined ? 0 : FSGROUP_FILE_MODE;
    if (toRemove.length === 0 && (await unchanged(files, oldTsDir, extraMode))) return false;
  }

  const now = options.now ?? Date.now;
  const tsDir = await mkdtemp(join(targetDir, timestampName(now())));
  const tsName = tsDir.slice(targetDir.length + 1);
  try {
    await chmod(tsDir, 0o755);
    for (const [path, file] of files) {
      const full = join(tsDir, path);
      await mkdir(dirname(full), { recursive: true, mode: 0o755 });
      await writeFile(full, file.data, { mode: file.mode });
      await chmod(full, file.mode); // the umask must not change the requested mode
    }
    if (options.fsGroup !== undefined) {
      await setGroup(tsDir, options.fsGroup, FSGROUP_DIR_MODE);
      for (const rel of await walk(tsDir)) {
        const full = join(tsDir, rel);
        const isDir = (await lstat(full)).isDirectory();
        await setGroup(full, options.fsGroup, isDir ? FSGROUP_DIR_MODE : FSGROUP_FILE_MODE);
      }
    }
    // User-visible names: one symlink per top-level name into ..data.
    for (const path of files.keys()) {
      const top = path.split("/")[0] as string;
      const visible = join(targetDir, top);
      try {
        await lstat(visible);
      } catch (error) {
        if (exists(error)) throw error;
        await symlink(join(DATA_DIR, top), visible);
      }
    }
    const newDataDir = join(targetDir, NEW_DATA_DIR);
    await rm(newDataDir, { force: true }); // left over from an interrupted write
    await symlink(tsName, newDataDir);
    await rename(newDataDir, dataDir);
  } catch (error) {
    await rm(tsDir, { recursive: true, force: true });
    throw error;
  }

  for (const path of toRemove) {
    if (path.includes("/")) continue; // only top-level names have user-visible links
    await unlink(join(targetDir, path)).catch((error: unknown) => {
      if (exists(error)) throw error;
    });
  }
  // The previous data directory, and any left by interrupted writes.
  for (const entry of await readdir(targetDir)) {
    if (entry.startsWith("..") && entry !== DATA_DIR && entry !== tsName && entry !== NEW_DATA_DIR) {
      await rm(join(targetDir, entry), { recursive: true, force: true });
    }
  }
  return true;
}

/** A random hex name (the termination-log file, like upstream's makeUID). */
export function randomName(): string {
  return randomBytes(8).toString("hex");
}
