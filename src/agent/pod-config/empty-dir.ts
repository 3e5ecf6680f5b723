// emptyDir volumes (and the tmpfs that backs secret-like volumes): a world-writable directory on the node's
// disk, or a tmpfs sized like upstream's calculateEmptyDirMemorySize when medium is Memory.
import { chmod, chown, mkdir, realpath, stat, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { wholeUnits } from "../../api/quantity.ts";
import type { Pod } from "../../api/schema/core/pod-types.ts";
import type { Mounter } from "./mounter.ts";
import { podMemoryLimit } from "./resources.ts";

const EMPTY_DIR_MODE = 0o777;
const SETGID = 0o2000;

/**
 * tmpfs size: node allocatable memory, lowered to the pod's memory limit and then to sizeLimit when those
 * are positive and smaller. undefined when nothing is known (the kernel's default, half of RAM).
 */
export function memoryVolumeSize(
  pod: Pod,
  sizeLimit: string | number | undefined,
  allocatableMemory: string | undefined,
): number | undefined {
  let size = allocatableMemory === undefined ? undefined : wholeUnits(allocatableMemory);
  const podLimit = podMemoryLimit(pod);
  if (podLimit !== undefined && podLimit > 0 && (size === undefined || podLimit <= size)) size = podLimit;
  const limit = sizeLimit === undefined ? undefined : wholeUnits(sizeLimit);
  if (limit !== undefined && limit > 0 && (size === undefined || limit <= size)) size = limit;
  return size;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw error;
  }
}

/** Ensures a tmpfs is mounted at `dir` (created if missing); returns whether it mounted one now. */
export async function ensureTmpfs(
  dir: string,
  options: { sizeBytes: number | undefined; mode: number },
  mounter: Mounter,
): Promise<boolean> {
  await mkdir(dir, { recursive: true, mode: 0o750 });
  if (await mounter.isMountPoint(await realpath(dir))) return false;
  await mounter.mountTmpfs(dir, {
    mode: options.mode,
    ...(options.sizeBytes === undefined ? {} : { sizeBytes: options.sizeBytes }),
  });
  return true;
}

export interface EmptyDirSpec {
  medium?: string;
  sizeLimit?: string | number;
}

export interface EmptyDirOptions {
  allocatableMemory: string | undefined;
  fsGroup: number | undefined;
  mounter: Mounter;
  /** A file whose presence says setup completed (upstream's "ready" file in the pod's plugins dir). */
  readyMarker: string;
}

/**
 * Sets up an emptyDir at `dir` once: 0777 (setgid and group fsGroup when given), tmpfs for medium Memory.
 * Later calls return early while the directory (or mount) is still there, so the mode is not reset under a
 * running container.
 */
export async function setupEmptyDir(
  dir: string,
  spec: EmptyDirSpec,
  pod: Pod,
  options: EmptyDirOptions,
): Promise<void> {
  const medium = spec.medium ?? "";
  if (medium !== "" && medium !== "Memory") {
    throw new Error(`emptyDir medium "${medium}" is not supported (supported: "" and "Memory")`);
  }
  if (await exists(options.readyMarker)) {
    if (medium === "" && (await exists(dir))) return;
    if (
      medium === "Memory" &&
      (await exists(dir)) &&
      (await options.mounter.isMountPoint(await realpath(dir)))
    )
      return;
  }
  if (medium === "") {
    await mkdir(dir, { recursive: true });
  } else {
    const sizeBytes = memoryVolumeSize(pod, spec.sizeLimit, options.allocatableMemory);
    await ensureTmpfs(dir, { sizeBytes, mode: EMPTY_DIR_MODE }, options.mounter);
  }
  if (options.fsGroup === undefined) {
    await chmod(dir, EMPTY_DIR_MODE);
  } else {
    await chown(dir, (await stat(dir)).uid, options.fsGroup);
    await chmod(dir, EMPTY_DIR_MODE | SETGID);
  }
  await mkdir(dirname(options.readyMarker), { recursive: true, mode: 0o750 });
  await writeFile(options.readyMarker, "");
}
