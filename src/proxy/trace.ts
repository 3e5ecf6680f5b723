// `deckhand debug trace <ip:port/proto>`: which Service an address belongs to and where a packet sent to it
// goes. Pure: it reads the service ports and endpoints the rules were rendered from and a rule source (the
// proxy's record of what it programmed, or a live iptables-save) and runs the packet tracer over it.
import { isIPv4, isLoopback } from "./ip.ts";
import { nodePortIPs, type ProxyRulesConfig } from "./render.ts";
import type { EndpointView } from "./service-proxy.ts";
import { type Outcome, type Packet, type RuleSource, Tracer } from "./tracer.ts";
import { type EndpointInfo, PROTOCOLS, type Protocol, type ServicePortInfo } from "./types.ts";

export interface TraceTarget {
  ip: string;
  port: number;
  protocol: Protocol;
}

/** Where the traced packet comes from: a process on this node, a client outside the cluster, or an address. */
export type TraceFrom = "node" | "external" | string;

/** A documentation address (RFC 5737 TEST-NET-3): outside every cluster and node network. */
export const EXTERNAL_CLIENT = "203.0.113.1";

export type AddressKind = "ClusterIP" | "NodePort" | "ExternalIP" | "LoadBalancerIP";

export interface TracedServicePort {
  /** "namespace/name:port" (upstream's service port name). */
  name: string;
  service: string;
  protocol: Protocol;
  /** How the address matched: the ClusterIP, a node port on a node address, an external IP, an LB IP. */
  kind: AddressKind;
  clusterIP: string;
  port: number;
  nodePort: number;
  externalTrafficPolicy: "Cluster" | "Local";
  internalTrafficPolicy: "Cluster" | "Local";
  sessionAffinitySeconds: number;
  /** `used`: the traced packet can be DNATed to it. */
  endpoints: Array<EndpointView & { used: boolean }>;
}

export interface TracedOutcome {
  probability: number;
  verdict: Outcome["verdict"];
  /** "ip:port" the packet is DNATed to. */
  dnat?: string;
  masquerade: boolean;
  /** Chains visited, with their tables ("nat/KUBE-SVC-…"). */
  path: string[];
  /** Rules that acted on the packet, "table -A CHAIN …". */
  actions: string[];
}

export interface TraceView {
  target: TraceTarget;
  packet: Packet;
  /** "programmed": the proxy's record of what it programmed; "kernel": a live iptables-save. */
  rules: "programmed" | "kernel";
  servicePorts: TracedServicePort[];
  /** Every way the packet ends, most likely first (same outcomes merged, probabilities summed). */
  outcomes: TracedOutcome[];
  /** One line per finding: the Service hit or none, no endpoints, rejected/dropped, masqueraded or not. */
  summary: string[];
  /** Other programs' rules in the built-in chains the trace passed over (kernel rules only). */
  skippedRules?: string[];
}

export class TraceTargetError extends Error {}

/** Parses "IP:PORT[/PROTOCOL]" (protocol tcp, udp or sctp, any case; default TCP). */
export function parseTraceTarget(text: string): TraceTarget {
  const match = /^([0-9.]+):(\d+)(?:\/([A-Za-z]+))?$/.exec(text.trim());
  const protocol = (match?.[3] ?? "tcp").toUpperCase() as Protocol;
  const port = Number(match?.[2]);
  if (
    !match ||
    !isIPv4(match[1] as string) ||
    !(port >= 1 && port <= 65_535) ||
    !PROTOCOLS.includes(protocol)
  )
    throw new TraceTargetError(
      `${JSON.stringify(text)}: want IP:PORT/PROTOCOL with an IPv4 address, a port 1–65535 and tcp, udp or sctp (e.g. 10.96.0.10:53/udp)`,
    );
  return { ip: match[1] as string, port, protocol };
}

export interface TraceInput {
  target: TraceTarget;
  from: TraceFrom;
  config: ProxyRulesConfig;
  /** The service ports and endpoints the rules were rendered from. */
  ports: Iterable<{ svc: ServicePortInfo; endpoints: readonly EndpointInfo[] }>;
  rules: RuleSource;
  rulesKind: TraceView["rules"];
}

function isNodeAddress(config: ProxyRulesConfig, ip: string): boolean {
  return isLoopback(ip) || config.nodeIPs.includes(ip);
}

/** Whether a node port answers on `ip` (upstream: every local address, or those nodePortAddresses select). */
function nodePortAnswersOn(config: ProxyRulesConfig, ip: string): boolean {
  const selected = nodePortIPs(config);
  if (selected) return selected.includes(ip);
  if (isLoopback(ip)) return config.localhostNodePorts;
  return config.nodeIPs.includes(ip);
}

function kindOf(
  svc: ServicePortInfo,
  target: TraceTarget,
  config: ProxyRulesConfig,
): AddressKind | undefined {
  if (svc.protocol !== target.protocol) return undefined;
  if (svc.port === target.port) {
    if (svc.clusterIP === target.ip) return "ClusterIP";
    if (svc.externalIPs.includes(target.ip)) return "ExternalIP";
    if (svc.loadBalancerVIPs.includes(target.ip)) return "LoadBalancerIP";
  }
  if (svc.nodePort !== 0 && svc.nodePort === target.port && nodePortAnswersOn(config, target.ip))
    return "NodePort";
  return undefined;
}

function packetFor(target: TraceTarget, from: TraceFrom, config: ProxyRulesConfig): Packet {
  const protocol = target.protocol.toLowerCase() as Packet["protocol"];
  const base = { protocol, dest: target.ip, dport: target.port };
  if (from === "node") {
    const source = isLoopback(target.ip) ? "127.0.0.1" : (config.nodeIPs[0] ?? "127.0.0.1");
    return { ...base, source, origin: "local" };
  }
  if (from === "external") return { ...base, source: EXTERNAL_CLIENT, origin: "external" };
  if (!isIPv4(from))
    throw new TraceTargetError(
      `from ${JSON.stringify(from)}: want "node", "external" or the client's IPv4 address (e.g. a pod IP)`,
    );
  return { ...base, source: from, origin: isNodeAddress(config, from) ? "local" : "external" };
}

const COMMENT = /--comment "([^"]*)"/;

/** Outcomes that end the same way through the same chains are one, with their probabilities summed. */
function mergeOutcomes(outcomes: Outcome[]): TracedOutcome[] {
  const merged = new Map<string, TracedOutcome>();
  for (const o of outcomes) {
    const key = JSON.stringify([o.verdict, o.dnat, o.masquerade, o.path, o.actions]);
    const seen = merged.get(key);
    if (seen) seen.probability += o.probability;
    else
      merged.set(key, {
        probability: o.probability,
        verdict: o.verdict,
        ...(o.dnat !== undefined ? { dnat: o.dnat } : {}),
        masquerade: o.masquerade,
        path: o.path,
        actions: o.actions,
      });
  }
  return [...merged.values()].sort(
    (a, b) => b.probability - a.probability || (a.dnat ?? "").localeCompare(b.dnat ?? ""),
  );
}

function percent(p: number): string {
  return `${Number((p * 100).toFixed(1))}%`;
}

function summarize(view: Omit<TraceView, "summary">): string[] {
  const { target, servicePorts, outcomes } = view;
  const address = `${target.ip}:${target.port}/${target.protocol}`;
  const lines: string[] = [];
  if (servicePorts.length === 0) lines.push(`no Service has ${address}`);
  for (const port of servicePorts) {
    const usable = port.endpoints.filter((e) => e.used).length;
    lines.push(
      `${address} is ${port.kind === "NodePort" ? `node port ${port.nodePort} of` : `the ${port.kind} of`} ${port.name} (${port.endpoints.length} endpoints, ${port.endpoints.filter((e) => e.ready).length} ready, ${usable} in use)`,
    );
    if (port.endpoints.length === 0) lines.push(`${port.name} has no endpoints`);
  }
  for (const outcome of outcomes) {
    const why = outcome.actions.at(-1);
    const reason = why ? COMMENT.exec(why)?.[1] : undefined;
    const snat = outcome.masquerade ? ", masqueraded" : "";
    if (outcome.verdict !== "ACCEPT")
      lines.push(
        `${percent(outcome.probability)}: ${outcome.verdict === "REJECT" ? "rejected" : "dropped"}${reason ? ` (${reason})` : ""}`,
      );
    else if (outcome.dnat) lines.push(`${percent(outcome.probability)}: DNAT to ${outcome.dnat}${snat}`);
    else lines.push(`${percent(outcome.probability)}: not translated (no Service rule matched)${snat}`);
  }
  return lines;
}

/** Traces a packet to `target` from `from` over `rules`; throws TraceTargetError for a bad `from`. */
export function traceAddress(input: TraceInput): TraceView {
  const { target, config } = input;
  const packet = packetFor(target, input.from, config);
  const tracer = new Tracer(input.rules, {
    localAddresses: config.nodeIPs,
    foreignRules: input.rulesKind === "kernel" ? "skip" : "error",
  });
  const outcomes = mergeOutcomes(tracer.trace(packet));
  const used = new Set(outcomes.map((o) => o.dnat).filter((d) => d !== undefined));
  const servicePorts: TracedServicePort[] = [];
  for (const { svc, endpoints } of input.ports) {
    const kind = kindOf(svc, target, config);
    if (!kind) continue;
    servicePorts.push({
      name: svc.name,
      service: svc.service,
      protocol: svc.protocol,
      kind,
      clusterIP: svc.clusterIP,
      port: svc.port,
      nodePort: svc.nodePort,
      externalTrafficPolicy: svc.externalPolicyLocal ? "Local" : "Cluster",
      internalTrafficPolicy: svc.internalPolicyLocal ? "Local" : "Cluster",
      sessionAffinitySeconds: svc.stickyMaxAgeSeconds,
      endpoints: endpoints.map((ep) => ({
        endpoint: ep.endpoint,
        ready: ep.ready,
        serving: ep.serving,
        terminating: ep.terminating,
        local: ep.isLocal,
        used: used.has(ep.endpoint),
      })),
    });
  }
  servicePorts.sort((a, b) => a.name.localeCompare(b.name));
  const skipped = tracer.skippedRules();
  const view = {
    target,
    packet,
    rules: input.rulesKind,
    servicePorts,
    outcomes,
    ...(input.rulesKind === "kernel" ? { skippedRules: skipped } : {}),
  };
  return { ...view, summary: summarize(view) };
}
