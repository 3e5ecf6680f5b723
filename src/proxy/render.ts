// The pure renderer: service ports and their endpoints → iptables rules, in upstream kube-proxy's layout
// (pkg/proxy/iptables/proxier.go syncProxyRules). Each service port renders to the chains it owns (KUBE-SVC,
// KUBE-SVL, KUBE-EXT, KUBE-FW, KUBE-SEP) plus its rules in the shared top-level chains; the static rules are
// rendered separately. renderPayload() puts everything into one iptables-restore payload.
import {
  endpointChainName,
  FILTER_CHAINS,
  KUBE_EXTERNAL_SERVICES,
  KUBE_FIREWALL,
  KUBE_FORWARD,
  KUBE_MARK_MASQ,
  KUBE_NODEPORTS,
  KUBE_POSTROUTING,
  KUBE_PROXY_FIREWALL,
  KUBE_SERVICES,
  NAT_CHAINS,
  servicePortChains,
} from "./chain-names.ts";
import { cidrContains, isLoopback } from "./ip.ts";
import { comment, dport, probability, REJECT, rule, type Table } from "./rule-text.ts";
import { categorizeEndpoints } from "./topology.ts";
import {
  type EndpointInfo,
  externallyAccessible,
  type ServicePortInfo,
  usesClusterEndpoints,
  usesLocalEndpoints,
} from "./types.ts";

/** Above this many endpoints in total, per-endpoint rules drop their comments (upstream's large cluster mode). */
export const LARGE_CLUSTER_ENDPOINTS_THRESHOLD = 1000;

export interface ProxyRulesConfig {
  /** The node's addresses (for node ports and load-balancer source ranges). */
  nodeIPs: string[];
  /** Pod network; traffic from outside it to a ClusterIP is masqueraded (upstream's detect-local ClusterCIDR). */
  clusterCIDR?: string;
  /** SNAT all traffic to ClusterIPs (upstream --masquerade-all). */
  masqueradeAll: boolean;
  /** Mark bit for masquerading: 1 << masqueradeBit (upstream default 14 → 0x4000). */
  masqueradeMark: string;
  /** Node ports answer on 127.0.0.0/8 too (needs route_localnet=1; upstream --iptables-localhost-nodeports). */
  localhostNodePorts: boolean;
  /**
   * CIDRs selecting which node addresses accept node ports (upstream --nodeport-addresses); undefined means
   * every local address (`-m addrtype --dst-type LOCAL`), upstream's default.
   */
  nodePortAddresses?: string[];
  /** MASQUERADE --random-fully is supported by iptables and the kernel. */
  randomFully: boolean;
  /** nf_conntrack_tcp_be_liberal is set: no DROP rule for INVALID packets. */
  conntrackTCPBeLiberal: boolean;
}

export interface RenderContext extends ProxyRulesConfig {
  /** More than LARGE_CLUSTER_ENDPOINTS_THRESHOLD endpoints: leave comments out of per-endpoint rules. */
  largeClusterMode: boolean;
}

export interface ChainRules {
  name: string;
  /** "-A NAME …" lines, in order. */
  rules: string[];
}

/** A rule a service port owns inside a shared top-level chain. */
export interface TopRule {
  table: "filter" | "nat";
  /** "-A CHAIN …" */
  rule: string;
}

export interface ServicePortRules {
  /** nat chains owned by this service port, in upstream's order (EXT, FW, SVC, SVL, SEP…). */
  chains: ChainRules[];
  /** Its rules in KUBE-SERVICES, KUBE-NODEPORTS, KUBE-EXTERNAL-SERVICES, KUBE-PROXY-FIREWALL (order free). */
  top: TopRule[];
}

export function renderServicePort(
  svc: ServicePortInfo,
  endpoints: readonly EndpointInfo[],
  ctx: RenderContext,
): ServicePortRules {
  const protocol = svc.protocol.toLowerCase();
  const name = svc.name;
  const names = servicePortChains(name, protocol);
  const { cluster, local, allReachable, hasAnyEndpoints } = categorizeEndpoints(svc, endpoints);
  // Endpoint chain names are SHA-256 hashes: the tracker's (ep.chain), or computed once per render.
  const sepNames = new Map<string, string>();
  const sepOf = (ep: EndpointInfo) => {
    if (ep.chain !== undefined) return ep.chain;
    let name = sepNames.get(ep.endpoint);
    if (name === undefined) {
      name = endpointChainName(svc.name, protocol, ep.endpoint);
      sepNames.set(ep.endpoint, name);
    }
    return name;
  };
  const usesClusterPolicyChain = cluster.length > 0 && usesClusterEndpoints(svc);
  const usesLocalPolicyChain = local.length > 0 && usesLocalEndpoints(svc);

  const internalChain = svc.internalPolicyLocal ? names.local : names.cluster;
  const hasInternalEndpoints = hasAnyEndpoints && !(svc.internalPolicyLocal && local.length === 0);
  const externalPolicyChain = svc.externalPolicyLocal ? names.local : names.cluster;
  const hasExternalEndpoints = hasAnyEndpoints && !(svc.externalPolicyLocal && local.length === 0);
  const usesExternalChain = hasAnyEndpoints && externallyAccessible(svc);
  const usesFirewallChain =
    hasAnyEndpoints && svc.loadBalancerVIPs.length > 0 && svc.loadBalancerSourceRanges.length > 0;
  const loadBalancerChain = usesFirewallChain ? names.firewall : names.external;

  let internalFilter = "";
  let internalFilterComment = "";
  let externalFilter = "";
  let externalFilterComment = "";
  if (!hasAnyEndpoints) {
    internalFilter = externalFilter = REJECT;
    internalFilterComment = externalFilterComment = `${name} has no endpoints`;
  } else {
    if (!hasInternalEndpoints) {
      internalFilter = "DROP";
      internalFilterComment = `${name} has no local endpoints`;
    }
    if (!hasExternalEndpoints) {
      externalFilter = "DROP";
      externalFilterComment = `${name} has no local endpoints`;
    }
  }

  const top: TopRule[] = [];
  const nat = (text: string) => top.push({ table: "nat", rule: text });
  const filter = (text: string) => top.push({ table: "filter", rule: text });
  const port = dport(protocol, svc.port);

  // The ClusterIP.
  if (hasInternalEndpoints) {
    nat(
      rule(KUBE_SERVICES, {
        dest: svc.clusterIP,
        protocol,
        matches: [comment(`${name} cluster IP`), port],
        target: internalChain,
      }),
    );
  } else {
    filter(
      rule(KUBE_SERVICES, {
        dest: svc.clusterIP,
        protocol,
        matches: [comment(internalFilterComment), port],
        target: internalFilter,
      }),
    );
  }
  // External IPs.
  for (const ip of svc.externalIPs) {
    if (hasAnyEndpoints) {
      nat(
        rule(KUBE_SERVICES, {
          dest: ip,
          protocol,
          matches: [comment(`${name} external IP`), port],
          target: names.external,
        }),
      );
    }
    if (!hasExternalEndpoints) {
      filter(
        rule(KUBE_EXTERNAL_SERVICES, {
          dest: ip,
          protocol,
          matches: [comment(externalFilterComment), port],
          target: externalFilter,
        }),
      );
    }
  }
  // Load-balancer ingress IPs.
  for (const ip of svc.loadBalancerVIPs) {
    if (hasAnyEndpoints) {
      nat(
        rule(KUBE_SERVICES, {
          dest: ip,
          protocol,
          matches: [comment(`${name} loadbalancer IP`), port],
          target: loadBalancerChain,
        }),
      );
    }
    if (usesFirewallChain) {
      filter(
        rule(KUBE_PROXY_FIREWALL, {
          dest: ip,
          protocol,
          matches: [comment(`${name} traffic not accepted by ${names.firewall}`), port],
          target: "DROP",
        }),
      );
    }
  }
  if (!hasExternalEndpoints) {
    for (const ip of svc.loadBalancerVIPs) {
      filter(
        rule(KUBE_EXTERNAL_SERVICES, {
          dest: ip,
          protocol,
          matches: [comment(externalFilterComment), port],
          target: externalFilter,
        }),
      );
    }
  }
  // Node ports.
  if (svc.nodePort !== 0) {
    const nodePort = dport(protocol, svc.nodePort);
    if (hasAnyEndpoints) {
      nat(rule(KUBE_NODEPORTS, { protocol, matches: [comment(name), nodePort], target: names.external }));
    }
    if (!hasExternalEndpoints) {
      filter(
        rule(KUBE_EXTERNAL_SERVICES, {
          protocol,
          matches: [comment(externalFilterComment), "-m addrtype --dst-type LOCAL", nodePort],
          target: externalFilter,
        }),
      );
    }
  }
  // Health check node port: accepted whether or not this node has local endpoints.
  if (svc.healthCheckNodePort !== 0) {
    filter(
      rule(KUBE_NODEPORTS, {
        protocol: "tcp",
        matches: [comment(`${name} health check node port`), dport("tcp", svc.healthCheckNodePort)],
        target: "ACCEPT",
      }),
    );
  }

  const chains: ChainRules[] = [];
  const internalMasq: string[] = [];
  if (hasInternalEndpoints) {
    const masq = (source?: string) =>
      rule(internalChain, {
        source,
        dest: svc.clusterIP,
        protocol,
        matches: [comment(`${name} cluster IP`), port],
        target: KUBE_MARK_MASQ,
      });
    if (ctx.masqueradeAll) internalMasq.push(masq());
    else if (ctx.clusterCIDR) internalMasq.push(masq(`!${ctx.clusterCIDR}`));
  }

  if (usesExternalChain) {
    const ext: string[] = [];
    const extRule = (text: string, target: string, extra: Partial<Parameters<typeof rule>[1]> = {}) =>
      ext.push(
        rule(names.external, { ...extra, matches: [comment(text), ...(extra.matches ?? [])], target }),
      );
    if (!svc.externalPolicyLocal) {
      extRule(`masquerade traffic for ${name} external destinations`, KUBE_MARK_MASQ);
    } else {
      if (ctx.clusterCIDR) {
        extRule(`pod traffic for ${name} external destinations`, names.cluster, { source: ctx.clusterCIDR });
      }
      extRule(`masquerade LOCAL traffic for ${name} external destinations`, KUBE_MARK_MASQ, {
        matches: ["-m addrtype --src-type LOCAL"],
      });
      extRule(`route LOCAL traffic for ${name} external destinations`, names.cluster, {
        matches: ["-m addrtype --src-type LOCAL"],
      });
    }
    if (hasExternalEndpoints) ext.push(rule(names.external, { target: externalPolicyChain }));
    chains.push({ name: names.external, rules: ext });
  }

  if (usesFirewallChain) {
    const fw: string[] = [];
    const lb = comment(`${name} loadbalancer IP`);
    let allowFromNode = false;
    for (const cidr of svc.loadBalancerSourceRanges) {
      fw.push(rule(names.firewall, { source: cidr, matches: [lb], target: names.external }));
      if (ctx.nodeIPs.some((ip) => cidrContains(cidr, ip))) allowFromNode = true;
    }
    if (allowFromNode) {
      for (const ip of svc.loadBalancerVIPs)
        fw.push(rule(names.firewall, { source: ip, matches: [lb], target: names.external }));
    }
    fw.push(
      rule(names.firewall, {
        matches: [comment(`other traffic to ${name} will be dropped by ${KUBE_PROXY_FIREWALL}`)],
      }),
    );
    chains.push({ name: names.firewall, rules: fw });
  }

  if (usesClusterPolicyChain) {
    chains.push({
      name: names.cluster,
      rules: [
        ...(internalChain === names.cluster ? internalMasq : []),
        ...endpointRules(svc, names.cluster, cluster, ctx, sepOf),
      ],
    });
  }
  if (usesLocalPolicyChain) {
    chains.push({
      name: names.local,
      rules: [
        ...(internalChain === names.local ? internalMasq : []),
        ...endpointRules(svc, names.local, local, ctx, sepOf),
      ],
    });
  }

  // Per-endpoint rules are most of the ruleset (three per endpoint): written as templates of the canonical
  // form rule() produces, to keep rendering 100,000 endpoints cheap. The golden tests pin the text.
  const note = ctx.largeClusterMode ? "" : ` ${comment(name)}`;
  for (const ep of allReachable) {
    const sep = sepOf(ep);
    const recent =
      svc.stickyMaxAgeSeconds > 0 ? ` -m recent --set --name ${sep} --mask 255.255.255.255 --rsource` : "";
    chains.push({
      name: sep,
      rules: [
        // Hairpin: a backend reaching itself through the service is masqueraded so replies come back here.
        `-A ${sep} -s ${ep.ip}/32${note} -j ${KUBE_MARK_MASQ}`,
        `-A ${sep} -p ${protocol}${note}${recent} -m ${protocol} -j DNAT --to-destination ${ep.endpoint}`,
      ],
    });
  }
  return { chains, top };
}

/** Session-affinity rules, then one rule per endpoint with probability 1/(n−i), the last unconditional. */
function endpointRules(
  svc: ServicePortInfo,
  chain: string,
  endpoints: readonly EndpointInfo[],
  ctx: RenderContext,
  sepOf: (ep: EndpointInfo) => string,
): string[] {
  const rules: string[] = [];
  const note = (ep: EndpointInfo) =>
    ctx.largeClusterMode ? "" : ` ${comment(`${svc.name} -> ${ep.endpoint}`)}`;
  if (svc.stickyMaxAgeSeconds > 0) {
    const seconds = svc.stickyMaxAgeSeconds;
    for (const ep of endpoints) {
      const sep = sepOf(ep);
      rules.push(
        `-A ${chain}${note(ep)} -m recent --rcheck --seconds ${seconds} --reap --name ${sep} --mask 255.255.255.255 --rsource -j ${sep}`,
      );
    }
  }
  const n = endpoints.length;
  for (let i = 0; i < n; i++) {
    const ep = endpoints[i] as EndpointInfo;
    const statistic = i < n - 1 ? ` -m statistic --mode random --probability ${probability(n - i)}` : "";
    rules.push(`-A ${chain}${note(ep)}${statistic} -j ${sepOf(ep)}`);
  }
  return rules;
}

export interface BaseRules {
  /** Static chains and their full content, by table. */
  chains: Array<{ table: Table; name: string; rules: string[] }>;
  /** Rules that must stay at the end of nat KUBE-SERVICES (the jump to KUBE-NODEPORTS). */
  natServicesTrailer: string[];
}

const NODEPORTS_COMMENT = comment(
  "kubernetes service nodeports; NOTE: this must be the last rule in this chain",
);

/** The node addresses node ports answer on, when nodePortAddresses selects them explicitly. */
export function nodePortIPs(config: ProxyRulesConfig): string[] | undefined {
  if (!config.nodePortAddresses) return undefined;
  const candidates = [...config.nodeIPs, ...(config.localhostNodePorts ? ["127.0.0.1"] : [])];
  const ips = candidates.filter((ip) => config.nodePortAddresses?.some((cidr) => cidrContains(cidr, ip)));
  return [...new Set(ips)];
}

export function renderBase(config: ProxyRulesConfig): BaseRules {
  const mark = config.masqueradeMark;
  const chains: BaseRules["chains"] = [
    {
      table: "filter",
      name: KUBE_FIREWALL,
      rules: [
        rule(KUBE_FIREWALL, {
          source: "!127.0.0.0/8",
          dest: "127.0.0.0/8",
          matches: [
            comment("block incoming localnet connections"),
            "-m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT",
          ],
          target: "DROP",
        }),
      ],
    },
    {
      table: "filter",
      name: KUBE_FORWARD,
      rules: [
        ...(config.conntrackTCPBeLiberal
          ? []
          : [rule(KUBE_FORWARD, { matches: ["-m conntrack --ctstate INVALID"], target: "DROP" })]),
        rule(KUBE_FORWARD, {
          matches: [comment("kubernetes forwarding rules"), `-m mark --mark ${mark}/${mark}`],
          target: "ACCEPT",
        }),
        rule(KUBE_FORWARD, {
          matches: [
            comment("kubernetes forwarding conntrack rule"),
            "-m conntrack --ctstate RELATED,ESTABLISHED",
          ],
          target: "ACCEPT",
        }),
      ],
    },
    {
      table: "nat",
      name: KUBE_POSTROUTING,
      rules: [
        rule(KUBE_POSTROUTING, { matches: [`-m mark ! --mark ${mark}/${mark}`], target: "RETURN" }),
        // Clear the mark so a packet that traverses the stack again is not masqueraded twice.
        rule(KUBE_POSTROUTING, { target: `MARK --set-xmark ${mark}/0x0` }),
        rule(KUBE_POSTROUTING, {
          matches: [comment("kubernetes service traffic requiring SNAT")],
          target: config.randomFully ? "MASQUERADE --random-fully" : "MASQUERADE",
        }),
      ],
    },
    {
      table: "nat",
      name: KUBE_MARK_MASQ,
      rules: [rule(KUBE_MARK_MASQ, { target: `MARK --set-xmark ${mark}/${mark}` })],
    },
  ];

  const natServicesTrailer: string[] = [];
  const ips = nodePortIPs(config);
  if (!ips) {
    natServicesTrailer.push(
      rule(KUBE_SERVICES, {
        dest: config.localhostNodePorts ? undefined : "!127.0.0.0/8",
        matches: [NODEPORTS_COMMENT, "-m addrtype --dst-type LOCAL"],
        target: KUBE_NODEPORTS,
      }),
    );
  } else {
    for (const ip of ips) {
      if (isLoopback(ip) && !config.localhostNodePorts) continue;
      natServicesTrailer.push(
        rule(KUBE_SERVICES, { dest: ip, matches: [NODEPORTS_COMMENT], target: KUBE_NODEPORTS }),
      );
    }
  }
  return { chains, natServicesTrailer };
}

export interface ProxyState {
  /** Service ports by service-port key. */
  ports: ReadonlyMap<string, ServicePortInfo>;
  /** Endpoints by service-port key. */
  endpoints: ReadonlyMap<string, readonly EndpointInfo[]>;
}

export function totalEndpoints(state: ProxyState): number {
  let total = 0;
  for (const key of state.ports.keys()) total += state.endpoints.get(key)?.length ?? 0;
  return total;
}

export function renderContext(config: ProxyRulesConfig, state: ProxyState): RenderContext {
  return { ...config, largeClusterMode: totalEndpoints(state) > LARGE_CLUSTER_ENDPOINTS_THRESHOLD };
}

/** Every service port's rules, in service-port key order. */
export function renderAll(state: ProxyState, ctx: RenderContext): Map<string, ServicePortRules> {
  const result = new Map<string, ServicePortRules>();
  for (const key of [...state.ports.keys()].sort()) {
    const svc = state.ports.get(key) as ServicePortInfo;
    result.set(key, renderServicePort(svc, state.endpoints.get(key) ?? [], ctx));
  }
  return result;
}

/**
 * The whole ruleset as one iptables-restore payload (filter, then nat), like upstream's full sync:
 * every Deckhand chain declared (and so flushed) and filled. Used for golden tests, the packet tracer and
 * small rulesets; the syncer applies the same rules in bounded, incremental payloads.
 */
export function renderPayload(state: ProxyState, config: ProxyRulesConfig): string {
  const ctx = renderContext(config, state);
  const base = renderBase(config);
  const services = renderAll(state, ctx);
  const out: string[] = ["*filter"];
  for (const chain of FILTER_CHAINS) out.push(`:${chain} - [0:0]`);
  for (const chain of base.chains) if (chain.table === "filter") out.push(...chain.rules);
  for (const rules of services.values())
    for (const top of rules.top) if (top.table === "filter") out.push(top.rule);
  out.push("COMMIT", "*nat");
  for (const chain of NAT_CHAINS) out.push(`:${chain} - [0:0]`);
  for (const rules of services.values()) for (const chain of rules.chains) out.push(`:${chain.name} - [0:0]`);
  for (const chain of base.chains) if (chain.table === "nat") out.push(...chain.rules);
  for (const rules of services.values())
    for (const top of rules.top) if (top.table === "nat") out.push(top.rule);
  out.push(...base.natServicesTrailer);
  for (const rules of services.values()) for (const chain of rules.chains) out.push(...chain.rules);
  out.push("COMMIT", "");
  return out.join("\n");
}
