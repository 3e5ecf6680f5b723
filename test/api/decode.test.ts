import { describe, expect, it } from "vitest";
import { Lease } from "../../src/api/schema/coordination/lease.ts";
import { Secret } from "../../src/api/schema/core/config-types.ts";
import { Node } from "../../src/api/schema/core/node-types.ts";
import { Pod } from "../../src/api/schema/core/pod-types.ts";
import { decode } from "../../src/api/schema/decode.ts";

describe("decode", () => {
  it("reports unknown fields with upstream paths and drops them", () => {
    const r = decode(Pod, {
      metadata: { name: "x", bogus: 1 },
      spec: { foo: true, containers: [{ name: "a", bar: 1, ports: [{ containerPort: 1, baz: 2 }] }] },
    });
    expect(r.typeError).toBeUndefined();
    expect(r.unknownFields).toEqual([
      "metadata.bogus",
      "spec.foo",
      "spec.containers[0].bar",
      "spec.containers[0].ports[0].baz",
    ]);
    const spec = r.value.spec as { foo?: unknown; containers: Record<string, unknown>[] };
    expect(spec.foo).toBeUndefined();
    expect(spec.containers[0]?.bar).toBeUndefined();
  });

  it.each([
    [
      { spec: { containers: [{ name: 5 }] } },
      "json: cannot unmarshal number into Go struct field Container.spec.containers.name of type string",
    ],
    [
      { spec: { containers: {} } },
      "json: cannot unmarshal object into Go struct field PodSpec.spec.containers of type []v1.Container",
    ],
    [
      { spec: { hostNetwork: "yes" } },
      "json: cannot unmarshal string into Go struct field PodSpec.spec.hostNetwork of type bool",
    ],
    [
      { spec: { priority: 1.5 } },
      "json: cannot unmarshal number into Go struct field PodSpec.spec.priority of type int32",
    ],
    [
      { metadata: { labels: { a: 1 } } },
      "json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string",
    ],
    [
      { spec: { containers: [{ name: "a", resources: { limits: { cpu: "lots" } } }] } },
      "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
    ],
    [
      { metadata: { creationTimestamp: "yesterday" } },
      'parsing time "yesterday" as "2006-01-02T15:04:05Z07:00": cannot parse',
    ],
    [
      { spec: { containers: [{ name: "a", livenessProbe: { httpGet: { port: 1.5 } } }] } },
      "json: cannot unmarshal number into Go struct field HTTPGetAction.spec.containers.livenessProbe.httpGet.port of type intstr.IntOrString",
    ],
  ])("reports the first type error like Go's decoder: %j", (input, message) => {
    expect(decode(Pod, input).typeError).toBe(message);
  });

  it("fills Go zero values and always-present structs", () => {
    const r = decode(Pod, { spec: { containers: [{ name: "a", ports: [{}] }] } });
    expect(r.value).toEqual({
      metadata: {},
      spec: { containers: [{ name: "a", ports: [{ containerPort: 0, protocol: "TCP" }], resources: {} }] },
      status: {},
    });
    const node = decode(Node, { metadata: { name: "n" } }).value as { status: Record<string, unknown> };
    expect(node.status.daemonEndpoints).toEqual({ kubeletEndpoint: { Port: 0 } });
    expect(node.status.nodeInfo).toMatchObject({ machineID: "", kubeletVersion: "", architecture: "" });
  });

  it("treats null as unset", () => {
    const r = decode(Pod, {
      metadata: { labels: null, name: "x" },
      spec: { nodeName: null, containers: null },
    });
    expect(r.value).toEqual({ metadata: { name: "x" }, spec: {}, status: {} });
  });

  it("decodes a null quantity in a resource list to Go's zero Quantity, as upstream does", () => {
    // Found by fuzzing the static-pod loader: "cpu:" with nothing after it once reached the QoS computation.
    const pod = decode(Pod, {
      spec: { containers: [{ name: "a", resources: { limits: { cpu: null, memory: "1Gi" } } }] },
    }).value as { spec: { containers: { resources: unknown }[] } };
    expect(pod.spec.containers[0]?.resources).toEqual({ limits: { cpu: "0", memory: "1Gi" } });
  });

  it("canonicalizes quantities and normalizes times", () => {
    const pod = decode(Pod, {
      metadata: { creationTimestamp: "2024-05-01T12:00:00.123+02:00" },
      spec: {
        containers: [
          { name: "a", resources: { limits: { cpu: 0.5, memory: "1024Mi" }, requests: { cpu: "1000m" } } },
        ],
      },
    }).value as { metadata: { creationTimestamp: string }; spec: { containers: { resources: unknown }[] } };
    expect(pod.metadata.creationTimestamp).toBe("2024-05-01T10:00:00Z");
    expect(pod.spec.containers[0]?.resources).toEqual({
      limits: { cpu: "500m", memory: "1Gi" },
      requests: { cpu: "1" },
    });
    const lease = decode(Lease, { spec: { renewTime: "2024-05-01T10:00:00.5Z" } }).value as {
      spec: { renewTime: string };
    };
    expect(lease.spec.renewTime).toBe("2024-05-01T10:00:00.500000Z");
  });

  it("checks base64 in byte fields", () => {
    expect(decode(Secret, { data: { a: "aGVsbG8=" } }).typeError).toBeUndefined();
    expect(decode(Secret, { data: { a: "not base64!" } }).typeError).toBe(
      "illegal base64 data at input byte 3",
    );
  });

  it("does not modify its input", () => {
    const input = { spec: { containers: [{ name: "a" }] } };
    decode(Pod, input);
    expect(input).toEqual({ spec: { containers: [{ name: "a" }] } });
  });
});
