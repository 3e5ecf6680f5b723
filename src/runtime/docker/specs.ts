// Pure translation of sandbox and container configs into Docker create requests, dockershim style: the
// sandbox is a pause container owning the network (bridge), IPC (shareable) and PID namespaces, hostname,
// DNS and published ports; app containers join it through `container:<sandboxId>` modes.
import type Docker from "dockerode";
import { invalid } from "../errors.ts";
import { type ContainerConfig, type PodSandboxConfig, type PortMapping, RuntimeLabels } from "../types.ts";
import { CONTAINER_TYPE, DockerLabels, encodeLabels, MANAGED_VALUE, SANDBOX_TYPE } from "./labels.ts";
import { containerName, sandboxName } from "./names.ts";
import { effectiveOomScoreAdj, type ResolvedDockerOptions } from "./options.ts";

function portKey(p: PortMapping): string {
  return `${p.containerPort}/${p.protocol.toLowerCase()}`;
}

function ports(mappings: PortMapping[] | undefined): {
  exposed: Record<string, object>;
  bindings: Record<string, Array<{ HostIp: string; HostPort: string }>>;
} {
  const exposed: Record<string, object> = {};
  const bindings: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
  for (const p of mappings ?? []) {
    const key = portKey(p);
    exposed[key] = {};
    if (!p.hostPort) continue;
    const list = bindings[key] ?? [];
    list.push({ HostIp: p.hostIp ?? "", HostPort: String(p.hostPort) });
    bindings[key] = list;
  }
  return { exposed, bindings };
}

export function sandboxCreateOptions(
  config: PodSandboxConfig,
  options: ResolvedDockerOptions,
): Docker.ContainerCreateOptions {
  const m = config.metadata;
  const hostNetwork = config.hostNetwork === true;
  const { exposed, bindings } = ports(hostNetwork ? [] : config.portMappings);
  const dns = config.dnsConfig;
  return {
    name: sandboxName(m),
    Image: options.pauseImage,
    ...(hostNetwork || !config.hostname ? {} : { Hostname: config.hostname }),
    Labels: encodeLabels(config.labels, config.annotations, {
      [RuntimeLabels.podUid]: m.uid,
      [RuntimeLabels.podName]: m.name,
      [RuntimeLabels.podNamespace]: m.namespace,
      [RuntimeLabels.managedBy]: MANAGED_VALUE,
      [DockerLabels.type]: SANDBOX_TYPE,
      [DockerLabels.sandboxAttempt]: String(m.attempt),
    }),
    ExposedPorts: exposed,
    HostConfig: {
      NetworkMode: hostNetwork ? "host" : "bridge",
      IpcMode: "shareable",
      PortBindings: bindings,
      ...(dns?.servers?.length ? { Dns: dns.servers } : {}),
      ...(dns?.searches?.length ? { DnsSearch: dns.searches } : {}),
      ...(dns?.options?.length ? { DnsOptions: dns.options } : {}),
      ...(config.cgroupParent ? { CgroupParent: config.cgroupParent } : {}),
      ...(config.sysctls && Object.keys(config.sysctls).length ? { Sysctls: config.sysctls } : {}),
      OomScoreAdj: effectiveOomScoreAdj(options, options.sandboxOomScoreAdj),
      RestartPolicy: { Name: "no" },
    },
  };
}

const PROPAGATION = { private: "rprivate", hostToContainer: "rslave", bidirectional: "rshared" } as const;

function binds(config: ContainerConfig): string[] {
  return (config.mounts ?? []).map((m, i) => {
    // Docker's Binds syntax is colon-separated; a colon inside a path cannot be expressed.
    if (m.hostPath.includes(":")) throw invalid(`mounts[${i}].hostPath`, `"${m.hostPath}" contains ":"`);
    if (m.containerPath.includes(":")) {
      throw invalid(`mounts[${i}].containerPath`, `"${m.containerPath}" contains ":"`);
    }
    const opts = [m.readonly ? "ro" : "rw", PROPAGATION[m.propagation ?? "private"]];
    return `${m.hostPath}:${m.containerPath}:${opts.join(",")}`;
  });
}

function user(config: ContainerConfig): string | undefined {
  const s = config.securityContext;
  if (s?.runAsUser === undefined) return undefined;
  return s.runAsGroup === undefined ? String(s.runAsUser) : `${s.runAsUser}:${s.runAsGroup}`;
}

export function containerCreateOptions(
  sandboxId: string,
  config: ContainerConfig,
  sandboxConfig: PodSandboxConfig,
  options: ResolvedDockerOptions,
): Docker.ContainerCreateOptions {
  const pod = sandboxConfig.metadata;
  const join = `container:${sandboxId}`;
  const r = config.resources ?? {};
  const s = config.securityContext ?? {};
  const memory = r.memoryLimitBytes ?? 0;
  const name = user(config);
  return {
    name: containerName(config.metadata, pod),
    Image: config.image,
    ...(config.command?.length ? { Entrypoint: config.command } : {}),
    ...(config.args?.length ? { Cmd: config.args } : {}),
    Env: (config.env ?? []).map((kv) => `${kv.key}=${kv.value}`),
    ...(config.workingDir ? { WorkingDir: config.workingDir } : {}),
    ...(name === undefined ? {} : { User: name }),
    Tty: config.tty === true,
    OpenStdin: config.stdin === true,
    StdinOnce: config.stdinOnce === true,
    Labels: encodeLabels(config.labels, config.annotations, {
      [RuntimeLabels.podUid]: pod.uid,
      [RuntimeLabels.podName]: pod.name,
      [RuntimeLabels.podNamespace]: pod.namespace,
      [RuntimeLabels.containerName]: config.metadata.name,
      [RuntimeLabels.restartCount]: String(config.metadata.attempt),
      [RuntimeLabels.managedBy]: MANAGED_VALUE,
      [DockerLabels.type]: CONTAINER_TYPE,
      [DockerLabels.sandboxId]: sandboxId,
      [DockerLabels.image]: config.image,
    }),
    HostConfig: {
      NetworkMode: join,
      IpcMode: join,
      ...(options.sharePidNamespace ? { PidMode: join } : {}),
      Binds: binds(config),
      Devices: (config.devices ?? []).map((d) => ({
        PathOnHost: d.hostPath,
        PathInContainer: d.containerPath,
        CgroupPermissions: d.permissions,
      })),
      ...(r.cpuShares ? { CpuShares: r.cpuShares } : {}),
      ...(r.cpuPeriod ? { CpuPeriod: r.cpuPeriod } : {}),
      ...(r.cpuQuota ? { CpuQuota: r.cpuQuota } : {}),
      // Like dockershim: swap limit = memory limit, so a container cannot swap past its limit.
      ...(memory > 0 ? { Memory: memory, MemorySwap: memory } : {}),
      OomScoreAdj: effectiveOomScoreAdj(options, r.oomScoreAdj),
      Privileged: s.privileged === true,
      ReadonlyRootfs: s.readOnlyRootFilesystem === true,
      ...(s.capabilities?.add.length ? { CapAdd: s.capabilities.add } : {}),
      ...(s.capabilities?.drop.length ? { CapDrop: s.capabilities.drop } : {}),
      ...(s.supplementalGroups?.length ? { GroupAdd: s.supplementalGroups.map(String) } : {}),
      ...(s.noNewPrivileges ? { SecurityOpt: ["no-new-privileges"] } : {}),
      ...(sandboxConfig.cgroupParent ? { CgroupParent: sandboxConfig.cgroupParent } : {}),
      RestartPolicy: { Name: "no" },
    },
  };
}
