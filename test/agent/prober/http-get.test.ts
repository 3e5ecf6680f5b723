import http from "node:http";
import type { AddressInfo } from "node:net";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AnswerParser, MAX_PROBE_BODY, prepareGet, sendGet } from "../../../src/agent/prober/http-get.ts";

const seen: Array<{ url: string | undefined; headers: http.IncomingHttpHeaders; rawHeaders: string[] }> = [];
const server = http.createServer((req, res) => {
  seen.push({ url: req.url, headers: req.headers, rawHeaders: req.rawHeaders });
  if (req.url === "/chunked") {
    res.write("hello, ");
    setTimeout(() => res.end("world"), 20);
  } else if (req.url === "/big") res.end("x".repeat(MAX_PROBE_BODY * 3));
  else res.writeHead(201, { Location: "/elsewhere" }).end("made");
});
let port = 0;
const ua = { userAgent: "kube-probe/1.32" };

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

describe("probe HTTP GET on a raw socket", () => {
  it("sends upstream's headers with Connection: close and reads status, Location and body", async () => {
    const answer = await sendGet(prepareGet("127.0.0.1", port, "/x?y=1", [], ua), 1000);
    expect(answer).toEqual({ status: 201, location: "/elsewhere", body: "made" });
    const request = seen.at(-1);
    expect(request?.url).toBe("/x?y=1");
    expect(request?.headers).toMatchObject({
      host: `127.0.0.1:${port}`,
      "user-agent": "kube-probe/1.32",
      accept: "*/*",
      connection: "close",
    });
  });

  it("the probe's headers replace the defaults of the same name and may repeat", async () => {
    const headers = [
      { name: "User-Agent", value: "mine" },
      { name: "Host", value: "example.test" },
      { name: "X-Twice", value: "a" },
      { name: "X-Twice", value: "b" },
    ];
    await sendGet(prepareGet("127.0.0.1", port, "/h", headers, ua), 1000);
    const request = seen.at(-1);
    expect(request?.headers["user-agent"]).toBe("mine");
    expect(request?.headers.host).toBe("example.test");
    expect(request?.headers["x-twice"]).toBe("a, b");
    expect(request?.rawHeaders.filter((h) => h.toLowerCase() === "user-agent")).toHaveLength(1);
  });

  it("decodes a chunked body arriving in pieces and keeps at most 10 KiB of a long one", async () => {
    expect(await sendGet(prepareGet("127.0.0.1", port, "/chunked", [], ua), 1000)).toEqual({
      status: 200,
      location: undefined,
      body: "hello, world",
    });
    const big = await sendGet(prepareGet("127.0.0.1", port, "/big", [], ua), 1000);
    expect("body" in big && big.body.length).toBe(MAX_PROBE_BODY);
  });

  it("refuses headers and paths that would split the request", () => {
    expect(() => prepareGet("127.0.0.1", 1, "/", [{ name: "X", value: "a\r\nEvil: 1" }], ua)).toThrow(
      /invalid probe header/,
    );
    expect(() => prepareGet("127.0.0.1", 1, "/a b", [], ua)).toThrow(/invalid probe path/);
  });

  it("brackets an IPv6 host", () => {
    const get = prepareGet("::1", 8080, "/", [], ua);
    expect(get.url).toBe("http://[::1]:8080/");
    expect(get.request.toString("latin1")).toContain("Host: [::1]:8080\r\n");
  });

  it("a server that never answers hits the timeout with Go's message", async () => {
    const held: net.Socket[] = [];
    const silent = net.createServer((socket) => held.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const silentPort = (silent.address() as AddressInfo).port;
    expect(await sendGet(prepareGet("127.0.0.1", silentPort, "/", [], ua), 200)).toEqual({
      error: `Get "http://127.0.0.1:${silentPort}/": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`,
    });
    for (const socket of held) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });
});

describe("AnswerParser", () => {
  const feed = (...parts: string[]) => {
    const parser = new AnswerParser();
    for (const part of parts) {
      const answer = parser.push(Buffer.from(part, "latin1"));
      if (answer) return answer;
    }
    return parser.end();
  };

  it("headers split across reads, Content-Length bodies, bodies ended by the close", () => {
    expect(feed("HTTP/1.1 200 OK\r\nContent-Le", "ngth: 2\r\n\r", "\nok")).toEqual({
      status: 200,
      location: undefined,
      body: "ok",
    });
    expect(feed("HTTP/1.0 503 Busy\r\n\r\nlater")).toEqual({
      status: 503,
      location: undefined,
      body: "later",
    });
  });

  it("skips 1xx answers, reads chunk extensions and a chunk size split across reads", () => {
    expect(
      feed(
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 302 Found\r\nLocation: /next\r\nTransfer-Encoding: chunked\r\n\r\n",
        "3;ext=1\r\nabc\r\n",
        "1",
        "\r\nd\r\n0\r\n\r\n",
      ),
    ).toEqual({ status: 302, location: "/next", body: "abcd" });
  });

  it("no answer at all is Go's EOF; a malformed status line is named", () => {
    expect(feed()).toEqual({ error: "EOF" });
    expect(feed("SSH-2.0-OpenSSH\r\n\r\n")).toEqual({
      error: 'net/http: malformed HTTP response "SSH-2.0-OpenSSH"',
    });
  });
});
