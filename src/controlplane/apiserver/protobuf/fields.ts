// The vocabulary of the protobuf message tables: how one field of a Kubernetes message is decoded, and
// small builders so a table reads like upstream's generated.proto (number → JSON name, type).
//
// Upstream marshals with gogo-protobuf: a non-pointer Go field is always written, even when it holds its
// zero value; a pointer field (`*int32`, `*Probe`) only when it is set. The decoder therefore drops zero
// values of non-pointer fields (their JSON form is "unset", Go's omitempty) and keeps every value of a
// pointer field, so `replicas: 0`, `privileged: false` and `emptyDir: {}` survive.

export type Scalar = "string" | "bool" | "int32" | "int64" | "bytes";

export type MapValue = "string" | "bytes" | { message: string };

export type FieldType = Scalar | { message: string } | { map: MapValue };

export interface FieldDef {
  /** The JSON name (upstream's generated.proto uses the JSON names). */
  name: string;
  type: FieldType;
  repeated?: boolean;
  /** A Go pointer field: written only when set, so even a zero value is kept. */
  pointer?: boolean;
  /** An embedded Go struct (`json:",inline"`): its fields are merged into the enclosing object. */
  inline?: boolean;
}

export type MessageDef = Record<number, FieldDef>;

export const str = (name: string): FieldDef => ({ name, type: "string" });
export const strs = (name: string): FieldDef => ({ name, type: "string", repeated: true });
export const bool = (name: string): FieldDef => ({ name, type: "bool" });
export const int32 = (name: string): FieldDef => ({ name, type: "int32" });
export const int32s = (name: string): FieldDef => ({ name, type: "int32", repeated: true });
export const int64 = (name: string): FieldDef => ({ name, type: "int64" });
export const int64s = (name: string): FieldDef => ({ name, type: "int64", repeated: true });
export const bytes = (name: string): FieldDef => ({ name, type: "bytes" });

/** A nested message. */
export const obj = (name: string, message: string): FieldDef => ({ name, type: { message } });
/** A repeated nested message. */
export const objs = (name: string, message: string): FieldDef => ({
  name,
  type: { message },
  repeated: true,
});
/** map<string, string> */
export const stringMap = (name: string): FieldDef => ({ name, type: { map: "string" } });
/** map<string, bytes> (JSON: base64 strings) */
export const bytesMap = (name: string): FieldDef => ({ name, type: { map: "bytes" } });
/** map<string, Quantity> (core/v1 ResourceList) */
export const resourceList = (name: string): FieldDef => ({
  name,
  type: { map: { message: "Quantity" } },
});
/** An embedded struct whose fields appear inline in JSON (e.g. Probe's ProbeHandler). */
export const inline = (message: string): FieldDef => ({ name: message, type: { message }, inline: true });

/** Marks a field as a Go pointer (`*T`): present on the wire only when set, zero values kept. */
export const ptr = (field: FieldDef): FieldDef => ({ ...field, pointer: true });

/** The usual top-level kind: metadata, spec, status. */
export function kind(spec: string, status: string): MessageDef {
  return { 1: obj("metadata", "ObjectMeta"), 2: obj("spec", spec), 3: obj("status", status) };
}
