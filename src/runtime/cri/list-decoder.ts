// Decoders of the two CRI answers the PLEG asks for every second, ListPodSandbox and ListContainers, straight
// from the protobuf wire format into the objects @grpc/proto-loader would make (same shape, same defaults,
// int64 as decimal strings, enums as names).
//
// Why not proto-loader's own: it decodes into protobufjs messages (every int64 a Long) and then copies them
// into plain objects, turning each int64 into a string by long division on Longs. With 100 pods that was
// ~45% of everything an idle agent allocated on CRI (~0.6 MB a second), enough for V8 to no longer see
// the agent as idle, so that its memory reducer never gave back the heap a burst of pods had grown.
// The messages are small and stable (CRI runtime.v1); test/runtime/cri-list-decoder.test.ts checks these
// decoders against proto-loader's on random messages. A malformed message throws WireError, which the caller
// (grpc-js) turns into an INTERNAL error of the call.

import { WireReader } from "../../util/protobuf-wire.ts";
import type { Container__Output } from "./generated/runtime/v1/Container.ts";
import type { ListContainersResponse__Output } from "./generated/runtime/v1/ListContainersResponse.ts";
import type { ListPodSandboxResponse__Output } from "./generated/runtime/v1/ListPodSandboxResponse.ts";
import type { PodSandbox__Output } from "./generated/runtime/v1/PodSandbox.ts";

const CONTAINER_STATES = ["CONTAINER_CREATED", "CONTAINER_RUNNING", "CONTAINER_EXITED", "CONTAINER_UNKNOWN"];
const SANDBOX_STATES = ["SANDBOX_READY", "SANDBOX_NOTREADY"];

/** Enums are int32 on the wire; proto-loader shows a value it has no name for as the number. */
function enumName(names: readonly string[], wire: number): string {
  const value = wire | 0;
  return names[value] ?? (value as unknown as string);
}

function decodeContainer(r: WireReader): Container__Output {
  const c: Container__Output = {
    id: "",
    pod_sandbox_id: "",
    metadata: null,
    image: null,
    image_ref: "",
    state: "CONTAINER_CREATED",
    created_at: "0",
    labels: {},
    annotations: {},
  };
  while (!r.done) {
    const tag = r.uint32();
    switch (tag) {
      case 0x0a:
        c.id = r.string();
        break;
      case 0x12:
        c.pod_sandbox_id = r.string();
        break;
      case 0x1a: {
        const m = r.message();
        const metadata = { name: "", attempt: 0 };
        while (!m.done) {
          const t = m.uint32();
          if (t === 0x0a) metadata.name = m.string();
          else if (t === 0x10) metadata.attempt = m.uint32();
          else m.skipField(t & 7);
        }
        c.metadata = metadata;
        break;
      }
      case 0x22: {
        const m = r.message();
        const image = { image: "", annotations: {} as Record<string, string> };
        while (!m.done) {
          const t = m.uint32();
          if (t === 0x0a) image.image = m.string();
          else if (t === 0x12) m.mapEntry(image.annotations);
          else m.skipField(t & 7);
        }
        c.image = image;
        break;
      }
      case 0x2a:
        c.image_ref = r.string();
        break;
      case 0x30:
        c.state = enumName(CONTAINER_STATES, r.uint32()) as Container__Output["state"];
        break;
      case 0x38:
        c.created_at = r.int64();
        break;
      case 0x42:
        r.mapEntry(c.labels);
        break;
      case 0x4a:
        r.mapEntry(c.annotations);
        break;
      default:
        r.skipField(tag & 7);
    }
  }
  return c;
}

function decodeSandbox(r: WireReader): PodSandbox__Output {
  const s: PodSandbox__Output = {
    id: "",
    metadata: null,
    state: "SANDBOX_READY",
    created_at: "0",
    labels: {},
    annotations: {},
    runtime_handler: "",
  };
  while (!r.done) {
    const tag = r.uint32();
    switch (tag) {
      case 0x0a:
        s.id = r.string();
        break;
      case 0x12: {
        const m = r.message();
        const metadata = { name: "", uid: "", namespace: "", attempt: 0 };
        while (!m.done) {
          const t = m.uint32();
          if (t === 0x0a) metadata.name = m.string();
          else if (t === 0x12) metadata.uid = m.string();
          else if (t === 0x1a) metadata.namespace = m.string();
          else if (t === 0x20) metadata.attempt = m.uint32();
          else m.skipField(t & 7);
        }
        s.metadata = metadata;
        break;
      }
      case 0x18:
        s.state = enumName(SANDBOX_STATES, r.uint32()) as PodSandbox__Output["state"];
        break;
      case 0x20:
        s.created_at = r.int64();
        break;
      case 0x2a:
        r.mapEntry(s.labels);
        break;
      case 0x32:
        r.mapEntry(s.annotations);
        break;
      case 0x3a:
        s.runtime_handler = r.string();
        break;
      default:
        r.skipField(tag & 7);
    }
  }
  return s;
}

export function decodeListContainersResponse(buf: Buffer): ListContainersResponse__Output {
  const r = new WireReader(buf, 0, buf.length);
  const containers: Container__Output[] = [];
  while (!r.done) {
    const tag = r.uint32();
    if (tag === 0x0a) containers.push(decodeContainer(r.message()));
    else r.skipField(tag & 7);
  }
  return { containers };
}

export function decodeListPodSandboxResponse(buf: Buffer): ListPodSandboxResponse__Output {
  const r = new WireReader(buf, 0, buf.length);
  const items: PodSandbox__Output[] = [];
  while (!r.done) {
    const tag = r.uint32();
    if (tag === 0x0a) items.push(decodeSandbox(r.message()));
    else r.skipField(tag & 7);
  }
  return { items };
}
