// A complete HTTP/1.1 response written straight onto a socket that Node handed over for an upgrade (no
// ServerResponse exists there), then the socket is closed.
import type { Duplex } from "node:stream";
import { STATUS_TEXT } from "../errors.ts";

export function writeRawResponse(
  socket: Duplex,
  status: number,
  text: string,
  headers: Record<string, string> = {},
): void {
  if (socket.destroyed) return;
  const body = Buffer.from(`${text}\n`);
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? "Error"}`,
    "Content-Type: text/plain; charset=utf-8",
    `Content-Length: ${body.length}`,
    "Connection: close",
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  socket.end(Buffer.concat([Buffer.from(`${lines.join("\r\n")}\r\n\r\n`), body]));
}
