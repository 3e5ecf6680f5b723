// Property-based fuzzing of the service proxy's path from API objects to rule text: random Services and
// EndpointSlices (names, namespaces, port names with quotes, newlines, spaces and rule fragments; ports of any
// JSON type and range; garbage addresses) → servicePorts / sliceInfo / mergeSlices → renderPayload.
// "Nothing lost" here: rendering never throws, every line of the payload has one of iptables-restore's line
// forms, user text only ever appears inside a quoted comment that it cannot leave (no quote, backslash or
// control character, at most 256 bytes, the kernel's limit), and everything outside comments is built from
// the proxy's own vocabulary. A sample of the payloads goes through the real `iptables-restore --test` in a
// network namespace of the test's own.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Service } from "../../src/api/schema/core/service-types.ts";
import type { EndpointSlice } from "../../src/api/schema/discovery/endpointslice.ts";
import { mergeSlices, SERVICE_NAME_LABEL, sliceInfo } from "../../src/proxy/endpoints.ts";
import { isIPv4 } from "../../src/proxy/ip.ts";
import { type ProxyState, renderPayload } from "../../src/proxy/render.ts";
import { servicePorts } from "../../src/proxy/service-port.ts";
import { type EndpointInfo, type ServicePortInfo, servicePortKey } from "../../src/proxy/types.ts";
import { TEST_CONFIG } from "../proxy/support/fixtures.ts";
import { requireRoot } from "../support/env.ts";
import { createNetns, type TestNetns } from "../support/netns.ts";
import { fuzzRuns, reportCases } from "./support/fuzz.ts";

const NODE = "fuzz-node";
/** Every payload is checked by the parser below; this many also go through the real iptables-restore. */
const KERNEL_SAMPLE = 12;

/** Strings a hostile or buggy writer could put into names: rule fragments, quotes, newlines, long text. */
function nastyString(): fc.Arbitrary<string> {
  return fc.oneof(
    fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/),
    fc.string({ maxLength: 30 }),
    fc.string({ unit: "binary", maxLength: 30 }),
    fc.constantFrom(
      'a" -j ACCEPT -m comment --comment "x',
      "a\n-A KUBE-SERVICES -j ACCEPT\nCOMMIT\n",
      "a\\",
      "x y",
      "COMMIT",
      "*filter",
      ":KUBE-SERVICES - [0:0]",
      "$(reboot)",
      "a".repeat(300),
      "é✓🙂",
      "\u0000",
      "\r",
    ),
  );
}

function portValue(): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.integer({ min: 1, max: 65_535 }),
    fc.integer({ min: -10, max: 200_000 }),
    fc.constantFrom(0, 1.5, Number.NaN, "80", "80 -j ACCEPT", null, true, [80], { n: 80 }, 1e21),
  );
}

function ipValue(): fc.Arbitrary<string> {
  return fc.oneof(
    fc.ipV4(),
    fc.constantFrom("10.0.0.1 -j ACCEPT", "1.2.3.4/33", "999.1.1.1", "", "None", "::1", "1.2.3", "01.2.3.4"),
    fc.string({ maxLength: 15 }),
  );
}

function serviceArb(): fc.Arbitrary<Service> {
  return fc
    .record({
      namespace: nastyString(),
      name: nastyString(),
      type: fc.constantFrom("ClusterIP", "NodePort", "LoadBalancer", "ExternalName", "Bogus"),
      clusterIP: ipValue(),
      externalIPs: fc.array(ipValue(), { maxLength: 2 }),
      sourceRanges: fc.array(fc.oneof(fc.constantFrom("10.0.0.0/8", "1.2.3.4/32"), fc.string()), {
        maxLength: 2,
      }),
      lbIPs: fc.array(ipValue(), { maxLength: 2 }),
      policy: fc.constantFrom("Cluster", "Local", "bogus", undefined),
      internal: fc.constantFrom("Cluster", "Local", undefined),
      affinity: fc.constantFrom("None", "ClientIP", undefined),
      timeout: fc.oneof(fc.integer({ min: -5, max: 100_000 }), fc.constant(undefined)),
      healthCheckNodePort: portValue(),
      ports: fc.array(
        fc.record({
          name: fc.option(nastyString(), { nil: undefined }),
          port: portValue(),
          nodePort: fc.option(portValue(), { nil: undefined }),
          protocol: fc.constantFrom("TCP", "UDP", "SCTP", "ICMP", "tcp", undefined),
        }),
        { maxLength: 3 },
      ),
    })
    .map(
      (s) =>
        ({
          apiVersion: "v1",
          kind: "Service",
          metadata: { namespace: s.namespace, name: s.name },
          spec: {
            type: s.type,
            clusterIP: s.clusterIP,
            externalIPs: s.externalIPs,
            loadBalancerSourceRanges: s.sourceRanges,
            externalTrafficPolicy: s.policy,
            internalTrafficPolicy: s.internal,
            sessionAffinity: s.affinity,
            sessionAffinityConfig: { clientIP: { timeoutSeconds: s.timeout } },
            healthCheckNodePort: s.healthCheckNodePort,
            ports: s.ports,
          },
          status: { loadBalancer: { ingress: s.lbIPs.map((ip) => ({ ip })) } },
        }) as unknown as Service,
    );
}

function sliceArb(service: Service): fc.Arbitrary<EndpointSlice> {
  return fc
    .record({
      ports: fc.array(
        fc.record({
          name: fc.oneof(
            fc.constantFrom(...(service.spec?.ports ?? []).map((p) => p.name ?? ""), ""),
            nastyString(),
          ),
          port: portValue(),
          protocol: fc.constantFrom("TCP", "UDP", "SCTP", "bogus", undefined),
        }),
        { maxLength: 3 },
      ),
      endpoints: fc.array(
        fc.record({
          ip: ipValue(),
          ready: fc.option(fc.boolean(), { nil: undefined }),
          serving: fc.option(fc.boolean(), { nil: undefined }),
          terminating: fc.option(fc.boolean(), { nil: undefined }),
          local: fc.boolean(),
        }),
        { maxLength: 4 },
      ),
      addressType: fc.constantFrom("IPv4", "IPv4", "IPv6", "FQDN"),
    })
    .map(
      (s) =>
        ({
          apiVersion: "discovery.k8s.io/v1",
          kind: "EndpointSlice",
          metadata: {
            namespace: service.metadata?.namespace,
            name: `${service.metadata?.name}-x`,
            labels: { [SERVICE_NAME_LABEL]: service.metadata?.name },
          },
          addressType: s.addressType,
          ports: s.ports,
          endpoints: s.endpoints.map((e) => ({
            addresses: [e.ip],
            conditions: { ready: e.ready, serving: e.serving, terminating: e.terminating },
            nodeName: e.local ? NODE : "elsewhere",
          })),
        }) as unknown as EndpointSlice,
    );
}

/** The proxy's state from API objects, the way the service proxy builds it. */
function proxyState(pairs: Array<[Service, EndpointSlice]>): ProxyState {
  const ports = new Map<string, ServicePortInfo>();
  const endpoints = new Map<string, EndpointInfo[]>();
  for (const [svc, slice] of pairs) {
    for (const port of servicePorts(svc).ports) ports.set(servicePortKey(port.name, port.protocol), port);
    const info = sliceInfo(slice, NODE);
    if (!info) continue;
    for (const [key, eps] of mergeSlices([info])) if (ports.has(key)) endpoints.set(key, eps);
  }
  return { ports, endpoints };
}

/** iptables-restore's tokenizer for a rule line: whitespace-separated words, double quotes group. */
function tokenize(line: string): { words: string[]; quoted: string[] } {
  const words: string[] = [];
  const quoted: string[] = [];
  let i = 0;
  while (i < line.length) {
    if (line[i] === " ") {
      i++;
      continue;
    }
    if (line[i] === '"') {
      const end = line.indexOf('"', i + 1);
      if (end < 0) throw new Error(`unterminated quote in: ${line}`);
      const text = line.slice(i + 1, end);
      quoted.push(text);
      words.push(`"${text}"`);
      i = end + 1;
      continue;
    }
    let end = line.indexOf(" ", i);
    if (end < 0) end = line.length;
    words.push(line.slice(i, end));
    i = end;
  }
  return { words, quoted };
}

function isPort(text: string): boolean {
  return /^[1-9][0-9]{0,4}$/.test(text) && Number(text) <= 65_535;
}

/** The proxy's own vocabulary outside comments: flags, chain names, addresses, numbers, marks. */
const SAFE_WORD = /^(?:[A-Za-z0-9_.:/,!-]+)$/;

/** Checks one payload; returns a description of the first violation, or undefined. */
function violation(payload: string): string | undefined {
  const lines = payload.split("\n");
  if (lines.at(-1) !== "") return "the payload does not end with a newline";
  for (const line of lines.slice(0, -1)) {
    if (/^\*(filter|nat)$/.test(line) || line === "COMMIT") continue;
    if (/^:[A-Z0-9-]{1,28} - \[0:0\]$/.test(line)) continue;
    if (!line.startsWith("-A ")) return `a line of no iptables-restore form: ${JSON.stringify(line)}`;
    let tokens: ReturnType<typeof tokenize>;
    try {
      tokens = tokenize(line);
    } catch (error) {
      return (error as Error).message;
    }
    for (const [i, word] of tokens.words.entries()) {
      if (word.startsWith('"')) {
        if (tokens.words[i - 1] !== "--comment") return `a quoted word outside a comment: ${line}`;
        continue;
      }
      if (!SAFE_WORD.test(word)) return `user text outside a comment (${JSON.stringify(word)}): ${line}`;
    }
    // Structure that injected words would break: one target per rule (none only in the rule that closes a
    // KUBE-FW chain, upstream's "other traffic … will be dropped by KUBE-PROXY-FIREWALL"), ports and DNAT
    // targets in range.
    const words = tokens.words;
    const targets = words.filter((w) => w === "-j").length;
    if (targets > 1 || (targets === 0 && !words[1]?.startsWith("KUBE-FW-")))
      return `not exactly one -j: ${line}`;
    for (const [i, word] of words.entries()) {
      const value = words[i + 1] ?? "";
      if ((word === "--dport" || word === "--dports") && !isPort(value)) return `a bad port: ${line}`;
      if (word === "--to-destination") {
        const [ip, port, ...rest] = value.split(":");
        if (rest.length || !ip || !isIPv4(ip) || !isPort(port ?? "")) return `a bad DNAT target: ${line}`;
        if (i + 2 !== words.length) return `words after the DNAT target: ${line}`;
      }
    }
    for (const text of tokens.quoted) {
      // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is checked.
      if (/["\\\u0000-\u001f\u007f]/.test(text))
        return `a comment iptables cannot hold: ${JSON.stringify(text)}`;
      if (Buffer.byteLength(text) > 256)
        return `a comment over 256 bytes (${Buffer.byteLength(text)}): ${line}`;
    }
  }
  return undefined;
}

describe("service proxy rule rendering under fuzzed Services and EndpointSlices", () => {
  let ns: TestNetns;
  const kernelSample: string[] = [];

  beforeAll(async () => {
    requireRoot();
    ns = await createNetns("dhfuzz");
  });

  afterAll(async () => {
    await ns?.destroy();
  });

  it("renders only well-formed lines and keeps user text inside comments", () => {
    let cases = 0;
    const pairArb = serviceArb().chain((svc) =>
      sliceArb(svc).map((slice): [Service, EndpointSlice] => [svc, slice]),
    );
    fc.assert(
      fc.property(fc.array(pairArb, { minLength: 1, maxLength: 4 }), (pairs) => {
        cases++;
        const payload = renderPayload(proxyState(pairs), TEST_CONFIG);
        const problem = violation(payload);
        if (problem)
          throw new Error(`${problem}\nServices: ${JSON.stringify(pairs.map(([s]) => s.metadata))}`);
        if (kernelSample.length < KERNEL_SAMPLE && payload.split("\n").length > 24)
          kernelSample.push(payload);
      }),
      { numRuns: fuzzRuns(500) },
    );
    reportCases("proxy renderer: Service/EndpointSlice sets", cases);
    expect(kernelSample.length).toBeGreaterThan(0);
  }, 300_000);

  it("the kernel's iptables-restore accepts a sample of the fuzzed payloads", async () => {
    for (const payload of kernelSample) {
      const result = await ns.exec("iptables-restore", ["--test"], { input: payload, allowFailure: true });
      expect(result.code, `iptables-restore --test rejected:\n${result.stderr}\n${payload}`).toBe(0);
    }
    reportCases("proxy renderer: payloads through iptables-restore --test", kernelSample.length);
  });
});
