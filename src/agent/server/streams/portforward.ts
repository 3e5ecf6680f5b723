// Port forwarding, the server side, in both of Kubernetes' shapes:
//   - portforward.k8s.io over SPDY (kubelet's protocol; also tunnelled inside a WebSocket by kubectl 1.30+
//     as SPDY/3.1+portforward.k8s.io): per forwarded connection the client opens an `error` and a `data`
//     stream carrying `port` and `requestID` headers; the data stream carries the bytes both ways and the
//     server writes a plain-text message on the error stream when the port cannot be reached.
//   - the channel protocol over a WebSocket (ports in the query): per port a data channel 2i and an error
//     channel 2i+1, each starting with the port as a little-endian uint16.
// Either way the connection into the pod is Runtime.portForward(sandbox, port).
import type { Duplex } from "node:stream";
import { RstStatus } from "../../../util/spdy/frames.ts";
import type { SpdySession, SpdyStream } from "../../../util/spdy/session.ts";
import type { ChannelConnection } from "./ws-channels.ts";

export const PORT_FORWARD_PROTOCOL = "portforward.k8s.io";
/** WebSocket sub-protocols that tunnel the SPDY port-forward protocol (released name, and the 1.30 prototype's). */
export const PORT_FORWARD_TUNNEL_PROTOCOLS = ["SPDY/3.1+portforward.k8s.io", "v2.portforward.k8s.io"];

export interface PortForwardTarget {
  /** Opens a connection to `port` in the pod's network namespace. */
  connect(port: number): Promise<Duplex>;
  /** For messages: the pod's name and UID. */
  podName: string;
  podUid: string;
}

function parsePort(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+$/.test(value)) return undefined;
  const port = Number(value);
  return port >= 1 && port <= 65535 ? port : undefined;
}

/** The ports of a WebSocket port-forward request (`port=80&port=8080` or `port=80,8080`). */
export function parsePortsQuery(query: URLSearchParams): number[] | string {
  const values = query.getAll("port").flatMap((v) => v.split(","));
  if (values.length === 0) return 'query parameter "port" is required';
  const ports: number[] = [];
  for (const value of values) {
    const port = parsePort(value.trim());
    if (port === undefined) return `unable to parse "${value}" as a port: must be 1-65535`;
    ports.push(port);
  }
  return ports;
}

function forwardError(target: PortForwardTarget, port: number, error: unknown): string {
  return `error forwarding port ${port} to pod ${target.podName}, uid ${target.podUid}: ${(error as Error).message}`;
}

/**
 * Copies bytes between a client stream and the pod connection, half-closes passing through (the client's
 * FIN ends the pod connection's write side and the pod's EOF ends the client stream); resolves once the pod
 * connection is closed or either side failed.
 */
function splice(client: Duplex, pod: Duplex): Promise<void> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = () => {
      if (settled) return;
      settled = true;
      resolve();
    };
    client.on("error", () => {
      pod.destroy();
      settle();
    });
    pod.on("error", () => {
      if (!client.writableEnded) client.end();
      settle();
    });
    client.pipe(pod);
    pod.pipe(client);
    pod.once("close", settle);
  });
}

interface StreamPair {
  requestId: string;
  error?: SpdyStream;
  data?: SpdyStream;
  timer: NodeJS.Timeout;
}

/** Serves the SPDY port-forward protocol on `session` until it closes. */
export function servePortForwardSpdy(
  session: SpdySession,
  target: PortForwardTarget,
  streamCreationTimeoutMs: number,
): Promise<void> {
  const pairs = new Map<string, StreamPair>();
  const pods = new Set<Duplex>();
  session.on("stream", (stream) => {
    stream.on("error", () => undefined);
    const port = parsePort(stream.headers.port?.[0]);
    const type = stream.headers.streamtype?.[0];
    if (port === undefined || (type !== "error" && type !== "data")) {
      // kubelet refuses streams without a valid port and stream type.
      stream.reset(RstStatus.protocolError);
      return;
    }
    void stream.reply().catch(() => undefined);
    // Old clients send no requestID: pair the streams by id (error n, data n+2), as kubelet does.
    const requestId = stream.headers.requestid?.[0] ?? String(type === "error" ? stream.id : stream.id - 2);
    let pair = pairs.get(requestId);
    if (!pair) {
      const created: StreamPair = {
        requestId,
        timer: setTimeout(() => {
          pairs.delete(requestId);
          created.error?.end(`timed out waiting for streams of request ${requestId}`);
          created.data?.reset();
        }, streamCreationTimeoutMs),
      };
      pair = created;
      pairs.set(requestId, pair);
    }
    if (pair[type]) {
      stream.end(`error processing stream for request ${requestId}: ${type} stream already assigned`);
      return;
    }
    pair[type] = stream;
    if (pair.error && pair.data) {
      clearTimeout(pair.timer);
      pairs.delete(requestId);
      void forwardPair(pair.error, pair.data, port, target, pods);
    }
  });
  return session.done.then(() => {
    for (const pair of pairs.values()) clearTimeout(pair.timer);
    for (const pod of pods) pod.destroy();
  });
}

async function forwardPair(
  error: SpdyStream,
  data: SpdyStream,
  port: number,
  target: PortForwardTarget,
  pods: Set<Duplex>,
): Promise<void> {
  // The client never writes on the error stream; drain it so that its FIN is seen.
  error.resume();
  let pod: Duplex;
  try {
    pod = await target.connect(port);
  } catch (cause) {
    error.end(forwardError(target, port, cause));
    if (!data.writableEnded) data.end();
    return;
  }
  pods.add(pod);
  await splice(data, pod);
  pods.delete(pod);
  if (!error.writableEnded) error.end();
}

/** Serves the channel port-forward protocol on a WebSocket for `ports`; closes it when every port is done. */
export async function servePortForwardWs(
  conn: ChannelConnection,
  ports: readonly number[],
  target: PortForwardTarget,
): Promise<void> {
  const portBytes = (port: number) => {
    const b = Buffer.alloc(2);
    b.writeUInt16LE(port, 0);
    return b;
  };
  await Promise.all(
    ports.map(async (port, i) => {
      const dataChannel = i * 2;
      const errorChannel = i * 2 + 1;
      await conn.send(dataChannel, portBytes(port)).catch(() => undefined);
      await conn.send(errorChannel, portBytes(port)).catch(() => undefined);
      const incoming = conn.incoming(dataChannel);
      let pod: Duplex;
      try {
        pod = await target.connect(port);
      } catch (cause) {
        await conn.send(errorChannel, Buffer.from(forwardError(target, port, cause))).catch(() => undefined);
        return;
      }
      void conn.closed.then(() => pod.destroy());
      incoming.pipe(pod);
      pod.on("data", (chunk: Buffer) => {
        pod.pause();
        conn.send(dataChannel, chunk).then(
          () => pod.resume(),
          () => pod.destroy(),
        );
      });
      await new Promise<void>((resolve) => {
        pod.once("close", () => resolve());
        pod.once("error", (cause) => {
          void conn.send(errorChannel, Buffer.from(forwardError(target, port, cause))).catch(() => undefined);
        });
      });
    }),
  );
  conn.close();
}
