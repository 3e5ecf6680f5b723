// The container config (kuberuntime's generateContainerConfig): image check, runAsNonRoot, environment,
// $(VAR) expansion of command and args, mounts (volumes, /etc/hosts, termination log), log path, resources,
// security context, and the labels and annotations the agent rebuilds its state from.
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { wholeUnits } from "../../api/quantity.ts";
import type { Container } from "../../api/schema/core/container.ts";
import type { Pod } from "../../api/schema/core/pod-types.ts";
import type { ContainerConfig, Mount } from "../../runtime/types.ts";
import { RuntimeLabels } from "../../runtime/types.ts";
import { containerSpecHash } from "../planner.ts";
import { randomName } from "./atomic-writer.ts";
import {
  capacityOf,
  formatPod,
  messageOf,
  type PodConfigContext,
  PodConfigError,
  podIdentity,
} from "./context.ts";
import { makeEnvironment } from "./env.ts";
import { expand, mappingFor } from "./expansion.ts";
import { podHostnameAndDomain } from "./hostname.ts";
import { imageReferenceProblem } from "./image-ref.ts";
import { systemMounter } from "./mounter.ts";
import { makeMounts } from "./mounts.ts";
import { containerDir, podLogsDir } from "./paths.ts";
import { containerResources } from "./resources.ts";
import { type ImageUser, runAsNonRootProblem, runtimeSecurityContext } from "./security.ts";
import type { PodVolumes } from "./volumes.ts";

const REASON = "CreateContainerConfigError";

/** Annotations on every container (upstream's keys where upstream has them). */
export const ContainerAnnotations = {
  terminationMessagePath: "io.kubernetes.container.terminationMessagePath",
  terminationMessagePolicy: "io.kubernetes.container.terminationMessagePolicy",
  terminationGracePeriod: "io.kubernetes.pod.terminationGracePeriod",
  preStopHandler: "io.kubernetes.container.preStopHandler",
  ports: "io.kubernetes.container.ports",
  /** Where the termination-message file is on the node (upstream finds it through CRI status mounts). */
  terminationMessageHostPath: "io.deckhand.container.terminationMessageHostPath",
} as const;

export interface ContainerConfigOptions {
  podIP: string;
  /** All pod IPs (status.podIPs, /etc/hosts); default [podIP]. */
  podIPs?: string[];
  restartCount: number;
  volumes: PodVolumes;
  ctx: PodConfigContext;
  isInit: boolean;
  /** The image's user from Runtime.imageStatus; unknown = root (upstream), which runAsNonRoot rejects. */
  imageUser?: ImageUser;
  /** The node's hosts file copied for host-network pods; default /etc/hosts. */
  nodeHostsFile?: string;
}

/** Throws PodConfigError(InvalidImageName) with upstream's message when the reference does not parse. */
export function checkImageReference(image: string | undefined): void {
  const problem = imageReferenceProblem(image ?? "");
  if (problem)
    throw new PodConfigError(
      "InvalidImageName",
      `Failed to apply default image tag "${image ?? ""}": ${problem}`,
    );
}

function wrap(error: unknown, what: string): never {
  if (error instanceof PodConfigError) throw error;
  throw new PodConfigError(REASON, `${what}: ${messageOf(error)}`, { cause: error });
}

async function terminationMessageMount(podDir: string, container: Container): Promise<Mount | undefined> {
  const path = container.terminationMessagePath;
  if (!path) return undefined;
  try {
    const dir = containerDir(podDir, container.name);
    await mkdir(dir, { recursive: true, mode: 0o750 });
    const file = join(dir, randomName());
    await writeFile(file, "", { flag: "wx" });
    await chmod(file, 0o666); // the container's user, whoever it is, writes it
    return { containerPath: path.startsWith("/") ? path : `/${path}`, hostPath: file };
  } catch (error) {
    return wrap(error, `container "${container.name}": cannot create the termination-log file`);
  }
}

function annotations(
  pod: Pod,
  container: Container,
  terminationHostPath: string | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  if (container.terminationMessagePath) {
    out[ContainerAnnotations.terminationMessagePath] = container.terminationMessagePath;
  }
  if (container.terminationMessagePolicy) {
    out[ContainerAnnotations.terminationMessagePolicy] = container.terminationMessagePolicy;
  }
  if (pod.spec?.terminationGracePeriodSeconds !== undefined) {
    out[ContainerAnnotations.terminationGracePeriod] = String(pod.spec.terminationGracePeriodSeconds);
  }
  if (container.lifecycle?.preStop)
    out[ContainerAnnotations.preStopHandler] = JSON.stringify(container.lifecycle.preStop);
  if (container.ports?.length) out[ContainerAnnotations.ports] = JSON.stringify(container.ports);
  if (terminationHostPath) out[ContainerAnnotations.terminationMessageHostPath] = terminationHostPath;
  return out;
}

export async function buildContainerConfig(
  pod: Pod,
  container: Container,
  opts: ContainerConfigOptions,
): Promise<ContainerConfig> {
  const { ctx } = opts;
  const id = podIdentity(pod, REASON);
  const list = opts.isInit ? pod.spec?.initContainers : pod.spec?.containers;
  if (!(list ?? []).some((c) => c.name === container.name)) {
    const field = opts.isInit ? "spec.initContainers" : "spec.containers";
    throw new PodConfigError(
      REASON,
      `container "${container.name}" is not in ${field} of pod ${formatPod(pod)}`,
    );
  }
  checkImageReference(container.image);
  const nonRoot = runAsNonRootProblem(pod, container, opts.imageUser);
  if (nonRoot) throw new PodConfigError(REASON, nonRoot);

  let names: ReturnType<typeof podHostnameAndDomain>;
  try {
    names = podHostnameAndDomain(pod, ctx.clusterDomain);
  } catch (error) {
    wrap(error, `pod ${formatPod(pod)}`);
  }
  const podIPs = opts.podIPs ?? (opts.podIP ? [opts.podIP] : []);
  const env = await makeEnvironment({ pod, container, podIP: opts.podIP, podIPs, ctx });
  const envMap = new Map(env.map((kv) => [kv.key, kv.value]));
  const mapping = mappingFor(envMap);

  const mounts = await makeMounts({
    pod,
    container,
    volumes: opts.volumes,
    env: envMap,
    podIPs,
    names,
    mounter: ctx.mounter ?? systemMounter,
    ...(opts.nodeHostsFile ? { nodeHostsFile: opts.nodeHostsFile } : {}),
  }).catch((error: unknown) => wrap(error, `container "${container.name}": mounts`));
  const termination = await terminationMessageMount(opts.volumes.podDir, container);
  if (termination) mounts.push(termination);

  let logPath: string | undefined;
  if (ctx.runtimeName === "cri") {
    try {
      await mkdir(join(podLogsDir(opts.volumes.podDir), container.name), { recursive: true, mode: 0o755 });
    } catch (error) {
      wrap(error, `create container log directory for container ${container.name} failed`);
    }
    logPath = `${container.name}/${opts.restartCount}.log`;
  }

  let resources: ContainerConfig["resources"];
  try {
    const memoryCapacity = wholeUnits(capacityOf(ctx).memory ?? "0") ?? 0;
    resources = containerResources(pod, container, memoryCapacity, ctx.allowNegativeOomScoreAdj);
  } catch (error) {
    wrap(error, `container "${container.name}"`);
  }

  const config: ContainerConfig = {
    metadata: { name: container.name, attempt: opts.restartCount },
    image: container.image as string,
    env,
    mounts,
    labels: {
      [RuntimeLabels.podUid]: id.uid,
      [RuntimeLabels.podName]: id.name,
      [RuntimeLabels.podNamespace]: id.namespace,
      [RuntimeLabels.containerName]: container.name,
      [RuntimeLabels.restartCount]: String(opts.restartCount),
      [RuntimeLabels.specHash]: containerSpecHash(container),
      [RuntimeLabels.managedBy]: "true",
    },
    annotations: annotations(pod, container, termination?.hostPath),
    resources,
    securityContext: runtimeSecurityContext(pod, container),
  };
  if (container.command?.length) config.command = container.command.map((c) => expand(c, mapping));
  if (container.args?.length) config.args = container.args.map((a) => expand(a, mapping));
  if (container.workingDir) config.workingDir = container.workingDir;
  if (logPath) config.logPath = logPath;
  if (container.stdin) config.stdin = true;
  if (container.stdinOnce) config.stdinOnce = true;
  if (container.tty) config.tty = true;
  return config;
}
