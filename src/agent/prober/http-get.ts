// One HTTP/1.1 GET for a probe, straight on a TCP socket: a request prepared once per probe worker (bytes
// ready to write), a new connection each time with `Connection: close` (as upstream's prober, which disables
// keep-alive), and a parser for just what a probe needs from the answer (status, Location, at most 10 KiB of
// body). node:http costs several times more CPU per request (ClientRequest/IncomingMessage streams, header
// validation, events), which at a few hundred probes a second is most of the agent's CPU.
import net from "node:net";

/** Upstream reads at most 10 KiB of a probe's response body. */
export const MAX_PROBE_BODY = 10 * 1024;
/** An answer whose headers do not end within this many bytes is not worth waiting for. */
const MAX_HEADER_BYTES = 64 * 1024;

export interface PreparedGet {
  host: string;
  port: number;
  /** The request line and headers, ready to write. */
  request: Buffer;
  /** For messages: `http://host:port/path`, as Go prints the URL. */
  url: string;
}

export type GetAnswer = { status: number; location: string | undefined; body: string } | { error: string };

const FORBIDDEN = /[\r\n\0]/;

/**
 * The request bytes for GET `path` on host:port with the probe's headers: `User-Agent` and `Accept` unless
 * the probe sets them, `Host` from the target unless the probe sets it (as upstream does), and
 * `Connection: close`. Throws on a header that would split the request.
 */
export function prepareGet(
  host: string,
  port: number,
  path: string,
  headers: ReadonlyArray<{ name: string; value: string }>,
  defaults: { userAgent: string },
): PreparedGet {
  const target = hostPort(host, port);
  const given = new Set(headers.map((h) => h.name.toLowerCase()));
  let text = `GET ${path} HTTP/1.1\r\n`;
  if (!given.has("host")) text += `Host: ${target}\r\n`;
  if (!given.has("user-agent")) text += `User-Agent: ${defaults.userAgent}\r\n`;
  if (!given.has("accept")) text += "Accept: */*\r\n";
  for (const { name, value } of headers) {
    if (FORBIDDEN.test(name) || FORBIDDEN.test(value) || name.includes(":") || name.trim() === "")
      throw new Error(`invalid probe header ${JSON.stringify(name)}`);
    if (name.toLowerCase() === "connection") continue;
    text += `${name}: ${value}\r\n`;
  }
  text += "Connection: close\r\n\r\n";
  if (FORBIDDEN.test(path) || path.includes(" "))
    throw new Error(`invalid probe path ${JSON.stringify(path)}`);
  return { host, port, request: Buffer.from(text, "latin1"), url: `http://${target}${path}` };
}

/** Sends the prepared GET and reads the answer; every failure comes back as an error message, never thrown. */
export function sendGet(prepared: PreparedGet, timeoutMs: number): Promise<GetAnswer> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: prepared.host, port: prepared.port });
    const parser = new AnswerParser();
    let settled = false;
    const named = (answer: GetAnswer): GetAnswer =>
      "error" in answer ? { error: `Get "${prepared.url}": ${answer.error}` } : answer;
    const finish = (answer: GetAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(
      () =>
        finish({
          error: `Get "${prepared.url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`,
        }),
      timeoutMs,
    );
    socket.once("connect", () => socket.write(prepared.request));
    let answered = false;
    socket.on("data", (chunk: Buffer) => {
      answered = true;
      const answer = parser.push(chunk);
      if (answer) finish(named(answer));
    });
    socket.once("end", () => finish(named(parser.end())));
    socket.once("error", (error: NodeJS.ErrnoException) =>
      finish({
        error: `Get "${prepared.url}": ${goRequestError(error, hostPort(prepared.host, prepared.port), !answered)}`,
      }),
    );
  });
}

/** host:port as Go prints it (an IPv6 address in brackets). */
function hostPort(host: string, port: number): string {
  return `${host.includes(":") ? `[${host}]` : host}:${port}`;
}

/**
 * Go's net/http wording for a failed request: dial errors name the address (host:port), a connection closed before any
 * answer is EOF. Shared with the node:http path (HTTPS and redirects) in probes.ts.
 */
export function goRequestError(
  error: NodeJS.ErrnoException,
  address: string,
  closedBeforeAnswer: boolean,
): string {
  const dial = (what: string) => `dial tcp ${address}: connect: ${what}`;
  switch (error.code) {
    case "ECONNREFUSED":
      return dial("connection refused");
    case "EHOSTUNREACH":
      return dial("no route to host");
    case "ENETUNREACH":
      return dial("network is unreachable");
    case "ECONNRESET":
      // Closed before any answer (a reset or a plain close, whichever the kernel saw first): Go's EOF.
      return closedBeforeAnswer ? "EOF" : "read: connection reset by peer";
    default:
      return error.message;
  }
}

/**
 * Reads an HTTP/1.x answer incrementally: the status line and headers, then the body (by Content-Length,
 * chunked, or up to the close), keeping at most MAX_PROBE_BODY bytes of it. `push` returns the answer as soon
 * as it is complete (or enough of the body has been read); `end` is called when the peer closed.
 */
export class AnswerParser {
  #head: Buffer = Buffer.alloc(0);
  #status = 0;
  #location: string | undefined;
  #headersDone = false;
  #contentLength = -1;
  #chunked = false;
  #body: Buffer[] = [];
  #bodyBytes = 0;
  /** Chunked decoding: raw bytes not yet decoded, and the bytes left in the current chunk. */
  #pending: Buffer = Buffer.alloc(0);
  #chunkLeft = 0;
  #chunkedDone = false;

  push(chunk: Buffer): GetAnswer | undefined {
    if (!this.#headersDone) {
      this.#head = this.#head.length === 0 ? chunk : Buffer.concat([this.#head, chunk]);
      for (;;) {
        const end = this.#head.indexOf("\r\n\r\n");
        if (end < 0) {
          if (this.#head.length > MAX_HEADER_BYTES) return { error: "net/http: response headers too long" };
          return undefined;
        }
        const error = this.#parseHead(this.#head.toString("latin1", 0, end));
        if (error) return { error };
        const rest = this.#head.subarray(end + 4);
        this.#head = Buffer.alloc(0);
        // 1xx answers (100 Continue, 103 Early Hints) precede the real one.
        if (this.#status >= 100 && this.#status < 200) {
          this.#head = rest;
          this.#location = undefined;
          this.#contentLength = -1;
          this.#chunked = false;
          continue;
        }
        this.#headersDone = true;
        return this.#bodyBytesIn(rest);
      }
    }
    return this.#bodyBytesIn(chunk);
  }

  end(): GetAnswer {
    if (!this.#headersDone) return { error: "EOF" };
    return this.#answer();
  }

  #parseHead(head: string): string | undefined {
    const lines = head.split("\r\n");
    const statusLine = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(lines[0] ?? "");
    if (!statusLine) return `net/http: malformed HTTP response ${JSON.stringify(lines[0] ?? "")}`;
    this.#status = Number(statusLine[1]);
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i] as string;
      const colon = line.indexOf(":");
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === "location") this.#location ??= value;
      else if (name === "content-length") this.#contentLength = Number(value);
      else if (name === "transfer-encoding") this.#chunked = value.toLowerCase().includes("chunked");
    }
    if (this.#chunked) this.#contentLength = -1;
    // No body for 204/304 (and a HEAD, which a probe never sends).
    if (this.#status === 204 || this.#status === 304) this.#contentLength = 0;
    return undefined;
  }

  #bodyBytesIn(bytes: Buffer): GetAnswer | undefined {
    if (this.#chunked) return this.#dechunk(bytes);
    if (bytes.length > 0) this.#keep(bytes);
    if (this.#bodyBytes >= MAX_PROBE_BODY) return this.#answer();
    if (this.#contentLength >= 0 && this.#bodyBytes >= this.#contentLength) return this.#answer();
    return undefined;
  }

  #dechunk(bytes: Buffer): GetAnswer | undefined {
    let data = this.#pending.length === 0 ? bytes : Buffer.concat([this.#pending, bytes]);
    this.#pending = Buffer.alloc(0);
    while (data.length > 0 && !this.#chunkedDone) {
      if (this.#chunkLeft > 0) {
        const take = Math.min(this.#chunkLeft, data.length);
        this.#keep(data.subarray(0, take));
        this.#chunkLeft -= take;
        data = data.subarray(take);
        if (this.#bodyBytes >= MAX_PROBE_BODY) return this.#answer();
        continue;
      }
      // Between chunks: the CRLF closing the previous one, then "<hex size>[;ext]\r\n".
      if (data[0] === 0x0d && data[1] === 0x0a) {
        data = data.subarray(2);
        continue;
      }
      const eol = data.indexOf("\r\n");
      if (eol < 0) {
        this.#pending = data;
        return undefined;
      }
      const size = Number.parseInt(data.toString("latin1", 0, eol).split(";")[0] ?? "", 16);
      if (Number.isNaN(size)) return { error: "net/http: malformed chunked encoding" };
      data = data.subarray(eol + 2);
      if (size === 0) this.#chunkedDone = true;
      else this.#chunkLeft = size;
    }
    return this.#chunkedDone ? this.#answer() : undefined;
  }

  #keep(bytes: Buffer): void {
    const room = MAX_PROBE_BODY - this.#bodyBytes;
    if (room <= 0) return;
    const kept = bytes.length > room ? bytes.subarray(0, room) : bytes;
    this.#body.push(kept);
    this.#bodyBytes += kept.length;
  }

  #answer(): GetAnswer {
    const body =
      this.#body.length === 0
        ? ""
        : (this.#body.length === 1 ? (this.#body[0] as Buffer) : Buffer.concat(this.#body)).toString("utf8");
    return { status: this.#status, location: this.#location, body };
  }
}
