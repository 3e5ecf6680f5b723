// Service environment variables, the way kubelet's envvars.FromServices and getServiceEnvVarMap make them:
// `<SVC>_SERVICE_HOST/_PORT/_PORT_<NAME>` plus Docker-link style `<SVC>_PORT_<port>_<PROTO>…`, for the
// services of the pod's namespace (when enableServiceLinks) and always for the master service
// (`kubernetes` in `default`).
import type { Pod } from "../../api/schema/core/pod-types.ts";
import type { Service } from "../../api/schema/core/service-types.ts";
import type { PodConfigApi } from "./context.ts";

const MASTER_SERVICES = new Set(["kubernetes"]);
const DEFAULT_NAMESPACE = "default";

function envName(text: string): string {
  const name = text.replaceAll(".", "_").replaceAll("-", "_").toUpperCase();
  return /^[0-9]/.test(name) ? `_${name}` : name;
}

function hasClusterIP(service: Service): boolean {
  const ip = service.spec?.clusterIP;
  return ip !== undefined && ip !== "" && ip !== "None";
}

/** The variables for a list of services, in upstream's order per service. */
export function envForServices(services: readonly Service[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const service of services) {
    if (!hasClusterIP(service)) continue;
    const ip = service.spec?.clusterIP as string;
    const ports = service.spec?.ports ?? [];
    const prefix = envName(service.metadata?.name ?? "");
    out.push([`${prefix}_SERVICE_HOST`, ip]);
    const first = ports[0];
    if (first) {
      out.push([`${prefix}_SERVICE_PORT`, String(first.port)]);
      for (const port of ports) {
        if (port.name) out.push([`${prefix}_SERVICE_PORT_${envName(port.name)}`, String(port.port)]);
      }
    }
    ports.forEach((port, i) => {
      const protocol = port.protocol || "TCP";
      const url = `${protocol.toLowerCase()}://${ip}:${port.port}`;
      if (i === 0) out.push([`${prefix}_PORT`, url]);
      const portPrefix = `${prefix}_PORT_${port.port}_${protocol.toUpperCase()}`;
      out.push([portPrefix, url]);
      out.push([`${portPrefix}_PROTO`, protocol.toLowerCase()]);
      out.push([`${portPrefix}_PORT`, String(port.port)]);
      out.push([`${portPrefix}_ADDR`, ip]);
    });
  }
  return out;
}

/**
 * The service variables a pod sees: the master service from `default` always, the pod namespace's services
 * when enableServiceLinks (default true); a same-named service of the pod's namespace wins.
 */
export async function serviceEnvForPod(pod: Pod, api: PodConfigApi): Promise<Map<string, string>> {
  const namespace = pod.metadata?.namespace ?? "";
  const links = pod.spec?.enableServiceLinks !== false;
  const chosen = new Map<string, Service>();
  const defaults = await api.listServices(DEFAULT_NAMESPACE);
  for (const service of defaults) {
    const name = service.metadata?.name ?? "";
    if (MASTER_SERVICES.has(name) && hasClusterIP(service)) chosen.set(name, service);
  }
  if (links) {
    const own = namespace === DEFAULT_NAMESPACE ? defaults : await api.listServices(namespace);
    for (const service of own) {
      if (hasClusterIP(service)) chosen.set(service.metadata?.name ?? "", service);
    }
  }
  const ordered = [...chosen.keys()].sort().map((name) => chosen.get(name) as Service);
  return new Map(envForServices(ordered));
}
