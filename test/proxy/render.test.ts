import { describe, expect, it } from "vitest";
import {
  renderBase,
  renderPayload,
  renderServicePort,
  type ServicePortRules,
} from "../../src/proxy/render.ts";
import { endpoint, port, state, TEST_CONFIG } from "./support/fixtures.ts";

// Golden text: the rules as iptables-save prints them (the integration tests check that the kernel prints
// them back identically). Chain names and layout follow upstream kube-proxy.

const ctx = { ...TEST_CONFIG, largeClusterMode: false };

function lines(rules: ServicePortRules): string[] {
  return [
    ...rules.top.map((t) => `${t.table}: ${t.rule}`),
    ...rules.chains.flatMap((c) => [`:${c.name}`, ...c.rules]),
  ];
}

describe("renderPayload", () => {
  it("renders a ClusterIP Service with two endpoints as one restore payload", () => {
    const payload = renderPayload(
      state([
        port("ns1/svc1", "p80", { clusterIP: "172.30.0.41", port: 80 }),
        [endpoint("10.180.0.1", 80), endpoint("10.180.0.2", 80)],
      ]),
      TEST_CONFIG,
    );
    expect(payload.split("\n")).toEqual([
      "*filter",
      ":KUBE-SERVICES - [0:0]",
      ":KUBE-EXTERNAL-SERVICES - [0:0]",
      ":KUBE-FORWARD - [0:0]",
      ":KUBE-NODEPORTS - [0:0]",
      ":KUBE-PROXY-FIREWALL - [0:0]",
      ":KUBE-FIREWALL - [0:0]",
      '-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "block incoming localnet connections" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP',
      "-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP",
      '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT',
      '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
      "COMMIT",
      "*nat",
      ":KUBE-SERVICES - [0:0]",
      ":KUBE-NODEPORTS - [0:0]",
      ":KUBE-POSTROUTING - [0:0]",
      ":KUBE-MARK-MASQ - [0:0]",
      ":KUBE-SVC-XPGD46QRK7WJZT7O - [0:0]",
      ":KUBE-SEP-SXIVWICOYRO3J4NJ - [0:0]",
      ":KUBE-SEP-LXVODXWDISEETFEF - [0:0]",
      "-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN",
      "-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0",
      '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
      "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000",
      '-A KUBE-SERVICES -d 172.30.0.41/32 -p tcp -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O',
      '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS',
      '-A KUBE-SVC-XPGD46QRK7WJZT7O ! -s 10.0.0.0/8 -d 172.30.0.41/32 -p tcp -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp --dport 80 -j KUBE-MARK-MASQ',
      '-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.180.0.1:80" -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-SXIVWICOYRO3J4NJ',
      '-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.180.0.2:80" -j KUBE-SEP-LXVODXWDISEETFEF',
      '-A KUBE-SEP-SXIVWICOYRO3J4NJ -s 10.180.0.1/32 -m comment --comment "ns1/svc1:p80" -j KUBE-MARK-MASQ',
      '-A KUBE-SEP-SXIVWICOYRO3J4NJ -p tcp -m comment --comment "ns1/svc1:p80" -m tcp -j DNAT --to-destination 10.180.0.1:80',
      '-A KUBE-SEP-LXVODXWDISEETFEF -s 10.180.0.2/32 -m comment --comment "ns1/svc1:p80" -j KUBE-MARK-MASQ',
      '-A KUBE-SEP-LXVODXWDISEETFEF -p tcp -m comment --comment "ns1/svc1:p80" -m tcp -j DNAT --to-destination 10.180.0.2:80',
      "COMMIT",
      "",
    ]);
  });
});

describe("renderServicePort", () => {
  it("a NodePort Service with Cluster policy masquerades external traffic in KUBE-EXT", () => {
    expect(
      lines(
        renderServicePort(
          port("ns2/svc2", "p80", { clusterIP: "172.30.0.42", port: 80, nodePort: 3001 }),
          [endpoint("10.180.0.2", 80)],
          ctx,
        ),
      ),
    ).toEqual([
      'nat: -A KUBE-SERVICES -d 172.30.0.42/32 -p tcp -m comment --comment "ns2/svc2:p80 cluster IP" -m tcp --dport 80 -j KUBE-SVC-GNZBNJ2PO5MGZ6GT',
      'nat: -A KUBE-NODEPORTS -p tcp -m comment --comment "ns2/svc2:p80" -m tcp --dport 3001 -j KUBE-EXT-GNZBNJ2PO5MGZ6GT',
      ":KUBE-EXT-GNZBNJ2PO5MGZ6GT",
      '-A KUBE-EXT-GNZBNJ2PO5MGZ6GT -m comment --comment "masquerade traffic for ns2/svc2:p80 external destinations" -j KUBE-MARK-MASQ',
      "-A KUBE-EXT-GNZBNJ2PO5MGZ6GT -j KUBE-SVC-GNZBNJ2PO5MGZ6GT",
      ":KUBE-SVC-GNZBNJ2PO5MGZ6GT",
      '-A KUBE-SVC-GNZBNJ2PO5MGZ6GT ! -s 10.0.0.0/8 -d 172.30.0.42/32 -p tcp -m comment --comment "ns2/svc2:p80 cluster IP" -m tcp --dport 80 -j KUBE-MARK-MASQ',
      '-A KUBE-SVC-GNZBNJ2PO5MGZ6GT -m comment --comment "ns2/svc2:p80 -> 10.180.0.2:80" -j KUBE-SEP-RS4RBKLTHTF2IUXJ',
      ":KUBE-SEP-RS4RBKLTHTF2IUXJ",
      '-A KUBE-SEP-RS4RBKLTHTF2IUXJ -s 10.180.0.2/32 -m comment --comment "ns2/svc2:p80" -j KUBE-MARK-MASQ',
      '-A KUBE-SEP-RS4RBKLTHTF2IUXJ -p tcp -m comment --comment "ns2/svc2:p80" -m tcp -j DNAT --to-destination 10.180.0.2:80',
    ]);
  });

  it("a Service without endpoints is rejected in the filter table, on every address", () => {
    expect(
      lines(
        renderServicePort(
          port("ns3/svc3", "p80", {
            clusterIP: "172.30.0.43",
            port: 80,
            nodePort: 3003,
            externalIPs: ["192.168.99.11"],
          }),
          [],
          ctx,
        ),
      ),
    ).toEqual([
      'filter: -A KUBE-SERVICES -d 172.30.0.43/32 -p tcp -m comment --comment "ns3/svc3:p80 has no endpoints" -m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable',
      'filter: -A KUBE-EXTERNAL-SERVICES -d 192.168.99.11/32 -p tcp -m comment --comment "ns3/svc3:p80 has no endpoints" -m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable',
      'filter: -A KUBE-EXTERNAL-SERVICES -p tcp -m comment --comment "ns3/svc3:p80 has no endpoints" -m addrtype --dst-type LOCAL -m tcp --dport 3003 -j REJECT --reject-with icmp-port-unreachable',
    ]);
  });

  it("sessionAffinity ClientIP checks and sets -m recent lists named after the endpoint chains", () => {
    expect(
      lines(
        renderServicePort(
          port("ns4/svc4", "p80", { clusterIP: "172.30.0.44", port: 80, stickyMaxAgeSeconds: 10800 }),
          [endpoint("10.180.0.4", 80), endpoint("10.180.0.5", 80)],
          ctx,
        ),
      ),
    ).toEqual([
      'nat: -A KUBE-SERVICES -d 172.30.0.44/32 -p tcp -m comment --comment "ns4/svc4:p80 cluster IP" -m tcp --dport 80 -j KUBE-SVC-4SW47YFZTEDKD3PK',
      ":KUBE-SVC-4SW47YFZTEDKD3PK",
      '-A KUBE-SVC-4SW47YFZTEDKD3PK ! -s 10.0.0.0/8 -d 172.30.0.44/32 -p tcp -m comment --comment "ns4/svc4:p80 cluster IP" -m tcp --dport 80 -j KUBE-MARK-MASQ',
      '-A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment "ns4/svc4:p80 -> 10.180.0.4:80" -m recent --rcheck --seconds 10800 --reap --name KUBE-SEP-UKSFD7AGPMPPLUHC --mask 255.255.255.255 --rsource -j KUBE-SEP-UKSFD7AGPMPPLUHC',
      '-A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment "ns4/svc4:p80 -> 10.180.0.5:80" -m recent --rcheck --seconds 10800 --reap --name KUBE-SEP-C6EBXVWJJZMIWKLZ --mask 255.255.255.255 --rsource -j KUBE-SEP-C6EBXVWJJZMIWKLZ',
      '-A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment "ns4/svc4:p80 -> 10.180.0.4:80" -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-UKSFD7AGPMPPLUHC',
      '-A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment "ns4/svc4:p80 -> 10.180.0.5:80" -j KUBE-SEP-C6EBXVWJJZMIWKLZ',
      ":KUBE-SEP-UKSFD7AGPMPPLUHC",
      '-A KUBE-SEP-UKSFD7AGPMPPLUHC -s 10.180.0.4/32 -m comment --comment "ns4/svc4:p80" -j KUBE-MARK-MASQ',
      '-A KUBE-SEP-UKSFD7AGPMPPLUHC -p tcp -m comment --comment "ns4/svc4:p80" -m recent --set --name KUBE-SEP-UKSFD7AGPMPPLUHC --mask 255.255.255.255 --rsource -m tcp -j DNAT --to-destination 10.180.0.4:80',
      ":KUBE-SEP-C6EBXVWJJZMIWKLZ",
      '-A KUBE-SEP-C6EBXVWJJZMIWKLZ -s 10.180.0.5/32 -m comment --comment "ns4/svc4:p80" -j KUBE-MARK-MASQ',
      '-A KUBE-SEP-C6EBXVWJJZMIWKLZ -p tcp -m comment --comment "ns4/svc4:p80" -m recent --set --name KUBE-SEP-C6EBXVWJJZMIWKLZ --mask 255.255.255.255 --rsource -m tcp -j DNAT --to-destination 10.180.0.5:80',
    ]);
  });

  it("a LoadBalancer with externalTrafficPolicy Local, source ranges and a health check node port", () => {
    expect(
      lines(
        renderServicePort(
          port("ns5/svc5", "p80", {
            clusterIP: "172.30.0.45",
            port: 80,
            nodePort: 3005,
            loadBalancerVIPs: ["203.0.113.5"],
            loadBalancerSourceRanges: ["203.0.113.0/25", "192.168.0.0/24"],
            externalPolicyLocal: true,
            healthCheckNodePort: 30005,
          }),
          [endpoint("10.180.0.5", 80, { isLocal: true }), endpoint("10.180.1.5", 80)],
          ctx,
        ),
      ),
    ).toEqual([
      'nat: -A KUBE-SERVICES -d 172.30.0.45/32 -p tcp -m comment --comment "ns5/svc5:p80 cluster IP" -m tcp --dport 80 -j KUBE-SVC-NUKIZ6OKUXPJNT4C',
      'nat: -A KUBE-SERVICES -d 203.0.113.5/32 -p tcp -m comment --comment "ns5/svc5:p80 loadbalancer IP" -m tcp --dport 80 -j KUBE-FW-NUKIZ6OKUXPJNT4C',
      'filter: -A KUBE-PROXY-FIREWALL -d 203.0.113.5/32 -p tcp -m comment --comment "ns5/svc5:p80 traffic not accepted by KUBE-FW-NUKIZ6OKUXPJNT4C" -m tcp --dport 80 -j DROP',
      'nat: -A KUBE-NODEPORTS -p tcp -m comment --comment "ns5/svc5:p80" -m tcp --dport 3005 -j KUBE-EXT-NUKIZ6OKUXPJNT4C',
      'filter: -A KUBE-NODEPORTS -p tcp -m comment --comment "ns5/svc5:p80 health check node port" -m tcp --dport 30005 -j ACCEPT',
      ":KUBE-EXT-NUKIZ6OKUXPJNT4C",
      '-A KUBE-EXT-NUKIZ6OKUXPJNT4C -s 10.0.0.0/8 -m comment --comment "pod traffic for ns5/svc5:p80 external destinations" -j KUBE-SVC-NUKIZ6OKUXPJNT4C',
      '-A KUBE-EXT-NUKIZ6OKUXPJNT4C -m comment --comment "masquerade LOCAL traffic for ns5/svc5:p80 external destinations" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ',
      '-A KUBE-EXT-NUKIZ6OKUXPJNT4C -m comment --comment "route LOCAL traffic for ns5/svc5:p80 external destinations" -m addrtype --src-type LOCAL -j KUBE-SVC-NUKIZ6OKUXPJNT4C',
      "-A KUBE-EXT-NUKIZ6OKUXPJNT4C -j KUBE-SVL-NUKIZ6OKUXPJNT4C",
      ":KUBE-FW-NUKIZ6OKUXPJNT4C",
      '-A KUBE-FW-NUKIZ6OKUXPJNT4C -s 203.0.113.0/25 -m comment --comment "ns5/svc5:p80 loadbalancer IP" -j KUBE-EXT-NUKIZ6OKUXPJNT4C',
      '-A KUBE-FW-NUKIZ6OKUXPJNT4C -s 192.168.0.0/24 -m comment --comment "ns5/svc5:p80 loadbalancer IP" -j KUBE-EXT-NUKIZ6OKUXPJNT4C',
      '-A KUBE-FW-NUKIZ6OKUXPJNT4C -s 203.0.113.5/32 -m comment --comment "ns5/svc5:p80 loadbalancer IP" -j KUBE-EXT-NUKIZ6OKUXPJNT4C',
      '-A KUBE-FW-NUKIZ6OKUXPJNT4C -m comment --comment "other traffic to ns5/svc5:p80 will be dropped by KUBE-PROXY-FIREWALL"',
      ":KUBE-SVC-NUKIZ6OKUXPJNT4C",
      '-A KUBE-SVC-NUKIZ6OKUXPJNT4C ! -s 10.0.0.0/8 -d 172.30.0.45/32 -p tcp -m comment --comment "ns5/svc5:p80 cluster IP" -m tcp --dport 80 -j KUBE-MARK-MASQ',
      '-A KUBE-SVC-NUKIZ6OKUXPJNT4C -m comment --comment "ns5/svc5:p80 -> 10.180.0.5:80" -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-TGTSLJDSI6KB7NCB',
      '-A KUBE-SVC-NUKIZ6OKUXPJNT4C -m comment --comment "ns5/svc5:p80 -> 10.180.1.5:80" -j KUBE-SEP-A43KRKW2LFQPIA2T',
      ":KUBE-SVL-NUKIZ6OKUXPJNT4C",
      '-A KUBE-SVL-NUKIZ6OKUXPJNT4C -m comment --comment "ns5/svc5:p80 -> 10.180.0.5:80" -j KUBE-SEP-TGTSLJDSI6KB7NCB',
      ":KUBE-SEP-TGTSLJDSI6KB7NCB",
      '-A KUBE-SEP-TGTSLJDSI6KB7NCB -s 10.180.0.5/32 -m comment --comment "ns5/svc5:p80" -j KUBE-MARK-MASQ',
      '-A KUBE-SEP-TGTSLJDSI6KB7NCB -p tcp -m comment --comment "ns5/svc5:p80" -m tcp -j DNAT --to-destination 10.180.0.5:80',
      ":KUBE-SEP-A43KRKW2LFQPIA2T",
      '-A KUBE-SEP-A43KRKW2LFQPIA2T -s 10.180.1.5/32 -m comment --comment "ns5/svc5:p80" -j KUBE-MARK-MASQ',
      '-A KUBE-SEP-A43KRKW2LFQPIA2T -p tcp -m comment --comment "ns5/svc5:p80" -m tcp -j DNAT --to-destination 10.180.1.5:80',
    ]);
  });

  it("internalTrafficPolicy Local without a local endpoint drops ClusterIP traffic", () => {
    expect(
      lines(
        renderServicePort(
          port("ns6/svc6", "p80", { clusterIP: "172.30.0.46", port: 80, internalPolicyLocal: true }),
          [endpoint("10.180.1.6", 80)],
          ctx,
        ),
      ),
    ).toEqual([
      'filter: -A KUBE-SERVICES -d 172.30.0.46/32 -p tcp -m comment --comment "ns6/svc6:p80 has no local endpoints" -m tcp --dport 80 -j DROP',
    ]);
  });

  it("externalTrafficPolicy Local without a local endpoint keeps only the short-circuit for local traffic", () => {
    expect(
      lines(
        renderServicePort(
          port("ns7/svc7", "p80", {
            clusterIP: "172.30.0.47",
            port: 80,
            nodePort: 3007,
            externalPolicyLocal: true,
          }),
          [endpoint("10.180.1.7", 80)],
          ctx,
        ),
      ),
    ).toEqual([
      'nat: -A KUBE-SERVICES -d 172.30.0.47/32 -p tcp -m comment --comment "ns7/svc7:p80 cluster IP" -m tcp --dport 80 -j KUBE-SVC-KPEMU3PDPRCEMWRI',
      'nat: -A KUBE-NODEPORTS -p tcp -m comment --comment "ns7/svc7:p80" -m tcp --dport 3007 -j KUBE-EXT-KPEMU3PDPRCEMWRI',
      'filter: -A KUBE-EXTERNAL-SERVICES -p tcp -m comment --comment "ns7/svc7:p80 has no local endpoints" -m addrtype --dst-type LOCAL -m tcp --dport 3007 -j DROP',
      ":KUBE-EXT-KPEMU3PDPRCEMWRI",
      '-A KUBE-EXT-KPEMU3PDPRCEMWRI -s 10.0.0.0/8 -m comment --comment "pod traffic for ns7/svc7:p80 external destinations" -j KUBE-SVC-KPEMU3PDPRCEMWRI',
      '-A KUBE-EXT-KPEMU3PDPRCEMWRI -m comment --comment "masquerade LOCAL traffic for ns7/svc7:p80 external destinations" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ',
      '-A KUBE-EXT-KPEMU3PDPRCEMWRI -m comment --comment "route LOCAL traffic for ns7/svc7:p80 external destinations" -m addrtype --src-type LOCAL -j KUBE-SVC-KPEMU3PDPRCEMWRI',
      ":KUBE-SVC-KPEMU3PDPRCEMWRI",
      '-A KUBE-SVC-KPEMU3PDPRCEMWRI ! -s 10.0.0.0/8 -d 172.30.0.47/32 -p tcp -m comment --comment "ns7/svc7:p80 cluster IP" -m tcp --dport 80 -j KUBE-MARK-MASQ',
      '-A KUBE-SVC-KPEMU3PDPRCEMWRI -m comment --comment "ns7/svc7:p80 -> 10.180.1.7:80" -j KUBE-SEP-XMHRVSN5TXKFIACL',
      ":KUBE-SEP-XMHRVSN5TXKFIACL",
      '-A KUBE-SEP-XMHRVSN5TXKFIACL -s 10.180.1.7/32 -m comment --comment "ns7/svc7:p80" -j KUBE-MARK-MASQ',
      '-A KUBE-SEP-XMHRVSN5TXKFIACL -p tcp -m comment --comment "ns7/svc7:p80" -m tcp -j DNAT --to-destination 10.180.1.7:80',
    ]);
  });

  it("large cluster mode leaves comments out of per-endpoint rules (UDP, three endpoints)", () => {
    expect(
      lines(
        renderServicePort(
          port("ns8/svc8", "dns", { clusterIP: "172.30.0.48", port: 53, protocol: "UDP" }),
          [endpoint("10.180.0.8", 53), endpoint("10.180.0.9", 53), endpoint("10.180.0.10", 53)],
          { ...ctx, largeClusterMode: true },
        ),
      ),
    ).toEqual([
      'nat: -A KUBE-SERVICES -d 172.30.0.48/32 -p udp -m comment --comment "ns8/svc8:dns cluster IP" -m udp --dport 53 -j KUBE-SVC-YE4MPDANQKAMNBTV',
      ":KUBE-SVC-YE4MPDANQKAMNBTV",
      '-A KUBE-SVC-YE4MPDANQKAMNBTV ! -s 10.0.0.0/8 -d 172.30.0.48/32 -p udp -m comment --comment "ns8/svc8:dns cluster IP" -m udp --dport 53 -j KUBE-MARK-MASQ',
      "-A KUBE-SVC-YE4MPDANQKAMNBTV -m statistic --mode random --probability 0.33333333349 -j KUBE-SEP-Z2AUJFPE3X5QLHH6",
      "-A KUBE-SVC-YE4MPDANQKAMNBTV -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-5CSQNYI5RCYMZGXW",
      "-A KUBE-SVC-YE4MPDANQKAMNBTV -j KUBE-SEP-IABFLRDPTKGHSKK3",
      ":KUBE-SEP-Z2AUJFPE3X5QLHH6",
      "-A KUBE-SEP-Z2AUJFPE3X5QLHH6 -s 10.180.0.8/32 -j KUBE-MARK-MASQ",
      "-A KUBE-SEP-Z2AUJFPE3X5QLHH6 -p udp -m udp -j DNAT --to-destination 10.180.0.8:53",
      ":KUBE-SEP-5CSQNYI5RCYMZGXW",
      "-A KUBE-SEP-5CSQNYI5RCYMZGXW -s 10.180.0.9/32 -j KUBE-MARK-MASQ",
      "-A KUBE-SEP-5CSQNYI5RCYMZGXW -p udp -m udp -j DNAT --to-destination 10.180.0.9:53",
      ":KUBE-SEP-IABFLRDPTKGHSKK3",
      "-A KUBE-SEP-IABFLRDPTKGHSKK3 -s 10.180.0.10/32 -j KUBE-MARK-MASQ",
      "-A KUBE-SEP-IABFLRDPTKGHSKK3 -p udp -m udp -j DNAT --to-destination 10.180.0.10:53",
    ]);
  });

  it("masqueradeAll marks every ClusterIP connection", () => {
    expect(
      lines(
        renderServicePort(
          port("ns9/svc9", "", { clusterIP: "172.30.0.49", port: 80 }),
          [endpoint("10.180.0.9", 80)],
          { ...ctx, masqueradeAll: true },
        ),
      ),
    ).toEqual([
      'nat: -A KUBE-SERVICES -d 172.30.0.49/32 -p tcp -m comment --comment "ns9/svc9 cluster IP" -m tcp --dport 80 -j KUBE-SVC-IRZIC2T5JBEVTWMR',
      ":KUBE-SVC-IRZIC2T5JBEVTWMR",
      '-A KUBE-SVC-IRZIC2T5JBEVTWMR -d 172.30.0.49/32 -p tcp -m comment --comment "ns9/svc9 cluster IP" -m tcp --dport 80 -j KUBE-MARK-MASQ',
      '-A KUBE-SVC-IRZIC2T5JBEVTWMR -m comment --comment "ns9/svc9 -> 10.180.0.9:80" -j KUBE-SEP-IFLUYFTDFANUS3UF',
      ":KUBE-SEP-IFLUYFTDFANUS3UF",
      '-A KUBE-SEP-IFLUYFTDFANUS3UF -s 10.180.0.9/32 -m comment --comment "ns9/svc9" -j KUBE-MARK-MASQ',
      '-A KUBE-SEP-IFLUYFTDFANUS3UF -p tcp -m comment --comment "ns9/svc9" -m tcp -j DNAT --to-destination 10.180.0.9:80',
    ]);
  });
});

describe("renderBase", () => {
  it("jumps to KUBE-NODEPORTS for every local address, or only for the selected node addresses", () => {
    expect(renderBase(TEST_CONFIG).natServicesTrailer).toEqual([
      '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS',
    ]);
    expect(renderBase({ ...TEST_CONFIG, localhostNodePorts: false }).natServicesTrailer).toEqual([
      '-A KUBE-SERVICES ! -d 127.0.0.0/8 -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS',
    ]);
    expect(
      renderBase({ ...TEST_CONFIG, nodePortAddresses: ["192.168.0.0/16", "127.0.0.0/8"] }).natServicesTrailer,
    ).toEqual([
      '-A KUBE-SERVICES -d 192.168.0.2/32 -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -j KUBE-NODEPORTS',
      '-A KUBE-SERVICES -d 127.0.0.1/32 -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -j KUBE-NODEPORTS',
    ]);
  });

  it("leaves out --random-fully and the INVALID drop when they do not apply", () => {
    const base = renderBase({ ...TEST_CONFIG, randomFully: false, conntrackTCPBeLiberal: true });
    expect(base.chains.flatMap((c) => c.rules)).toEqual([
      '-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "block incoming localnet connections" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP',
      '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT',
      '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
      "-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN",
      "-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0",
      '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE',
      "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000",
    ]);
  });
});
