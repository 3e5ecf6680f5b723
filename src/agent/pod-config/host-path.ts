// hostPath type checks (pkg/volume/hostpath checkType): DirectoryOrCreate and FileOrCreate create what is
// missing; the other types must already be of that kind; "" checks nothing.
import type { Stats } from "node:fs";
import { mkdir, open, stat } from "node:fs/promises";

export const HOST_PATH_TYPES = [
  "",
  "DirectoryOrCreate",
  "Directory",
  "FileOrCreate",
  "File",
  "Socket",
  "CharDevice",
  "BlockDevice",
] as const;

async function statOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await stat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

const KINDS: Record<string, { check: (s: Stats) => boolean; what: string }> = {
  Directory: { check: (s) => s.isDirectory(), what: "directory" },
  File: { check: (s) => s.isFile(), what: "file" },
  Socket: { check: (s) => s.isSocket(), what: "socket file" },
  CharDevice: { check: (s) => s.isCharacterDevice(), what: "character device" },
  BlockDevice: { check: (s) => s.isBlockDevice(), what: "block device" },
};

/** Throws an Error with upstream's message when `path` is not of `type`. */
export async function checkHostPathType(path: string, type: string | undefined): Promise<void> {
  if (!path.startsWith("/")) throw new Error(`hostPath ${path} must be an absolute path`);
  const kind = type ?? "";
  if (kind === "") return;
  if (kind === "DirectoryOrCreate" && !(await statOrUndefined(path))) {
    await mkdir(path, { recursive: true, mode: 0o755 });
  }
  if (kind === "FileOrCreate" && !(await statOrUndefined(path))) {
    const handle = await open(path, "a", 0o644);
    await handle.close();
  }
  const base = kind.replace(/OrCreate$/, "");
  const expected = KINDS[base];
  if (!expected) throw new Error(`${kind} is an invalid volume type`);
  const info = await statOrUndefined(path);
  if (!info || !expected.check(info)) {
    throw new Error(`hostPath type check failed: ${path} is not a ${expected.what}`);
  }
}
