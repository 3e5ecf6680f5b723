// A container's mounts (kubelet's makeMounts): each volumeMount resolved against the prepared volumes, with
// subPath/subPathExpr made inside the volume and bind-mounted safely (subpath.ts), read-only and propagation,
// plus the managed /etc/hosts unless the container mounts something there itself.
import { stat } from "node:fs/promises";
import { join } from "node:path";
import type { Container, VolumeMount } from "../../api/schema/core/container.ts";
import type { Pod } from "../../api/schema/core/pod-types.ts";
import type { Mount, MountPropagation } from "../../runtime/types.ts";
import { messageOf, PodConfigError } from "./context.ts";
import type { PodHostname } from "./hostname.ts";
import { ensureHostsFile } from "./hosts-file.ts";
import type { Mounter } from "./mounter.ts";
import { checkSegment, etcHostsPath } from "./paths.ts";
import { prepareSafeSubPath, safeMakeDir } from "./subpath.ts";
import type { PodVolumes } from "./volumes.ts";

const REASON = "CreateContainerConfigError";
const ETC_HOSTS = "/etc/hosts";

export function translatePropagation(mode: string | undefined): MountPropagation {
  switch (mode) {
    case undefined:
    case "":
    case "None":
      return "private";
    case "HostToContainer":
      return "hostToContainer";
    case "Bidirectional":
      return "bidirectional";
  }
  throw new PodConfigError(REASON, `invalid MountPropagation mode: "${mode}"`);
}

/** subPathExpr with every referenced variable required and non-empty (upstream's ExpandContainerVolumeMounts). */
export function expandSubPathExpr(expr: string, env: ReadonlyMap<string, string>): string {
  const missing = new Set<string>();
  let out = "";
  let i = 0;
  // Same grammar as expansion.ts, but an unknown or empty variable is an error here.
  while (i < expr.length) {
    const c = expr[i] as string;
    const next = expr[i + 1];
    if (c !== "$" || next === undefined) {
      out += c;
      i++;
    } else if (next === "$") {
      out += "$";
      i += 2;
    } else if (next === "(") {
      const close = expr.indexOf(")", i + 2);
      if (close === -1) {
        out += "$(";
        i += 2;
      } else {
        const name = expr.slice(i + 2, close);
        const value = env.get(name);
        if (!value) missing.add(name);
        out += value ?? "";
        i = close + 1;
      }
    } else {
      out += `$${next}`;
      i += 2;
    }
  }
  if (missing.size > 0) throw new Error(`missing value for ${[...missing].sort().join(", ")}`);
  return out;
}

function validateSubPath(subPath: string): void {
  if (subPath.startsWith("/"))
    throw new PodConfigError(REASON, `error SubPath \`${subPath}\` must not be an absolute path`);
  if (subPath.split("/").includes("..")) {
    throw new PodConfigError(REASON, `unable to provision SubPath \`${subPath}\`: must not contain '..'`);
  }
}

/**
 * Creates the subPath (with the volume's mode) when missing and bind-mounts exactly that object at a stable
 * place under the pod directory (see subpath.ts); the runtime mounts that place.
 */
async function subPathMount(
  input: MountsInput,
  volumePath: string,
  subPath: string,
  mount: VolumeMount,
  index: number,
): Promise<string> {
  const { container } = input;
  try {
    const mode = (await stat(volumePath)).mode & 0o7777;
    await safeMakeDir(volumePath, subPath, mode);
  } catch (error) {
    throw new PodConfigError(
      REASON,
      `failed to create subPath directory for volumeMount "${mount.name}" of container "${container.name}": ${messageOf(error)}`,
      { cause: error },
    );
  }
  try {
    return await prepareSafeSubPath(
      {
        volumeRoot: volumePath,
        subPath,
        target: join(
          input.volumes.podDir,
          "volume-subpaths",
          checkSegment(mount.name, "volume name", REASON),
          checkSegment(container.name, "container name", REASON),
          String(index),
        ),
      },
      input.mounter,
    );
  } catch (error) {
    throw new PodConfigError(
      REASON,
      `failed to prepare subPath for volumeMount "${mount.name}" of container "${container.name}": ${messageOf(error)}`,
      { cause: error },
    );
  }
}

export interface MountsInput {
  pod: Pod;
  container: Container;
  volumes: PodVolumes;
  /** The container's final environment (subPathExpr). */
  env: ReadonlyMap<string, string>;
  podIPs: readonly string[];
  names: PodHostname;
  /** The node's hosts file for host-network pods (default /etc/hosts). */
  nodeHostsFile?: string;
  mounter: Mounter;
}

export async function makeMounts(input: MountsInput): Promise<Mount[]> {
  const { pod, container, volumes } = input;
  const mounts: Mount[] = [];
  let mountHosts = input.podIPs.length > 0 || pod.spec?.hostNetwork === true;
  for (const [index, mount] of (container.volumeMounts ?? []).entries()) {
    if (mount.mountPath === ETC_HOSTS) mountHosts = false;
    const volume = volumes.volumes.get(mount.name);
    if (!volume) {
      throw new PodConfigError(
        REASON,
        `cannot find volume "${mount.name}" to mount into container "${container.name}"`,
      );
    }
    let subPath = mount.subPath ?? "";
    if (mount.subPathExpr) {
      try {
        subPath = expandSubPathExpr(mount.subPathExpr, input.env);
      } catch (error) {
        throw new PodConfigError(
          REASON,
          `volumeMount "${mount.name}" of container "${container.name}": subPathExpr: ${(error as Error).message}`,
        );
      }
    }
    let hostPath = volume.hostPath;
    if (subPath !== "") {
      validateSubPath(subPath);
      hostPath = await subPathMount(input, volume.hostPath, subPath, mount, index);
    }
    if (mount.recursiveReadOnly === "Enabled") {
      throw new PodConfigError(
        REASON,
        `volumeMount "${mount.name}" of container "${container.name}": recursiveReadOnly Enabled is not supported by Deckhand (use IfPossible or Disabled)`,
      );
    }
    const containerPath = mount.mountPath.startsWith("/") ? mount.mountPath : `/${mount.mountPath}`;
    const propagation = translatePropagation(mount.mountPropagation);
    mounts.push({
      containerPath,
      hostPath,
      ...(mount.readOnly || volume.readOnly ? { readonly: true } : {}),
      ...(propagation === "private" ? {} : { propagation }),
    });
  }
  if (mountHosts) {
    const path = etcHostsPath(volumes.podDir);
    await ensureHostsFile(path, pod, input.podIPs, input.names, input.nodeHostsFile);
    mounts.push({ containerPath: ETC_HOSTS, hostPath: path });
  }
  return mounts;
}
