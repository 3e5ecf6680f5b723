// Unit tests of the SPDY/3.1 module: frame layout (golden bytes), the header dictionary and compression
// contexts, and two real sessions (client and server role) talking over a loopback TCP connection.
// Interoperability with a real peer (containerd's Go stream server) is covered by cri-driver.test.ts.
import { once } from "node:events";
import { connect, createServer, type Server, type Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { SPDY_HEADER_DICTIONARY } from "../../src/util/spdy/dictionary.ts";
import {
  encodeFrame,
  FrameParser,
  RstStatus,
  type SpdyFrame,
  SpdyProtocolError,
} from "../../src/util/spdy/frames.ts";
import {
  decodeHeaderBlock,
  encodeHeaderBlock,
  HeaderCompressor,
  HeaderDecompressor,
  headerValue,
} from "../../src/util/spdy/headers.ts";
import { SpdySession, type SpdyStream, SpdyStreamError } from "../../src/util/spdy/session.ts";

function adler32(data: Buffer): number {
  let a = 1;
  let b = 0;
  for (const byte of data) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

function collect(stream: SpdyStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  stream.on("data", (c: Buffer) => chunks.push(c));
  return new Promise((resolve, reject) => {
    stream.on("end", () => resolve(Buffer.concat(chunks)));
    stream.on("error", reject);
  });
}

describe("SPDY header dictionary", () => {
  it("is the SPDY/3 dictionary: 1423 bytes with Adler-32 0xe3c6a7c2", () => {
    expect(SPDY_HEADER_DICTIONARY.length).toBe(1423);
    expect(adler32(SPDY_HEADER_DICTIONARY).toString(16)).toBe("e3c6a7c2");
    expect(SPDY_HEADER_DICTIONARY.subarray(0, 11)).toEqual(Buffer.from("\0\0\0\x07options", "latin1"));
    expect(SPDY_HEADER_DICTIONARY.subarray(-6).toString("latin1")).toBe("enq=0.");
  });
});

describe("SPDY frames", () => {
  it("encodes control frames with version 3 and the spec's layout (golden bytes)", () => {
    expect(encodeFrame({ type: "ping", id: 1 }).toString("hex")).toBe("800300060000000400000001");
    expect(encodeFrame({ type: "rst_stream", streamId: 5, status: RstStatus.cancel }).toString("hex")).toBe(
      "80030003000000080000000500000005",
    );
    expect(encodeFrame({ type: "goaway", lastGoodStreamId: 3, status: 0 }).toString("hex")).toBe(
      "80030007000000080000000300000000",
    );
    expect(encodeFrame({ type: "window_update", streamId: 1, delta: 65536 }).toString("hex")).toBe(
      "80030009000000080000000100010000",
    );
    const syn = encodeFrame({
      type: "syn_stream",
      streamId: 1,
      associatedStreamId: 0,
      priority: 2,
      slot: 0,
      fin: true,
      unidirectional: false,
      headerBlock: Buffer.from("abc"),
    });
    // flags FIN, length 10 + 3; priority 2 in the top three bits.
    expect(syn.toString("hex")).toBe(`800300010100000d000000010000000040 00 616263`.replaceAll(" ", ""));
  });

  it("encodes DATA frames with the stream id, FIN flag and length", () => {
    expect(
      encodeFrame({ type: "data", streamId: 3, fin: true, data: Buffer.from("hi") }).toString("hex"),
    ).toBe("00000003010000026869");
  });

  it("round-trips every frame type through the parser, even fed one byte at a time", () => {
    const frames: SpdyFrame[] = [
      { type: "data", streamId: 7, fin: false, data: Buffer.from("payload") },
      {
        type: "syn_stream",
        streamId: 9,
        associatedStreamId: 1,
        priority: 7,
        slot: 3,
        fin: false,
        unidirectional: true,
        headerBlock: Buffer.from([1, 2, 3]),
      },
      { type: "syn_reply", streamId: 9, fin: true, headerBlock: Buffer.from([4]) },
      { type: "headers", streamId: 9, fin: false, headerBlock: Buffer.from([5, 6]) },
      { type: "rst_stream", streamId: 9, status: RstStatus.refusedStream },
      { type: "settings", clear: true, entries: [{ flags: 1, id: 7, value: 65536 }] },
      { type: "ping", id: 2 },
      { type: "goaway", lastGoodStreamId: 9, status: 1 },
      { type: "window_update", streamId: 0, delta: 1000 },
      { type: "unknown", controlType: 42, flags: 0, payload: Buffer.from("x") },
    ];
    const wire = Buffer.concat(frames.map(encodeFrame));
    const parser = new FrameParser();
    const parsed: SpdyFrame[] = [];
    for (const byte of wire) parsed.push(...parser.push(Buffer.from([byte])));
    expect(parsed).toEqual(frames);
    expect(parser.bufferedBytes).toBe(0);
  });

  it("rejects a control frame of another SPDY version and DATA on stream 0", () => {
    const v2 = Buffer.from("800200060000000400000001", "hex");
    expect(() => new FrameParser().push(v2)).toThrow(SpdyProtocolError);
    const data0 = Buffer.from("0000000000000000", "hex");
    expect(() => new FrameParser().push(data0)).toThrow(/stream 0/);
  });

  it("refuses to encode out-of-range stream ids and oversize payloads", () => {
    expect(() => encodeFrame({ type: "data", streamId: 0, fin: false, data: Buffer.alloc(0) })).toThrow(
      /stream id 0/,
    );
    expect(() => encodeFrame({ type: "rst_stream", streamId: 2 ** 31, status: 5 })).toThrow(RangeError);
  });
});

describe("SPDY header blocks", () => {
  it("encodes the uncompressed layout with lowercase names and NUL-joined values", () => {
    const block = encodeHeaderBlock({ StreamType: "error", multi: ["a", "b"] });
    expect(block.toString("hex")).toBe(
      [
        "00000002",
        "0000000a",
        Buffer.from("streamtype").toString("hex"),
        "00000005",
        Buffer.from("error").toString("hex"),
        "00000005",
        Buffer.from("multi").toString("hex"),
        "00000003",
        "610062",
      ].join(""),
    );
    expect(decodeHeaderBlock(block)).toEqual({ streamtype: ["error"], multi: ["a", "b"] });
  });

  it("rejects truncated blocks and trailing bytes", () => {
    const block = encodeHeaderBlock({ a: "b" });
    expect(() => decodeHeaderBlock(block.subarray(0, block.length - 1))).toThrow(SpdyProtocolError);
    expect(() => decodeHeaderBlock(Buffer.concat([block, Buffer.from([0])]))).toThrow(/after its last pair/);
  });

  it("compresses with a zlib header that names the SPDY dictionary, one shared context per direction", async () => {
    const compressor = new HeaderCompressor();
    const decompressor = new HeaderDecompressor();
    try {
      const first = await compressor.compress({ streamtype: "error", port: "80" });
      // CMF 0x78, FLG with FDICT (0x20), then DICTID = Adler-32 of the dictionary.
      expect(first[0]).toBe(0x78);
      expect((first[1] ?? 0) & 0x20).toBe(0x20);
      expect(first.readUInt32BE(2).toString(16)).toBe("e3c6a7c2");
      // Sync flush: every block ends with an empty stored block.
      expect(first.subarray(-4).toString("hex")).toBe("0000ffff");
      expect(await decompressor.decompress(first)).toEqual({ streamtype: ["error"], port: ["80"] });

      // Later blocks continue the same stream (no zlib header) and decode only in order.
      const blocks = [];
      for (let i = 0; i < 50; i++) {
        blocks.push(await compressor.compress({ streamtype: "data", port: "80", requestid: String(i) }));
      }
      expect(blocks[0]?.[0]).not.toBe(0x78);
      for (let i = 0; i < 50; i++) {
        const headers = await decompressor.decompress(blocks[i] as Buffer);
        expect(headerValue(headers, "requestID")).toBe(String(i));
      }
      // A block larger than zlib's stream buffers survives intact.
      const big = "x".repeat(200_000);
      expect(await decompressor.decompress(await compressor.compress({ big }))).toEqual({ big: [big] });
    } finally {
      compressor.close();
      decompressor.close();
    }
  });

  it("keeps concurrent calls in order", async () => {
    const compressor = new HeaderCompressor();
    const decompressor = new HeaderDecompressor();
    try {
      const compressed = await Promise.all(
        Array.from({ length: 20 }, (_, i) => compressor.compress({ n: String(i) })),
      );
      const decoded = await Promise.all(compressed.map((b) => decompressor.decompress(b)));
      expect(decoded.map((h) => h.n?.[0])).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
    } finally {
      compressor.close();
      decompressor.close();
    }
  });

  it("reports garbage as a protocol error", async () => {
    const decompressor = new HeaderDecompressor();
    try {
      await expect(decompressor.decompress(Buffer.from("not zlib at all"))).rejects.toThrow(
        SpdyProtocolError,
      );
    } finally {
      decompressor.close();
    }
  });
});

describe("SPDY sessions over loopback TCP", () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  /** A client session and a server session connected through a real loopback TCP connection. */
  async function pair(): Promise<{ client: SpdySession; server: SpdySession; serverSocket: Socket }> {
    const server: Server = createServer();
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    cleanups.push(() => new Promise((r) => server.close(r)));
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("no TCP address");
    const accepted = once(server, "connection") as Promise<[Socket]>;
    const clientSocket = connect(address.port, "127.0.0.1");
    await once(clientSocket, "connect");
    const [serverSocket] = await accepted;
    const client = new SpdySession(clientSocket, { role: "client" });
    const serverSession = new SpdySession(serverSocket, { role: "server" });
    cleanups.push(() => {
      client.destroy();
      serverSession.destroy();
    });
    return { client, server: serverSession, serverSocket };
  }

  it("opens a stream, exchanges headers and data both ways, and half-closes each side", async () => {
    const { client, server } = await pair();
    server.on("stream", (stream) => {
      expect(stream.id).toBe(1);
      expect(headerValue(stream.headers, "streamtype")).toBe("stdin");
      void stream.reply({ accepted: "yes" });
      // Echo upper-cased, then FIN once the client has finished.
      stream.on("data", (c: Buffer) => stream.write(c.toString().toUpperCase()));
      stream.on("end", () => stream.end("!"));
    });
    const stream = await client.openStream({ streamType: "stdin" });
    expect(stream.replyHeaders).toEqual({ accepted: ["yes"] });
    const received = collect(stream);
    stream.write("hello ");
    stream.end("world");
    expect((await received).toString()).toBe("HELLO WORLD!");
    if (!stream.closed) await once(stream, "close");
  });

  it("numbers client streams odd and server streams even", async () => {
    const { client, server } = await pair();
    const seen: number[] = [];
    server.on("stream", (s) => {
      seen.push(s.id);
      void s.reply();
    });
    client.on("stream", (s) => {
      seen.push(s.id);
      void s.reply();
    });
    await client.openStream({ a: "1" });
    await client.openStream({ a: "2" });
    await server.openStream({ a: "3" });
    expect(seen).toEqual([1, 3, 2]);
  });

  it("delivers a megabyte in order through a slow reader (socket backpressure, no flow-control windows)", async () => {
    const { client, server } = await pair();
    const payload = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < payload.length; i++) payload[i] = i % 251;
    server.on("stream", (stream) => {
      void stream.reply();
      stream.end(payload);
    });
    const stream = await client.openStream({ want: "bytes" });
    stream.end();
    const chunks: Buffer[] = [];
    for await (const chunk of stream) {
      chunks.push(chunk as Buffer);
      if (chunks.length % 8 === 0) await sleep(1);
    }
    expect(Buffer.concat(chunks).equals(payload)).toBe(true);
  });

  it("a peer's RST_STREAM ends the readable side after the data sent before it and emits 'reset'", async () => {
    const { client, server } = await pair();
    server.on("stream", (stream) => {
      void stream.reply();
      stream.write("partial output", () => stream.reset(RstStatus.cancel));
    });
    const stream = await client.openStream({});
    const resets: number[] = [];
    stream.on("reset", (status: number) => resets.push(status));
    expect((await collect(stream)).toString()).toBe("partial output");
    expect(resets).toEqual([RstStatus.cancel]);
    expect(stream.resetStatus).toBe(RstStatus.cancel);
    if (!stream.closed) await once(stream, "close");
  });

  it("a refused stream rejects openStream with the RST status", async () => {
    const { client, server } = await pair();
    server.on("stream", (stream) => stream.reset(RstStatus.refusedStream));
    const err = await client.openStream({}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SpdyStreamError);
    expect((err as SpdyStreamError).status).toBe(RstStatus.refusedStream);
    expect((err as Error).message).toMatch(/refusedStream/);
  });

  it("a session without a 'stream' listener refuses incoming streams", async () => {
    const { client } = await pair();
    // The server session has no 'stream' listener.
    await expect(client.openStream({})).rejects.toThrow(/reset by the peer \(refusedStream\)/);
  });

  it("waits for SYN_REPLY before sending data, so a late reply loses nothing", async () => {
    const { client, server } = await pair();
    let serverStream: SpdyStream | undefined;
    server.on("stream", (stream) => {
      serverStream = stream;
    });
    const opening = client.openStream({});
    // The client cannot write before openStream resolves; the server replies late and then reads.
    await sleep(20);
    const s = serverStream as unknown as SpdyStream;
    const received = collect(s);
    await s.reply();
    const stream = await opening;
    stream.end("after reply");
    s.end();
    expect((await received).toString()).toBe("after reply");
  });

  it("times out a stream that is never replied to", async () => {
    const server = createServer((socket) => {
      // A peer that reads SPDY frames but never answers.
      socket.resume();
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    cleanups.push(() => new Promise((r) => server.close(r)));
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("no TCP address");
    const socket = connect(address.port, "127.0.0.1");
    await once(socket, "connect");
    const client = new SpdySession(socket, { role: "client", replyTimeoutMs: 50 });
    cleanups.push(() => client.destroy());
    await expect(client.openStream({})).rejects.toThrow(/no SYN_REPLY within 50 ms/);
  });

  it("answers PINGs and measures its own", async () => {
    const { client, server } = await pair();
    expect(await client.ping()).toBeGreaterThanOrEqual(0);
    expect(await server.ping()).toBeGreaterThanOrEqual(0);
  });

  it("close() sends GOAWAY, lets open streams finish, then ends the connection", async () => {
    const { client, server } = await pair();
    const goaways: number[] = [];
    server.on("goaway", (g) => goaways.push(g.lastGoodStreamId));
    let serverStream: SpdyStream | undefined;
    server.on("stream", (stream) => {
      serverStream = stream;
      void stream.reply();
    });
    const stream = await client.openStream({});
    const closed = client.close();
    expect(client.closing).toBe(true);
    await expect(client.openStream({})).rejects.toThrow(/closing/);
    // The open stream still works until both sides finish it.
    const s = serverStream as unknown as SpdyStream;
    const received = collect(s);
    stream.end("last words");
    expect((await received).toString()).toBe("last words");
    s.end();
    await collect(stream);
    await closed;
    await server.done;
    expect(goaways).toEqual([0]);
  });

  it("ends every stream with an error when the connection drops", async () => {
    const { client, server, serverSocket } = await pair();
    server.on("stream", (stream) => {
      stream.on("error", () => undefined); // this side's copy fails too
      void stream.reply();
    });
    const stream = await client.openStream({});
    const failed = new Promise<Error>((resolve) => stream.on("error", resolve));
    serverSocket.destroy();
    expect((await failed).message).toMatch(/closed/);
    await client.done;
    expect(client.closed).toBe(true);
  });

  it("a malformed frame ends the session with a protocol error", async () => {
    const { client, serverSocket } = await pair();
    const closed = new Promise<Error | undefined>((resolve) => client.once("close", resolve));
    // A control frame claiming SPDY version 2.
    serverSocket.write(Buffer.from("800200060000000400000001", "hex"));
    const error = await closed;
    expect(error).toBeInstanceOf(SpdyProtocolError);
  });
});
