// Kubernetes protobuf request bodies (what typed clients such as `kubectl create namespace` send) decode to
// the same JSON object the client meant.

import { describe, expect, it } from "vitest";
import { decodeProtobufBody } from "../../../src/controlplane/apiserver/protobuf/decode.ts";

// A minimal protobuf writer for building test bodies.
function varint(n: number | bigint): number[] {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) byte |= 0x80;
    out.push(byte);
  } while (v !== 0n);
  return out;
}
const bytesField = (field: number, payload: number[]) => [
  ...varint((field << 3) | 2),
  ...varint(payload.length),
  ...payload,
];
const str = (field: number, s: string) => bytesField(field, [...Buffer.from(s, "utf8")]);
const int = (field: number, n: number) => [...varint(field << 3), ...varint(n)];
const msg = (field: number, ...parts: number[][]) => bytesField(field, parts.flat());
const entry = (field: number, key: string, value: string) => msg(field, str(1, key), str(2, value));

function envelope(apiVersion: string, kind: string, raw: number[]): Uint8Array {
  return Uint8Array.from([
    0x6b,
    0x38,
    0x73,
    0x00,
    ...msg(1, str(1, apiVersion), str(2, kind)),
    ...bytesField(2, raw),
  ]);
}

describe("protobuf request bodies", () => {
  it("decodes a Namespace as kubectl create namespace sends it", () => {
    const meta = msg(
      1,
      str(1, "team-a"),
      str(2, ""),
      str(4, ""),
      entry(11, "env", "test"),
      msg(8, int(1, -62135596800), int(2, 0)), // Go's zero time: unset
      int(10, 0),
    );
    const body = envelope("v1", "Namespace", [...meta, ...msg(2), ...msg(3)]);
    expect(decodeProtobufBody(body).object).toEqual({
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "team-a", labels: { env: "test" } },
    });
  });

  it("decodes maps of bytes as base64, times as RFC 3339, and repeated messages", () => {
    const meta = msg(
      1,
      str(1, "s"),
      str(3, "ns"),
      msg(9, int(1, 1700000000), int(2, 0)),
      str(14, "example.com/a"),
      str(14, "example.com/b"),
      msg(13, str(1, "ReplicaSet"), str(3, "rs"), str(4, "uid-1"), str(5, "apps/v1"), int(6, 1)),
    );
    const body = envelope("v1", "Secret", [...meta, ...entry(2, "key", "\u0001\u0002"), ...str(3, "Opaque")]);
    expect(decodeProtobufBody(body).object).toEqual({
      apiVersion: "v1",
      kind: "Secret",
      metadata: {
        name: "s",
        namespace: "ns",
        deletionTimestamp: "2023-11-14T22:13:20Z",
        finalizers: ["example.com/a", "example.com/b"],
        ownerReferences: [
          { kind: "ReplicaSet", name: "rs", uid: "uid-1", apiVersion: "apps/v1", controller: true },
        ],
      },
      data: { key: "AQI=" },
      type: "Opaque",
    });
  });

  it("refuses kinds it has no table for with 415, and garbage with 400", () => {
    expect(() => decodeProtobufBody(envelope("apps/v1", "Deployment", []))).toThrow(
      /send other kinds as application\/json/,
    );
    expect(() => decodeProtobufBody(Uint8Array.from([1, 2, 3, 4]))).toThrow(/magic number/);
    // A field this server has no table entry for is refused, never dropped.
    expect(() =>
      decodeProtobufBody(envelope("v1", "ConfigMap", [...msg(1, str(1, "c")), ...str(9, "x")])),
    ).toThrow(
      /field 9 of ConfigMap is not supported in protobuf bodies; send the object as application\/json/,
    );
    expect(
      decodeProtobufBody(envelope("v1", "ConfigMap", msg(1, str(1, "c"), str(15, "old")))).object,
    ).toEqual({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "c" },
    });
    expect(() => decodeProtobufBody(Uint8Array.from([0x6b, 0x38, 0x73, 0x00, 0x0a, 0x7f]))).toThrow(
      /could not be decoded/,
    );
  });
});
