// The container's effective security context: container fields override the pod's (upstream's
// DetermineEffectiveSecurityContext), supplemental groups from the pod plus fsGroup,
// allowPrivilegeEscalation=false → no_new_privs, and the runAsNonRoot check against the image user.
import type { Container } from "../../api/schema/core/container.ts";
import type { Pod } from "../../api/schema/core/pod-types.ts";
import type { ContainerSecurityContext } from "../../runtime/types.ts";
import { formatPod } from "./context.ts";

/** The user an image runs as (Runtime.imageStatus: uid when numeric, else username). */
export interface ImageUser {
  uid?: number;
  username?: string;
}

export interface EffectiveSecurityContext {
  runAsUser?: number;
  runAsGroup?: number;
  runAsNonRoot?: boolean;
  privileged?: boolean;
  readOnlyRootFilesystem?: boolean;
  allowPrivilegeEscalation?: boolean;
  capabilities?: { add?: string[]; drop?: string[] };
}

export function effectiveSecurityContext(pod: Pod, container: Container): EffectiveSecurityContext {
  const p = pod.spec?.securityContext ?? {};
  const c = container.securityContext ?? {};
  const pick = <T>(own: T | undefined, inherited: T | undefined) => (own !== undefined ? own : inherited);
  const out: EffectiveSecurityContext = {};
  const runAsUser = pick(c.runAsUser, p.runAsUser);
  const runAsGroup = pick(c.runAsGroup, p.runAsGroup);
  const runAsNonRoot = pick(c.runAsNonRoot, p.runAsNonRoot);
  if (runAsUser !== undefined) out.runAsUser = runAsUser;
  if (runAsGroup !== undefined) out.runAsGroup = runAsGroup;
  if (runAsNonRoot !== undefined) out.runAsNonRoot = runAsNonRoot;
  if (c.privileged !== undefined) out.privileged = c.privileged;
  if (c.readOnlyRootFilesystem !== undefined) out.readOnlyRootFilesystem = c.readOnlyRootFilesystem;
  if (c.allowPrivilegeEscalation !== undefined) out.allowPrivilegeEscalation = c.allowPrivilegeEscalation;
  if (c.capabilities) out.capabilities = c.capabilities;
  return out;
}

/**
 * Upstream's verifyRunAsNonRoot; returns the problem, or undefined when the container may run. An image
 * whose user is unknown runs as root, as upstream assumes.
 */
export function runAsNonRootProblem(
  pod: Pod,
  container: Container,
  image: ImageUser | undefined,
): string | undefined {
  const sc = effectiveSecurityContext(pod, container);
  if (!sc.runAsNonRoot) return undefined;
  const where = `(pod: "${formatPod(pod)}", container: ${container.name})`;
  if (sc.runAsUser !== undefined) {
    return sc.runAsUser === 0 ? `container's runAsUser breaks non-root policy ${where}` : undefined;
  }
  const uid = image?.uid ?? (image?.username ? undefined : 0);
  if (uid === 0) return `container has runAsNonRoot and image will run as root ${where}`;
  if (uid === undefined && image?.username) {
    return `container has runAsNonRoot and image has non-numeric user (${image.username}), cannot verify user is non-root ${where}`;
  }
  return undefined;
}

/** The runtime's view: merged fields, supplemental groups = fsGroup + pod supplementalGroups. */
export function runtimeSecurityContext(pod: Pod, container: Container): ContainerSecurityContext {
  const sc = effectiveSecurityContext(pod, container);
  const podSc = pod.spec?.securityContext ?? {};
  const out: ContainerSecurityContext = {};
  if (sc.runAsUser !== undefined) out.runAsUser = sc.runAsUser;
  if (sc.runAsGroup !== undefined) out.runAsGroup = sc.runAsGroup;
  const groups = [
    ...(podSc.fsGroup !== undefined ? [podSc.fsGroup] : []),
    ...(podSc.supplementalGroups ?? []),
  ];
  if (groups.length > 0) out.supplementalGroups = [...new Set(groups)];
  if (sc.privileged) out.privileged = true;
  if (sc.readOnlyRootFilesystem) out.readOnlyRootFilesystem = true;
  if (
    sc.capabilities &&
    ((sc.capabilities.add?.length ?? 0) > 0 || (sc.capabilities.drop?.length ?? 0) > 0)
  ) {
    out.capabilities = { add: [...(sc.capabilities.add ?? [])], drop: [...(sc.capabilities.drop ?? [])] };
  }
  if (sc.allowPrivilegeEscalation === false) out.noNewPrivileges = true;
  return out;
}
