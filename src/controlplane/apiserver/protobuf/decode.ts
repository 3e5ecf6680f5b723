// Decoding `application/vnd.kubernetes.protobuf` request bodies into the JSON form of the object:
// the "k8s\0" magic, a runtime.Unknown envelope naming apiVersion/kind, and the object's own message.
// Typed clients (kubectl create namespace, client-go) send these; responses are always JSON.

import {
  signed,
  WIRE_LENGTH_DELIMITED,
  WIRE_VARINT,
  WireError,
  WireReader,
} from "../../../util/protobuf-wire.ts";
import { badRequest, unsupportedMediaType } from "../errors.ts";
import type { FieldDef, MapValue, MessageDef } from "./fields.ts";
import { MESSAGES, SPECIAL, TOP_LEVEL } from "./messages.ts";

export const PROTOBUF_MEDIA_TYPE = "application/vnd.kubernetes.protobuf";
const MAGIC = [0x6b, 0x38, 0x73, 0x00];
const GO_ZERO_TIME_SECONDS = -62135596800;
/** ObjectMeta's clusterName (15) and initializers (16) were removed from the API; old clients may still send them. */
const RETIRED_FIELDS = new Set(["ObjectMeta.15", "ObjectMeta.16"]);

/**
 * Go marshals non-pointer zero values too; as JSON they are "unset" (omitempty), so they are dropped. Pointer
 * fields are written only when set, so their zero values are kept (see fields.ts).
 */
function isZero(value: unknown): boolean {
  if (value === undefined || value === "" || value === false || value === 0) return true;
  if (Array.isArray(value)) return value.length === 0;
  if (value !== null && typeof value === "object") return Object.keys(value).length === 0;
  return false;
}

type Json = unknown;

function utf8(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

function decodeScalar(field: FieldDef, reader: WireReader, wireType: number): Json {
  const expected = field.type === "string" || field.type === "bytes" ? WIRE_LENGTH_DELIMITED : WIRE_VARINT;
  if (wireType !== expected) {
    throw new WireError(`${field.name}: wire type ${wireType} where ${expected} was expected`);
  }
  switch (field.type) {
    case "string":
      return utf8(reader.bytes());
    case "bytes":
      return base64(reader.bytes());
    case "bool":
      return reader.varint() !== 0n;
    case "int32":
      return signed(reader.varint(), 32);
    case "int64":
      return signed(reader.varint(), 64);
    default:
      reader.skipField(wireType);
      return undefined;
  }
}

function decodeMapEntry(bytes: Uint8Array, valueType: MapValue, path: string): [string, Json] {
  const reader = new WireReader(bytes);
  let key = "";
  let value: Json;
  while (!reader.done) {
    const [number, wireType] = reader.tag();
    if (number === 1 && wireType === WIRE_LENGTH_DELIMITED) key = utf8(reader.bytes());
    else if (number === 2 && wireType === WIRE_LENGTH_DELIMITED) {
      const raw = reader.bytes();
      if (typeof valueType === "object") value = decodeMessage(valueType.message, raw, `${path}[${key}]`);
      else value = valueType === "bytes" ? base64(raw) : utf8(raw);
    } else reader.skipField(wireType);
  }
  // A map value is never a pointer: an absent value is the Go zero value.
  if (value === undefined)
    value = typeof valueType === "object" ? decodeMessage(valueType.message, new Uint8Array(), path) : "";
  return [key, value];
}

function special(name: string, fields: Record<string, Json>): Json {
  switch (name) {
    case "Time":
    case "MicroTime": {
      // An unset non-pointer Time (Go's zero time.Time) marshals as an empty message; older encoders wrote
      // year 1 (seconds -62135596800). The Unix epoch itself has its fields present.
      if (fields.seconds === undefined && fields.nanos === undefined) return undefined;
      const seconds = Number(fields.seconds ?? 0);
      if (seconds <= GO_ZERO_TIME_SECONDS) return undefined;
      const nanos = Number(fields.nanos ?? 0);
      const iso = new Date(seconds * 1000).toISOString().slice(0, 19);
      if (name === "Time") return `${iso}Z`;
      return `${iso}.${String(Math.floor(nanos / 1000)).padStart(6, "0")}Z`;
    }
    case "FieldsV1":
    case "RawExtension": {
      const raw = (fields.Raw ?? fields.raw) as string | undefined;
      if (!raw) return {};
      try {
        return JSON.parse(Buffer.from(raw, "base64").toString("utf8"));
      } catch {
        return {};
      }
    }
    case "Quantity":
      // A zero Quantity marshals as "0", as in JSON.
      return (fields.string as string | undefined) || "0";
    case "ExtraValue":
      // certificates/v1 and authentication/v1 extra values: a list of strings in JSON.
      return (fields.items as Json | undefined) ?? [];
    case "IntOrString":
      // type 0 is an int (intVal), type 1 a string (strVal).
      return Number(fields.type ?? 0) === 1
        ? ((fields.strVal as string | undefined) ?? "")
        : Number(fields.intVal ?? 0);
    default:
      return fields;
  }
}

/** Names of a message's pointer fields (their zero values are kept). */
const pointerFields = new Map<string, Set<string>>();

function pointersOf(name: string, def: MessageDef): Set<string> {
  let set = pointerFields.get(name);
  if (!set) {
    set = new Set(Object.values(def).flatMap((f) => (f.pointer ? [f.name] : [])));
    pointerFields.set(name, set);
  }
  return set;
}

function join(path: string, name: string): string {
  return path ? `${path}.${name}` : name;
}

/**
 * Decodes one message into its JSON form. `path` is where it sits in the object (for error messages, e.g.
 * "spec.template.spec.volumes[0]").
 */
export function decodeMessage(name: string, bytes: Uint8Array, path = ""): Json {
  const def = MESSAGES[name];
  if (!def) throw new WireError(`no decoder for message ${name}`);
  const reader = new WireReader(bytes);
  const out: Record<string, Json> = {};
  let inlined: Record<string, Json> | undefined;
  while (!reader.done) {
    const [number, wireType] = reader.tag();
    const field = def[number];
    if (!field) {
      // Never drop a field silently: only retired ones (absent from today's JSON) are skipped.
      if (!RETIRED_FIELDS.has(`${name}.${number}`)) {
        const where = path ? ` (at ${path})` : "";
        throw unsupportedMediaType(
          `${PROTOBUF_MEDIA_TYPE}: field ${number} of ${name}${where} is not supported in protobuf bodies; send the object as application/json`,
        );
      }
      reader.skipField(wireType);
      continue;
    }
    let value: Json;
    const type = field.type;
    const list = field.repeated ? ((out[field.name] as Json[] | undefined) ?? []) : undefined;
    const fieldPath = list ? `${join(path, field.name)}[${list.length}]` : join(path, field.name);
    if (typeof type === "object" && "map" in type) {
      if (wireType !== WIRE_LENGTH_DELIMITED)
        throw new WireError(`${name}.${field.name}: expected a map entry`);
      const [k, v] = decodeMapEntry(reader.bytes(), type.map, fieldPath);
      if (out[field.name] === undefined) out[field.name] = {};
      (out[field.name] as Record<string, Json>)[k] = v;
      continue;
    }
    if (typeof type === "object") {
      if (wireType !== WIRE_LENGTH_DELIMITED)
        throw new WireError(`${name}.${field.name}: expected a message`);
      if (field.inline) {
        // An embedded struct: its fields belong to this object (already filtered for zero values).
        inlined = { ...inlined, ...(decodeMessage(type.message, reader.bytes(), path) as object) };
        continue;
      }
      value = decodeMessage(type.message, reader.bytes(), fieldPath);
    } else if (list && wireType === WIRE_LENGTH_DELIMITED && type !== "string" && type !== "bytes") {
      // Packed repeated scalars.
      const packed = new WireReader(reader.bytes());
      while (!packed.done) list.push(decodeScalar(field, packed, WIRE_VARINT));
      out[field.name] = list;
      continue;
    } else {
      value = decodeScalar(field, reader, wireType);
    }
    if (list) {
      list.push(value);
      out[field.name] = list;
    } else {
      out[field.name] = value;
    }
  }
  if (SPECIAL.has(name)) return special(name, out);
  const pointers = pointersOf(name, def);
  for (const [key, value] of Object.entries(out)) {
    if (value === undefined || (!pointers.has(key) && isZero(value))) delete out[key];
  }
  return inlined ? { ...inlined, ...out } : out;
}

export interface DecodedEnvelope {
  apiVersion: string;
  kind: string;
  object: Record<string, unknown>;
}

/** Decodes a protobuf request body (magic + runtime.Unknown) into a JSON object with apiVersion/kind. */
export function decodeProtobufBody(body: Uint8Array): DecodedEnvelope {
  if (body.length < 4 || MAGIC.some((b, i) => body[i] !== b)) {
    throw badRequest('the protobuf body does not start with the Kubernetes magic number "k8s\\x00"');
  }
  let apiVersion = "";
  let kind = "";
  let raw: Uint8Array | undefined;
  try {
    const reader = new WireReader(body, 4);
    while (!reader.done) {
      const [number, wireType] = reader.tag();
      if (number === 1 && wireType === WIRE_LENGTH_DELIMITED) {
        const typeMeta = new WireReader(reader.bytes());
        while (!typeMeta.done) {
          const [n, w] = typeMeta.tag();
          if (n === 1 && w === WIRE_LENGTH_DELIMITED) apiVersion = utf8(typeMeta.bytes());
          else if (n === 2 && w === WIRE_LENGTH_DELIMITED) kind = utf8(typeMeta.bytes());
          else typeMeta.skipField(w);
        }
      } else if (number === 2 && wireType === WIRE_LENGTH_DELIMITED) {
        raw = reader.bytes();
      } else {
        reader.skipField(wireType);
      }
    }
    const message = TOP_LEVEL[`${apiVersion}/${kind}`];
    if (!message) {
      throw unsupportedMediaType(
        `${PROTOBUF_MEDIA_TYPE} for ${apiVersion}/${kind} (protobuf bodies are accepted for ${Object.keys(TOP_LEVEL).join(", ")}; send other kinds as application/json)`,
      );
    }
    const object = decodeMessage(message, raw ?? new Uint8Array()) as Record<string, unknown>;
    return { apiVersion, kind, object: { apiVersion, kind, ...object } };
  } catch (error) {
    if (error instanceof WireError)
      throw badRequest(`the protobuf body could not be decoded: ${error.message}`);
    throw error;
  }
}
