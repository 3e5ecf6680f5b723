import { describe, expect, it } from "vitest";
import {
  formatMap,
  goQuote,
  metadataFieldValue,
  podFieldValue,
} from "../../../src/agent/pod-config/field-ref.ts";
import { resourceFieldValue } from "../../../src/agent/pod-config/resource-ref.ts";
import { container, pod } from "./fixtures.ts";

const p = pod({
  metadata: {
    labels: { app: "web", "example.com/tier": "front" },
    annotations: { note: 'say "hi"\nbye', "kubernetes.io/config.source": "api" },
  },
  spec: { serviceAccountName: "robot", nodeName: "node-a" },
});
const runtime = {
  podIP: "10.89.0.7",
  podIPs: ["10.89.0.7", "fd00::7"],
  hostIPs: ["192.0.2.10", "192.0.2.11"],
};

describe("podFieldValue (env fieldRef)", () => {
  it.each([
    ["metadata.name", "web"],
    ["metadata.namespace", "ns1"],
    ["metadata.uid", "uid-1"],
    ["metadata.labels['app']", "web"],
    ["metadata.labels['example.com/tier']", "front"],
    ["metadata.labels['missing']", ""],
    ["metadata.annotations['note']", 'say "hi"\nbye'],
    ["metadata.labels", 'app="web"\nexample.com/tier="front"'],
    ["spec.nodeName", "node-a"],
    ["spec.serviceAccountName", "robot"],
    ["status.podIP", "10.89.0.7"],
    ["status.podIPs", "10.89.0.7,fd00::7"],
    ["status.hostIP", "192.0.2.10"],
    ["status.hostIPs", "192.0.2.10,192.0.2.11"],
  ])("%s", (fieldPath, expected) => {
    expect(podFieldValue(p, { apiVersion: "v1", fieldPath }, runtime)).toBe(expected);
  });

  it("takes podIP from podIPs[0] when both are given and podIP alone otherwise", () => {
    expect(podFieldValue(p, { fieldPath: "status.podIPs" }, { ...runtime, podIPs: [] })).toBe("10.89.0.7");
  });

  it.each([
    ["spec.restartPolicy", "unsupported fieldPath: spec.restartPolicy"],
    ["metadata.name['x']", 'fieldPath "metadata.name" does not support subscript'],
    ["metadata.labels['-bad-']", "invalid key subscript in metadata.labels['-bad-']"],
  ])("rejects %s", (fieldPath, message) => {
    expect(() => podFieldValue(p, { fieldPath }, runtime)).toThrow(message);
  });

  it("rejects an apiVersion other than v1", () => {
    expect(() => podFieldValue(p, { apiVersion: "v2", fieldPath: "metadata.name" }, runtime)).toThrow(
      "unsupported pod version: v2",
    );
  });

  it("says when the node has no IP yet", () => {
    expect(() => podFieldValue(p, { fieldPath: "status.hostIP" }, { ...runtime, hostIPs: [] })).toThrow(
      "status.hostIP: the node has no known IP address yet",
    );
  });
});

describe("metadataFieldValue (downwardAPI volumes)", () => {
  it("supports only metadata", () => {
    expect(metadataFieldValue(p, { fieldPath: "metadata.annotations" })).toBe(
      'kubernetes.io/config.source="api"\nnote="say \\"hi\\"\\nbye"',
    );
    expect(() => metadataFieldValue(p, { fieldPath: "status.podIP" })).toThrow(
      "unsupported fieldPath: status.podIP",
    );
  });
});

describe("goQuote / formatMap", () => {
  it.each([
    ["plain", '"plain"'],
    ["tab\tand\\", '"tab\\tand\\\\"'],
    ["\x00\x1b\x7f", '"\\x00\\x1b\\x7f"'],
    ["é 漢 😀", '"é 漢 😀"'],
    ["nbsp\u00a0zwsp\u200b", '"nbsp\\u00a0zwsp\\u200b"'],
  ])("quotes %j like Go's %%q", (input, expected) => {
    expect(goQuote(input)).toBe(expected);
  });

  it("sorts keys and has no trailing newline", () => {
    expect(formatMap({ b: "2", a: "1" })).toBe('a="1"\nb="2"');
    expect(formatMap(undefined)).toBe("");
  });
});

describe("resourceFieldValue", () => {
  const c = container("app", {
    resources: { requests: { cpu: "250m", memory: "64Mi" }, limits: { cpu: "1500m", memory: "128Mi" } },
  });
  const noLimits = container("sidecar", { resources: { requests: { cpu: "100m" } } });
  const withPod = pod({ spec: { containers: [c, noLimits] } });
  const allocatable = { cpu: "3500m", memory: "7Gi", "ephemeral-storage": "100Gi" };

  it.each([
    ["limits.cpu", undefined, "2"], // 1.5 cores rounds up
    ["limits.cpu", "1m", "1500"],
    ["requests.cpu", "1m", "250"],
    ["requests.cpu", undefined, "1"],
    ["limits.memory", undefined, String(128 * 1024 * 1024)],
    ["limits.memory", "1Mi", "128"],
    ["requests.memory", "1Mi", "64"],
    ["requests.memory", "1M", "68"], // 67.1 rounds up
    ["limits.ephemeral-storage", "1Gi", "100"], // unset: node allocatable
  ])("%s with divisor %s", (resource, divisor, expected) => {
    expect(resourceFieldValue({ resource, ...(divisor ? { divisor } : {}) }, withPod, c, allocatable)).toBe(
      expected,
    );
  });

  it("reads unset limits as node allocatable and unset requests as 0", () => {
    expect(
      resourceFieldValue({ resource: "limits.cpu", divisor: "1m" }, withPod, noLimits, allocatable),
    ).toBe("3500");
    expect(
      resourceFieldValue({ resource: "limits.memory", divisor: "1Gi" }, withPod, noLimits, allocatable),
    ).toBe("7");
    expect(resourceFieldValue({ resource: "requests.memory" }, withPod, noLimits, allocatable)).toBe("0");
  });

  it("finds another container by name, and fails for an unknown one or resource", () => {
    expect(
      resourceFieldValue(
        { containerName: "app", resource: "limits.memory", divisor: "1Mi" },
        withPod,
        noLimits,
        allocatable,
      ),
    ).toBe("128");
    expect(() =>
      resourceFieldValue({ containerName: "nope", resource: "limits.cpu" }, withPod, c, allocatable),
    ).toThrow("container nope not found");
    expect(() => resourceFieldValue({ resource: "limits.gpu" }, withPod, c, allocatable)).toThrow(
      "unsupported container resource : limits.gpu",
    );
  });
});
