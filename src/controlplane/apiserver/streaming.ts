// The hook for streaming subresources (pods/log, exec, attach, portforward, proxy): the API server checks
// the caller and the target, then hands the request — or, for WebSocket/SPDY upgrades, the raw socket — to
// a StreamingBackend that connects to the node. The agent issue plugs a node connection in here; until
// then every such request gets a clear 503 Status.

import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { KubeObject } from "../../api/resource.ts";
import { serviceUnavailable } from "./errors.ts";
import type { ServedResource } from "./resources.ts";
import { writeError } from "./response.ts";

export interface StreamTarget {
  resource: ServedResource;
  /** log, exec, attach, portforward or proxy. */
  subresource: string;
  namespace: string;
  name: string;
  /** The object the stream is about (a Pod, a Node, a Service), as stored. */
  object: KubeObject;
  query: URLSearchParams;
  /** Path segments after the subresource (proxy paths). */
  rest: string[];
}

export interface StreamingBackend {
  /** A plain HTTP request (logs, and proxy requests without upgrade). */
  handle(target: StreamTarget, req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** An upgrade request (WebSocket or SPDY for exec/attach/portforward); owns `socket` from here on. */
  upgrade(target: StreamTarget, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void>;
}

/**
 * The stored object's name in a pods/proxy or services/proxy request, whose name segment is upstream's
 * `[scheme:]name[:port]`; other requests name the object as it is.
 */
export function streamObjectName(plural: string, subresource: string, name: string): string {
  if (subresource !== "proxy" || (plural !== "pods" && plural !== "services")) return name;
  const parts = name.split(":");
  return (parts.length === 3 ? parts[1] : parts[0]) || name;
}

const NOT_WIRED = "the node agent's streaming endpoints are wired in a later issue";

function notWiredMessage(target: StreamTarget): string {
  return `${target.resource.plural}/${target.subresource} for ${target.namespace ? `${target.namespace}/` : ""}${target.name} is not available yet: ${NOT_WIRED}`;
}

/** Writes a Status as a complete HTTP/1.1 response onto a raw (not yet upgraded) socket, then closes it. */
export function rejectUpgrade(socket: Duplex, code: number, status: unknown): void {
  const body = JSON.stringify(status);
  const reason =
    code === 503
      ? "Service Unavailable"
      : code === 404
        ? "Not Found"
        : code === 401
          ? "Unauthorized"
          : "Error";
  socket.end(
    `HTTP/1.1 ${code} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** The backend used until the agent issue wires the node connection: every stream answers 503. */
export function notWiredStreamingBackend(): StreamingBackend {
  return {
    async handle(target, _req, res) {
      writeError(res, serviceUnavailable(notWiredMessage(target)));
    },
    async upgrade(target, _req, socket) {
      rejectUpgrade(socket, 503, serviceUnavailable(notWiredMessage(target)).toStatus());
    },
  };
}
