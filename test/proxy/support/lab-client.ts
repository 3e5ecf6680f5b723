// A client for proxy traffic tests, run inside a network namespace:
//   node lab-client.ts tcp|udp HOST PORT COUNT [INTERVAL_MS] [TIMEOUT_MS]
// makes COUNT requests, each on a new connection (TCP: one HTTP GET; UDP: one datagram from a new socket),
// and prints JSON: { answers: { name: count }, errors: { code: count } }.
import { createSocket } from "node:dgram";
import { request } from "node:http";

const [
  mode = "tcp",
  host = "127.0.0.1",
  portText = "80",
  countText = "1",
  intervalText = "0",
  timeoutText = "3000",
] = process.argv.slice(2);
const port = Number(portText);
const timeoutMs = Number(timeoutText);
const answers: Record<string, number> = {};
const errors: Record<string, number> = {};

function tcpOnce(): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path: "/", agent: false, timeout: timeoutMs }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => resolve(body));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(Object.assign(new Error("timeout"), { code: "TIMEOUT" })));
    req.on("error", reject);
    req.end();
  });
}

function udpOnce(): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createSocket("udp4");
    const timer = setTimeout(() => {
      socket.close();
      reject(Object.assign(new Error("timeout"), { code: "TIMEOUT" }));
    }, timeoutMs);
    socket.on("message", (msg) => {
      clearTimeout(timer);
      socket.close();
      resolve(msg.toString());
    });
    socket.on("error", (error) => {
      clearTimeout(timer);
      socket.close();
      reject(error);
    });
    socket.send("hello", port, host);
  });
}

const count = Number(countText);
const interval = Number(intervalText);
for (let i = 0; i < count; i++) {
  try {
    const answer = mode === "udp" ? await udpOnce() : await tcpOnce();
    answers[answer] = (answers[answer] ?? 0) + 1;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "ERROR";
    errors[code] = (errors[code] ?? 0) + 1;
  }
  if (interval > 0) await new Promise((r) => setTimeout(r, interval));
}
process.stdout.write(`${JSON.stringify({ answers, errors })}\n`);
