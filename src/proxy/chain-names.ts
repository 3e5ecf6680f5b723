// Chain names, exactly as upstream kube-proxy (iptables mode) names them, so operators can read Deckhand's
// rules the way they read kube-proxy's: fixed top-level chains, and per service port / endpoint chains named
// by the first 16 characters of the base32 (RFC 4648, padded alphabet) encoding of a SHA-256 hash.
import { hash } from "node:crypto";

export const KUBE_SERVICES = "KUBE-SERVICES";
export const KUBE_EXTERNAL_SERVICES = "KUBE-EXTERNAL-SERVICES";
export const KUBE_NODEPORTS = "KUBE-NODEPORTS";
export const KUBE_POSTROUTING = "KUBE-POSTROUTING";
export const KUBE_MARK_MASQ = "KUBE-MARK-MASQ";
export const KUBE_FORWARD = "KUBE-FORWARD";
export const KUBE_PROXY_FIREWALL = "KUBE-PROXY-FIREWALL";
export const KUBE_PROXY_CANARY = "KUBE-PROXY-CANARY";
/** kubelet's anti-martian chain; Deckhand is the kubelet too, so it owns this copy. */
export const KUBE_FIREWALL = "KUBE-FIREWALL";

export const SVC_PREFIX = "KUBE-SVC-";
export const SVL_PREFIX = "KUBE-SVL-";
export const FW_PREFIX = "KUBE-FW-";
export const EXT_PREFIX = "KUBE-EXT-";
export const SEP_PREFIX = "KUBE-SEP-";

/** Top-level chains per table, the ones Deckhand fills (all owned by Deckhand). */
export const FILTER_CHAINS = [
  KUBE_SERVICES,
  KUBE_EXTERNAL_SERVICES,
  KUBE_FORWARD,
  KUBE_NODEPORTS,
  KUBE_PROXY_FIREWALL,
  KUBE_FIREWALL,
] as const;
export const NAT_CHAINS = [KUBE_SERVICES, KUBE_NODEPORTS, KUBE_POSTROUTING, KUBE_MARK_MASQ] as const;

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** First 16 characters of base32(sha256(text)): 80 bits, the first 10 bytes. */
export function hash16(text: string): string {
  return hashedName("", text);
}

/**
 * `prefix` followed by hash16(text), built as one flat string: the proxy keeps one for every endpoint
 * chain, and concatenating the pieces would make a tree of them to flatten afterwards.
 */
function hashedName(prefix: string, text: string): string {
  // As a "binary" (latin1) string, one character per byte: several times cheaper than allocating a Buffer per hash.
  const digest = hash("sha256", text, "binary");
  const codes = new Array<number>(prefix.length + 16);
  let n = 0;
  for (; n < prefix.length; n++) codes[n] = prefix.charCodeAt(n);
  let bits = 0;
  let value = 0;
  for (let i = 0; i < 10; i++) {
    value = ((value << 8) | digest.charCodeAt(i)) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      codes[n++] = BASE32.charCodeAt((value >>> (bits - 5)) & 31);
      bits -= 5;
    }
  }
  return String.fromCharCode(...codes);
}

/** Hash of a service port: its name string plus the lower-case protocol (upstream's portProtoHash). */
export function portProtoHash(servicePortName: string, protocol: string): string {
  return hash16(servicePortName + protocol.toLowerCase());
}

export interface ServicePortChains {
  /** KUBE-SVC-…: endpoints for "Cluster" traffic policy. */
  cluster: string;
  /** KUBE-SVL-…: node-local endpoints for "Local" traffic policy. */
  local: string;
  /** KUBE-EXT-…: traffic to external destinations (node ports, external IPs, load-balancer IPs). */
  external: string;
  /** KUBE-FW-…: loadBalancerSourceRanges filtering. */
  firewall: string;
}

export function servicePortChains(servicePortName: string, protocol: string): ServicePortChains {
  const hash = portProtoHash(servicePortName, protocol);
  return {
    cluster: flat(SVC_PREFIX + hash),
    local: flat(SVL_PREFIX + hash),
    external: flat(EXT_PREFIX + hash),
    firewall: flat(FW_PREFIX + hash),
  };
}

/**
 * `text` as one flat string, for text without lowercase letters (chain names, IPv4 addresses and ports). V8
 * keeps concatenations as trees of pieces until something flattens them; strings the proxy keeps for every
 * chain or endpoint are stored flat. toUpperCase() flattens without copying by hand, and hands back a string
 * that already is flat (one parsed from JSON) as it is: a fifth of the cost of copying character codes.
 */
export function flat(text: string): string {
  return text.toUpperCase();
}

/** KUBE-SEP-…: one endpoint ("ip:port") of one service port. */
export function endpointChainName(servicePortName: string, protocol: string, endpoint: string): string {
  return hashedName(SEP_PREFIX, servicePortName + protocol.toLowerCase() + endpoint);
}

/** A per-service or per-endpoint chain (the prefixes upstream cleans up). */
export function isServiceChainName(chain: string): boolean {
  // Called for every line of iptables-save (430,000 at 10,000 Services): the common prefix once, then the rest.
  if (!chain.startsWith("KUBE-")) return false;
  const c = chain.charCodeAt(5);
  if (c === 83 /* S */)
    return chain.startsWith("VC-", 6) || chain.startsWith("VL-", 6) || chain.startsWith("EP-", 6);
  if (c === 69 /* E */) return chain.startsWith("XT-", 6);
  if (c === 70 /* F */) return chain.startsWith("W-", 6);
  return false;
}
