// Safe subPath mounts (upstream's SafeMakeDir + PrepareSafeSubpath, the fix for CVE-2017-1002101): a container
// sharing a volume could swap a path component for a symlink between the agent's check and the runtime's
// mount. So the subPath is created and then opened component by component without following symlinks,
// the opened object is checked to lie inside the volume, and exactly that object is bind-mounted (through
// /proc/<pid>/fd/<n>) at <podDir>/volume-subpaths/<volume>/<container>/<index>, which the runtime mounts.
import { constants } from "node:fs";
import {
  chmod,
  type FileHandle,
  lstat,
  mkdir,
  open,
  readlink,
  realpath,
  rm,
  stat,
  writeFile,
} from "node:fs/promises";
import { dirname, join, sep } from "node:path";
import type { Mounter } from "./mounter.ts";

/** Linux O_PATH: a handle to a filesystem object that is neither read nor written. */
const O_PATH = 0o10000000;
const WALK_FLAGS = O_PATH | constants.O_NOFOLLOW;

export class SubPathError extends Error {
  override readonly name = "SubPathError";
}

function within(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir.endsWith(sep) ? dir : `${dir}${sep}`);
}

function segments(relative: string): string[] {
  return relative.split("/").filter((s) => s !== "" && s !== ".");
}

function fdPath(handle: FileHandle): string {
  return `/proc/self/fd/${handle.fd}`;
}

async function lexists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw error;
  }
}

/** Opens `rel` (non-empty) below the directory handle without following any symlink; the caller closes it. */
async function openBeneath(base: FileHandle, rel: string[]): Promise<FileHandle> {
  if (rel.length === 0) throw new SubPathError("empty path");
  let current = base;
  try {
    for (const seg of rel) {
      const next = await open(`${fdPath(current)}/${seg}`, WALK_FLAGS);
      if (current !== base) await current.close();
      current = next;
      if ((await current.stat()).isSymbolicLink()) throw new SubPathError(`${seg} is a symlink`);
    }
    return current;
  } catch (error) {
    if (current !== base) await current.close();
    throw error;
  }
}

/**
 * Creates missing directories of `subPath` inside `volumeRoot` with `mode`, never through a symlink that
 * leaves the volume. The existing part may contain symlinks as long as it resolves inside the volume.
 */
export async function safeMakeDir(volumeRoot: string, subPath: string, mode: number): Promise<void> {
  const root = await realpath(volumeRoot);
  const segs = segments(subPath);
  let existing = 0;
  while (existing < segs.length && (await lexists(join(root, ...segs.slice(0, existing + 1))))) existing++;
  if (existing === segs.length) return;
  let start: string;
  try {
    start = await realpath(join(root, ...segs.slice(0, existing)));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    throw new SubPathError(`${subPath} leads through a symlink that does not resolve`);
  }
  if (!within(start, root)) throw new SubPathError(`${subPath} leaves the volume`);
  let parent = await open(start, WALK_FLAGS | constants.O_DIRECTORY);
  try {
    for (const seg of segs.slice(existing)) {
      try {
        await mkdir(`${fdPath(parent)}/${seg}`, { mode });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
      const next = await openBeneath(parent, [seg]);
      await parent.close();
      parent = next;
      if (!(await parent.stat()).isDirectory()) throw new SubPathError(`${seg} is not a directory`);
      await chmod(fdPath(parent), mode); // mkdir applied the umask
    }
  } finally {
    await parent.close();
  }
}

export interface SubPathMount {
  volumeRoot: string;
  subPath: string;
  /** The bind target, e.g. <podDir>/volume-subpaths/<volume>/<container>/<index>. */
  target: string;
}

/**
 * Bind-mounts the subPath object at `target` and returns `target`. An earlier bind at `target` (a previous
 * instance of the container) is replaced.
 */
export async function prepareSafeSubPath(spec: SubPathMount, mounter: Mounter): Promise<string> {
  const root = await realpath(spec.volumeRoot);
  const resolved = await realpath(join(root, spec.subPath));
  if (!within(resolved, root)) throw new SubPathError(`${spec.subPath} leaves the volume`);
  const base = await open(root, WALK_FLAGS | constants.O_DIRECTORY);
  let handle: FileHandle | undefined;
  try {
    const rel = segments(resolved.slice(root.length));
    handle =
      rel.length === 0 ? await open(root, WALK_FLAGS | constants.O_DIRECTORY) : await openBeneath(base, rel);
    // What the handle really is now, whatever happened to the path since realpath.
    const actual = await readlink(fdPath(handle));
    if (!within(actual, root)) throw new SubPathError(`${spec.subPath} leaves the volume`);
    const isDir = (await handle.stat()).isDirectory();
    if (await lexists(spec.target)) {
      if (await mounter.isMountPoint(await realpath(spec.target))) await mounter.unmount(spec.target);
      const targetIsDir = (await stat(spec.target)).isDirectory();
      if (targetIsDir !== isDir) await rm(spec.target, { recursive: true, force: true });
    }
    await mkdir(isDir ? spec.target : dirname(spec.target), { recursive: true, mode: 0o750 });
    if (!isDir && !(await lexists(spec.target))) await writeFile(spec.target, "", { mode: 0o640 });
    await mounter.bindMount(`/proc/${process.pid}/fd/${handle.fd}`, spec.target);
    return spec.target;
  } finally {
    await handle?.close();
    await base.close();
  }
}
