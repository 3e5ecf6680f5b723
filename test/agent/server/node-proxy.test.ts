// Unit tests of the control plane's way to the node (src/controlplane/node-proxy.ts): API paths and query
// names translated to kubelet's, upstream's container defaulting and messages, the node's address, the
// request head passed to the agent (without the caller's credentials) and agent errors as Status objects.
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../../src/api/resource.ts";
import type { StreamTarget } from "../../../src/controlplane/apiserver/streaming.ts";
import {
  agentError,
  kubeletEndpoint,
  kubeletLocation,
  requestHead,
  resolveContainer,
} from "../../../src/controlplane/node-proxy.ts";

const pod = (containers: string[], extra: Record<string, unknown> = {}): KubeObject => ({
  metadata: { name: "web", namespace: "ns1" },
  spec: { nodeName: "node-a", containers: containers.map((name) => ({ name })), ...extra },
});

function target(
  subresource: string,
  query: string,
  object: KubeObject = pod(["app"]),
  plural = "pods",
): StreamTarget {
  return {
    resource: { plural } as StreamTarget["resource"],
    subresource,
    namespace: plural === "pods" ? "ns1" : "",
    name: plural === "pods" ? "web" : "node-a",
    object,
    query: new URLSearchParams(query),
    rest: [],
  };
}

const where = (t: StreamTarget) => {
  const l = kubeletLocation(t);
  return `${l.node} ${l.path}?${l.query.toString()}`;
};

describe("node proxy: API requests to kubelet locations", () => {
  it("sends pods/log to /containerLogs with the log options", () => {
    expect(where(target("log", "container=app&follow=true&tailLines=10&timestamps=1&limitBytes=100"))).toBe(
      "node-a /containerLogs/ns1/web/app?follow=true&timestamps=true&tailLines=10&limitBytes=100",
    );
    expect(where(target("log", "previous=true&sinceSeconds=30"))).toBe(
      "node-a /containerLogs/ns1/web/app?previous=true&sinceSeconds=30",
    );
  });

  it("sends exec and attach with kubelet's stream names (input/output/error/tty=1)", () => {
    expect(
      where(
        target("exec", "command=sh&command=-c&command=echo+hi&stdin=true&stdout=true&tty=true&container=app"),
      ),
    ).toBe("node-a /exec/ns1/web/app?input=1&output=1&tty=1&command=sh&command=-c&command=echo+hi");
    expect(where(target("attach", "stdout=true&stderr=true"))).toBe(
      "node-a /attach/ns1/web/app?output=1&error=1",
    );
  });

  it("sends port-forward with kubelet's port parameter", () => {
    expect(where(target("portforward", "ports=80&ports=8080"))).toBe(
      "node-a /portForward/ns1/web?port=80%2C8080",
    );
    expect(where(target("portforward", ""))).toBe("node-a /portForward/ns1/web?");
  });

  it("sends nodes/proxy to the path after proxy/", () => {
    const t = {
      ...target("proxy", "a=b", { metadata: { name: "node-a" } }, "nodes"),
      rest: ["stats", "summary"],
    };
    expect(where(t)).toBe("node-a /stats/summary?a=b");
  });

  it("answers like upstream when the pod has no node or the container is unclear", () => {
    expect(kubeletLocation(target("log", "", pod(["app"], { nodeName: "" }))).node).toBeUndefined();
    expect(() =>
      kubeletLocation(target("exec", "command=true&stdout=true", pod(["app"], { nodeName: "" }))),
    ).toThrow("pod web does not have a host assigned");
    expect(() => kubeletLocation(target("exec", "stdout=true"))).toThrow(
      "you must specify at least one command",
    );
    expect(() => kubeletLocation(target("log", "tailLines=-1"))).toThrow("tailLines");
    expect(() => kubeletLocation(target("log", "sinceSeconds=5&sinceTime=2026-01-01T00:00:00Z"))).toThrow(
      "at most one of `sinceTime` or `sinceSeconds`",
    );
    expect(() => kubeletLocation(target("proxy", ""))).toThrow("pods/proxy is not served");
  });

  it("defaults the only container and names the choices otherwise", () => {
    expect(resolveContainer(pod(["app"]) as never, "web", null)).toBe("app");
    expect(() =>
      resolveContainer(pod(["a", "b"], { initContainers: [{ name: "init" }] }) as never, "web", null),
    ).toThrow(
      "a container name must be specified for pod web, choose one of: [a b] or one of the init containers: [init]",
    );
    expect(resolveContainer(pod(["a"], { initContainers: [{ name: "init" }] }) as never, "web", "init")).toBe(
      "init",
    );
    expect(() => resolveContainer(pod(["a"]) as never, "web", "nope")).toThrow(
      "container nope is not valid for pod web",
    );
  });
});

describe("node proxy: reaching the agent", () => {
  it("prefers InternalIP, then Hostname, and the kubelet port the node reports", () => {
    const node = (addresses: Array<{ type: string; address: string }>, port?: number) => ({
      status: { addresses, daemonEndpoints: { kubeletEndpoint: { Port: port } } },
    });
    expect(
      kubeletEndpoint(
        "n",
        node(
          [
            { type: "Hostname", address: "vm" },
            { type: "InternalIP", address: "10.0.0.5" },
          ],
          11250,
        ),
      ),
    ).toEqual({ host: "10.0.0.5", port: 11250 });
    expect(kubeletEndpoint("n", node([{ type: "Hostname", address: "vm" }]))).toEqual({
      host: "vm",
      port: 10250,
    });
    expect(() => kubeletEndpoint("n", node([]))).toThrow("node n reports no address");
  });

  it("passes the client's headers on, except its credentials and the host", () => {
    const head = requestHead(
      "GET",
      "/exec/ns/p/c?output=1",
      [
        "Host",
        "api:6443",
        "Authorization",
        "Bearer secret",
        "Upgrade",
        "websocket",
        "Sec-WebSocket-Key",
        "k==",
      ],
      "127.0.0.1:10250",
    );
    expect(head).toBe(
      "GET /exec/ns/p/c?output=1 HTTP/1.1\r\nHost: 127.0.0.1:10250\r\nUpgrade: websocket\r\nSec-WebSocket-Key: k==\r\n\r\n",
    );
    expect(head).not.toContain("secret");
  });

  it("turns the agent's plain-text errors into Status objects", () => {
    expect(
      agentError(400, 'container "c" in pod "p" is waiting to start: ContainerCreating\n', "logs").toStatus(),
    ).toMatchObject({
      code: 400,
      reason: "BadRequest",
      message: 'container "c" in pod "p" is waiting to start: ContainerCreating',
    });
    expect(agentError(404, 'pod "p" does not exist', "logs").reason).toBe("NotFound");
    expect(agentError(500, "", "a log request").message).toBe(
      "Internal error occurred: the node agent answered a log request with HTTP 500 and no message",
    );
  });
});
