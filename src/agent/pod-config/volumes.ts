// The pod's volumes on the node (kubelet's volume manager, for the local plugins): every volume of the spec is
// set up under <rootDir>/pods/<uid>/volumes/<plugin>/<name>, idempotently, so a later sync refreshes
// configMap, secret, downwardAPI and projected contents through the atomic writer. cleanupPodDirs removes it
// all, unmounting tmpfs first.
import { mkdir, realpath, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Pod } from "../../api/schema/core/pod-types.ts";
import type { Volume } from "../../api/schema/core/volume.ts";
import { atomicWrite } from "./atomic-writer.ts";
import { allocatableOf, messageOf, type PodConfigContext, PodConfigError, podIdentity } from "./context.ts";
import { ensureTmpfs, memoryVolumeSize, setupEmptyDir } from "./empty-dir.ts";
import { checkHostPathType } from "./host-path.ts";
import { systemMounter } from "./mounter.ts";
import { ObjectReader } from "./objects.ts";
import { podDir, podLogsDir, type VolumePluginDir, VolumePlugins, volumeDir } from "./paths.ts";
import { volumePayload } from "./volume-payloads.ts";

export type VolumeSourceKind = "emptyDir" | "hostPath" | "configMap" | "secret" | "downwardAPI" | "projected";

export interface PreparedVolume {
  name: string;
  source: VolumeSourceKind;
  /** Where the volume is on the node (what the runtime bind-mounts). */
  hostPath: string;
  /** configMap, secret, downwardAPI and projected volumes are always mounted read-only, like upstream. */
  readOnly: boolean;
  /** Backed by a tmpfs (emptyDir medium Memory; secret-like volumes unless memoryBackedSecretVolumes=false). */
  memoryBacked: boolean;
}

export interface PodVolumes {
  podDir: string;
  volumes: ReadonlyMap<string, PreparedVolume>;
}

const SUPPORTED: readonly VolumeSourceKind[] = [
  "emptyDir",
  "hostPath",
  "configMap",
  "secret",
  "downwardAPI",
  "projected",
];
const ALL_SOURCES = [...SUPPORTED, "nfs", "persistentVolumeClaim", "csi", "ephemeral", "image"] as const;

const PLUGIN_DIRS: Record<Exclude<VolumeSourceKind, "hostPath">, VolumePluginDir> = {
  emptyDir: VolumePlugins.emptyDir,
  configMap: VolumePlugins.configMap,
  secret: VolumePlugins.secret,
  downwardAPI: VolumePlugins.downwardAPI,
  projected: VolumePlugins.projected,
};

function sourceOf(volume: Volume): VolumeSourceKind {
  const set = ALL_SOURCES.filter((key) => (volume as Record<string, unknown>)[key] !== undefined);
  if (set.length === 0) return "emptyDir"; // upstream defaults a volume without a source to emptyDir
  if (set.length > 1) throw new Error(`exactly one volume source must be set, got ${set.join(", ")}`);
  const kind = set[0] as (typeof ALL_SOURCES)[number];
  if (!(SUPPORTED as readonly string[]).includes(kind)) {
    throw new Error(
      `volume source ${kind} is not supported by Deckhand (supported: ${SUPPORTED.join(", ")})`,
    );
  }
  return kind as VolumeSourceKind;
}

async function ensurePodDirs(dir: string, ctx: PodConfigContext): Promise<void> {
  await mkdir(join(dir, "volumes"), { recursive: true, mode: 0o750 });
  await mkdir(join(dir, "plugins"), { recursive: true, mode: 0o750 });
  if (ctx.runtimeName === "cri") await mkdir(podLogsDir(dir), { recursive: true, mode: 0o755 });
}

/**
 * Sets up (or refreshes) every volume of the pod and the pod's directories. Idempotent; callers serialize
 * per pod. Throws PodConfigError(FailedMount) with upstream's message, naming the volume.
 */
export async function prepareVolumes(pod: Pod, ctx: PodConfigContext): Promise<PodVolumes> {
  const id = podIdentity(pod, "FailedMount");
  const dir = podDir(ctx.rootDir, id.uid);
  await ensurePodDirs(dir, ctx);
  const reader = new ObjectReader(ctx.api, id.namespace, "FailedMount");
  const mounter = ctx.mounter ?? systemMounter;
  const fsGroup = pod.spec?.securityContext?.fsGroup;
  const allocatable = allocatableOf(ctx);
  const allocatableMemory = allocatable.memory;
  const volumes = new Map<string, PreparedVolume>();

  for (const volume of pod.spec?.volumes ?? []) {
    const name = volume.name;
    try {
      if (volumes.has(name)) throw new Error("duplicate volume name");
      const source = sourceOf(volume);
      if (source === "hostPath") {
        const path = volume.hostPath?.path ?? "";
        await checkHostPathType(path, volume.hostPath?.type);
        volumes.set(name, { name, source, hostPath: path, readOnly: false, memoryBacked: false });
        continue;
      }
      const target = volumeDir(dir, PLUGIN_DIRS[source], name);
      if (source === "emptyDir") {
        const spec = volume.emptyDir ?? {};
        await setupEmptyDir(target, spec, pod, {
          allocatableMemory,
          fsGroup,
          mounter,
          readyMarker: join(dir, "plugins", PLUGIN_DIRS.emptyDir, name, "ready"),
        });
        const memoryBacked = spec.medium === "Memory";
        volumes.set(name, { name, source, hostPath: target, readOnly: false, memoryBacked });
        continue;
      }
      // Fetch and validate everything before touching the disk: a failure leaves no half-made volume.
      const payload = await volumePayload({
        pod,
        volume,
        reader,
        nodeAllocatable: allocatable,
        tokens: ctx.serviceAccountTokens,
      });
      const memoryBacked = source !== "configMap" && ctx.memoryBackedSecretVolumes !== false;
      if (memoryBacked) {
        const sizeBytes = memoryVolumeSize(pod, undefined, allocatableMemory);
        await ensureTmpfs(target, { sizeBytes, mode: 0o755 }, mounter);
      } else {
        await mkdir(target, { recursive: true, mode: 0o755 });
      }
      await atomicWrite(target, payload, {
        ...(ctx.now ? { now: ctx.now } : {}),
        ...(fsGroup === undefined ? {} : { fsGroup }),
      });
      volumes.set(name, { name, source, hostPath: target, readOnly: true, memoryBacked });
    } catch (error) {
      throw new PodConfigError(
        "FailedMount",
        `MountVolume.SetUp failed for volume "${name}" : ${messageOf(error)}`,
        {
          cause: error,
        },
      );
    }
  }
  return { podDir: dir, volumes };
}

const MAX_UNMOUNT_ROUNDS = 8;

/**
 * Removes <rootDir>/pods/<uid> after unmounting everything mounted below it (tmpfs volumes, stacked mounts).
 * A mount that will not go away stops the removal with an error rather than deleting through it.
 */
export async function cleanupPodDirs(
  uid: string,
  ctx: Pick<PodConfigContext, "rootDir" | "mounter" | "serviceAccountTokens">,
): Promise<void> {
  const dir = podDir(ctx.rootDir, uid);
  ctx.serviceAccountTokens?.forgetPod?.(uid);
  let real: string;
  try {
    real = await realpath(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw error;
  }
  const mounter = ctx.mounter ?? systemMounter;
  let points = await mounter.mountPointsUnder(real);
  for (let round = 0; points.length > 0 && round < MAX_UNMOUNT_ROUNDS; round++) {
    for (const point of points) await mounter.unmount(point);
    points = await mounter.mountPointsUnder(real);
  }
  if (points.length > 0) {
    throw new Error(`cannot remove pod directory ${dir}: still mounted: ${points.join(", ")}`);
  }
  await rm(dir, { recursive: true, force: true });
}
