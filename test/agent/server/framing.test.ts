// Unit tests of the pure framing pieces of the node API: WebSocket channel messages (binary, base64, v5's
// CLOSE signal), resize decoding across arbitrary chunking, the exec status per protocol version (read back
// with the CRI driver's own v4 client parser), and the URL space.
import { describe, expect, it } from "vitest";
import { parseNodePath } from "../../../src/agent/server/paths.ts";
import { parsePortsQuery } from "../../../src/agent/server/streams/portforward.ts";
import {
  encodeOutcome,
  outcomeStatus,
  parseRemoteCommandOptions,
} from "../../../src/agent/server/streams/remotecommand.ts";
import { AsyncQueue, JsonObjectSplitter, terminalSize } from "../../../src/agent/server/streams/resize.ts";
import { negotiate } from "../../../src/agent/server/streams/spdy-upgrade.ts";
import { decodeChannelMessage, encodeChannelMessage } from "../../../src/agent/server/streams/ws-channels.ts";
import { parseStatus } from "../../../src/runtime/cri/streaming/remotecommand.ts";

const binary = { base64: false, closeSignal: false };
const v5 = { base64: false, closeSignal: true };
const base64 = { base64: true, closeSignal: false };

describe("WebSocket channel messages", () => {
  it("prefixes binary messages with the channel byte", () => {
    expect(encodeChannelMessage(1, Buffer.from("hi"), binary)).toEqual(Buffer.from([1, 104, 105]));
    expect(decodeChannelMessage(Buffer.from([0, 102, 111, 111, 10]), true, binary)).toEqual({
      type: "data",
      channel: 0,
      data: Buffer.from("foo\n"),
    });
  });

  it("speaks base64.channel.k8s.io: an ASCII channel digit, then base64 (upstream's example session)", () => {
    expect(encodeChannelMessage(1, Buffer.from("\n"), base64)).toBe("1Cg==");
    expect(decodeChannelMessage(Buffer.from("0Zm9vCg=="), false, base64)).toEqual({
      type: "data",
      channel: 0,
      data: Buffer.from("foo\n"),
    });
  });

  it("reads v5's CLOSE signal (channel 255) only when the protocol has it", () => {
    expect(decodeChannelMessage(Buffer.from([255, 0]), true, v5)).toEqual({ type: "close", channel: 0 });
    expect(decodeChannelMessage(Buffer.from([255, 0]), true, binary)).toEqual({
      type: "data",
      channel: 255,
      data: Buffer.from([0]),
    });
    expect(decodeChannelMessage(Buffer.from([255]), true, v5)).toEqual({ type: "ignore" });
    expect(decodeChannelMessage(Buffer.alloc(0), true, v5)).toEqual({ type: "ignore" });
  });
});

describe("terminal resizes", () => {
  it("splits concatenated JSON objects whatever the chunking", () => {
    const text = '{"Width":80,"Height":24}{"Width":100,"Height":30}\n{"Width":1,"Height":"}"}';
    for (let cut = 0; cut <= text.length; cut++) {
      const splitter = new JsonObjectSplitter();
      const values = [...splitter.push(text.slice(0, cut)), ...splitter.push(text.slice(cut))];
      expect(values).toEqual([
        { Width: 80, Height: 24 },
        { Width: 100, Height: 30 },
        { Width: 1, Height: "}" },
      ]);
    }
  });

  it("accepts only whole non-negative sizes", () => {
    expect(terminalSize({ Width: 80, Height: 24 })).toEqual({ width: 80, height: 24 });
    expect(terminalSize({ Width: 1, Height: "}" })).toBeUndefined();
    expect(terminalSize({ Width: -1, Height: 2 })).toBeUndefined();
    expect(terminalSize(null)).toBeUndefined();
  });

  it("queues sizes for a consumer that reads at its own pace", async () => {
    const queue = new AsyncQueue<number>();
    queue.push(1);
    queue.push(2);
    const seen: number[] = [];
    const reading = (async () => {
      for await (const n of queue) seen.push(n);
    })();
    queue.push(3);
    queue.end();
    queue.push(4);
    await reading;
    expect(seen).toEqual([1, 2, 3]);
  });
});

describe("remote command status", () => {
  it("writes upstream's metav1.Status for v4+, which a v4 client reads back", () => {
    expect(JSON.parse(encodeOutcome({ kind: "success" }, 4).toString())).toEqual({
      metadata: {},
      status: "Success",
    });
    const exit = encodeOutcome({ kind: "exit", code: 3 }, 5);
    expect(JSON.parse(exit.toString())).toMatchObject({
      status: "Failure",
      reason: "NonZeroExitCode",
      details: { causes: [{ reason: "ExitCode", message: "3" }] },
    });
    expect(parseStatus(exit).exitCode).toBe(3);
    expect(parseStatus(encodeOutcome({ kind: "success" }, 4)).exitCode).toBe(0);
    expect(() => parseStatus(encodeOutcome({ kind: "error", message: "boom" }, 4))).toThrow(
      "Internal error occurred: boom",
    );
    expect(outcomeStatus({ kind: "error", message: "boom" })).toMatchObject({
      code: 500,
      reason: "InternalError",
    });
  });

  it("writes only failures, as text, before v4", () => {
    expect(encodeOutcome({ kind: "success" }, 3).length).toBe(0);
    expect(encodeOutcome({ kind: "exit", code: 2 }, 1).toString()).toBe(
      "command terminated with non-zero exit code: command terminated with exit code 2",
    );
  });

  it("reads the streams from kubelet's query names and the API's", () => {
    const kubelet = new URLSearchParams("command=sh&command=-c&command=true&input=1&output=1&error=1");
    expect(parseRemoteCommandOptions(kubelet, "exec")).toEqual({
      stdin: true,
      stdout: true,
      stderr: true,
      tty: false,
      command: ["sh", "-c", "true"],
    });
    // A tty merges stderr into stdout.
    const api = new URLSearchParams("command=sh&stdout=true&stderr=true&tty=true");
    expect(parseRemoteCommandOptions(api, "exec")).toMatchObject({ stdout: true, stderr: false, tty: true });
    expect(() => parseRemoteCommandOptions(new URLSearchParams("command=x"), "exec")).toThrow(
      "you must specify at least 1 of stdin, stdout, stderr",
    );
    expect(() => parseRemoteCommandOptions(new URLSearchParams("output=1"), "exec")).toThrow(
      "at least one command",
    );
    expect(parseRemoteCommandOptions(new URLSearchParams("output=1"), "attach").command).toEqual([]);
  });

  it("negotiates like httpstream.Handshake: the client's first supported protocol, or none offered", () => {
    const supported = ["v5.channel.k8s.io", "v4.channel.k8s.io", "channel.k8s.io"];
    expect(negotiate(["v4.channel.k8s.io", "v5.channel.k8s.io"], supported)).toBe("v4.channel.k8s.io");
    expect(negotiate([], supported)).toBe("");
    expect(negotiate(["v9.channel.k8s.io"], supported)).toBeUndefined();
  });

  it("parses port-forward ports from the query", () => {
    expect(parsePortsQuery(new URLSearchParams("port=80&port=8080,9090"))).toEqual([80, 8080, 9090]);
    expect(parsePortsQuery(new URLSearchParams(""))).toBe('query parameter "port" is required');
    expect(parsePortsQuery(new URLSearchParams("port=0"))).toContain('unable to parse "0" as a port');
  });
});

describe("node API paths", () => {
  it.each([
    ["/healthz", { kind: "healthz" }],
    ["/pods", { kind: "pods" }],
    ["/runningpods/", { kind: "runningpods" }],
    ["/metrics", { kind: "metrics" }],
    ["/metrics/probes", { kind: "metricsProbes" }],
    ["/stats/summary", { kind: "statsSummary" }],
    ["/containerLogs/ns/pod/c", { kind: "containerLogs", namespace: "ns", pod: "pod", container: "c" }],
    ["/exec/ns/pod/c", { kind: "exec", namespace: "ns", pod: "pod", container: "c" }],
    ["/attach/ns/pod/uid-1/c", { kind: "attach", namespace: "ns", pod: "pod", uid: "uid-1", container: "c" }],
    ["/portForward/ns/pod", { kind: "portForward", namespace: "ns", pod: "pod" }],
    ["/portForward/ns/pod/uid-1", { kind: "portForward", namespace: "ns", pod: "pod", uid: "uid-1" }],
    ["/containerLogs/ns/p%2Dx/c", { kind: "containerLogs", namespace: "ns", pod: "p-x", container: "c" }],
  ])("%s", (path, route) => {
    expect(parseNodePath(path)).toEqual(route);
  });

  it.each([
    "/",
    "/containerLogs/ns/pod",
    "/exec/ns",
    "/exec/ns//c",
    "/portForward/a/b/c/d",
    "/containerLogs/%E0%A4%A/x/y",
  ])("%s is not an endpoint", (path) => {
    expect(parseNodePath(path)).toBeUndefined();
  });
});
