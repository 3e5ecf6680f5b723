// fetch() over node:https with a CA to trust and, optionally, a client certificate: the global fetch
// cannot be given either without undici's dispatcher. Answers a standard Response whose body streams (watch
// tests read it incrementally); aborting the signal ends the request and the body.

import { request } from "node:https";
import { Readable } from "node:stream";

export interface TlsCredentials {
  /** PEM of the CA to verify the server with. */
  ca: string;
  /** Client certificate and key (PEM). */
  cert?: string;
  key?: string;
  /** Sent as `Authorization: Bearer …` unless the request has its own Authorization header. */
  token?: string;
}

const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);

export function tlsFetch(url: string, init: RequestInit = {}, tls: TlsCredentials): Promise<Response> {
  const target = new URL(url);
  const headers = new Headers(init.headers);
  if (tls.token !== undefined && !headers.has("authorization"))
    headers.set("authorization", `Bearer ${tls.token}`);
  const method = (init.method ?? "GET").toUpperCase();
  const body = encodeBody(init.body);
  if (body !== undefined && !headers.has("content-length"))
    headers.set("content-length", String(body.length));
  const signal = init.signal ?? undefined;

  return new Promise<Response>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const req = request(
      target,
      {
        method,
        headers: Object.fromEntries(headers),
        ca: tls.ca,
        ...(tls.cert ? { cert: tls.cert } : {}),
        ...(tls.key ? { key: tls.key } : {}),
        agent: false,
      },
      (res) => {
        const responseHeaders = new Headers();
        for (const [name, value] of Object.entries(res.headers)) {
          if (value === undefined) continue;
          for (const v of Array.isArray(value) ? value : [value]) responseHeaders.append(name, v);
        }
        const status = res.statusCode ?? 500;
        const empty = NULL_BODY_STATUS.has(status) || method === "HEAD";
        if (empty) res.resume();
        const stream = empty ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>);
        resolve(
          new Response(stream, {
            status: Math.max(status, 200),
            statusText: res.statusMessage ?? "",
            headers: responseHeaders,
          }),
        );
      },
    );
    const onAbort = () => req.destroy(signal?.reason instanceof Error ? signal.reason : new Error("aborted"));
    signal?.addEventListener("abort", onAbort, { once: true });
    req.once("response", (res) => res.once("close", () => signal?.removeEventListener("abort", onAbort)));
    req.once("error", (error) => {
      signal?.removeEventListener("abort", onAbort);
      reject(error);
    });
    req.end(body);
  });
}

function encodeBody(body: RequestInit["body"]): Buffer | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === "string") return Buffer.from(body);
  if (body instanceof URLSearchParams) return Buffer.from(body.toString());
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  if (ArrayBuffer.isView(body)) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  throw new Error("tlsFetch: use a string, URLSearchParams or bytes as the body");
}
