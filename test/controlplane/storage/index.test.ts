// Parsing the control plane's --store value.

import { describe, expect, it } from "vitest";
import { parseStorageSpec } from "../../../src/controlplane/storage/index.ts";

describe("parseStorageSpec", () => {
  it.each([
    ["sqlite", { kind: "sqlite" }],
    [" sqlite ", { kind: "sqlite" }],
    ["etcd://127.0.0.1:2379", { kind: "etcd", endpoints: ["127.0.0.1:2379"] }],
    ["etcd://h1:2379,h2:2380", { kind: "etcd", endpoints: ["h1:2379", "h2:2380"] }],
    ["etcd://etcd-0.etcd.svc:2379", { kind: "etcd", endpoints: ["etcd-0.etcd.svc:2379"] }],
    ["etcd://[::1]:2379", { kind: "etcd", endpoints: ["[::1]:2379"] }],
  ])("accepts %j", (spec, expected) => {
    expect(parseStorageSpec(spec)).toEqual(expected);
  });

  it.each([
    ["mysql", /invalid --store "mysql": use `sqlite` or `etcd:\/\/host:port/],
    ["etcd://", /etcd endpoint "" is not host:port/],
    ["etcd://host", /etcd endpoint "host" is not host:port/],
    ["etcd://h:0", /etcd endpoint "h:0"/],
    ["etcd://h:99999", /etcd endpoint "h:99999"/],
    ["etcd://h1:2379,", /etcd endpoint ""/],
    ["etcd://http://h:2379", /etcd endpoint "http:\/\/h:2379"/],
  ])("rejects %j naming the flag and the bad part", (spec, message) => {
    expect(() => parseStorageSpec(spec)).toThrow(message);
  });
});
