// The jumps from the built-in chains into Deckhand's chains (upstream's iptablesJumpChains). They cannot be
// part of a --noflush restore payload (each restore would append another copy), so they are checked against
// iptables-save output and added one by one with `iptables -I`, at the top of the built-in chain.
import {
  KUBE_EXTERNAL_SERVICES,
  KUBE_FIREWALL,
  KUBE_FORWARD,
  KUBE_NODEPORTS,
  KUBE_POSTROUTING,
  KUBE_PROXY_FIREWALL,
  KUBE_SERVICES,
} from "./chain-names.ts";
import { comment, rule } from "./rule-text.ts";

export interface Jump {
  table: "filter" | "nat";
  /** Built-in chain the jump lives in. */
  from: string;
  to: string;
  /** The rule as iptables-save prints it ("-A FROM …"). */
  rule: string;
  /** The arguments after `-I FROM` (or `-D FROM`). */
  args: string[];
}

function jump(
  table: Jump["table"],
  from: string,
  to: string,
  text: string | undefined,
  ctstateNew: boolean,
): Jump {
  const matches = [ctstateNew ? "-m conntrack --ctstate NEW" : undefined, text ? comment(text) : undefined];
  const args: string[] = [];
  if (ctstateNew) args.push("-m", "conntrack", "--ctstate", "NEW");
  if (text) args.push("-m", "comment", "--comment", text);
  args.push("-j", to);
  return { table, from, to, rule: rule(from, { matches, target: to }), args };
}

export const JUMPS: readonly Jump[] = [
  jump("filter", "INPUT", KUBE_EXTERNAL_SERVICES, "kubernetes externally-visible service portals", true),
  jump("filter", "FORWARD", KUBE_EXTERNAL_SERVICES, "kubernetes externally-visible service portals", true),
  jump("filter", "INPUT", KUBE_NODEPORTS, "kubernetes health check service ports", false),
  jump("filter", "FORWARD", KUBE_SERVICES, "kubernetes service portals", true),
  jump("filter", "OUTPUT", KUBE_SERVICES, "kubernetes service portals", true),
  jump("filter", "FORWARD", KUBE_FORWARD, "kubernetes forwarding rules", false),
  jump("filter", "INPUT", KUBE_PROXY_FIREWALL, "kubernetes load balancer firewall", true),
  jump("filter", "OUTPUT", KUBE_PROXY_FIREWALL, "kubernetes load balancer firewall", true),
  jump("filter", "FORWARD", KUBE_PROXY_FIREWALL, "kubernetes load balancer firewall", true),
  jump("nat", "OUTPUT", KUBE_SERVICES, "kubernetes service portals", false),
  jump("nat", "PREROUTING", KUBE_SERVICES, "kubernetes service portals", false),
  jump("nat", "POSTROUTING", KUBE_POSTROUTING, "kubernetes postrouting rules", false),
  // kubelet's: Deckhand is the kubelet as well.
  jump("filter", "INPUT", KUBE_FIREWALL, undefined, false),
  jump("filter", "OUTPUT", KUBE_FIREWALL, undefined, false),
];

export interface JumpFix {
  jump: Jump;
  /** "add" when missing, "remove-duplicate" when present more than once. */
  action: "add" | "remove-duplicate";
}

/** What to change so that every jump is present exactly once, given the built-in chains' saved rules. */
export function planJumps(
  builtinRules: (table: Jump["table"], chain: string) => readonly string[],
): JumpFix[] {
  const fixes: JumpFix[] = [];
  for (const j of JUMPS) {
    const count = builtinRules(j.table, j.from).filter((r) => r === j.rule).length;
    if (count === 0) fixes.push({ jump: j, action: "add" });
    for (let i = 1; i < count; i++) fixes.push({ jump: j, action: "remove-duplicate" });
  }
  return fixes;
}
