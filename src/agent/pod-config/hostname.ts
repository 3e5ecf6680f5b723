// The pod's hostname and domain (kubelet's GeneratePodHostNameAndDomain and GetNodenameForKernel).
import type { Pod } from "../../api/schema/core/pod-types.ts";

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const HOSTNAME_MAX = 63;
const FQDN_MAX = 64;

export interface PodHostname {
  /** The short host name (/etc/hosts entry). */
  hostname: string;
  /** "<subdomain>.<namespace>.svc.<clusterDomain>", or "" without a subdomain. */
  domain: string;
}

function labelProblem(value: string): string | undefined {
  if (value.length > 63) return "must be no more than 63 characters";
  if (!DNS_LABEL.test(value)) {
    return "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
  }
  return undefined;
}

/** Caps at 63 characters and trims trailing '-' and '.', like upstream. */
export function truncateHostname(hostname: string): string {
  if (hostname.length <= HOSTNAME_MAX) return hostname;
  return hostname.slice(0, HOSTNAME_MAX).replace(/[-.]+$/, "");
}

/** Throws an Error naming the field when spec.hostname or spec.subdomain is not a DNS label. */
export function podHostnameAndDomain(pod: Pod, clusterDomain: string): PodHostname {
  let hostname = pod.metadata?.name ?? "";
  const specHostname = pod.spec?.hostname;
  if (specHostname) {
    const problem = labelProblem(specHostname);
    if (problem) throw new Error(`pod Hostname "${specHostname}" is not a valid DNS label: ${problem}`);
    hostname = specHostname;
  }
  hostname = truncateHostname(hostname);
  if (!hostname) throw new Error(`hostname for pod "${pod.metadata?.name}" was invalid: "${hostname}"`);
  let domain = "";
  const subdomain = pod.spec?.subdomain;
  if (subdomain) {
    const problem = labelProblem(subdomain);
    if (problem) throw new Error(`pod Subdomain "${subdomain}" is not a valid DNS label: ${problem}`);
    domain = `${subdomain}.${pod.metadata?.namespace}.svc.${clusterDomain}`;
  }
  return { hostname, domain };
}

/** The name the kernel gets: the FQDN when setHostnameAsFQDN and there is a domain, else the short name. */
export function kernelHostname(pod: Pod, names: PodHostname): string {
  if (!pod.spec?.setHostnameAsFQDN || !names.domain) return names.hostname;
  const fqdn = `${names.hostname}.${names.domain}`;
  if (fqdn.length > FQDN_MAX) {
    throw new Error(
      `failed to construct FQDN from pod hostname and cluster domain, FQDN ${fqdn} is too long (${FQDN_MAX} characters is the max, ${fqdn.length} characters requested)`,
    );
  }
  return fqdn;
}
