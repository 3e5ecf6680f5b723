// The pod's resolver configuration per dnsPolicy, following kubelet's dns.Configurer: the host resolv.conf is
// the base; ClusterFirst replaces the servers with clusterDNS, prepends the cluster search domains and sets
// ndots:5; None starts empty; pod.spec.dnsConfig is merged last; limits are enforced with warnings.
import { readFileSync } from "node:fs";
import type { Pod } from "../../api/schema/core/pod-types.ts";
import type { DnsConfig } from "../../runtime/types.ts";

/** Upstream's limits (validation.MaxDNSNameservers, the ExpandedDNSConfig search limits). */
export const MAX_DNS_NAMESERVERS = 3;
export const MAX_DNS_SEARCH_PATHS = 32;
export const MAX_DNS_SEARCH_LIST_CHARS = 2048;
const MAX_SEARCH_DOMAIN_LENGTH = 253;
const DEFAULT_OPTIONS = ["ndots:5"];

export const DEFAULT_RESOLV_CONF = "/etc/resolv.conf";

export interface DnsInput {
  clusterDNS: string[];
  clusterDomain: string;
  hostIPs: string[];
  /** Parsed host resolv.conf; undefined when kubelet's --resolv-conf is "". */
  host: DnsConfig | undefined;
}

export interface DnsWarning {
  reason: "MissingClusterDNS" | "DNSConfigForming";
  message: string;
}

/** Parses resolv.conf: nameservers accumulate, the last search and options lines win. */
export function parseResolvConf(text: string): DnsConfig {
  const servers: string[] = [];
  let searches: string[] = [];
  let options: string[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line.startsWith("#") || line.startsWith(";")) continue;
    const fields = line.split(/\s+/).filter(Boolean);
    if (fields.length === 0) continue;
    if (fields[0] === "nameserver" && fields[1]) servers.push(fields[1]);
    if (fields[0] === "search") searches = fields.slice(1).map((s) => (s.endsWith(".") ? s.slice(0, -1) : s));
    if (fields[0] === "options") options = fields.slice(1);
  }
  return { servers, searches, options };
}

/** Reads and parses the host resolver file; "" means none (like kubelet's --resolv-conf=""). */
export function readHostDns(path: string): DnsConfig | undefined {
  if (path === "") return undefined;
  return parseResolvConf(readFileSync(path, "utf8"));
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

/** Merges options by name; the pod's entries replace the base's in place, new ones are appended. */
function mergeOptions(
  base: readonly string[],
  pod: ReadonlyArray<{ name?: string; value?: string }>,
): string[] {
  const merged = new Map<string, string>();
  for (const option of base) {
    const colon = option.indexOf(":");
    if (colon === -1) merged.set(option, "");
    else merged.set(option.slice(0, colon), option.slice(colon + 1));
  }
  for (const option of pod) merged.set(option.name ?? "", option.value ?? "");
  return [...merged].map(([name, value]) => (value === "" ? name : `${name}:${value}`));
}

function fitSearches(searches: string[], warnings: DnsWarning[]): string[] {
  let exceeded = false;
  let list = searches;
  if (list.length > MAX_DNS_SEARCH_PATHS) {
    list = list.slice(0, MAX_DNS_SEARCH_PATHS);
    exceeded = true;
  }
  const short = list.filter((s) => s.length <= MAX_SEARCH_DOMAIN_LENGTH);
  if (short.length !== list.length) exceeded = true;
  list = short;
  while (list.join(" ").length > MAX_DNS_SEARCH_LIST_CHARS) {
    list = list.slice(0, -1);
    exceeded = true;
  }
  if (exceeded) {
    warnings.push({
      reason: "DNSConfigForming",
      message: `Search Line limits were exceeded, some search paths have been omitted, the applied search line is: ${list.join(" ")}`,
    });
  }
  return list;
}

function fitServers(servers: string[], warnings: DnsWarning[]): string[] {
  if (servers.length <= MAX_DNS_NAMESERVERS) return servers;
  const kept = servers.slice(0, MAX_DNS_NAMESERVERS);
  warnings.push({
    reason: "DNSConfigForming",
    message: `Nameserver limits were exceeded, some nameservers have been omitted, the applied nameserver line is: ${kept.join(" ")}`,
  });
  return kept;
}

type DnsType = "cluster" | "host" | "none";

function dnsType(pod: Pod): DnsType {
  switch (pod.spec?.dnsPolicy) {
    case "None":
      return "none";
    case "ClusterFirstWithHostNet":
      return "cluster";
    case "Default":
      return "host";
    default: // ClusterFirst (the default): host network pods fall back to Default
      return pod.spec?.hostNetwork ? "host" : "cluster";
  }
}

function hostFallback(input: DnsInput): DnsConfig {
  if (input.host) return { ...input.host };
  // No resolver file: point at the local resolver and disable search, like upstream.
  const servers = input.hostIPs.map((ip) => (ip.includes(":") ? "::1" : "127.0.0.1"));
  return { servers: servers.length > 0 ? servers : ["127.0.0.1"], searches: ["."], options: [] };
}

/** The pod's DNS config and the warning events upstream would record. */
export function podDnsConfig(pod: Pod, input: DnsInput): { config: DnsConfig; warnings: DnsWarning[] } {
  const warnings: DnsWarning[] = [];
  const base: DnsConfig = input.host
    ? {
        servers: [...input.host.servers],
        searches: [...input.host.searches],
        options: [...input.host.options],
      }
    : { servers: [], searches: [], options: [] };
  let config: DnsConfig;
  const type = dnsType(pod);
  if (type === "none") {
    config = { servers: [], searches: [], options: [] };
  } else if (type === "cluster" && input.clusterDNS.length > 0) {
    const namespace = pod.metadata?.namespace ?? "";
    const domain = input.clusterDomain;
    const searches = domain
      ? unique([`${namespace}.svc.${domain}`, `svc.${domain}`, domain, ...base.searches])
      : base.searches;
    config = { servers: [...input.clusterDNS], searches, options: [...DEFAULT_OPTIONS] };
  } else {
    if (type === "cluster") {
      warnings.push({
        reason: "MissingClusterDNS",
        message: `pod: "${pod.metadata?.name}_${pod.metadata?.namespace}(${pod.metadata?.uid})". kubelet does not have ClusterDNS IP configured and cannot create Pod using "ClusterFirst" policy. Falling back to "Default" policy.`,
      });
    }
    config = hostFallback(input);
  }
  const extra = pod.spec?.dnsConfig;
  if (extra) {
    config = {
      servers: unique([...config.servers, ...(extra.nameservers ?? [])]),
      searches: unique([...config.searches, ...(extra.searches ?? [])]),
      options: mergeOptions(config.options, extra.options ?? []),
    };
  }
  return {
    config: {
      servers: fitServers(config.servers, warnings),
      searches: fitSearches(config.searches, warnings),
      options: config.options,
    },
    warnings,
  };
}
