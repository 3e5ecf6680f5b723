// IP and port allocators: ranges, exhaustion, release, and the kubernetes Service's reserved first address.

import { describe, expect, it } from "vitest";
import { IpAllocator, parseIpv4Cidr } from "../../../src/controlplane/apiserver/allocators/ip.ts";
import { PortAllocator, parsePortRange } from "../../../src/controlplane/apiserver/allocators/ports.ts";

describe("IP allocator", () => {
  it("parses CIDRs like Go, masking host bits", () => {
    expect(parseIpv4Cidr("10.96.5.7/12")).toMatchObject({ text: "10.96.0.0/12", size: 2 ** 20 });
    expect(() => parseIpv4Cidr("10.96.0.0")).toThrow(/not an IPv4 CIDR/);
    expect(() => parseIpv4Cidr("300.1.1.1/8")).toThrow(/not an IPv4 CIDR/);
  });

  it("hands out every usable address once, the first one only on request", () => {
    const ips = new IpAllocator("192.168.10.0/29");
    expect(ips.firstAddress()).toBe("192.168.10.1");
    const got = new Set<string>();
    for (let i = 0; i < 5; i++) got.add(ips.allocateNext() as string);
    expect([...got].sort()).toEqual([
      "192.168.10.2",
      "192.168.10.3",
      "192.168.10.4",
      "192.168.10.5",
      "192.168.10.6",
    ]);
    // Only the first address is left, and it stays the kubernetes Service's.
    expect(ips.allocateNext()).toBeUndefined();
    expect(ips.allocate("192.168.10.1")).toBe("ok");
    expect(ips.allocate("192.168.10.3")).toBe("allocated");
    expect(ips.allocate("192.168.10.7")).toBe("out-of-range");
    expect(ips.allocate("192.168.10.0")).toBe("out-of-range");
    ips.release("192.168.10.3");
    expect(ips.allocate("192.168.10.3")).toBe("ok");
  });
});

describe("port allocator", () => {
  it("allocates within the range and rejects taken or outside ports", () => {
    expect(parsePortRange("30000-32767")).toMatchObject({ min: 30000, max: 32767 });
    expect(() => parsePortRange("5-1")).toThrow(/not a port range/);
    const ports = new PortAllocator("31000-31002");
    const taken = [ports.allocateNext(), ports.allocateNext(), ports.allocateNext()].sort();
    expect(taken).toEqual([31000, 31001, 31002]);
    expect(ports.allocateNext()).toBeUndefined();
    expect(ports.allocate(31001)).toBe("allocated");
    expect(ports.allocate(30999)).toBe("out-of-range");
    ports.release(31001);
    expect(ports.allocate(31001)).toBe("ok");
  });
});
