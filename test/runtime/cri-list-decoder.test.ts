// The relist decoders against @grpc/proto-loader's own decoding of the same bytes (the reference), on
// messages encoded by proto-loader from random contents, including fields these decoders do not know.
import { join } from "node:path";
import * as protoLoader from "@grpc/proto-loader";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decodeListContainersResponse,
  decodeListPodSandboxResponse,
} from "../../src/runtime/cri/list-decoder.ts";
import { WireError } from "../../src/util/protobuf-wire.ts";

const definition = protoLoader.loadSync(join(import.meta.dirname, "../../proto/runtime/v1/api.proto"), {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
});
const service = definition["runtime.v1.RuntimeService"] as protoLoader.ServiceDefinition;
const method = (name: string) => {
  const m = service[name];
  if (!m) throw new Error(`no method ${name}`);
  return m;
};
const listContainers = method("ListContainers");
const listSandboxes = method("ListPodSandbox");

const text = fc.oneof(
  fc.string(),
  fc.string({ unit: "grapheme" }),
  fc.constantFrom("", "io.deckhand.pod-uid"),
);
const map = fc.dictionary(
  text.filter((k) => k !== "__proto__"),
  text,
  { maxKeys: 4 },
);
const int64 = fc.oneof(
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  fc.bigInt({ min: 0n, max: 2n ** 53n }),
  fc.constantFrom(0n, 1_700_000_000_123_456_789n, 2n ** 53n, 2n ** 53n + 1n, -1n),
);
const uint32 = fc.oneof(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.constantFrom(0, 1, 127, 128));
const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });

const containerArb = fc.record(
  {
    id: text,
    pod_sandbox_id: text,
    metadata: optional(fc.record({ name: text, attempt: uint32 }, { requiredKeys: [] })),
    image: optional(fc.record({ image: text, annotations: map }, { requiredKeys: [] })),
    image_ref: text,
    state: fc.constantFrom("CONTAINER_CREATED", "CONTAINER_RUNNING", "CONTAINER_EXITED", "CONTAINER_UNKNOWN"),
    created_at: int64.map(String),
    labels: map,
    annotations: map,
  },
  { requiredKeys: [] },
);
const sandboxArb = fc.record(
  {
    id: text,
    metadata: optional(
      fc.record({ name: text, uid: text, namespace: text, attempt: uint32 }, { requiredKeys: [] }),
    ),
    state: fc.constantFrom("SANDBOX_READY", "SANDBOX_NOTREADY"),
    created_at: int64.map(String),
    labels: map,
    annotations: map,
    runtime_handler: text,
  },
  { requiredKeys: [] },
);

describe("CRI relist decoders", () => {
  it("decode ListContainers answers as proto-loader does", () => {
    fc.assert(
      fc.property(fc.array(containerArb, { maxLength: 5 }), (containers) => {
        const bytes = listContainers.responseSerialize({ containers });
        expect(decodeListContainersResponse(bytes)).toEqual(listContainers.responseDeserialize(bytes));
      }),
      { numRuns: 500 },
    );
  });

  it("decode ListPodSandbox answers as proto-loader does", () => {
    fc.assert(
      fc.property(fc.array(sandboxArb, { maxLength: 5 }), (items) => {
        const bytes = listSandboxes.responseSerialize({ items });
        expect(decodeListPodSandboxResponse(bytes)).toEqual(listSandboxes.responseDeserialize(bytes));
      }),
      { numRuns: 500 },
    );
  });

  it("skip fields they do not know, as a newer runtime sends them", () => {
    // A Container as ContainerStatus (fields 10+ unknown to Container), and an unknown varint, fixed64,
    // fixed32 and length-delimited field at the top level and inside a container.
    const container = listContainers.responseSerialize({
      containers: [{ id: "c1", state: "CONTAINER_RUNNING", created_at: "5", labels: { a: "b" } }],
    });
    const inner = container.subarray(2); // the Container's bytes after tag and length (both one byte here)
    const extra = Buffer.from([
      0x50,
      0x96,
      0x01, // field 10, varint 150
      0x59,
      1,
      2,
      3,
      4,
      5,
      6,
      7,
      8, // field 11, fixed64
      0x65,
      1,
      2,
      3,
      4, // field 12, fixed32
      0x6a,
      2,
      0x41,
      0x42, // field 13, bytes "AB"
    ]);
    const withUnknown = Buffer.concat([
      Buffer.from([0x0a, inner.length + extra.length]),
      inner,
      extra,
      Buffer.from([0x10, 0x01]), // field 2 of the response, varint 1
    ]);
    expect(decodeListContainersResponse(withUnknown)).toEqual(listContainers.responseDeserialize(container));
  });

  it("show an enum value they have no name for as its number, as proto-loader does", () => {
    const bytes = Buffer.from([0x0a, 0x02, 0x30, 0x07]); // one container, state 7
    expect(decodeListContainersResponse(bytes).containers[0]?.state).toBe(7);
    expect(listContainers.responseDeserialize(bytes)).toMatchObject({ containers: [{ state: 7 }] });
  });

  it("reject truncated messages", () => {
    const bytes = listSandboxes.responseSerialize({ items: [{ id: "s1", labels: { a: "b" } }] });
    for (let end = 1; end < bytes.length; end++) {
      expect(() => decodeListPodSandboxResponse(bytes.subarray(0, end))).toThrow(WireError);
    }
  });
});
